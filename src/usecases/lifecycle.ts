import type { CommonQueryMethods } from 'slonik';
import { loadConfig } from '../config.js';
import { conflict, notFound, type ErrorCode } from '../errors.js';
import { minNextBid, reserveMet } from '../domain/auction.js';
import { findTransition, refusal, type Actor, type CarStatus, type Transition } from '../domain/lifecycle.js';
import {
  appendStatusEvent,
  bestBid,
  carBidders,
  lockCar,
  writeStatus,
  type ChangedRow,
  type LifecycleSettings,
  type LockedCar,
} from '../db/car-status.js';
import type { BidRow } from '../db/cars.js';
import { queueEmail } from '../notifications/queue.js';

/**
 * The only way a car's `status` changes. Every change — an admin's, the seller's, the
 * closing and expiry sweeps', accept-bid's, an inspection's, a phone confirmation's — goes
 * through `changeStatus`, which in the caller's transaction: locks the car's row, checks the
 * change against the lifecycle (src/domain/lifecycle.ts), updates the columns the change
 * sets, appends a `status` event to `car_events` and queues the e-mails the change sends.
 */

export type { LifecycleSettings } from '../db/car-status.js';

let defaults: LifecycleSettings | undefined;
/** The configuration's defaults, for callers (tests, scripts) that have no Config at hand. */
export function defaultLifecycleSettings(): LifecycleSettings {
  defaults ??= loadConfig({});
  return defaults;
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

  const changed = await writeStatus(tx, carId, to, transition.effects, options);

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
  const event = await appendStatusEvent(tx, carId, data);

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

async function queueEmails(
  tx: CommonQueryMethods,
  transition: Transition,
  car: LockedCar,
  changed: ChangedRow,
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
        await queueEmail(tx, {
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
        await queueEmail(tx, {
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
      await queueEmail(tx, {
        kind: 'auction_won',
        dedupeKey: `winner:${eventId}`,
        carId: car.id,
        toEmail: changed.winning_dealer_email,
        toName: changed.winning_dealer_name,
        params: { ...common, dealer_name: changed.winning_dealer_name, sold_for: changed.winning_amount },
      });
    }
    if (who === 'bidders') {
      const bidders = await carBidders(tx, car.id);
      for (const bidder of bidders) {
        await queueEmail(tx, {
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
  const best = await bestBid(tx, carId);
  if (!best) throw conflict('no_bids', 'This car has no bid to accept');
  const change = await changeStatus(tx, carId, 'sold', { ...options, winningBidId: best.id });
  return { change: change!, bid: best };
}
