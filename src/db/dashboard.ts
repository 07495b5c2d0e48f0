import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { bidRanking } from './cars.js';

const countRow = z.object({ n: z.number().int() });

const statsRow = z.object({
  active_auctions: z.number().int(),
  coming_cars: z.number().int(),
  my_bids: z.number().int(),
  favorites: z.number().int(),
  my_purchases: z.number().int(),
});

/** Every figure of a dealer's dashboard from the database in one round trip; nothing is a placeholder. */
export function dashboardStats(q: CommonQueryMethods, email: string) {
  return q.one(sql.type(statsRow)`
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
}

export function countCars(q: CommonQueryMethods): Promise<number> {
  return q.oneFirst(sql.type(countRow)`
    SELECT count(*)::int AS n FROM "Bílar"`);
}
