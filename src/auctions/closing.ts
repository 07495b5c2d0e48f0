import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { bidRanking } from '../db/cars.js';
import { reserveMet } from '../domain/auction.js';
import { enqueueEmail } from './outbox.js';

/**
 * Closing auctions. All times are PostgreSQL's (`now()`), so every instance
 * agrees and tests move time by moving `auction_ends_at` in the database.
 *
 * Exactly once: the cars are locked (FOR UPDATE SKIP LOCKED, so two closing
 * runs split the work instead of waiting on each other), and the UPDATE is
 * itself guarded by `status = 'active' AND auction_ends_at <= now()`, so a car
 * can only ever leave `active` once per auction; the seller's e-mail carries a
 * dedupe key on top.
 */

const closedRow = z.object({
  id: z.string().uuid(),
  email: z.string().nullable(),
  seller_name: z.string(),
  car_make: z.string(),
  car_model: z.string(),
  car_plate: z.string(),
  year: z.number().int(),
  reserve_price: z.number().int().nullable(),
  auction_ends_at: z.string(),
  winning_bid_id: z.string().uuid().nullable(),
  highest_bid: z.number().int().nullable(),
  bid_count: z.number().int(),
});
export type ClosedAuction = z.infer<typeof closedRow>;

/**
 * Moves the given cars from `active` to `closed`, records the winning bid (the
 * best-ranked one) and queues the seller's e-mail, in the caller's transaction.
 * `dueOnly`: only cars whose time is up (the closing job); otherwise an early
 * close, which ends the auction now. Cars not (or no longer) active are skipped.
 */
export async function closeAuctions(
  tx: CommonQueryMethods,
  carIds: readonly string[],
  dueOnly: boolean,
): Promise<readonly ClosedAuction[]> {
  if (carIds.length === 0) return [];
  const closed = await tx.any(sql.type(closedRow)`
    WITH closed AS (
      UPDATE "Bílar" c
      SET status = 'closed', closed_at = now(), updated_at = now(),
          auction_ends_at = least(coalesce(c.auction_ends_at, now()), now()),
          winning_bid_id = (SELECT b.id FROM "uppboð" b WHERE b.car_id = c.id ORDER BY ${bidRanking} LIMIT 1)
      WHERE c.id = ANY(${sql.array([...carIds], 'uuid')})
        AND c.status = 'active'
        ${dueOnly ? sql.fragment`AND c.auction_ends_at <= now()` : sql.fragment``}
      RETURNING c.*
    )
    SELECT c.id, c.email, c.seller_name, c.car_make, c.car_model, c.car_plate, c.year, c.reserve_price,
           c.auction_ends_at, c.winning_bid_id, w.bid_amount AS highest_bid,
           (SELECT count(*) FROM "uppboð" n WHERE n.car_id = c.id)::int AS bid_count
    FROM closed c LEFT JOIN "uppboð" w ON w.id = c.winning_bid_id`);
  for (const car of closed) {
    // A car from dealer registration may have no seller e-mail: nobody to tell.
    if (!car.email) continue;
    await enqueueEmail(tx, {
      kind: 'auction_closed',
      dedupeKey: `auction_closed:${car.id}:${car.auction_ends_at}`,
      carId: car.id,
      toEmail: car.email,
      toName: car.seller_name,
      params: {
        car_id: car.id,
        seller_name: car.seller_name,
        car_make: car.car_make,
        car_model: car.car_model,
        car_plate: car.car_plate,
        year: car.year,
        highest_bid: car.highest_bid,
        bid_count: car.bid_count,
        reserve_met: reserveMet(car.highest_bid, car.reserve_price),
        auction_ends_at: car.auction_ends_at,
      },
    });
  }
  return closed;
}

/** Closes every auction whose time is up (at most `limit` per call). Safe to run anywhere, any number of times. */
export async function closeDueAuctions(db: Db, limit = 500): Promise<readonly ClosedAuction[]> {
  return db.transaction(async (tx) => {
    const due = await tx.anyFirst(sql.type(z.object({ id: z.string().uuid() }))`
      SELECT id FROM "Bílar"
      WHERE status = 'active' AND auction_ends_at <= now()
      ORDER BY auction_ends_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED`);
    // A separate statement: its snapshot sees every bid committed before the locks were won.
    return closeAuctions(tx, due, true);
  });
}

/** Active cars without a closing time (demo data, imports) get one: now + the configured duration. */
export async function scheduleUnscheduledAuctions(db: Db, durationHours: number): Promise<number> {
  const ids = await db.anyFirst(sql.type(z.object({ id: z.string().uuid() }))`
    UPDATE "Bílar" SET auction_ends_at = now() + make_interval(hours => ${durationHours}), updated_at = now()
    WHERE status = 'active' AND auction_ends_at IS NULL
    RETURNING id`);
  return ids.length;
}

/** Seconds (database time) until the next running auction ends; null when none is running. */
export async function secondsUntilNextClose(db: Db): Promise<number | null> {
  return db.oneFirst(sql.type(z.object({ seconds: z.number().nullable() }))`
    SELECT extract(epoch FROM min(auction_ends_at) - now())::float8 AS seconds
    FROM "Bílar" WHERE status = 'active' AND auction_ends_at > now()`);
}
