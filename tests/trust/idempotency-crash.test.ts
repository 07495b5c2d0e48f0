import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/app.js';
import { camelCar } from '../helpers/fixtures.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

/**
 * The process dies after a bid under an Idempotency-Key has committed and before its answer
 * left (TEST_EXIT_AFTER_IDEMPOTENT_COMMIT: the server SIGKILLs itself at exactly that point,
 * so the moment is the code's, not the clock's). The client saw no answer and retries against
 * a fresh process: it gets the stored answer, and the car has exactly one bid.
 */

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

const ENV = { RATE_LIMIT_ENABLED: 'false', AUCTION_WORKER_ENABLED: 'false' };

describe('a crash between the commit and the answer', () => {
  it('the retry after a restart replays the stored answer: exactly one bid', async () => {
    server = await startServerProcess('crashing', database.url, { ...ENV, TEST_EXIT_AFTER_IDEMPOTENT_COMMIT: 'true' });
    // Without a key nothing is idempotent, so registering does not trip the hook.
    const registered = await server.request('POST', '/api/cars/register', { body: camelCar() });
    expect(registered.status).toBe(201);
    const carId: string = registered.body.car.id;

    const body = { car_id: carId, dealer_name: 'Hekla', dealer_email: 'sala@hekla.is', bid_amount: 1_250_000 };
    const headers = { 'Idempotency-Key': `crash-${carId}` };
    const lost = await server.request('POST', '/api/bids/create', { body, headers }).then(
      (res) => ({ answered: res.status }),
      (error: Error) => ({ error: error.message }),
    );
    expect(lost).toEqual({ error: expect.any(String) });
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });

    const { rows: bids } = await database.sql.query('SELECT id, bid_amount FROM "uppboð" WHERE car_id = $1', [carId]);
    expect(bids).toHaveLength(1);
    const { rows: keys } = await database.sql.query('SELECT state, response_status FROM idempotency_keys WHERE key = $1', [
      headers['Idempotency-Key'],
    ]);
    expect(keys).toEqual([{ state: 'done', response_status: 201 }]);

    server = await startServerProcess('restarted', database.url, ENV);
    const retried = await server.request('POST', '/api/bids/create', { body, headers });
    expect(retried.status).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(retried.body.bid_id).toBe(bids[0].id);
    expect(retried.body.bid.bid_amount).toBe(1_250_000);
    const { rows: after } = await database.sql.query('SELECT count(*)::int AS n FROM "uppboð" WHERE car_id = $1', [carId]);
    expect(after[0].n).toBe(1);
  }, 120_000);
});
