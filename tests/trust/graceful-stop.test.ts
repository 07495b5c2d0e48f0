import http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase } from '../helpers/app.js';
import { assertMatchesSpec } from '../helpers/contract.js';
import { camelCar } from '../helpers/fixtures.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

/**
 * SIGTERM while bids on one hot car wait on its row lock (some holding pool
 * connections, the rest queued for one) and keep-alive clients would go on
 * sending bids on their open connections. Every request the server had
 * received gets its normal answer, nothing is cut or answered 500, and the
 * process exits 0.
 */

const BURST = 24;
const CLIENTS = 8;
const BID = '/api/bids/create';

type Outcome = { status: number; connection: string | undefined; body: any } | { error: string };

/**
 * One bid on `agent` (node:http, so the connection and its Connection header are the test's to see):
 * `sent` once the request is written to the socket, `outcome` its answer (checked against openapi.yaml) or error.
 */
function send(agent: http.Agent, base: string, body: unknown): { sent: Promise<void>; outcome: Promise<Outcome> } {
  const payload = JSON.stringify(body);
  let req!: http.ClientRequest;
  const outcome = new Promise<Outcome>((resolve) => {
    req = http.request(
      `${base}${BID}`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const parsed = text ? JSON.parse(text) : text;
          assertMatchesSpec('POST', BID, res.statusCode!, res.headers['content-type'] ?? null, parsed).then(
            () => resolve({ status: res.statusCode!, connection: res.headers.connection, body: parsed }),
            (error: Error) => resolve({ error: `contract: ${error.message}` }),
          );
        });
        res.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.end(payload);
  });
  const sent = new Promise<void>((resolve) => {
    req.once('finish', resolve);
    req.once('error', () => resolve());
  });
  return { sent, outcome };
}

/**
 * A round trip on a fresh connection: the server has read every request written
 * before it (each socket's bytes are read when they arrive, in arrival order).
 */
async function roundTrip(base: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    http.get(`${base}/health`, { agent: false }, (res) => res.resume().on('end', resolve)).on('error', reject);
  });
}

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let server: ServerProcess | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
}, 60_000);

afterEach(async () => {
  await server?.kill();
}, 30_000);

afterAll(async () => {
  await database?.drop();
}, 60_000);

/** A server process with an active car on it. */
async function serverWithCar(env: Record<string, string> = {}): Promise<{ server: ServerProcess; carId: string }> {
  // Rate limits off: the tests are about the stop, and every bid should reach the row lock.
  server = await startServerProcess('server', database.url, { RATE_LIMIT_ENABLED: 'false', ...env });
  const registered = await server.request('POST', '/api/cars/register', { body: camelCar() });
  expect(registered.status).toBe(201);
  return { server, carId: registered.body.car.id };
}

/** The test holds the car's row lock, so every bid sent now waits for it inside the server. */
async function holdCarLock(carId: string): Promise<pg.Client> {
  const locker = new pg.Client({ connectionString: database.url });
  await locker.connect();
  await locker.query('BEGIN');
  await locker.query('SELECT id FROM "Bílar" WHERE id = $1 FOR UPDATE', [carId]);
  return locker;
}

async function untilWaitingOnLock(n: number): Promise<void> {
  for (let i = 0; ; i += 1) {
    const { rows } = await database.sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (rows[0].n >= n) return;
    if (i > 200) throw new Error(`only ${rows[0].n} of ${n} bids reached the row lock`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function bidsOn(carId: string): Promise<number> {
  const { rows } = await database.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM "uppboð" WHERE car_id = $1', [carId]);
  return rows[0].n;
}

describe('SIGTERM during a burst of bids on one car, with keep-alive clients still sending', () => {
  it('answers every bid it had received (201/409, closing the connection), cuts none, and exits 0', async () => {
    const { server, carId } = await serverWithCar();
    let amount = 1_000_000;
    const nextBid = (who: string) => {
      amount += 50_000;
      return { car_id: carId, dealer_name: who, dealer_email: `${who}@example.is`, bid_amount: amount };
    };
    const locker = await holdCarLock(carId);
    const burstAgent = new http.Agent({ keepAlive: true, maxSockets: BURST });
    const clientAgents = Array.from({ length: CLIENTS }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    try {
      const burst = Array.from({ length: BURST }, (_, i) => send(burstAgent, server.url, nextBid(`burst${i}`)));
      // Keep-alive clients: each sends its next bid on its connection as soon as the last is answered,
      // until the server refuses a new connection.
      const firsts = clientAgents.map((agent, i) => send(agent, server.url, nextBid(`client${i}`)));
      const later: Outcome[] = [];
      const clients = clientAgents.map(async (agent, i) => {
        let outcome = await firsts[i].outcome;
        while (!('error' in outcome)) {
          outcome = await send(agent, server.url, nextBid(`client${i}`)).outcome;
          if ('error' in outcome && outcome.error === 'ECONNREFUSED') return;
          later.push(outcome);
        }
      });
      const received = [...burst, ...firsts];
      await Promise.all(received.map((r) => r.sent));
      // Every connection of the server's pool (DB_POOL_MAX, 10) waits on the lock: the other bids are queued for one.
      await untilWaitingOnLock(10);
      await roundTrip(server.url);

      const exited = server.stop();
      await new Promise((r) => setTimeout(r, 300));
      await locker.query('COMMIT');
      const exit = await exited;
      await Promise.all(clients);
      const answers = await Promise.all(received.map((r) => r.outcome));

      const logs = server.logs.join('\n').slice(-3000);
      expect(exit, logs).toEqual({ code: 0, signal: null });
      for (const answer of answers) expect(answer, logs).toMatchObject({ status: expect.toBeOneOf([201, 409]), connection: 'close' });
      // Before the fix the clients went on bidding on their connections until the stop cut them.
      for (const answer of later) {
        expect(answer, logs).not.toHaveProperty('error');
        expect([201, 409, 503]).toContain((answer as { status: number }).status);
        if ((answer as { status: number }).status === 503) expect(answer).toMatchObject({ connection: 'close', body: { success: false } });
      }
      expect(server.logs.filter((l) => l.includes('"level":"error"'))).toEqual([]);

      // Every 201 is a bid in the database, and no bid is there that its client was not told of.
      const created = [...answers, ...later].filter((o) => 'status' in o && o.status === 201).length;
      expect(created).toBeGreaterThan(0);
      expect(await bidsOn(carId)).toBe(created);
    } finally {
      for (const agent of [burstAgent, ...clientAgents]) agent.destroy();
      await locker.end().catch(() => undefined);
    }
  }, 90_000);

  it('lets the bid of a client that hung up finish before the pool ends', async () => {
    // No job queue to stop: the stop reaches the pool at once.
    const { server, carId } = await serverWithCar({ AUCTION_WORKER_ENABLED: 'false' });
    const locker = await holdCarLock(carId);
    try {
      const agent = new http.Agent({ keepAlive: true });
      const { outcome } = send(agent, server.url, {
        car_id: carId,
        dealer_name: 'Gone',
        dealer_email: 'gone@example.is',
        bid_amount: 1_000_000,
      });
      await untilWaitingOnLock(1);
      agent.destroy();
      expect(await outcome).toEqual({ error: 'ECONNRESET' });
      // Nobody waits for the answer, so the server closes at once; the bid's transaction still holds a connection.
      const exited = server.stop();
      await new Promise((r) => setTimeout(r, 500));
      await locker.query('COMMIT');
      expect(await exited, server.logs.join('\n').slice(-3000)).toEqual({ code: 0, signal: null });
      expect(server.logs.filter((l) => l.includes('"level":"error"'))).toEqual([]);
      expect(await bidsOn(carId)).toBe(1);
    } finally {
      await locker.end().catch(() => undefined);
    }
  }, 60_000);
});
