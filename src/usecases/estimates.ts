import { estimatePrice, type EstimateQuery } from '../db/estimates.js';
import type { Deps } from '../deps.js';

/** An estimate from comparable past sales, or null when there are too few. */
export const priceEstimate = (deps: Pick<Deps, 'db'>, query: EstimateQuery) => estimatePrice(deps.db, query);
