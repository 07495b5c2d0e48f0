import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { Config } from '../config.js';
import { CAR_STATUSES, CONFIRMATION_HOURS, type Effect } from '../domain/lifecycle.js';
import { auctionEndsAt, bidColumns, bidRanking, bidRow, type BidRow } from './cars.js';

/**
 * The SQL of a status change; the change itself, in order, is `changeStatus`
 * (src/usecases/lifecycle.ts), the only code that writes a car's `status`.
 */

export type LifecycleSettings = Pick<
  Config,
  'AUCTION_DURATION_HOURS' | 'BID_INCREMENT_ISK' | 'SELLER_DECISION_HOURS' | 'SALE_PAYMENT_DAYS'
>;

const lockedCar = z.object({
  id: z.string().uuid(),
  status: z.enum(CAR_STATUSES),
  email: z.string().nullable(),
  seller_name: z.string(),
  car_make: z.string(),
  car_model: z.string(),
  car_plate: z.string(),
  year: z.number().int(),
  reserve_price: z.number().int().nullable(),
  auction_ended: z.boolean(),
  decision_due: z.boolean(),
  confirmation_lapsed: z.boolean(),
  /** Its seller's personal data has been erased (src/usecases/privacy.ts). */
  erased: z.boolean(),
});
export type LockedCar = z.infer<typeof lockedCar>;

/**
 * Locks a car's row for the rest of the transaction and reads what the lifecycle needs.
 * `auction_ended` / `decision_due` compare with the transaction's clock (PostgreSQL's),
 * as the sweeps' own selections do. Null when there is no such car.
 */
export function lockCar(tx: CommonQueryMethods, carId: string): Promise<LockedCar | null> {
  return tx.maybeOne(sql.type(lockedCar)`
    SELECT id, status, email, seller_name, car_make, car_model, car_plate, year, reserve_price,
           coalesce(auction_ends_at <= now(), false) AS auction_ended,
           coalesce(decision_due_at <= now(), false) AS decision_due,
           created_at <= now() - make_interval(hours => ${CONFIRMATION_HOURS}) AS confirmation_lapsed,
           erased_at IS NOT NULL AS erased
    FROM "Bílar" WHERE id = ${carId}
    FOR UPDATE`);
}

/** What the columns a change sets are computed from. */
export type EffectOptions = { settings: LifecycleSettings; winningBidId?: string };

export const changedRow = z.object({
  id: z.string().uuid(),
  status: z.enum(CAR_STATUSES),
  auction_ends_at: z.string().nullable(),
  decision_due_at: z.string().nullable(),
  closed_at: z.string().nullable(),
  winning_bid_id: z.string().uuid().nullable(),
  highest_bid: z.number().int().nullable(),
  bid_count: z.number().int(),
  winning_amount: z.number().int().nullable(),
  winning_dealer_email: z.string().nullable(),
  winning_dealer_name: z.string().nullable(),
  bid_increment: z.number().int(),
});

export type ChangedRow = z.infer<typeof changedRow>;

function effectColumns(effects: readonly Effect[], carId: string, options: EffectOptions) {
  const { settings } = options;
  const parts = [];
  for (const effect of effects) {
    if (effect === 'openAuction') {
      parts.push(sql.fragment`auction_ends_at = ${auctionEndsAt(settings)},
        bid_increment = ${settings.BID_INCREMENT_ISK}, closed_at = NULL, winning_bid_id = NULL, decision_due_at = NULL`);
    } else if (effect === 'unschedule') {
      parts.push(sql.fragment`auction_ends_at = NULL, closed_at = NULL, winning_bid_id = NULL, decision_due_at = NULL`);
    } else if (effect === 'endAuction') {
      parts.push(sql.fragment`closed_at = now(),
        auction_ends_at = CASE WHEN c.status = 'active' THEN least(coalesce(c.auction_ends_at, now()), now()) ELSE c.auction_ends_at END`);
    } else if (effect === 'recordWinner') {
      parts.push(sql.fragment`winning_bid_id = coalesce(${options.winningBidId ?? null}::uuid,
        (SELECT b.id FROM "uppboð" b WHERE b.car_id = ${carId} AND NOT b.set_aside ORDER BY ${bidRanking} LIMIT 1))`);
    } else {
      parts.push(sql.fragment`decision_due_at = now() + make_interval(hours => ${settings.SELLER_DECISION_HOURS})`);
    }
  }
  return parts;
}

const appendedEventRow = z.object({ id: z.string(), at: z.string() });
const settingRow = z.object({ set_config: z.string() });

/**
 * Writes the change (the status and the columns its effects set) and answers the car as it
 * now stands, with its bids' figures and the winner. `withdrawReason` goes with `withdrawn`.
 */
export async function writeStatus(
  tx: CommonQueryMethods,
  carId: string,
  to: (typeof CAR_STATUSES)[number],
  effects: readonly Effect[],
  options: EffectOptions & { withdrawReason?: string | null },
): Promise<ChangedRow> {
  const columns = [
    sql.fragment`status = ${to}, updated_at = now()`,
    ...effectColumns(effects, carId, options),
    ...(to === 'withdrawn' ? [sql.fragment`withdraw_reason = ${options.withdrawReason ?? null}`] : []),
  ];
  // Tells migration 006's safety-net trigger that this change writes its own event.
  await tx.query(sql.type(settingRow)`SELECT set_config('kaggi.lifecycle', 'on', true)`);
  return tx.one(sql.type(changedRow)`
    WITH changed AS (
      UPDATE "Bílar" c SET ${sql.join(columns, sql.fragment`, `)}
      WHERE c.id = ${carId}
      RETURNING c.*
    )
    SELECT c.id, c.status, c.auction_ends_at, c.decision_due_at, c.closed_at, c.winning_bid_id, c.bid_increment,
           s.highest_bid, s.bid_count, w.bid_amount AS winning_amount,
           w.dealer_email AS winning_dealer_email, w.dealer_name AS winning_dealer_name
    FROM changed c
    LEFT JOIN "uppboð" w ON w.id = c.winning_bid_id
    LEFT JOIN LATERAL (SELECT max(bid_amount)::int AS highest_bid, count(*)::int AS bid_count
                       FROM "uppboð" WHERE car_id = c.id AND NOT set_aside) s ON true`);
}

/** Appends a `status` event to the car's log (what live streams show: never a dealer's identity). */
export function appendStatusEvent(tx: CommonQueryMethods, carId: string, data: Record<string, unknown>) {
  return tx.one(sql.type(appendedEventRow)`
    INSERT INTO car_events (car_id, kind, data) VALUES (${carId}, 'status', ${sql.jsonb(data as Parameters<typeof sql.jsonb>[0])})
    RETURNING id::text, at`);
}

const bidderRow = z.object({ dealer_email: z.string(), dealer_name: z.string() });

/** Every dealer who bid on the car, once each, with the name of their latest bid. */
export function carBidders(tx: CommonQueryMethods, carId: string) {
  return tx.any(sql.type(bidderRow)`
    SELECT DISTINCT ON (dealer_email) dealer_email, dealer_name FROM "uppboð"
    WHERE car_id = ${carId} ORDER BY dealer_email, created_at DESC, seq DESC`);
}

/** The car's best-ranked bid, or null. */
export function bestBid(tx: CommonQueryMethods, carId: string): Promise<BidRow | null> {
  return tx.maybeOne(sql.type(bidRow)`
    SELECT ${bidColumns} FROM "uppboð" WHERE car_id = ${carId} AND NOT set_aside ORDER BY ${bidRanking} LIMIT 1`);
}
