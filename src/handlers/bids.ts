import { unlistedHidden } from './cars.js';
import { sql } from 'slonik';
import { z } from 'zod';
import { conflict, notFound, validationFailed } from '../errors.js';
import { bidColumns, bidRanking, bidRow, carStatus, findLeader, type BidRow } from '../db/cars.js';
import { checkBid, minNextBid, proxyCeiling, reserveMet, resolveBid, softCloseEnd } from '../domain/auction.js';
import { normaliseEmail } from '../domain/normalise.js';
import { enqueueEmail } from '../auctions/outbox.js';
import { appendBidEvent } from '../db/car-events.js';
import type { Handler } from '../api/types.js';
import { principalOf, seesBidder } from '../api/principal.js';

const lockedCarRow = z.object({ id: z.string() });

const lockedCar = z.object({
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

/**
 * A bid, with the auction rules of src/domain/auction.ts: at least
 * `min_next_bid`, optional proxy maximum, soft close, outbid e-mail. Everything
 * happens under the car's row lock, in one transaction: two simultaneous bids
 * on a car are decided one after the other, each seeing the other's result.
 *
 * Who bids is the registered dealer when the e-mail is one (always with AUTH_MODE=jwt,
 * where the guard has checked the token): the bid carries the registered company's
 * name, never the free text sent. A dealer may not bid on a car they sell (409 `own_car`):
 * the bid's e-mail is the car's seller e-mail, or the registered dealer's mobile number is
 * the car's phone, or the car's seller e-mail is another registration under the dealer's
 * kennitala. E-mails compare normalised (as stored), phones as E.164.
 */
const createBid: Handler<'createBid'> = async ({ body, deps, log }) => {
  const dealerEmail = normaliseEmail(body.dealer_email, 'body.dealer_email');
  const maxAmount = body.max_amount ?? null;
  if (maxAmount !== null && maxAmount < body.bid_amount) {
    throw validationFailed([{ path: 'body.max_amount', message: 'body.max_amount must be at least body.bid_amount' }]);
  }
  const softCloseMinutes = deps.config.AUCTION_SOFT_CLOSE_MINUTES;

  const outcome = await deps.db.transaction(async (tx) => {
    const locked = await tx.maybeOne(sql.type(lockedCarRow)`
      SELECT id FROM "Bílar" WHERE id = ${body.car_id} FOR UPDATE`);
    if (!locked) throw notFound('Car');
    // The time the lock was won is the time of the bid (clock_timestamp, not the transaction's start).
    const car = await tx.one(sql.type(lockedCar)`
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
      WHERE c.id = ${body.car_id}`);
    if (car.status === 'closed' || (car.status === 'active' && car.ended)) {
      throw conflict('auction_closed', 'The auction on this car has ended');
    }
    if (car.status !== 'active') throw conflict('car_not_active', `Bids are only taken on active cars; this car is ${car.status}`);
    if (car.own_car) throw conflict('own_car', 'A dealer cannot bid on a car they are selling');
    const dealerName = car.registered_name ?? body.dealer_name.trim();

    const leader = await findLeader(tx, body.car_id);
    const standing = leader
      ? { leader: leader.dealer_email, price: leader.price, leaderMax: proxyCeiling(leader.price, leader.leader_max, !leader.suspended) }
      : null;
    const check = checkBid(standing, body.bid_amount, car.bid_increment);
    if (!check.ok) {
      throw conflict('bid_too_low', `The bid must be at least ${check.minNextBid} kr.`, { min_next_bid: check.minNextBid });
    }
    const resolution = resolveBid(
      standing,
      { bidder: dealerEmail, amount: body.bid_amount, max: maxAmount },
      { increment: car.bid_increment, reservePrice: car.reserve_price },
    );

    let own: BidRow | undefined;
    const inserted: BidRow[] = [];
    for (const placed of resolution.bids) {
      const mine = placed.bidder === dealerEmail;
      const row = await tx.one(sql.type(bidRow)`
        INSERT INTO "uppboð" (car_id, dealer_name, dealer_email, bid_amount, max_amount, proxy, created_at, updated_at)
        VALUES (${body.car_id}, ${mine ? dealerName : leader!.dealer_name}, ${placed.bidder}, ${placed.amount},
                ${placed.max}, ${placed.proxy}, clock_timestamp(), clock_timestamp())
        RETURNING ${bidColumns}`);
      if (mine) own = row;
      inserted.push(row);
    }

    // Soft close: a bid in the last minutes gives everyone those minutes again.
    const endsAt = car.auction_ends_at ? new Date(car.auction_ends_at) : null;
    const extended = softCloseEnd(endsAt, new Date(car.now), softCloseMinutes);
    const auctionEndsAt = extended ? extended.toISOString() : car.auction_ends_at;
    if (extended) {
      await tx.query(sql.unsafe`
        UPDATE "Bílar" SET auction_ends_at = ${auctionEndsAt}::timestamptz, updated_at = now() WHERE id = ${body.car_id}`);
    }
    const nextMin = minNextBid(resolution.price, car.bid_increment);
    // One event per row (a proxy answer included), each with the standing right after it;
    // the count comes from the leader lookup, read under the same row lock.
    let highest = leader?.price ?? 0;
    for (const [i, row] of inserted.entries()) {
      highest = Math.max(highest, row.bid_amount);
      await appendBidEvent(tx, body.car_id, row, {
        bid_count: (leader?.bid_count ?? 0) + i + 1,
        highest_bid: highest,
        min_next_bid: minNextBid(highest, car.bid_increment),
        auction_ends_at: auctionEndsAt,
        reserve_met: reserveMet(highest, car.reserve_price),
      });
    }

    if (resolution.outbid && leader) {
      await enqueueEmail(tx, {
        kind: 'outbid',
        dedupeKey: `outbid:${own!.id}`,
        carId: body.car_id,
        toEmail: leader.dealer_email,
        toName: leader.dealer_name,
        params: {
          car_id: body.car_id,
          dealer_name: leader.dealer_name,
          car_make: car.car_make,
          car_model: car.car_model,
          car_plate: car.car_plate,
          year: car.year,
          highest_bid: resolution.price,
          min_next_bid: nextMin,
          auction_ends_at: auctionEndsAt,
        },
      });
    }
    return {
      bid: own!,
      leading: resolution.leader === dealerEmail,
      highest_bid: resolution.price,
      min_next_bid: nextMin,
      reserve_met: reserveMet(resolution.price, car.reserve_price),
      auction_ends_at: auctionEndsAt,
      max_amount: resolution.leader === dealerEmail ? resolution.leaderMax : maxAmount,
      extended: extended !== null,
    };
  });
  log.info('bid accepted', {
    bid_id: outcome.bid.id,
    car_id: outcome.bid.car_id,
    amount: outcome.bid.bid_amount,
    leading: outcome.leading,
    soft_close: outcome.extended,
  });
  const { extended: _extended, ...result } = outcome;
  return {
    status: 201,
    body: {
      success: true,
      message: outcome.leading ? 'Bid placed successfully' : 'Bid placed, but another dealer’s maximum bid is higher: you have been outbid',
      bid_id: outcome.bid.id,
      ...result,
    },
  };
};

/**
 * Every caller sees the amounts and times; who bid only for the caller's own
 * bids (every bid for an admin, and for everyone with AUTH_MODE=off), so
 * competing dealers never learn who bids against them.
 */
const listCarBids: Handler<'listCarBids'> = async ({ params, req, deps }) => {
  const bids = await deps.db.any(sql.type(bidRow)`
    SELECT ${bidColumns} FROM "uppboð"
    WHERE car_id = ${params.car_id}
    ORDER BY ${bidRanking}`);
  // Only an empty answer needs telling apart: a car without bids, or no such car.
  const hidden = unlistedHidden(req);
  const listed = sql.type(z.object({ one: z.number() }))`
    SELECT 1 AS one FROM "Bílar" c WHERE c.id = ${params.car_id} ${hidden ? sql.fragment`AND ${hidden}` : sql.fragment``}`;
  if (!(await deps.db.exists(listed))) throw notFound('Car');
  const caller = principalOf(req);
  const shown = bids.map((bid) => (seesBidder(caller, bid.dealer_email) ? bid : { ...bid, dealer_name: null, dealer_email: null }));
  return { status: 200, body: { success: true, bids: shown, count: shown.length } };
};

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

const listDealerBids: Handler<'listDealerBids'> = async ({ params, deps }) => {
  const bids = await deps.db.any(sql.type(dealerBidRow)`
    SELECT b.id, b.car_id, b.dealer_name, b.dealer_email, b.bid_amount, b.proxy, b.created_at, b.updated_at,
           -- a primary-key lookup per bid, not a join: for a join the planner hashes
           -- the whole car table to match one dealer's few hundred bids
           (SELECT json_build_object('id', c.id, 'car_make', c.car_make, 'car_model', c.car_model,
                                     'car_plate', c.car_plate, 'year', c.year, 'status', c.status)
              FROM "Bílar" c WHERE c.id = b.car_id) AS car
    FROM "uppboð" b
    WHERE b.dealer_email = ${normaliseEmail(params.dealer_email, 'path.dealer_email')}
    ORDER BY b.created_at DESC, b.seq DESC`);
  return { status: 200, body: { success: true, bids: [...bids], count: bids.length } };
};

export const bidHandlers = { createBid, listCarBids, listDealerBids };
