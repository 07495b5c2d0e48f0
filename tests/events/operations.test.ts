import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startInstance as startServer, stopInstance, type Running } from '../../src/start.js';
import { registerActiveCar, startCluster, SseClient, type Instance } from './helpers.js';

/** Issue 14, operational care: limits, heartbeat, slow clients, graceful stop. */

let cluster: Awaited<ReturnType<typeof startCluster>>;
let app: Instance;
const open: SseClient[] = [];

beforeAll(async () => {
  cluster = await startCluster(1, {
    SSE_MAX_CONNECTIONS: '3',
    SSE_MAX_CONNECTIONS_PER_IP: '2',
    SSE_HEARTBEAT_SECONDS: '1',
    SSE_SLOW_CLIENT_BYTES: '65536',
  });
  [app] = cluster.instances;
}, 60_000);
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  // the hub lets a place go when the server sees the connection close
  for (let i = 0; i < 50 && app.hub.size > 0; i += 1) await new Promise((r) => setTimeout(r, 20));
});
afterAll(async () => cluster?.close(), 30_000);

async function openAs(ip: string, path = '/api/events') {
  const res = await app.stream(path, { 'X-Forwarded-For': ip });
  if (res.client) open.push(res.client);
  return res;
}

describe('limits', () => {
  it(`allows ${2} streams per client IP (429 beyond) and ${3} per instance (503 beyond)`, async () => {
    expect((await openAs('198.51.100.1')).status).toBe(200);
    expect((await openAs('198.51.100.1')).status).toBe(200);
    const third = await openAs('198.51.100.1');
    expect([third.status, third.body.error]).toEqual([429, 'too_many_streams']);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await openAs('198.51.100.2')).status).toBe(200);
    const full = await openAs('198.51.100.3');
    expect([full.status, full.body.error]).toEqual([503, 'too_many_streams']);
    expect(app.hub.size).toBe(3);
    // A closed stream gives its place back.
    open.shift()!.close();
    for (let i = 0; i < 50 && app.hub.size > 2; i += 1) await new Promise((r) => setTimeout(r, 20));
    expect((await openAs('198.51.100.3')).status).toBe(200);
  });

  it('counts a client as the rate limiter does: the IPv6 addresses of one /56 are one client', async () => {
    expect((await openAs('2001:db8:1:100::1')).status).toBe(200);
    expect((await openAs('2001:db8:1:1ff:aaaa::2')).status).toBe(200);
    const third = await openAs('2001:db8:1:1a0::3');
    expect([third.status, third.body.error]).toEqual([429, 'too_many_streams']);
    // the next /56 is another client
    expect((await openAs('2001:db8:1:200::1')).status).toBe(200);
  });

  it('does not count a refused stream (404) against the limits', async () => {
    for (let i = 0; i < 3; i += 1) {
      const res = await openAs('198.51.100.9', '/api/cars/6f1e2d3c-4b5a-4978-8a1b-2c3d4e5f6a7b/events');
      expect(res.status).toBe(404);
    }
    expect(app.hub.size).toBe(0);
    expect((await openAs('198.51.100.9')).status).toBe(200);
  });
});

describe('heartbeat', () => {
  it('writes a comment line every SSE_HEARTBEAT_SECONDS', async () => {
    const { client } = await openAs('198.51.100.4');
    await client!.until(() => client!.comments >= 2, 5000, 'two heartbeats');
  });
});

describe('a client that stops reading', () => {
  it('is dropped once its unread output passes SSE_SLOW_CLIENT_BYTES', async () => {
    const carId = await registerActiveCar(app);
    const { port } = new URL(app.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`GET /api/cars/${carId}/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    // Read the headers, then stop reading for good.
    await new Promise((resolve) => socket.once('data', resolve));
    socket.pause();
    for (let i = 0; i < 50 && app.hub.size === 0; i += 1) await new Promise((r) => setTimeout(r, 20));
    expect(app.hub.size).toBe(1);
    // About 2 MB of events for the car, far more than the socket buffers hold.
    await cluster.database.sql.query(
      `INSERT INTO car_events (car_id, kind, data)
       SELECT $1, 'bid', jsonb_build_object('amount', g, 'created_at', now(), 'proxy', false, 'status', 'active',
              'highest_bid', g, 'bid_count', g, 'min_next_bid', g + 1, 'auction_ends_at', now(), 'reserve_met', true,
              'padding', repeat('x', 400))
       FROM generate_series(1, 4000) g`,
      [carId],
    );
    for (let i = 0; i < 250 && app.hub.size > 0; i += 1) await new Promise((r) => setTimeout(r, 20));
    expect(app.hub.size).toBe(0);
    socket.resume();
    await closed;
  }, 20_000);
});

describe('graceful stop', () => {
  it('ends every stream cleanly and stops without waiting for them', async () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: cluster.database.url,
      PORT: '0',
      HOST: '127.0.0.1',
      AUCTION_WORKER_ENABLED: 'false',
      TRUST_PROXY_HOPS: '1',
    });
    const running: Running = {};
    const { port } = await startServer(config, createLogger(config), running);
    const base = `http://127.0.0.1:${port}`;
    const carId = await registerActiveCar(app);
    const clients = await Promise.all([SseClient.open(base, '/api/events'), SseClient.open(base, `/api/cars/${carId}/events`)]);
    for (const c of clients) expect(c.status).toBe(200);
    await clients[1].client!.until((e) => e.length === 1);
    const started = Date.now();
    await stopInstance(running);
    // well inside the 10 s after which stopInstance would cut connections
    expect(Date.now() - started).toBeLessThan(5000);
    for (const { client } of clients) {
      await client!.closedByServer();
      expect(client!.error).toBeUndefined();
    }
  }, 30_000);
});

describe('the typed client', () => {
  it('yields typed events from a car stream, and throws on a refused one', async () => {
    const { streamEvents } = await import('../../client/index.js');
    const carId = await registerActiveCar(app);
    const stop = new AbortController();
    const seen: string[] = [];
    for await (const e of streamEvents(app.url, { carId, signal: stop.signal, headers: { 'X-Forwarded-For': '198.51.100.20' } })) {
      seen.push(e.event);
      if (e.event === 'snapshot') {
        expect(e.data.car_id).toBe(carId);
        const bid = await app.request('POST', '/api/bids/create', {
          body: { car_id: carId, dealer_name: 'Sala', dealer_email: 'sala@dealer.is', bid_amount: 100_000 },
        });
        expect(bid.status).toBe(201);
      }
      if (e.event === 'bid') {
        expect(e.data.amount).toBe(100_000);
        stop.abort();
      }
    }
    expect(seen).toEqual(['snapshot', 'bid']);
    await expect(streamEvents(app.url, { carId: '6f1e2d3c-4b5a-4978-8a1b-2c3d4e5f6a7b' }).next()).rejects.toMatchObject({ status: 404 });
  });
});
