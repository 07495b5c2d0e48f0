import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { camelCar } from '../helpers/fixtures.js';
import { closeDueAuctions } from '../../src/auctions/closing.js';
import { bid, setEndsIn } from './helpers.js';

/**
 * Many dealers bid at once with random amounts and random proxy maxima. The
 * server decides bids one after the other under the car's row lock; the test
 * takes the accepted bids in that (commit) order, replays them through its own
 * model of the rules, and compares every step, the final price and the winner.
 */

const INC = 12_000;

/** Small seeded PRNG (mulberry32) so a failure can be replayed. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Request = { dealer: string; amount: number; max: number | null };

/**
 * The rules as the issue states them, written independently of src/domain:
 * every dealer's maximum is kept (never lowered); the leader is the highest
 * maximum, ties to whoever reached it first; the price is the runner-up's
 * maximum plus one increment, capped at the leader's maximum, never below an
 * explicit bid that took or kept the lead; a leader whose maximum covers the
 * reserve pays at least the reserve.
 */
class Model {
  price: number | null = null;
  leader: string | null = null;
  private maxes = new Map<string, { max: number; since: number }>();
  private step = 0;
  constructor(private reserve: number | null) {}

  minNext(): number {
    return (this.price ?? 0) + INC;
  }

  apply({ dealer, amount, max }: Request): void {
    this.step += 1;
    if (amount < this.minNext()) throw new Error(`model: ${dealer} bid ${amount} below ${this.minNext()} was accepted`);
    const ceiling = Math.max(amount, max ?? amount);
    const known = this.maxes.get(dealer);
    if (!known || ceiling > known.max) this.maxes.set(dealer, { max: ceiling, since: this.step });

    const ranked = [...this.maxes.entries()].sort((x, y) => y[1].max - x[1].max || x[1].since - y[1].since);
    const [leader, { max: top }] = ranked[0];
    const runnerUp = ranked.find(([d]) => d !== leader)?.[1].max ?? null;
    const previous = this.leader;
    let price: number;
    if (leader === dealer && previous === dealer) {
      price = amount; // the leader raised its own bid
    } else if (leader === dealer) {
      price = Math.max(amount, runnerUp === null ? amount : Math.min(runnerUp + INC, top));
    } else {
      // the leader kept the lead against this dealer's maximum
      price = Math.min(ceiling + INC, top);
    }
    if (this.reserve !== null && top >= this.reserve) price = Math.max(price, this.reserve);
    this.leader = leader;
    this.price = price;
  }
}

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => app?.close());

async function auction(seed: number, reserve: number | null) {
  const random = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const reg = await app.request('POST', '/api/cars/register', { body: { ...camelCar(), ...(reserve ? { reservePrice: reserve } : {}) } });
  const carId: string = reg.body.car.id;
  const dealers = Array.from({ length: 25 }, (_, i) => `dealer${i}.s${seed}@bilar.is`);

  const sent: Array<{ req: Request; res: Awaited<ReturnType<typeof bid>> }> = [];
  for (let wave = 0; wave < 4; wave += 1) {
    const { min_next_bid: min } = (await app.request('GET', `/api/cars/${carId}`)).body.car;
    const requests: Request[] = dealers.map((dealer) => {
      const amount = min + int(0, 30) * 6_000;
      return { dealer, amount, max: random() < 0.6 ? amount + int(0, 120) * 10_000 : null };
    });
    // the whole wave at the same instant
    const results = await Promise.all(requests.map((r) => bid(app, carId, r.amount, r.dealer, r.max)));
    results.forEach((res, i) => sent.push({ req: requests[i], res }));
  }

  expect(sent.filter((s) => s.res.status >= 500)).toEqual([]);
  for (const s of sent) {
    expect([201, 409]).toContain(s.res.status);
    if (s.res.status === 409) expect(s.res.body.error).toBe('bid_too_low');
  }
  const accepted = sent.filter((s) => s.res.status === 201);
  expect(accepted.length).toBeGreaterThan(4);

  // commit order: bids on one car are serialised by its row lock, so the order of their rows is the commit order
  const { rows } = await app.sql.query('SELECT id, seq FROM "uppboð" WHERE car_id = $1', [carId]);
  const seqOf = new Map(rows.map((r: { id: string; seq: string }) => [r.id, Number(r.seq)]));
  accepted.sort((x, y) => seqOf.get(x.res.body.bid_id)! - seqOf.get(y.res.body.bid_id)!);

  const model = new Model(reserve);
  for (const { req, res } of accepted) {
    model.apply(req);
    // every answer is the state right after that bid
    expect({ highest: res.body.highest_bid, leading: res.body.leading }, JSON.stringify(req)).toEqual({
      highest: model.price,
      leading: model.leader === req.dealer,
    });
  }
  // a refused bid was below the next allowed bid at its turn, so below the final one too
  for (const s of sent.filter((x) => x.res.status === 409)) expect(s.req.amount).toBeLessThan(model.minNext());

  const car = (await app.request('GET', `/api/cars/${carId}`)).body.car;
  const bids = (await app.request('GET', `/api/bids/car/${carId}`)).body.bids;
  expect(car.highest_bid).toBe(model.price);
  expect(bids[0].dealer_email).toBe(model.leader);
  expect(bids[0].bid_amount).toBe(model.price);
  expect(car.min_next_bid).toBe(model.minNext());
  expect(car.reserve_met).toBe(reserve === null || model.price! >= reserve);

  // closing records the same winner
  await setEndsIn(app, carId, -1);
  await closeDueAuctions(app.db);
  const closed = await app.sql.query(
    'SELECT c.status, b.dealer_email, b.bid_amount FROM "Bílar" c JOIN "uppboð" b ON b.id = c.winning_bid_id WHERE c.id = $1',
    [carId],
  );
  expect(closed.rows[0]).toEqual({ status: 'closed', dealer_email: model.leader, bid_amount: model.price });
  return accepted.length;
}

describe('proxy bids under concurrency', () => {
  it('give the price and winner the rules give in commit order (no reserve)', async () => {
    await auction(20251126, null);
  });

  it('give the price and winner the rules give in commit order (with a reserve)', async () => {
    await auction(4711, 1_400_000);
  });

  it('hold on two cars bid on at the same time', async () => {
    await Promise.all([auction(1, null), auction(2, 900_000)]);
  });
});
