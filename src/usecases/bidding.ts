import { conflict, notFound } from '../errors.js';
import { seesBidder, seesUnlisted, type Principal } from '../domain/access.js';
import { checkBid, minNextBid, proxyCeiling, reserveMet, resolveBid, softCloseEnd } from '../domain/auction.js';
import { carBids, dealerBids, extendAuction, insertBid, lockCarForBid } from '../db/bids.js';
import { appendBidEvent } from '../db/car-events.js';
import { carExists, findLeader, type BidRow } from '../db/cars.js';
import type { Deps } from '../deps.js';
import { queueEmail } from '../notifications/queue.js';

export type BidInput = { carId: string; dealerEmail: string; dealerName: string; amount: number; max: number | null };

export type BidOutcome = {
  bid: BidRow;
  leading: boolean;
  highest_bid: number;
  min_next_bid: number;
  reserve_met: boolean;
  auction_ends_at: string | null;
  max_amount: number | null;
  extended: boolean;
};

/**
 * A bid, with the auction rules of src/domain/auction.ts: at least `min_next_bid`, optional
 * proxy maximum, soft close, outbid e-mail. Everything happens under the car's row lock, in
 * one transaction: two simultaneous bids on a car are decided one after the other, each
 * seeing the other's result.
 *
 * Who bids is the registered dealer when the e-mail is one (always with AUTH_MODE=jwt, where
 * the guard has checked the token): the bid carries the registered company's name, never the
 * free text sent. A dealer may not bid on a car they sell (409 `own_car`, see lockCarForBid).
 */
export function placeBid(deps: Pick<Deps, 'db' | 'config'>, input: BidInput): Promise<BidOutcome> {
  const { carId, dealerEmail } = input;
  return deps.db.transaction(async (tx) => {
    // 1. The car, locked, as it stands at the moment the lock was won.
    const car = await lockCarForBid(tx, carId, dealerEmail);
    if (!car) throw notFound('Car');
    if (car.status === 'closed' || (car.status === 'active' && car.ended)) {
      throw conflict('auction_closed', 'The auction on this car has ended');
    }
    if (car.status !== 'active') throw conflict('car_not_active', `Bids are only taken on active cars; this car is ${car.status}`);
    if (car.own_car) throw conflict('own_car', 'A dealer cannot bid on a car they are selling');
    const dealerName = car.registered_name ?? input.dealerName.trim();

    // 2. The rules: is the bid enough, and what does it do against the leader's maximum?
    const leader = await findLeader(tx, carId);
    const standing = leader
      ? { leader: leader.dealer_email, price: leader.price, leaderMax: proxyCeiling(leader.price, leader.leader_max, !leader.suspended) }
      : null;
    const check = checkBid(standing, input.amount, car.bid_increment);
    if (!check.ok) {
      throw conflict('bid_too_low', `The bid must be at least ${check.minNextBid} kr.`, { min_next_bid: check.minNextBid });
    }
    const resolution = resolveBid(
      standing,
      { bidder: dealerEmail, amount: input.amount, max: input.max },
      { increment: car.bid_increment, reservePrice: car.reserve_price },
    );

    // 3. The bids it places: the dealer's, and the leader's proxy answer if there is one.
    let own: BidRow | undefined;
    const inserted: BidRow[] = [];
    for (const placed of resolution.bids) {
      const mine = placed.bidder === dealerEmail;
      const row = await insertBid(tx, {
        carId,
        dealerName: mine ? dealerName : leader!.dealer_name,
        dealerEmail: placed.bidder,
        amount: placed.amount,
        max: placed.max,
        proxy: placed.proxy,
      });
      if (mine) own = row;
      inserted.push(row);
    }

    // 4. Soft close: a bid in the last minutes gives everyone those minutes again.
    const endsAt = car.auction_ends_at ? new Date(car.auction_ends_at) : null;
    const extended = softCloseEnd(endsAt, new Date(car.now), deps.config.AUCTION_SOFT_CLOSE_MINUTES);
    const auctionEndsAt = extended ? extended.toISOString() : car.auction_ends_at;
    if (extended) await extendAuction(tx, carId, auctionEndsAt!);
    const nextMin = minNextBid(resolution.price, car.bid_increment);

    // 5. The car's log: one event per row (a proxy answer included), each with the standing
    //    right after it; the count comes from the leader lookup, read under the same row lock.
    let highest = leader?.price ?? 0;
    for (const [i, row] of inserted.entries()) {
      highest = Math.max(highest, row.bid_amount);
      await appendBidEvent(tx, carId, row, {
        bid_count: (leader?.bid_count ?? 0) + i + 1,
        highest_bid: highest,
        min_next_bid: minNextBid(highest, car.bid_increment),
        auction_ends_at: auctionEndsAt,
        reserve_met: reserveMet(highest, car.reserve_price),
      });
    }

    // 6. The dealer who lost the lead hears of it, when this commits.
    if (resolution.outbid && leader) {
      await queueEmail(tx, {
        kind: 'outbid',
        dedupeKey: `outbid:${own!.id}`,
        carId,
        toEmail: leader.dealer_email,
        toName: leader.dealer_name,
        params: {
          car_id: carId,
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
      max_amount: resolution.leader === dealerEmail ? resolution.leaderMax : input.max,
      extended: extended !== null,
    };
  });
}

export type ShownBid = Omit<BidRow, 'dealer_name' | 'dealer_email'> & { dealer_name: string | null; dealer_email: string | null };

/**
 * Every caller sees the amounts and times; who bid only for the caller's own bids (every bid
 * for an admin, and for everyone with AUTH_MODE=off), so competing dealers never learn who
 * bids against them. 404 for no car (or one the caller may not see).
 */
export async function listCarBids(deps: Pick<Deps, 'db'>, carId: string, viewer: Principal): Promise<ShownBid[]> {
  const bids = await carBids(deps.db, carId);
  // Only an empty answer needs telling apart: a car without bids, or no such car.
  if (!(await carExists(deps.db, carId, { unlisted: seesUnlisted(viewer) }))) throw notFound('Car');
  return bids.map((bid) => (seesBidder(viewer, bid.dealer_email) ? bid : { ...bid, dealer_name: null, dealer_email: null }));
}

export const listDealerBids = (deps: Pick<Deps, 'db'>, dealerEmail: string) => dealerBids(deps.db, dealerEmail);
