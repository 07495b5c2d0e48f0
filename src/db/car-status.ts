import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { loadConfig, type Config } from '../config.js';
import { conflict, notFound, type ErrorCode } from '../errors.js';
import { minNextBid, reserveMet } from '../domain/auction.js';
import {
  findTransition,
  refusal,
  CAR_STATUSES,
  CONFIRMATION_HOURS,
  type Actor,
  type CarStatus,
  type Effect,
  type Transition,
} from '../domain/lifecycle.js';
import { enqueueEmail } from '../auctions/outbox.js';
import { bidColumns, bidRanking, bidRow, type BidRow } from './cars.js';

const appendedEventRow = z.object({ id: z.string(), at: z.string() });

/**
 * The only code that writes a car's `status`. Every change — an admin's, the seller's,
 * the closing and expiry sweeps', accept-bid's, an inspection's — goes through
 * `changeStatus`, which in the caller's transaction: locks the car's row, checks the change
 * against the lifecycle (src/domain/lifecycle.ts), updates the columns the change sets,
 * appends a `status` event to `car_events` and queues the e-mails the change sends.
 */

export type LifecycleSettings = Pick<Config, 'AUCTION_DURATION_HOURS' | 'BID_INCREMENT_ISK' | 'SELLER_DECISION_HOURS'>;

let defaults: LifecycleSettings | undefined;
/** The configuration's defaults, for callers (tests, scripts) that have no Config at hand. */
export function defaultLifecycleSettings(): LifecycleSettings {
  defaults ??= loadConfig({});
  return defaults;
}

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
           created_at <= now() - make_interval(hours => ${CONFIRMATION_HOURS}) AS confirmation_lapsed
    FROM "Bílar" WHERE id = ${carId}
    FOR UPDATE`);
}

export type ChangeOptions = {
  by: Actor;
  settings: LifecycleSettings;
  /** A machine-readable why, kept in the event (e.g. `decision_deadline`); never free text. */
  reason?: string;
  /** `sold`: this bid wins (else the best-ranked one). */
  winningBidId?: string;
  /** `withdrawn`: the seller's own words, kept on the car, not in the event. */
  withdrawReason?: string | null;
  /** The 409 code when the change is not allowed (default `invalid_status_transition`). */
  conflictCode?: ErrorCode;
  /** Answer null instead of throwing when the change is not (or no longer) allowed: the sweeps. */
  ifAllowed?: boolean;
};

const changedRow = z.object({
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

/** What a change did (`id` is the car's). */
export type StatusChanged = {
  id: string;
  from: CarStatus;
  to: CarStatus;
  by: Actor;
  /** The id of the `status` event in car_events. */
  event_id: string;
  at: string;
  auction_ends_at: string | null;
  decision_due_at: string | null;
  winning_bid_id: string | null;
  highest_bid: number | null;
  bid_count: number;
};

/** When an auction opened now ends: at registration and at every re-opening. */
export const auctionEndsAt = (settings: Pick<Config, 'AUCTION_DURATION_HOURS'>) =>
  sql.fragment`now() + make_interval(hours => ${settings.AUCTION_DURATION_HOURS})`;

function effectColumns(effects: readonly Effect[], carId: string, options: ChangeOptions) {
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
        (SELECT b.id FROM "uppboð" b WHERE b.car_id = ${carId} ORDER BY ${bidRanking} LIMIT 1))`);
    } else {
      parts.push(sql.fragment`decision_due_at = now() + make_interval(hours => ${settings.SELLER_DECISION_HOURS})`);
    }
  }
  return parts;
}

/**
 * Changes a car's status as the lifecycle allows, in the caller's transaction (see the
 * file's comment; `tx` must be a transaction: the row lock and the event depend on it). 404 when there is no such car; 409 (`conflictCode`) when `by` may not
 * make this change from the car's current status, or a sweep's time has not come — or,
 * with `ifAllowed`, null.
 */
export async function changeStatus(
  tx: CommonQueryMethods,
  carId: string,
  to: CarStatus,
  options: ChangeOptions,
): Promise<StatusChanged | null> {
  const car = await lockCar(tx, carId);
  if (!car) {
    if (options.ifAllowed) return null;
    throw notFound('Car');
  }
  const transition = findTransition(car.status, to, options.by);
  const due =
    transition?.due === undefined ||
    { auctionEnded: car.auction_ended, decisionDue: car.decision_due, confirmationLapsed: car.confirmation_lapsed }[transition.due];
  if (!transition || !due) {
    if (options.ifAllowed) return null;
    throw conflict(
      options.conflictCode ?? 'invalid_status_transition',
      transition ? `It is not yet time for this car to become ${to}` : refusal(car.status, to),
    );
  }

  const columns = [
    sql.fragment`status = ${to}, updated_at = now()`,
    ...effectColumns(transition.effects, carId, options),
    ...(to === 'withdrawn' ? [sql.fragment`withdraw_reason = ${options.withdrawReason ?? null}`] : []),
  ];
  // Tells migration 006's safety-net trigger that this change writes its own event.
  await tx.query(sql.unsafe`SELECT set_config('kaggi.lifecycle', 'on', true)`);
  const changed = await tx.one(sql.type(changedRow)`
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
                       FROM "uppboð" WHERE car_id = c.id) s ON true`);

  // What a live stream shows of the change: never a dealer's identity.
  const data = {
    status: to,
    from: car.status,
    by: options.by,
    ...(options.reason ? { reason: options.reason } : {}),
    auction_ends_at: changed.auction_ends_at,
    decision_due_at: changed.decision_due_at,
    highest_bid: changed.highest_bid,
    bid_count: changed.bid_count,
    min_next_bid: minNextBid(changed.highest_bid, changed.bid_increment),
    reserve_met: reserveMet(changed.highest_bid, car.reserve_price),
    ...(to === 'sold' ? { sold_for: changed.winning_amount } : {}),
  };
  const event = await tx.one(sql.type(appendedEventRow)`
    INSERT INTO car_events (car_id, kind, data) VALUES (${carId}, 'status', ${sql.jsonb(data)})
    RETURNING id::text, at`);

  await queueEmails(tx, transition, car, changed, event.id);

  return {
    id: carId,
    from: car.status,
    to,
    by: options.by,
    event_id: event.id,
    at: event.at,
    auction_ends_at: changed.auction_ends_at,
    decision_due_at: changed.decision_due_at,
    winning_bid_id: changed.winning_bid_id,
    highest_bid: changed.highest_bid,
    bid_count: changed.bid_count,
  };
}

const bidderRow = z.object({ dealer_email: z.string(), dealer_name: z.string() });

async function queueEmails(
  tx: CommonQueryMethods,
  transition: Transition,
  car: LockedCar,
  changed: z.infer<typeof changedRow>,
  eventId: string,
): Promise<void> {
  const common = {
    car_id: car.id,
    car_make: car.car_make,
    car_model: car.car_model,
    car_plate: car.car_plate,
    year: car.year,
    status: transition.to,
    highest_bid: changed.highest_bid,
    bid_count: changed.bid_count,
  };
  const seller = car.email; // a car from dealer registration may have none: nobody to tell
  for (const who of transition.notify) {
    if (who === 'seller' && seller) {
      if (transition.to === 'closed') {
        await enqueueEmail(tx, {
          kind: 'auction_closed',
          dedupeKey: `auction_closed:${car.id}:${changed.auction_ends_at}`,
          carId: car.id,
          toEmail: seller,
          toName: car.seller_name,
          params: {
            ...common,
            seller_name: car.seller_name,
            reserve_met: reserveMet(changed.highest_bid, car.reserve_price),
            auction_ends_at: changed.auction_ends_at,
            decision_due_at: changed.decision_due_at,
          },
        });
      } else {
        await enqueueEmail(tx, {
          kind: transition.to === 'sold' ? 'sale_confirmed' : 'decision_expired',
          dedupeKey: `seller:${eventId}`,
          carId: car.id,
          toEmail: seller,
          toName: car.seller_name,
          params: { ...common, seller_name: car.seller_name, sold_for: changed.winning_amount },
        });
      }
    }
    if (who === 'winner' && changed.winning_dealer_email) {
      await enqueueEmail(tx, {
        kind: 'auction_won',
        dedupeKey: `winner:${eventId}`,
        carId: car.id,
        toEmail: changed.winning_dealer_email,
        toName: changed.winning_dealer_name,
        params: { ...common, dealer_name: changed.winning_dealer_name, sold_for: changed.winning_amount },
      });
    }
    if (who === 'bidders') {
      const bidders = await tx.any(sql.type(bidderRow)`
        SELECT DISTINCT ON (dealer_email) dealer_email, dealer_name FROM "uppboð"
        WHERE car_id = ${car.id} ORDER BY dealer_email, created_at DESC, seq DESC`);
      for (const bidder of bidders) {
        await enqueueEmail(tx, {
          kind: 'auction_ended_unsold',
          dedupeKey: `bidder:${eventId}:${bidder.dealer_email}`,
          carId: car.id,
          toEmail: bidder.dealer_email,
          toName: bidder.dealer_name,
          params: { ...common, dealer_name: bidder.dealer_name },
        });
      }
    }
  }
}

/**
 * Sells a locked car to its best-ranked bid (409 `no_bids` without one): the one way
 * admin accept-bid and the seller's accept record a sale.
 */
export async function sellToBestBid(
  tx: CommonQueryMethods,
  carId: string,
  options: Omit<ChangeOptions, 'winningBidId' | 'ifAllowed'>,
): Promise<{ change: StatusChanged; bid: BidRow }> {
  const best = await tx.maybeOne(sql.type(bidRow)`
    SELECT ${bidColumns} FROM "uppboð" WHERE car_id = ${carId} ORDER BY ${bidRanking} LIMIT 1`);
  if (!best) throw conflict('no_bids', 'This car has no bid to accept');
  const change = await changeStatus(tx, carId, 'sold', { ...options, winningBidId: best.id });
  return { change: change!, bid: best };
}
