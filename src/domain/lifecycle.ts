/**
 * The one car lifecycle, as data: which status may follow which, who may make each
 * change, and what the change does to the car's columns. No clock, no database:
 * src/db/car-status.ts applies it under the car's row lock.
 */

export const CAR_STATUSES = ['active', 'pending', 'sold', 'closed', 'declined', 'withdrawn', 'expired', 'unconfirmed', 'lapsed'] as const;

/**
 * Statuses of a registration nobody has proved yet (LISTING_REQUIRES_PHONE): such a car is
 * not listed to dealers, has no auction, no seller sign-in, and holds no plate.
 */
export const UNLISTED_STATUSES = ['unconfirmed', 'lapsed'] as const satisfies readonly CarStatus[];

/** How long an `unconfirmed` registration waits for its phone before it lapses. */
export const CONFIRMATION_HOURS = 24;
export type CarStatus = (typeof CAR_STATUSES)[number];

/**
 * Who makes a change. `sweep` is the periodic job (closing ended auctions, expiring
 * undecided results, lapsing unconfirmed registrations); `inspection` an inspection report
 * that opens the round; `confirmation` the registration's phone being verified;
 * `cancellation` the back office cancelling a sale whose buyer backed out (src/usecases/sale.ts).
 */
export type Actor = 'admin' | 'seller' | 'sweep' | 'inspection' | 'confirmation' | 'cancellation';

/**
 * What a change sets, beyond `status`:
 * - `openAuction`: a new auction: closing time now + AUCTION_DURATION_HOURS, the current
 *   increment; winner, closing time and deadline cleared (bids already placed stand)
 * - `unschedule`: no auction (back to `pending`)
 * - `endAuction`: a running auction ends now (`closed_at`, `auction_ends_at` not after now)
 * - `recordWinner`: the best-ranked bid (or the one given) becomes `winning_bid_id`
 * - `decisionDeadline`: `decision_due_at` = now + SELLER_DECISION_HOURS
 */
export type Effect = 'openAuction' | 'unschedule' | 'endAuction' | 'recordWinner' | 'decisionDeadline';

/** A condition on the car's clock that a sweep's change needs (checked under the lock). */
export type Due = 'auctionEnded' | 'decisionDue' | 'confirmationLapsed';

export type Transition = {
  from: CarStatus;
  to: CarStatus;
  by: readonly Actor[];
  effects: readonly Effect[];
  /** For `sweep` only: the change happens only once this time has passed. */
  due?: Due;
  /** Who is told by e-mail (queued in the same transaction). */
  notify: readonly ('seller' | 'winner' | 'bidders')[];
};

const t = (from: CarStatus, to: CarStatus, by: Actor[], effects: Effect[], notify: Transition['notify'] = [], due?: Due): Transition => ({
  from,
  to,
  by,
  effects,
  notify,
  ...(due ? { due } : {}),
});

/**
 * Every allowed change. Admin changes outside the seller's flow (`pending` ↔ `active`,
 * back to `pending`, `sold` by hand) are kept as the status endpoint allowed them before
 * the seller's side existed. `declined` and `withdrawn` are final, and so is `sold` but for a
 * cancelled sale; an `expired` car may be re-listed by an admin (the seller asked Kaggi to try again).
 */
export const TRANSITIONS: readonly Transition[] = [
  t('pending', 'active', ['admin', 'inspection'], ['openAuction']),
  t('pending', 'sold', ['admin'], ['recordWinner', 'endAuction'], ['seller', 'winner']),
  t('pending', 'withdrawn', ['seller'], []),

  t('active', 'closed', ['sweep'], ['endAuction', 'recordWinner', 'decisionDeadline'], ['seller'], 'auctionEnded'),
  t('active', 'closed', ['admin'], ['endAuction', 'recordWinner', 'decisionDeadline'], ['seller']),
  t('active', 'sold', ['admin'], ['endAuction', 'recordWinner'], ['seller', 'winner']),
  t('active', 'pending', ['admin'], ['unschedule']),
  t('active', 'withdrawn', ['seller'], ['endAuction'], ['bidders']),

  t('closed', 'sold', ['admin', 'seller'], ['recordWinner'], ['seller', 'winner']),
  t('closed', 'declined', ['seller'], [], ['bidders']),
  t('closed', 'expired', ['sweep'], [], ['seller', 'bidders'], 'decisionDue'),
  t('closed', 'active', ['admin', 'inspection'], ['openAuction']),
  t('closed', 'pending', ['admin'], ['unschedule']),

  t('expired', 'active', ['admin'], ['openAuction']),

  // The buyer backed out: the seller decides again, between the bids that still count (the
  // buyer's are set aside first), with a fresh deadline. Only through the sale's cancellation,
  // never the status endpoint: the sale record must be cancelled with it.
  t('sold', 'closed', ['cancellation'], ['recordWinner', 'decisionDeadline']),

  // A proved registration becomes what registration makes a car without the proof: active.
  t('unconfirmed', 'active', ['confirmation'], ['openAuction']),
  // Another registration of the plate was confirmed first.
  t('unconfirmed', 'lapsed', ['confirmation'], []),
  t('unconfirmed', 'lapsed', ['sweep'], [], [], 'confirmationLapsed'),
];

/** The transition `by` may make from `from` to `to`, or null when there is none. */
export function findTransition(from: CarStatus, to: CarStatus, by: Actor): Transition | null {
  return TRANSITIONS.find((x) => x.from === from && x.to === to && x.by.includes(by)) ?? null;
}

/** Statuses a car never leaves. */
export const FINAL_STATUSES: readonly CarStatus[] = CAR_STATUSES.filter((s) => !TRANSITIONS.some((x) => x.from === s));

/** Why a change is refused, in words a client can show. */
export function refusal(from: CarStatus, to: CarStatus): string {
  if (FINAL_STATUSES.includes(from)) return `A ${from} car cannot change status (it is final)`;
  if (to === 'closed') return `Only a running auction can be closed; this car is ${from}`;
  return `A ${from} car cannot become ${to}`;
}
