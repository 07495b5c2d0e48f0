import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { chooseEstimate, NARROW, WIDE, type Estimate } from '../domain/estimate.js';

const windowsRow = z.object({
  narrow_count: z.number().int(),
  narrow_p: z.array(z.number()).nullable(),
  wide_count: z.number().int(),
  wide_p: z.array(z.number()).nullable(),
});

export type EstimateQuery = { make: string; model: string; year: number; mileage: number };

/**
 * The price estimate of a car from comparable sales, or null when there are too
 * few (the rule is src/domain/estimate.ts). Both windows at once: one range scan
 * of "Bílar_sold_comparables_idx" over the wide window, the narrow one a FILTER
 * of it. Make and model go through the same lower(btrim()) as the index, so
 * "Toyota " and "toyota" are one make whatever the database's locale.
 */
export async function estimatePrice(q: CommonQueryMethods, { make, model, year, mileage }: EstimateQuery): Promise<Estimate | null> {
  const row = await q.one(sql.type(windowsRow)`
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
  return chooseEstimate(stats(row.narrow_count, row.narrow_p), stats(row.wide_count, row.wide_p));
}
