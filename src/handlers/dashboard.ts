import { normaliseEmail } from '../domain/normalise.js';
import type { Handler } from '../api/types.js';
import { carCount, dealerDashboard } from '../usecases/dashboard.js';

const getDashboardStats: Handler<'getDashboardStats'> = async ({ params, deps }) => ({
  status: 200,
  body: { success: true, stats: await dealerDashboard(deps, normaliseEmail(params.dealer_email, 'path.dealer_email')) },
});

const testDatabaseConnection: Handler<'testDatabaseConnection'> = async ({ deps }) => ({
  status: 200,
  body: { success: true, message: 'Database connection is working', recordCount: await carCount(deps) },
});

export const dashboardHandlers = { getDashboardStats, testDatabaseConnection };
