import { sql } from 'slonik';
import { z } from 'zod';
import { chooseEstimate, NARROW, WIDE } from '../domain/estimate.js';
import type { Handler } from '../api/types.js';

const windowsRow = z.object({
  narrow_count: z.number().int(),
  narrow_p: z.array(z.number()).nullable(),
  wide_count: z.number().int(),
  wide_p: z.array(z.number()).nullable(),
});

/**
 * Comparable sales, both windows at once: one range scan of
 * "Bílar_sold_comparables_idx" over the wide window, the narrow one a FILTER of
 * it. Make and model go through the same lower(btrim()) as the index, so
 * "Toyota " and "toyota" are one make whatever the database's locale.
 */
const getPriceEstimate: Handler<'getPriceEstimate'> = async ({ query, deps }) => {
  const { make, model, year, mileage } = query;
  const row = await deps.db.one(sql.type(windowsRow)`
    WITH comparables AS (
      SELECT w.bid_amount,
             abs(c.year - ${year}) <= ${NARROW.years} AND abs(c.mileage - ${mileage}) <= ${NARROW.mileageKm} AS narrow
      FROM "Bílar" c
      JOIN "uppboð" w ON w.id = c.winning_bid_id
      WHERE c.status = 'sold' AND c.winning_bid_id IS NOT NULL
        AND lower(btrim(c.car_make)) = lower(btrim(${make}))
        AND lower(btrim(c.car_model)) = lower(btrim(${model}))
        AND c.year BETWEEN ${year - WIDE.years} AND ${year + WIDE.years}
        AND c.mileage BETWEEN ${mileage - WIDE.mileageKm} AND ${mileage + WIDE.mileageKm}
    )
    SELECT count(*) FILTER (WHERE narrow)::int AS narrow_count,
           percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY bid_amount) FILTER (WHERE narrow) AS narrow_p,
           count(*)::int AS wide_count,
           percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY bid_amount) AS wide_p
    FROM comparables`);
  const stats = (count: number, p: readonly number[] | null) => ({ count, p25: p?.[0] ?? null, p50: p?.[1] ?? null, p75: p?.[2] ?? null });
  const estimate = chooseEstimate(stats(row.narrow_count, row.narrow_p), stats(row.wide_count, row.wide_p));
  if (!estimate) return { status: 200, body: { success: true, estimate: null, reason: 'insufficient_data' } };
  return { status: 200, body: { success: true, estimate } };
};

export const estimateHandlers = { getPriceEstimate };
