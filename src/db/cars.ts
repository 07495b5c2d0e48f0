import { sql } from 'slonik';
import { z } from 'zod';

/**
 * The public car object, shared by every operation that returns cars. The
 * seller's phone is deliberately not selected: it never leaves the server.
 * Highest bid and count are derived from the bids (index on
 * car_id, bid_amount DESC) rather than stored, so they can never disagree.
 */
export const carRow = z.object({
  id: z.string().uuid(),
  seller_name: z.string(),
  email: z.string().nullable(),
  postal_code: z.string().nullable(),
  car_make: z.string(),
  car_model: z.string(),
  car_plate: z.string(),
  year: z.number().int(),
  mileage: z.number().int(),
  status: z.enum(['active', 'pending', 'sold']),
  highest_bid: z.number().int().nullable(),
  bid_count: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type CarRow = z.infer<typeof carRow>;

/** `SELECT <car object> FROM "Bílar" c` — callers add WHERE / ORDER BY. */
export const selectCars = sql.fragment`
  SELECT c.id, c.seller_name, c.email, c.postal_code, c.car_make, c.car_model, c.car_plate,
         c.year, c.mileage, c.status, b.highest_bid, b.bid_count, c.created_at, c.updated_at
  FROM "Bílar" c
  LEFT JOIN LATERAL (
    SELECT max(bid_amount)::int AS highest_bid, count(*)::int AS bid_count
    FROM "uppboð" WHERE car_id = c.id
  ) b ON true`;

export const bidRow = z.object({
  id: z.string().uuid(),
  car_id: z.string().uuid(),
  dealer_name: z.string(),
  dealer_email: z.string(),
  bid_amount: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const bidColumns = sql.fragment`id, car_id, dealer_name, dealer_email, bid_amount, created_at, updated_at`;
