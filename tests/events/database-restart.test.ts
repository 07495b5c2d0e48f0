import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppOnEmbeddedDatabase } from '../trust/embedded-db.js';
import { camelCar } from '../helpers/fixtures.js';
import { SseClient } from './helpers.js';

/**
 * Issue 14: the stream outlives a database restart. The instance's LISTEN connection dies
 * with the database; it reconnects with backoff, the hub reads from its cursor, and the
 * open streams carry on — nothing missed, nothing repeated, never silent (heartbeats).
 */

let app: Awaited<ReturnType<typeof startAppOnEmbeddedDatabase>>;
beforeAll(async () => {
  app = await startAppOnEmbeddedDatabase({ SSE_HEARTBEAT_SECONDS: '1', RATE_LIMIT_ENABLED: 'false' });
}, 120_000);
afterAll(async () => app?.close(), 60_000);

async function bidWhenBack(carId: string, amount: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await app.request('POST', '/api/bids/create', {
      body: { car_id: carId, dealer_name: 'Sala', dealer_email: `d${amount}@dealer.is`, bid_amount: amount },
    });
    if (res.status === 201) return;
    expect([503]).toContain(res.status);
    if (Date.now() > deadline) throw new Error('the database did not come back');
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('after the database restarts', () => {
  it('the same streams hear the next bids, in order, without a gap or a repeat', async () => {
    const registered = await app.request('POST', '/api/cars/register', { body: camelCar() });
    expect(registered.status).toBe(201);
    const carId: string = registered.body.car.id;
    const car = await SseClient.open(app.url, `/api/cars/${carId}/events`);
    const all = await SseClient.open(app.url, '/api/events');
    expect([car.status, all.status]).toEqual([200, 200]);
    await car.client!.until((e) => e.length === 1);
    await bidWhenBack(carId, 100_000);
    await car.client!.until((e) => e.length === 2);

    await app.stopDatabase();
    const beats = car.client!.comments;
    await new Promise((r) => setTimeout(r, 1500));
    // Not silent while the database is away.
    expect(car.client!.comments).toBeGreaterThan(beats);
    await app.startDatabase();

    await bidWhenBack(carId, 200_000);
    await bidWhenBack(carId, 300_000);
    const events = await car.client!.until((e) => e.length === 4, 30_000, 'the bids after the restart');
    expect(events.map((e) => e.data.amount ?? null)).toEqual([null, 100_000, 200_000, 300_000]);
    const got = events.map((e) => Number(e.id));
    for (let k = 1; k < got.length; k += 1) expect(got[k]).toBeGreaterThan(got[k - 1]);
    const bids = await all.client!.until((e) => e.filter((x) => x.event === 'bid').length === 3, 30_000, 'the global stream');
    expect(bids.filter((x) => x.event === 'bid').map((e) => e.data.amount)).toEqual([100_000, 200_000, 300_000]);
    expect(car.client!.ended || all.client!.ended).toBe(false);
    car.client!.close();
    all.client!.close();
  }, 90_000);
});
