import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ids, placeBid, registerActiveCar, startCluster, type Instance, type SseClient } from './helpers.js';

/**
 * Issue 14: live auctions over Server-Sent Events, two instances on one database. A bid
 * made through one instance must reach the streams of the other (LISTEN/NOTIFY), refused
 * bids must never be announced, and Last-Event-ID must resume without gap or repeat.
 */

let cluster: Awaited<ReturnType<typeof startCluster>>;
let a: Instance;
let b: Instance;
const open: SseClient[] = [];

beforeAll(async () => {
  cluster = await startCluster(2);
  [a, b] = cluster.instances;
}, 60_000);
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});
afterAll(async () => cluster?.close(), 30_000);

async function stream(instance: Instance, path: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const res = await instance.stream(path, headers);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  open.push(res.client!);
  return res.client!;
}

const eventRows = async (carId: string) =>
  (await cluster.database.sql.query('SELECT id::int, kind, data FROM car_events WHERE car_id = $1 ORDER BY id', [carId])).rows;

describe("a car's stream", () => {
  it('starts with a snapshot and hears a bid made through the other instance', async () => {
    const carId = await registerActiveCar(a);
    const res = await a.stream(`/api/cars/${carId}/events`);
    expect(res.status).toBe(200);
    open.push(res.client!);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('content-encoding')).toBeNull();
    const client = res.client!;
    const [snapshot] = await client.until((e) => e.length >= 1);
    expect(client.retry).toBe(3000);
    expect(snapshot).toMatchObject({
      event: 'snapshot',
      data: { car_id: carId, status: 'active', highest_bid: null, bid_count: 0, min_next_bid: 12_000, reserve_met: true },
    });
    const [first] = await eventRows(carId);
    expect(Number(snapshot.id)).toBe(first.id);

    const placed = await placeBid(b, carId, 500_000, 'sala@bilaland.is');
    expect(placed.status).toBe(201);
    const events = await client.until((e) => e.length >= 2, 10_000, 'the bid');
    expect(events[1]).toMatchObject({
      event: 'bid',
      data: { car_id: carId, status: 'active', amount: 500_000, highest_bid: 500_000, bid_count: 1, min_next_bid: 512_000, proxy: false },
    });
    expect(JSON.stringify(events[1].data)).not.toMatch(/bilaland|sala/i);
    const rows = await eventRows(carId);
    expect(Number(events[1].id)).toBe(rows.at(-1)!.id);
  });

  it('answers 404 in the error shape for an unknown car, 422 for a malformed id, before any stream', async () => {
    const missing = await a.stream('/api/cars/6f1e2d3c-4b5a-4978-8a1b-2c3d4e5f6a7b/events');
    expect([missing.status, missing.body.error]).toEqual([404, 'not_found']);
    const malformed = await a.stream('/api/cars/not-a-uuid/events');
    expect([malformed.status, malformed.body.error]).toEqual([422, 'validation_failed']);
    expect(a.hub.size).toBe(0);
  });

  it('never announces a refused bid', async () => {
    const carId = await registerActiveCar(a);
    const client = await stream(a, `/api/cars/${carId}/events`);
    await client.until((e) => e.length === 1);
    expect((await placeBid(b, carId, 300_000, 'a@dealer.is')).status).toBe(201);
    const tooLow = await placeBid(b, carId, 300_001, 'b@dealer.is');
    expect([tooLow.status, tooLow.body.error]).toEqual([409, 'bid_too_low']);
    expect((await placeBid(a, carId, 400_000, 'c@dealer.is')).status).toBe(201);
    const events = await client.until((e) => e.length >= 3);
    // Give a stray announcement time to arrive before looking.
    await new Promise((r) => setTimeout(r, 300));
    expect(client.events.map((e) => [e.event, e.data.amount])).toEqual([
      ['snapshot', undefined],
      ['bid', 300_000],
      ['bid', 400_000],
    ]);
    expect((await eventRows(carId)).filter((r) => r.kind === 'bid').map((r) => r.data.amount)).toEqual([300_000, 400_000]);
    expect(ids(events)).toEqual((await eventRows(carId)).map((r) => r.id));
  });

  it('shows proxy bids, soft close and status changes', async () => {
    const carId = await registerActiveCar(a);
    const client = await stream(b, `/api/cars/${carId}/events`);
    await client.until((e) => e.length === 1);
    expect((await placeBid(a, carId, 100_000, 'a@dealer.is', 200_000)).status).toBe(201);
    expect((await placeBid(a, carId, 120_000, 'b@dealer.is')).status).toBe(201);
    // b's bid, then the system's answer for a's maximum
    await client.until((e) => e.length >= 4);
    expect(client.events.slice(1).map((e) => [e.data.amount, e.data.proxy])).toEqual([
      [100_000, false],
      [120_000, false],
      [132_000, true],
    ]);
    // Soft close: a bid in the last minutes moves the end, and the event shows the new end.
    await cluster.database.sql.query(`UPDATE "Bílar" SET auction_ends_at = now() + interval '30 seconds' WHERE id = $1`, [carId]);
    const late = await placeBid(a, carId, 300_000, 'c@dealer.is');
    expect(late.status).toBe(201);
    const events = await client.until((e) => e.some((x) => x.data.amount === 300_000));
    expect(events.at(-1)!.data.auction_ends_at).toBe(late.body.auction_ends_at);

    expect((await a.request('PUT', `/api/cars/${carId}/status`, { body: { status: 'closed' } })).status).toBe(200);
    const closed = await client.until((e) => e.some((x) => x.event === 'status'));
    expect(closed.find((x) => x.event === 'status')!.data).toMatchObject({
      car_id: carId,
      status: 'closed',
      from: 'active',
      highest_bid: 300_000,
      bid_count: (await eventRows(carId)).filter((r) => r.kind === 'bid').length,
    });
  });
});

describe('Last-Event-ID', () => {
  it('replays what a car stream missed in order, with no gap and no repeat, then goes live', async () => {
    const carId = await registerActiveCar(a);
    const first = await stream(a, `/api/cars/${carId}/events`);
    await first.until((e) => e.length === 1);
    expect((await placeBid(b, carId, 100_000, 'a@dealer.is')).status).toBe(201);
    await first.until((e) => e.length === 2);
    const resumeFrom = first.lastId!;
    first.close();

    for (let i = 1; i <= 5; i += 1) expect((await placeBid(a, carId, 100_000 + i * 20_000, `d${i}@dealer.is`)).status).toBe(201);
    const again = await stream(b, `/api/cars/${carId}/events`, { 'Last-Event-ID': resumeFrom });
    await again.until((e) => e.length === 5);
    expect(again.events.map((e) => e.event)).toEqual(['bid', 'bid', 'bid', 'bid', 'bid']);
    expect(again.events.map((e) => e.data.amount)).toEqual([120_000, 140_000, 160_000, 180_000, 200_000]);
    const rows = await eventRows(carId);
    expect(ids(again.events)).toEqual(rows.filter((r) => r.id > Number(resumeFrom)).map((r) => r.id));

    expect((await placeBid(a, carId, 250_000, 'e@dealer.is')).status).toBe(201);
    await again.until((e) => e.length === 6);
    expect(again.events[5].data.amount).toBe(250_000);
    expect(ids(again.events)).toEqual((await eventRows(carId)).filter((r) => r.id > Number(resumeFrom)).map((r) => r.id));
  });

  it('starts with a fresh snapshot from an id it cannot resume from', async () => {
    const carId = await registerActiveCar(a);
    const other = await registerActiveCar(a);
    expect((await placeBid(a, carId, 100_000, 'a@dealer.is')).status).toBe(201);
    const [otherEvent] = await eventRows(other);
    for (const lastId of ['999999999', 'garbage', String(otherEvent.id)]) {
      const client = await stream(a, `/api/cars/${carId}/events`, { 'Last-Event-ID': lastId });
      const [first] = await client.until((e) => e.length === 1);
      expect(first).toMatchObject({ event: 'snapshot', data: { highest_bid: 100_000, bid_count: 1 } });
      client.close();
    }
  });
});

describe('the stream of every car', () => {
  it('hears every car, resumes with Last-Event-ID', async () => {
    const client = await stream(a, '/api/events');
    await new Promise((r) => setTimeout(r, 100));
    expect(client.lastId).toMatch(/^\d+$/);
    const one = await registerActiveCar(b);
    const two = await registerActiveCar(b);
    expect((await placeBid(b, one, 100_000, 'a@dealer.is')).status).toBe(201);
    expect((await placeBid(b, two, 200_000, 'a@dealer.is')).status).toBe(201);
    const events = await client.until((e) => e.filter((x) => x.event === 'bid').length >= 2);
    expect(events.filter((e) => e.event === 'bid').map((e) => [e.data.car_id, e.data.amount])).toEqual([
      [one, 100_000],
      [two, 200_000],
    ]);
    // the registrations' first status events are in the stream too
    expect(events.filter((e) => e.event === 'status').map((e) => e.data.car_id)).toEqual([one, two]);
    const seen = ids(events);
    expect(seen).toEqual([...seen].sort((x, y) => x - y));

    const resumeFrom = client.lastId!;
    client.close();
    expect((await placeBid(a, one, 150_000, 'b@dealer.is')).status).toBe(201);
    const again = await stream(b, '/api/events', { 'Last-Event-ID': resumeFrom });
    const replayed = await again.until((e) => e.some((x) => x.data.amount === 150_000));
    expect(replayed.map((e) => [e.event, e.data.car_id, e.data.amount])).toEqual([['bid', one, 150_000]]);
  });
});

describe('the ordering trap (a sequence hands out ids in start order, not commit order)', () => {
  it('gives events their ids in commit order, so a later commit never gets the smaller id', async () => {
    const slowCar = await registerActiveCar(a);
    const fastCar = await registerActiveCar(a);
    const global = await stream(a, '/api/events');
    await new Promise((r) => setTimeout(r, 200));
    const before = global.events.length;

    // A transaction writes an event and stays open while a bid on another car commits.
    const slow = await cluster.database.sql.connect();
    try {
      await slow.query('BEGIN');
      const { rows } = await slow.query(`INSERT INTO car_events (car_id, kind, data) VALUES ($1, 'status', $2) RETURNING id::int`, [
        slowCar,
        { status: 'active', highest_bid: null, bid_count: 0, min_next_bid: 12000, auction_ends_at: null, reserve_met: true, by: 'test' },
      ]);
      const slowId = rows[0].id as number;
      let done = false;
      const fast = placeBid(b, fastCar, 100_000, 'a@dealer.is').then((r) => {
        done = true;
        return r;
      });
      // The bid waits for its id until the open transaction has ended …
      await new Promise((r) => setTimeout(r, 400));
      expect(done).toBe(false);
      await slow.query('COMMIT');
      expect((await fast).status).toBe(201);
      // … so both arrive, in id order, and the later commit has the larger id.
      const events = await global.until((e) => e.slice(before).some((x) => x.data.car_id === fastCar && x.event === 'bid'));
      const after = events.slice(before);
      expect(after.map((e) => e.data.car_id)).toEqual([slowCar, fastCar]);
      expect(Number(after[0].id)).toBe(slowId);
      expect(Number(after[1].id)).toBeGreaterThan(slowId);
    } finally {
      await slow.query('ROLLBACK').catch(() => undefined);
      slow.release();
    }
  });
});

describe('under concurrency', () => {
  it('announces each of 50 concurrent accepted bids exactly once, ids strictly increasing', async () => {
    const cars = [await registerActiveCar(a), await registerActiveCar(a), await registerActiveCar(a)];
    const perCar = await Promise.all(cars.map((car, i) => stream(i % 2 ? a : b, `/api/cars/${car}/events`)));
    for (const c of perCar) await c.until((e) => e.length === 1);
    const global = await stream(a, '/api/events');
    await new Promise((r) => setTimeout(r, 100));

    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        placeBid(i % 2 ? a : b, cars[i % 3], 1_000_000 + ((i * 37) % 50) * 20_000, `dealer${i}@example.is`),
      ),
    );
    const accepted = results.filter((r) => r.status === 201);
    expect(accepted.length).toBeGreaterThan(2);
    for (const r of results) expect([201, 409]).toContain(r.status);

    for (const [i, car] of cars.entries()) {
      const rows = (await eventRows(car)).filter((r) => r.kind === 'bid');
      const client = perCar[i];
      await client.until((e) => e.length === rows.length + 1, 15_000, `the bids of car ${i}`);
      const bids = client.events.slice(1);
      expect(bids.map((e) => Number(e.id))).toEqual(rows.map((r) => r.id));
      const got = ids(client.events);
      for (let k = 1; k < got.length; k += 1) expect(got[k]).toBeGreaterThan(got[k - 1]);
      // each accepted bid of this car exactly once, in order of amount (bids only rise)
      const mine = accepted.filter((r) => r.body.bid.car_id === car).map((r) => r.body.bid.bid_amount);
      expect(bids.map((e) => e.data.amount)).toEqual([...mine].sort((x, y) => x - y));
    }
    const allRows = (
      await cluster.database.sql.query('SELECT id::int FROM car_events WHERE car_id = ANY($1) AND kind = $2 ORDER BY id', [cars, 'bid'])
    ).rows.map((r) => r.id);
    await global.until((e) => e.filter((x) => x.event === 'bid').length >= allRows.length, 15_000, 'every bid on the global stream');
    const globalIds = ids(global.events.filter((e) => e.event === 'bid' && cars.includes(e.data.car_id)));
    expect(globalIds).toEqual(allRows);
    const all = ids(global.events);
    for (let k = 1; k < all.length; k += 1) expect(all[k]).toBeGreaterThan(all[k - 1]);
  }, 60_000);
});
