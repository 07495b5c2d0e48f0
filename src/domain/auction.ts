/**
 * The auction rules, as pure functions: no clock, no database. The bid handler
 * loads the standing of a car under its row lock, asks these functions what
 * happens, and writes the answer in the same transaction.
 *
 * Money is whole ISK. A plain bid is a proxy bid whose maximum is its amount.
 */

/** The smallest bid a car takes next: one increment above the highest bid; the first bid at least one increment. */
export function minNextBid(highestBid: number | null, increment: number): number {
  return (highestBid ?? 0) + increment;
}

/** True when there is no reserve, or the highest bid has reached it. */
export function reserveMet(highestBid: number | null, reservePrice: number | null): boolean {
  return reservePrice === null || (highestBid !== null && highestBid >= reservePrice);
}

/**
 * Soft close: a bid accepted less than `softCloseMinutes` before the end moves
 * the end to `now + softCloseMinutes`. Returns the new end, or null when it stays.
 */
export function softCloseEnd(endsAt: Date | null, now: Date, softCloseMinutes: number): Date | null {
  if (endsAt === null || softCloseMinutes <= 0) return null;
  const window = softCloseMinutes * 60_000;
  if (endsAt.getTime() - now.getTime() >= window) return null;
  return new Date(now.getTime() + window);
}

/**
 * The maximum that still bids for a leading dealer: their own, unless they may
 * no longer bid (a suspended dealer), when their standing bid stays but their
 * proxy stops at it.
 */
export function proxyCeiling(price: number, maximum: number, mayBid: boolean): number {
  return mayBid ? Math.max(price, maximum) : price;
}

/** Who leads a car now: the dealer of the highest bid, the price (that bid) and that dealer's maximum. */
export type Standing = { leader: string; price: number; leaderMax: number };

/** A new bid: `amount` is what the dealer bids now, `max` the optional proxy ceiling (≥ amount). */
export type Challenge = { bidder: string; amount: number; max: number | null };

export type AuctionRules = { increment: number; reservePrice: number | null };

/** One bid row to write, in this order. `proxy`: the system chose the amount from the dealer's maximum. */
export type PlacedBid = { bidder: string; amount: number; max: number | null; proxy: boolean };

export type Resolution = {
  /** Rows to insert, in insertion order (an equal amount inserted first ranks first). */
  bids: PlacedBid[];
  /** The leading dealer afterwards. */
  leader: string;
  leaderMax: number;
  /** The highest bid afterwards. */
  price: number;
  /** The dealer who led before and lost the lead to this bid (gets the outbid e-mail), or null. */
  outbid: string | null;
};

export type BidCheck = { ok: true } | { ok: false; minNextBid: number };

/** A bid must be at least `minNextBid`; `max`, when given, at least the bid. */
export function checkBid(standing: Standing | null, amount: number, increment: number): BidCheck {
  const min = minNextBid(standing?.price ?? null, increment);
  return amount >= min ? { ok: true } : { ok: false, minNextBid: min };
}

/**
 * What a bid does to a car, eBay style:
 * - every dealer's maximum is their proxy: the system bids for them the least
 *   needed to stay on top, never above the maximum;
 * - when two maxima meet, the higher wins at the other's maximum plus one
 *   increment (capped at its own maximum); equal maxima go to the earlier one,
 *   i.e. the dealer already leading;
 * - a leader whose maximum reaches the reserve is lifted to the reserve at once,
 *   so a reserve is never left unmet while someone was willing to pay it;
 * - the leader may raise their own bid (to reach the reserve, say) or maximum.
 *
 * Invariant (kept by every branch): no dealer but the leader has a maximum above the
 * price, so a new bid only ever competes with the leader.
 * The caller has already checked the amount with `checkBid`.
 */
export function resolveBid(standing: Standing | null, challenge: Challenge, rules: AuctionRules): Resolution {
  const { increment, reservePrice } = rules;
  const challengerMax = Math.max(challenge.max ?? challenge.amount, challenge.amount);
  /** Lifts a leading amount to the reserve when the leader's maximum covers it. */
  const lift = (amount: number, max: number) =>
    reservePrice !== null && max >= reservePrice && amount < reservePrice ? reservePrice : amount;
  const own = (amount: number): PlacedBid => ({
    bidder: challenge.bidder,
    amount,
    max: challenge.max === null ? null : Math.max(challenge.max, amount),
    proxy: amount !== challenge.amount,
  });

  if (standing === null) {
    const price = lift(challenge.amount, challengerMax);
    return { bids: [own(price)], leader: challenge.bidder, leaderMax: challengerMax, price, outbid: null };
  }

  if (standing.leader === challenge.bidder) {
    const leaderMax = Math.max(standing.leaderMax, challengerMax);
    const price = lift(challenge.amount, leaderMax);
    return { bids: [own(price)], leader: challenge.bidder, leaderMax, price, outbid: null };
  }

  if (challengerMax > standing.leaderMax) {
    // The challenger takes the lead. The old leader's proxy first bids its whole maximum.
    const price = lift(Math.max(challenge.amount, Math.min(standing.leaderMax + increment, challengerMax)), challengerMax);
    const bids: PlacedBid[] = [];
    if (standing.leaderMax > standing.price) {
      bids.push({ bidder: standing.leader, amount: standing.leaderMax, max: null, proxy: true });
    }
    bids.push(own(price));
    return { bids, leader: challenge.bidder, leaderMax: challengerMax, price, outbid: standing.leader };
  }

  // The leader's maximum holds: the challenger's proxy bids its whole maximum, the
  // leader's answers one increment above it (capped at the leader's maximum).
  const answer = lift(Math.min(challengerMax + increment, standing.leaderMax), standing.leaderMax);
  const challengerBid = own(challengerMax);
  const leaderBid: PlacedBid = { bidder: standing.leader, amount: answer, max: null, proxy: true };
  // Equal maxima: the leader's bid goes in first, so among equal amounts it ranks first.
  const bids = answer === challengerMax ? [leaderBid, challengerBid] : [challengerBid, leaderBid];
  return { bids, leader: standing.leader, leaderMax: standing.leaderMax, price: answer, outbid: null };
}

/** Where a dealer stands on a car they bid on (`GET /api/dealer/bids`). */
export type DealerStanding = 'leading' | 'outbid' | 'won' | 'lost' | 'awaiting_seller';

/**
 * From the car's status, whether the dealer's bid ranks first, and whether the sale went to
 * them: a running (or not yet reopened) round → leading / outbid; ended and waiting for the
 * seller → awaiting_seller for the best bid, lost for the others; sold → won / lost; declined,
 * withdrawn or expired → lost.
 */
export function standingOf(status: string, leading: boolean, won: boolean): DealerStanding {
  if (status === 'sold') return won ? 'won' : 'lost';
  if (status === 'closed') return leading ? 'awaiting_seller' : 'lost';
  if (status === 'active' || status === 'pending') return leading ? 'leading' : 'outbid';
  return 'lost';
}
