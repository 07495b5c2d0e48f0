import { countCars, dashboardStats } from '../db/dashboard.js';
import type { Deps } from '../deps.js';

export const dealerDashboard = (deps: Pick<Deps, 'db'>, dealerEmail: string) => dashboardStats(deps.db, dealerEmail);

/** The legacy connectivity check: how many cars the table holds. */
export const carCount = (deps: Pick<Deps, 'db'>) => countCars(deps.db);
