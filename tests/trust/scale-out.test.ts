import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase } from '../helpers/app.js';
import { camelCar } from '../helpers/fixtures.js';
import { startServerProcesses, type ServerProcess } from './server-process.js';

/**
 * Issue 6, scale-out: two real server processes on one database, with the
 * rate limits in PostgreSQL (RATE_LIMIT_STORE=postgres). A client's vehicle
 * lookups count against one limit whichever instance answers them, bids sent
 * to both instances at once stay consistent, and both stop gracefully.
 */

const VEHICLE_LIMIT = 60;
type Instance = ServerProcess;
const env = { RATE_LIMIT_STORE: 'postgres', RATE_LIMIT_VEHICLE_PER_HOUR: String(VEHICLE_LIMIT) };

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let a: Instance;
let b: Instance;
/** Where each instance's log stood when the tests began. */
let warmedUp = new Map<Instance, number>();

beforeAll(async () => {
  // An empty database, and both at once, as a first deployment starts them: the migrations and the job
  // queue's set-up must not trip over each other.
  database = await createTestDatabase({ empty: true });
  [a, b] = await startServerProcesses([
    { name: 'server A', databaseUrl: database.url, env },
    { name: 'server B', databaseUrl: database.url, env },
  ]);
  // Listening means ready: the shared rate-limit store's table comes with the migrations.
  for (const instance of [a, b]) {
    expect((await instance.request('GET', '/api/', { headers: { 'X-Forwarded-For': '192.0.2.1' } })).status, instance.name).toBe(200);
  }
  warmedUp = new Map([a, b].map((instance) => [instance, instance.logs.length]));
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.kill(), b?.kill()]);
  await database?.drop();
}, 60_000);

describe('two instances, one database', () => {
  it(`shares the vehicle lookup limit: ${VEHICLE_LIMIT} spread over both pass, the next one to either is 429`, async () => {
    const ip = `203.0.113.${Math.floor(Math.random() * 200) + 20}`;
    const lookup = (instance: Instance, clientIp = ip) =>
      instance.request('POST', '/api/vehicle/verify', {
        body: { plate: 'AB123', mileage: 1000 },
        headers: { 'X-Forwarded-For': clientIp },
      });

    const statuses: number[] = [];
    for (let i = 0; i < VEHICLE_LIMIT; i += 1) {
      const res = await lookup(i % 2 === 0 ? a : b);
      statuses.push(res.status);
      if (res.status === 200) expect(res.body).toMatchObject({ success: true, data: { registrationNumber: 'AB123' } });
    }
    expect(statuses).toEqual(Array(VEHICLE_LIMIT).fill(200));

    for (const instance of [a, b]) {
      const over = await lookup(instance);
      expect(over.status, instance.name).toBe(429);
      expect(over.body.error).toBe('rate_limited');
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // The limit is the client's, not the instances': another client is still served by both.
    expect((await lookup(a, '198.51.100.7')).status).toBe(200);
    expect((await lookup(b, '198.51.100.7')).status).toBe(200);
  }, 60_000);

  it('keeps bids consistent when they arrive at both instances at once', async () => {
    const registered = await a.request('POST', '/api/cars/register', { body: camelCar({ carPlate: 'SCL01' }) });
    expect(registered.status).toBe(201);
    const carId: string = registered.body.car.id;

    // Distinct amounts, far enough apart for any bid increment, in a scrambled order.
    const amounts = Array.from({ length: 40 }, (_, i) => 1_000_000 + ((i * 17) % 40) * 50_000);
    const results = await Promise.all(
      amounts.map((amount, i) =>
        (i % 2 === 0 ? a : b).request('POST', '/api/bids/create', {
          body: { car_id: carId, dealer_name: `Sala ${i}`, dealer_email: `dealer${i}@example.is`, bid_amount: amount },
          // Each bid from its own client, so the per-IP ceiling plays no part.
          headers: { 'X-Forwarded-For': `198.51.100.${i + 20}` },
        }),
      ),
    );
    expect(results.filter((r) => r.status >= 500).map((r) => r.text)).toEqual([]);
    for (const r of results) {
      expect([201, 409]).toContain(r.status);
      if (r.status === 409) expect(r.body.error).toBe('bid_too_low');
    }
    const accepted = results.filter((r) => r.status === 201).map((r) => r.body.bid.bid_amount as number);
    expect(accepted.length).toBeGreaterThan(0);

    // In commit order every accepted bid is above the one before it: no two instances accepted against the same standing.
    const { rows } = await database.sql.query<{ bid_amount: number }>(
      'SELECT bid_amount FROM "uppboð" WHERE car_id = $1 ORDER BY created_at, id',
      [carId],
    );
    const inOrder = rows.map((r) => r.bid_amount);
    expect(inOrder.length).toBe(accepted.length);
    expect([...inOrder].sort((x, y) => x - y)).toEqual([...accepted].sort((x, y) => x - y));
    for (let i = 1; i < inOrder.length; i += 1) expect(inOrder[i]).toBeGreaterThan(inOrder[i - 1]);

    // Both instances report the same final state: the largest accepted bid, which is the largest sent.
    for (const instance of [a, b]) {
      const car = await instance.request('GET', `/api/cars/${carId}`);
      expect(car.body.car.highest_bid, instance.name).toBe(Math.max(...accepted));
      expect(car.body.car.bid_count, instance.name).toBe(accepted.length);
    }
    expect(Math.max(...accepted)).toBe(Math.max(...amounts));
  }, 60_000);

  it('logged no server error on either instance', () => {
    for (const instance of [a, b]) {
      const errors = instance.logs
        .slice(warmedUp.get(instance) ?? 0)
        .filter((line) => line.startsWith('[stderr]') || /"level":"error"/.test(line));
      expect(errors, instance.name).toEqual([]);
    }
  });

  it('wrote one JSON access line per request on each instance (the default level, info)', async () => {
    for (const instance of [a, b]) {
      const bidLines = () =>
        instance.logs
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as Record<string, unknown>)
          .filter((entry) => entry.message === 'request' && entry.operation === 'createBid');
      // Log lines are buffered and written at least every 200 ms, not one write per request.
      await vi.waitFor(() => expect(bidLines().length, instance.name).toBe(20), { timeout: 5000, interval: 50 });
      const bids = bidLines();
      for (const entry of bids) {
        expect(entry).toMatchObject({ level: 'info', method: 'POST', path: '/api/bids/create', service: 'kaggi-backend' });
        expect([201, 409]).toContain(entry.status);
        expect(typeof entry.duration_ms).toBe('number');
        expect(String(entry.request_id)).toMatch(/^[0-9a-f-]{36}$/);
        expect(Number.isNaN(Date.parse(String(entry.timestamp)))).toBe(false);
      }
    }
  });

  it('stops both gracefully on SIGTERM: exit code 0', async () => {
    const exits = await Promise.all([a.stop(), b.stop()]);
    for (const [i, exit] of exits.entries()) {
      const instance = [a, b][i];
      expect(exit, `${instance.name}:\n${instance.logs.slice(-5).join('\n')}`).toEqual({ code: 0, signal: null });
      // Exit code 0 comes only from the SIGTERM handler's process.exit(0), after the pool has closed.
      expect(
        instance.logs.some((l) => l.includes('"message":"shutting down"')),
        instance.name,
      ).toBe(true);
    }
  }, 60_000);
});
