import { describe, expect, it } from 'vitest';
import { checkBid, minNextBid, reserveMet, resolveBid, softCloseEnd, type Standing } from '../../src/domain/auction.js';
import { retryDelaySeconds } from '../../src/auctions/outbox.js';

const INC = 12_000;
const rules = { increment: INC, reservePrice: null };

describe('minimum next bid', () => {
  it('is one increment above the highest bid, and one increment for the first bid', () => {
    expect(minNextBid(null, INC)).toBe(12_000);
    expect(minNextBid(2_000_000, INC)).toBe(2_012_000);
    expect(checkBid(null, 11_999, INC)).toEqual({ ok: false, minNextBid: 12_000 });
    expect(checkBid(null, 12_000, INC)).toEqual({ ok: true });
    const standing: Standing = { leader: 'a', price: 100_000, leaderMax: 500_000 };
    expect(checkBid(standing, 111_999, INC)).toEqual({ ok: false, minNextBid: 112_000 });
    expect(checkBid(standing, 112_000, INC)).toEqual({ ok: true });
  });
});

describe('reserve', () => {
  it('is met when there is none, or when the highest bid reaches it', () => {
    expect(reserveMet(null, null)).toBe(true);
    expect(reserveMet(5, null)).toBe(true);
    expect(reserveMet(null, 1_000_000)).toBe(false);
    expect(reserveMet(999_999, 1_000_000)).toBe(false);
    expect(reserveMet(1_000_000, 1_000_000)).toBe(true);
  });
});

describe('soft close', () => {
  const now = new Date('2025-11-26T12:00:00.000Z');
  it('moves the end to now + N minutes for a bid in the last N minutes', () => {
    expect(softCloseEnd(new Date('2025-11-26T12:01:00.000Z'), now, 2)).toEqual(new Date('2025-11-26T12:02:00.000Z'));
    expect(softCloseEnd(new Date('2025-11-26T12:00:00.001Z'), now, 2)).toEqual(new Date('2025-11-26T12:02:00.000Z'));
  });
  it('leaves the end alone earlier, without an end, or when switched off', () => {
    expect(softCloseEnd(new Date('2025-11-26T12:02:00.000Z'), now, 2)).toBeNull();
    expect(softCloseEnd(new Date('2025-11-26T13:00:00.000Z'), now, 2)).toBeNull();
    expect(softCloseEnd(null, now, 2)).toBeNull();
    expect(softCloseEnd(new Date('2025-11-26T12:00:30.000Z'), now, 0)).toBeNull();
  });
});

describe('proxy resolution', () => {
  it('a first bid leads at its amount', () => {
    const r = resolveBid(null, { bidder: 'a', amount: 100_000, max: 500_000 }, rules);
    expect(r).toMatchObject({ leader: 'a', price: 100_000, leaderMax: 500_000, outbid: null });
    expect(r.bids).toEqual([{ bidder: 'a', amount: 100_000, max: 500_000, proxy: false }]);
  });

  it('a higher maximum wins at the other maximum plus one increment; the loser’s proxy shows its maximum', () => {
    const standing = { leader: 'a', price: 100_000, leaderMax: 300_000 };
    const r = resolveBid(standing, { bidder: 'b', amount: 112_000, max: 1_000_000 }, rules);
    expect(r).toMatchObject({ leader: 'b', price: 312_000, leaderMax: 1_000_000, outbid: 'a' });
    expect(r.bids).toEqual([
      { bidder: 'a', amount: 300_000, max: null, proxy: true },
      { bidder: 'b', amount: 312_000, max: 1_000_000, proxy: true },
    ]);
  });

  it('caps the winner at its own maximum when the maxima are less than an increment apart', () => {
    const standing = { leader: 'a', price: 100_000, leaderMax: 300_000 };
    const r = resolveBid(standing, { bidder: 'b', amount: 112_000, max: 305_000 }, rules);
    expect(r).toMatchObject({ leader: 'b', price: 305_000, outbid: 'a' });
  });

  it('a plain bid above the leader’s maximum wins at its own amount', () => {
    const standing = { leader: 'a', price: 100_000, leaderMax: 100_000 };
    const r = resolveBid(standing, { bidder: 'b', amount: 250_000, max: null }, rules);
    expect(r).toMatchObject({ leader: 'b', price: 250_000, outbid: 'a' });
    expect(r.bids).toEqual([{ bidder: 'b', amount: 250_000, max: null, proxy: false }]);
  });

  it('a lower challenger is outbid at once: its proxy bids its maximum, the leader answers one increment above', () => {
    const standing = { leader: 'a', price: 100_000, leaderMax: 1_000_000 };
    const r = resolveBid(standing, { bidder: 'b', amount: 200_000, max: 400_000 }, rules);
    expect(r).toMatchObject({ leader: 'a', price: 412_000, leaderMax: 1_000_000, outbid: null });
    expect(r.bids).toEqual([
      { bidder: 'b', amount: 400_000, max: 400_000, proxy: true },
      { bidder: 'a', amount: 412_000, max: null, proxy: true },
    ]);
    const plain = resolveBid(standing, { bidder: 'b', amount: 200_000, max: null }, rules);
    expect(plain.bids).toEqual([
      { bidder: 'b', amount: 200_000, max: null, proxy: false },
      { bidder: 'a', amount: 212_000, max: null, proxy: true },
    ]);
  });

  it('equal maxima go to the earlier bid, whose answer is inserted first so it ranks first', () => {
    const standing = { leader: 'a', price: 100_000, leaderMax: 400_000 };
    const r = resolveBid(standing, { bidder: 'b', amount: 200_000, max: 400_000 }, rules);
    expect(r).toMatchObject({ leader: 'a', price: 400_000, outbid: null });
    expect(r.bids).toEqual([
      { bidder: 'a', amount: 400_000, max: null, proxy: true },
      { bidder: 'b', amount: 400_000, max: 400_000, proxy: true },
    ]);
  });

  it('the leader may raise its own bid and maximum', () => {
    const standing = { leader: 'a', price: 100_000, leaderMax: 300_000 };
    const r = resolveBid(standing, { bidder: 'a', amount: 150_000, max: 900_000 }, rules);
    expect(r).toMatchObject({ leader: 'a', price: 150_000, leaderMax: 900_000, outbid: null });
    const keeps = resolveBid(standing, { bidder: 'a', amount: 150_000, max: null }, rules);
    expect(keeps.leaderMax).toBe(300_000);
  });

  it('lifts the price to the reserve when the leader’s maximum reaches it', () => {
    const withReserve = { increment: INC, reservePrice: 2_000_000 };
    expect(resolveBid(null, { bidder: 'a', amount: 100_000, max: 2_500_000 }, withReserve)).toMatchObject({ price: 2_000_000 });
    expect(resolveBid(null, { bidder: 'a', amount: 100_000, max: 1_500_000 }, withReserve)).toMatchObject({ price: 100_000 });
    const standing = { leader: 'a', price: 100_000, leaderMax: 3_000_000 };
    const held = resolveBid(standing, { bidder: 'b', amount: 112_000, max: null }, withReserve);
    expect(held).toMatchObject({ leader: 'a', price: 2_000_000 });
    const taken = resolveBid(
      { leader: 'a', price: 100_000, leaderMax: 100_000 },
      { bidder: 'b', amount: 112_000, max: 2_100_000 },
      withReserve,
    );
    expect(taken).toMatchObject({ leader: 'b', price: 2_000_000, outbid: 'a' });
  });
});

describe('outbox retry delays', () => {
  it('double from the base up to the maximum', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelaySeconds(n, 30, 3600))).toEqual([30, 60, 120, 240, 480, 960, 1920, 3600]);
    expect(retryDelaySeconds(200, 30, 3600)).toBe(3600);
  });
});
