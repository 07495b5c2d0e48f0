import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { bidColumns, bidRanking, bidRow, carStatus, type BidRow } from './cars.js';
import { noRows } from './no-rows.js';

/** The queries of bidding (src/usecases/bidding.ts): the car as a bid sees it, bids in, bids out. */

const lockedCarRow = z.object({ id: z.string() });

const biddingCar = z.object({
  status: carStatus,
  auction_ends_at: z.string().nullable(),
  bid_increment: z.number().int(),
  reserve_price: z.number().int().nullable(),
  car_make: z.string(),
  car_model: z.string(),
  car_plate: z.string(),
  year: z.number().int(),
  now: z.string(),
  ended: z.boolean(),
  registered_name: z.string().nullable(),
  own_car: z.boolean(),
});
export type BiddingCar = z.infer<typeof biddingCar>;

/**
 * Locks the car's row and reads what a bid by `dealerEmail` needs: the car, the time the lock
 * was won (clock_timestamp, not the transaction's start) and whether it has ended by then, the
 * registered dealer's company name, and whether the car is the dealer's own (its seller e-mail
 * is the dealer's, or its phone the dealer's mobile, or its seller e-mail another registration
 * under the dealer's kennitala). Null when there is no such car.
 */
export async function lockCarForBid(tx: CommonQueryMethods, carId: string, dealerEmail: string): Promise<BiddingCar | null> {
  const locked = await tx.maybeOne(sql.type(lockedCarRow)`
    SELECT id FROM "Bílar" WHERE id = ${carId} FOR UPDATE`);
  if (!locked) return null;
  return tx.one(sql.type(biddingCar)`
    SELECT c.status, c.auction_ends_at, c.bid_increment, c.reserve_price, c.car_make, c.car_model, c.car_plate, c.year,
           t.now, coalesce(c.auction_ends_at <= t.now, false) AS ended,
           d.name AS registered_name,
           coalesce(c.email = ${dealerEmail}, false) OR coalesce(d.mobile_number = c.phone, false) OR coalesce(d.colleague, false) AS own_car
    FROM "Bílar" c
    CROSS JOIN (SELECT clock_timestamp() AS now) t
    LEFT JOIN LATERAL (
      SELECT coalesce(x.company_name, x.dealer_name) AS name, x.mobile_number,
             EXISTS (SELECT 1 FROM dealers o WHERE o.organization_number = x.organization_number AND o.email = c.email) AS colleague
      FROM dealers x WHERE x.email = ${dealerEmail}
      ORDER BY x.status = 'approved' DESC, x.created_at DESC
      LIMIT 1
    ) d ON true
    WHERE c.id = ${carId}`);
}

export type NewBid = { carId: string; dealerName: string; dealerEmail: string; amount: number; max: number | null; proxy: boolean };

export function insertBid(tx: CommonQueryMethods, bid: NewBid): Promise<BidRow> {
  return tx.one(sql.type(bidRow)`
    INSERT INTO "uppboð" (car_id, dealer_name, dealer_email, bid_amount, max_amount, proxy, created_at, updated_at)
    VALUES (${bid.carId}, ${bid.dealerName}, ${bid.dealerEmail}, ${bid.amount}, ${bid.max}, ${bid.proxy}, clock_timestamp(), clock_timestamp())
    RETURNING ${bidColumns}`);
}

/** Soft close: the auction's new end. */
export async function extendAuction(tx: CommonQueryMethods, carId: string, endsAt: string): Promise<void> {
  await tx.query(sql.type(noRows)`
    UPDATE "Bílar" SET auction_ends_at = ${endsAt}::timestamptz, updated_at = now() WHERE id = ${carId}`);
}

/** A car's bids, best first; a buyer's who backed out of its sale are no offers any more (set aside). */
export function carBids(q: CommonQueryMethods, carId: string): Promise<readonly BidRow[]> {
  return q.any(sql.type(bidRow)`
    SELECT ${bidColumns} FROM "uppboð"
    WHERE car_id = ${carId} AND NOT set_aside
    ORDER BY ${bidRanking}`);
}

const dealerBidRow = bidRow.extend({
  car: z.object({
    id: z.string().uuid(),
    car_make: z.string(),
    car_model: z.string(),
    car_plate: z.string(),
    year: z.number().int(),
    status: carStatus,
  }),
});

/** A dealer's bids, newest first, each with its car. */
export function dealerBids(q: CommonQueryMethods, dealerEmail: string) {
  return q.any(sql.type(dealerBidRow)`
    SELECT b.id, b.car_id, b.dealer_name, b.dealer_email, b.bid_amount, b.proxy, b.created_at, b.updated_at,
           -- a primary-key lookup per bid, not a join: for a join the planner hashes
           -- the whole car table to match one dealer's few hundred bids
           (SELECT json_build_object('id', c.id, 'car_make', c.car_make, 'car_model', c.car_model,
                                     'car_plate', c.car_plate, 'year', c.year, 'status', c.status)
              FROM "Bílar" c WHERE c.id = b.car_id) AS car
    FROM "uppboð" b
    WHERE b.dealer_email = ${dealerEmail}
    ORDER BY b.created_at DESC, b.seq DESC`);
}
