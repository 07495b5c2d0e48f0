import { sql } from 'slonik';
import { z } from 'zod';
import { normaliseEmail } from '../domain/normalise.js';
import { bidRanking } from '../db/cars.js';
import type { Handler } from '../api/types.js';

const countRow = z.object({ n: z.number().int() });

const statsRow = z.object({
  active_auctions: z.number().int(),
  coming_cars: z.number().int(),
  my_bids: z.number().int(),
  favorites: z.number().int(),
  my_purchases: z.number().int(),
});

/** Every figure from the database in one round trip; nothing is a placeholder. */
const getDashboardStats: Handler<'getDashboardStats'> = async ({ params, deps }) => {
  const email = normaliseEmail(params.dealer_email, 'path.dealer_email');
  const stats = await deps.db.one(sql.type(statsRow)`
    SELECT
      (SELECT count(*) FROM "Bílar" WHERE status = 'active')::int AS active_auctions,
      (SELECT count(*) FROM "Bílar" WHERE status = 'pending')::int AS coming_cars,
      (SELECT count(*) FROM "uppboð" WHERE dealer_email = ${email})::int AS my_bids,
      (SELECT count(*) FROM favorites WHERE dealer_email = ${email})::int AS favorites,
      -- this dealer's bid is the winning one recorded at the sale (or, for a sale recorded
      -- without one, the best-ranked bid: equal amounts go to the earlier bid)
      (SELECT count(*)
         FROM "uppboð" b JOIN "Bílar" c ON c.id = b.car_id AND c.status = 'sold'
        WHERE b.dealer_email = ${email}
          AND b.id = coalesce(c.winning_bid_id,
                (SELECT w.id FROM "uppboð" w WHERE w.car_id = c.id ORDER BY ${bidRanking} LIMIT 1)))::int AS my_purchases`);
  return { status: 200, body: { success: true, stats } };
};

const testDatabaseConnection: Handler<'testDatabaseConnection'> = async ({ deps }) => {
  const recordCount = await deps.db.oneFirst(sql.type(countRow)`
    SELECT count(*)::int AS n FROM "Bílar"`);
  return { status: 200, body: { success: true, message: 'Database connection is working', recordCount } };
};

export const dashboardHandlers = { getDashboardStats, testDatabaseConnection };
