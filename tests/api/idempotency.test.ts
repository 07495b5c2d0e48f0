import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { count, insertDealer, registerCar } from '../helpers/fixtures.js';
import { supabaseHsToken } from '../helpers/tokens.js';

/**
 * Idempotency-Key (src/api/idempotency.ts): the key's claim, the handler's writes and the
 * stored answer commit together or not at all, a concurrent retry waits for the first
 * request instead of bidding again, and keys are per caller.
 * The crash between commit and answer is tests/trust/idempotency-crash.test.ts.
 */

const bidsOn = (app: TestApp, carId: string) => count(app, `"uppboð" WHERE car_id = '${carId}'`);

async function waitingOnLocks(app: TestApp, n: number): Promise<void> {
  for (let i = 0; ; i += 1) {
    const { rows } = await app.sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (rows[0].n >= n) return;
    if (i > 200) throw new Error(`only ${rows[0].n} of ${n} requests are waiting on a lock`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A test connection holding the car's row lock: a bid sent now claims its key, then waits inside the server. */
async function holdCarLock(app: TestApp, carId: string): Promise<pg.Client> {
  const locker = new pg.Client({ connectionString: app.config.DATABASE_URL });
  await locker.connect();
  await locker.query('BEGIN');
  await locker.query('SELECT id FROM "Bílar" WHERE id = $1 FOR UPDATE', [carId]);
  return locker;
}

describe('Idempotency-Key: one transaction', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ RATE_LIMIT_ENABLED: 'false' });
  });
  afterAll(async () => app?.close());

  it('when storing the answer fails, the bid is not kept either, and the retry bids exactly once', async () => {
    const car = await registerCar(app);
    const key = 'store-fails-1';
    // The answer's UPDATE fails for this one key, as a full disk or a lost connection would.
    await app.sql.query(`
      CREATE FUNCTION test_fail_answer() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.key = '${key}' AND NEW.state = 'done' THEN RAISE EXCEPTION 'the answer could not be stored (test)'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_fail_answer BEFORE UPDATE ON idempotency_keys FOR EACH ROW EXECUTE FUNCTION test_fail_answer();`);
    const body = { car_id: car.id, dealer_name: 'Hekla', dealer_email: 'sala@hekla.is', bid_amount: 700_000 };
    const headers = { 'Idempotency-Key': key };
    try {
      const failed = await app.request('POST', '/api/bids/create', { body, headers });
      expect(failed.status).toBe(500);
      expect(await bidsOn(app, car.id)).toBe(0);
      expect(await count(app, `idempotency_keys WHERE key = '${key}'`)).toBe(0);
    } finally {
      await app.sql.query('DROP TRIGGER test_fail_answer ON idempotency_keys; DROP FUNCTION test_fail_answer()');
    }
    const retried = await app.request('POST', '/api/bids/create', { body, headers });
    expect(retried.status).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    const again = await app.request('POST', '/api/bids/create', { body, headers });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.bid_id).toBe(retried.body.bid_id);
    expect(await bidsOn(app, car.id)).toBe(1);
  });

  it('a retry sent while the first request runs waits for it and replays its answer', async () => {
    const car = await registerCar(app);
    const body = { car_id: car.id, dealer_name: 'Hekla', dealer_email: 'sala@hekla.is', bid_amount: 800_000 };
    const headers = { 'Idempotency-Key': 'wait-1' };
    const locker = await holdCarLock(app, car.id);
    let first: ReturnType<TestApp['request']> | undefined;
    let retry: ReturnType<TestApp['request']> | undefined;
    try {
      first = app.request('POST', '/api/bids/create', { body, headers });
      await waitingOnLocks(app, 1); // the first has claimed the key and waits for the car
      retry = app.request('POST', '/api/bids/create', { body, headers });
      await waitingOnLocks(app, 2); // the retry waits for the first's key
    } finally {
      await locker.query('COMMIT');
      await locker.end();
    }
    const [a, b] = await Promise.all([first, retry]);
    expect(a.status).toBe(201);
    expect(a.headers.get('idempotent-replayed')).toBeNull();
    expect(b.status).toBe(201);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(b.body).toEqual(a.body);
    expect(await bidsOn(app, car.id)).toBe(1);
  });

  it('a retry that would wait longer than half the statement timeout gets 409 idempotency_in_progress, never a second bid', async () => {
    const car = await registerCar(app);
    const body = { car_id: car.id, dealer_name: 'Hekla', dealer_email: 'sala@hekla.is', bid_amount: 900_000 };
    const headers = { 'Idempotency-Key': 'wait-2' };
    const locker = await holdCarLock(app, car.id);
    let first: ReturnType<TestApp['request']> | undefined;
    try {
      first = app.request('POST', '/api/bids/create', { body, headers });
      await waitingOnLocks(app, 1);
      // DB_STATEMENT_TIMEOUT_MS is 10 s: the retry gives up after 5 s, the first still has 5 s.
      const started = Date.now();
      const retry = await app.request('POST', '/api/bids/create', { body, headers });
      expect(retry.status).toBe(409);
      expect(retry.body.error).toBe('idempotency_in_progress');
      expect(Date.now() - started).toBeGreaterThanOrEqual(4_500);
    } finally {
      await locker.query('COMMIT');
      await locker.end();
    }
    expect((await first).status).toBe(201);
    expect(await bidsOn(app, car.id)).toBe(1);
  }, 30_000);
});

describe('Idempotency-Key: per caller', () => {
  const SECRET = 'idempotency-test-jwt-secret-at-least-32-chars';
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ AUTH_MODE: 'jwt', SUPABASE_JWT_SECRET: SECRET, RATE_LIMIT_ENABLED: 'false' });
    await insertDealer(app, 'a@dealer-a.is', 'approved');
    await insertDealer(app, 'b@dealer-b.is', 'approved');
  });
  afterAll(async () => app?.close());

  const bidAs = async (email: string, carId: string, amount: number, key: string) =>
    app.request('POST', '/api/bids/create', {
      body: { car_id: carId, dealer_name: 'Some name', dealer_email: email, bid_amount: amount },
      headers: { 'Idempotency-Key': key, Authorization: `Bearer ${await supabaseHsToken(SECRET, { email })}` },
    });

  it('another dealer’s same key is another key: no 422, no replay, their own bid; the table holds no e-mail', async () => {
    const car = await registerCar(app);
    const mine = await bidAs('a@dealer-a.is', car.id, 500_000, 'shared-key-1');
    expect(mine.status).toBe(201);
    // Another body under the same key, by another dealer: today's answer would tell them the key is taken.
    const theirs = await bidAs('b@dealer-b.is', car.id, 600_000, 'shared-key-1');
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect(theirs.body.bid.dealer_email).toBe('b@dealer-b.is');
    // Each dealer's retry replays their own answer.
    const myRetry = await bidAs('a@dealer-a.is', car.id, 500_000, 'shared-key-1');
    expect(myRetry.headers.get('idempotent-replayed')).toBe('true');
    expect(myRetry.body.bid_id).toBe(mine.body.bid_id);
    const theirRetry = await bidAs('b@dealer-b.is', car.id, 600_000, 'shared-key-1');
    expect(theirRetry.body.bid_id).toBe(theirs.body.bid_id);
    // Within one caller a different body under the key is still refused.
    const changed = await bidAs('a@dealer-a.is', car.id, 700_000, 'shared-key-1');
    expect(changed.status).toBe(422);
    expect(changed.body.error).toBe('idempotency_key_reused');
    expect(await bidsOn(app, car.id)).toBe(2);
    const { rows } = await app.sql.query<{ operation: string }>(`SELECT operation FROM idempotency_keys WHERE key = 'shared-key-1'`);
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.operation).not.toMatch(/@|dealer-/);
  });
});
