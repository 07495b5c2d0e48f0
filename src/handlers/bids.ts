import { sql } from 'slonik';
import { z } from 'zod';
import { conflict, notFound } from '../errors.js';
import { bidColumns, bidRow } from '../db/cars.js';
import { normaliseEmail } from '../domain/normalise.js';
import type { Handler } from '../api/types.js';

const createBid: Handler<'createBid'> = async ({ body, deps, log }) => {
  const dealerEmail = normaliseEmail(body.dealer_email);
  const bid = await deps.db.transaction(async (tx) => {
    // The row lock serialises bids on one car: the second of two simultaneous
    // bids sees the first one's amount before it decides.
    const car = await tx.maybeOne(sql.type(z.object({ status: z.string() }))`
      SELECT status FROM "Bílar" WHERE id = ${body.car_id} FOR UPDATE`);
    if (!car) throw notFound('Car');
    if (car.status !== 'active') throw conflict('car_not_active', `Bids are only taken on active cars; this car is ${car.status}`);
    const highest = await tx.oneFirst(sql.type(z.object({ highest: z.number().int().nullable() }))`
      SELECT max(bid_amount) AS highest FROM "uppboð" WHERE car_id = ${body.car_id}`);
    if (highest !== null && body.bid_amount <= highest) {
      throw conflict('bid_too_low', `The bid must be above the current highest bid of ${highest} kr.`, {
        min_next_bid: highest + 1,
      });
    }
    return tx.one(sql.type(bidRow)`
      INSERT INTO "uppboð" (car_id, dealer_name, dealer_email, bid_amount, created_at, updated_at)
      -- clock_timestamp(), not now(): the time the lock was won, so created_at follows bid order
      VALUES (${body.car_id}, ${body.dealer_name.trim()}, ${dealerEmail}, ${body.bid_amount}, clock_timestamp(), clock_timestamp())
      RETURNING ${bidColumns}`);
  });
  log.info('bid accepted', { bid_id: bid.id, car_id: bid.car_id, amount: bid.bid_amount });
  return { status: 201, body: { success: true, message: 'Bid placed successfully', bid_id: bid.id, bid } };
};

const listCarBids: Handler<'listCarBids'> = async ({ params, deps }) => {
  const bids = await deps.db.any(sql.type(bidRow)`
    SELECT ${bidColumns} FROM "uppboð"
    WHERE car_id = ${params.car_id}
    ORDER BY bid_amount DESC, created_at ASC`);
  // Only an empty answer needs telling apart: a car without bids, or no such car.
  if (bids.length === 0 && !(await deps.db.exists(sql.unsafe`SELECT 1 FROM "Bílar" WHERE id = ${params.car_id}`))) {
    throw notFound('Car');
  }
  return { status: 200, body: { success: true, bids: [...bids], count: bids.length } };
};

const dealerBidRow = bidRow.extend({
  car: z.object({
    id: z.string().uuid(),
    car_make: z.string(),
    car_model: z.string(),
    car_plate: z.string(),
    year: z.number().int(),
    status: z.enum(['active', 'pending', 'sold']),
  }),
});

const listDealerBids: Handler<'listDealerBids'> = async ({ params, deps }) => {
  const bids = await deps.db.any(sql.type(dealerBidRow)`
    SELECT b.id, b.car_id, b.dealer_name, b.dealer_email, b.bid_amount, b.created_at, b.updated_at,
           json_build_object('id', c.id, 'car_make', c.car_make, 'car_model', c.car_model,
                             'car_plate', c.car_plate, 'year', c.year, 'status', c.status) AS car
    FROM "uppboð" b JOIN "Bílar" c ON c.id = b.car_id
    WHERE b.dealer_email = ${normaliseEmail(params.dealer_email)}
    ORDER BY b.created_at DESC, b.id DESC`);
  return { status: 200, body: { success: true, bids: [...bids], count: bids.length } };
};

export const bidHandlers = { createBid, listCarBids, listDealerBids };
