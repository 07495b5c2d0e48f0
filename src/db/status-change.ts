import { sql, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import type { Config } from '../config.js';
import { conflict, notFound } from '../errors.js';
import { closeAuctions } from '../auctions/closing.js';
import { bidRanking, carStatus, type CarStatus } from './cars.js';

type AuctionConfig = Pick<Config, 'AUCTION_DURATION_HOURS' | 'BID_INCREMENT_ISK'>;

/** The columns that open an auction: its closing time and the increment it runs with. */
export const openAuction = (config: AuctionConfig) => ({
  endsAt: sql.fragment`now() + make_interval(hours => ${config.AUCTION_DURATION_HOURS})`,
  increment: config.BID_INCREMENT_ISK,
});

/**
 * Which status changes are allowed: `sold` is final; only a running auction can
 * be `closed` (by hand, early; the closing job does it when the time is up).
 * Setting the status a car already has changes nothing (a running auction keeps its end).
 */
function assertTransition(from: CarStatus, to: CarStatus): void {
  if (from === to) return;
  if (from === 'sold') throw conflict('invalid_status_transition', `A sold car cannot become ${to}`);
  if (to === 'closed' && from !== 'active') {
    throw conflict('invalid_status_transition', `Only a running auction can be closed; this car is ${from}`);
  }
}

/**
 * The one way a car's status is changed by hand (an admin's status change, an
 * inspection that opens the bidding round), inside the caller's transaction:
 * locks the car, checks the transition, writes the columns the new status needs.
 * A car that becomes `active` (from `pending`, or a `closed` car re-listed) gets a
 * new auction: closing now + AUCTION_DURATION_HOURS and the current increment;
 * bids already placed stand. `reserve` (optional) sets or clears the reserve.
 *
 * The car lifecycle module of the seller branch (changeStatus in
 * src/db/car-status.ts) is meant to take this function's place on merge.
 */
export async function changeCarStatus(
  tx: DatabaseTransactionConnection,
  carId: string,
  to: CarStatus,
  options: { config: AuctionConfig; reserve?: number | null },
): Promise<{ from: CarStatus }> {
  const from = await tx.maybeOneFirst(sql.type(z.object({ status: carStatus }))`
    SELECT status FROM "Bílar" WHERE id = ${carId} FOR UPDATE`);
  if (!from) throw notFound('Car');
  assertTransition(from, to);
  if (options.reserve !== undefined) {
    await tx.query(sql.unsafe`UPDATE "Bílar" SET reserve_price = ${options.reserve}, updated_at = now() WHERE id = ${carId}`);
  }
  if (from === to) return { from };
  if (to === 'closed') {
    await closeAuctions(tx, [carId], false);
    return { from };
  }
  const auction = openAuction(options.config);
  const changes = {
    active: sql.fragment`auction_ends_at = ${auction.endsAt}, bid_increment = ${auction.increment},
                         closed_at = NULL, winning_bid_id = NULL`,
    pending: sql.fragment`auction_ends_at = NULL, closed_at = NULL, winning_bid_id = NULL`,
    // Sold outside accept-bid: the best bid (if any) is recorded as the winner, a running auction ends now.
    sold: sql.fragment`winning_bid_id = coalesce(winning_bid_id,
                         (SELECT b.id FROM "uppboð" b WHERE b.car_id = ${carId} ORDER BY ${bidRanking} LIMIT 1)),
                       closed_at = coalesce(closed_at, now()),
                       auction_ends_at = CASE WHEN status = 'active' THEN least(coalesce(auction_ends_at, now()), now())
                                              ELSE auction_ends_at END`,
  }[to];
  await tx.query(sql.unsafe`UPDATE "Bílar" SET status = ${to}, ${changes}, updated_at = now() WHERE id = ${carId}`);
  return { from };
}
