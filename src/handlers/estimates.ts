import { priceEstimate } from '../usecases/estimates.js';
import type { Handler } from '../api/types.js';

const getPriceEstimate: Handler<'getPriceEstimate'> = async ({ query, deps }) => {
  const estimate = await priceEstimate(deps, query);
  if (!estimate) return { status: 200, body: { success: true, estimate: null, reason: 'insufficient_data' } };
  return { status: 200, body: { success: true, estimate } };
};

export const estimateHandlers = { getPriceEstimate };
