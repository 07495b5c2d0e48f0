import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepExpiredRows, type RetentionSettings } from '../../src/auctions/retention.js';
import { createDb, type Db } from '../../src/db/pool.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { registerCar } from '../helpers/fixtures.js';
import { eventually, startWorkerInstances } from './helpers.js';

/**
 * Issue 19: rows past their retention are deleted by one job. The clock is
 * the database's: rows are written with timestamps in the past.
 */

const SETTINGS: RetentionSettings = {
  RETENTION_BATCH_SIZE: 2,
  RETENTION_RATE_LIMIT_HITS_HOURS: 1,
  RETENTION_IDEMPOTENCY_KEYS_HOURS: 48,
  RETENTION_ONE_TIME_CODES_HOURS: 24,
  RETENTION_OUTBOX_SENT_DAYS: 30,
  IDEMPOTENCY_TTL_HOURS: 24,
};

/** Rows on both sides of every retention; returns the ids of those that must stay. */
async function seed(app: TestApp): Promise<Record<string, string[]>> {
  const carId = (await registerCar(app)).id;
  const q = (text: string, values: unknown[] = []) => app.sql.query(text, values);
  for (let i = 0; i < 5; i += 1)
    await q(`INSERT INTO rate_limit_hits (key, hits, reset_at) VALUES ($1, 3, now() - interval '2 hours')`, [`old-${i}`]);
  await q(
    `INSERT INTO rate_limit_hits (key, hits, reset_at) VALUES ('current', 1, now() + interval '1 minute'), ('just-reset', 1, now() - interval '10 minutes')`,
  );

  for (let i = 0; i < 3; i += 1) {
    await q(
      `INSERT INTO idempotency_keys (operation, key, request_hash, state, created_at) VALUES ('createBid', $1, 'h', 'done', now() - interval '49 hours')`,
      [`old-${i}`],
    );
  }
  await q(
    `INSERT INTO idempotency_keys (operation, key, request_hash, created_at) VALUES ('createBid', 'fresh', 'h', now() - interval '1 hour')`,
  );

  const code = async (table: string, subject: string, key: string, expires: string, consumed: string | null) =>
    (
      await q(
        `INSERT INTO ${table} (${subject}, code_hash, expires_at, consumed_at, created_at)
         VALUES ($1, 'h', now() + $2::interval, now() + $3::interval, now() - interval '3 days') RETURNING id`,
        [key, expires, consumed],
      )
    ).rows[0].id as string;
  const kept: Record<string, string[]> = { phone_verifications: [], seller_login_codes: [], email_outbox: [] };
  for (const [table, subject, key] of [
    ['phone_verifications', 'phone', '+3546601234'],
    ['seller_login_codes', 'car_id', carId],
  ] as const) {
    await code(table, subject, key, '-2 days', '-2 days'); // used two days ago
    await code(table, subject, key, '-2 days', null); // expired two days ago, never used
    await code(table, subject, key, '-2 days', '-26 hours');
    kept[table].push(await code(table, subject, key, '10 minutes', null)); // open
    kept[table].push(await code(table, subject, key, '-1 hour', null)); // expired an hour ago
    kept[table].push(await code(table, subject, key, '5 minutes', '-1 hour')); // used an hour ago
  }

  const mail = async (status: string, sentAgo: string | null, createdAgo: string) =>
    (
      await q(
        `INSERT INTO email_outbox (kind, dedupe_key, car_id, to_email, status, sent_at, created_at)
         VALUES ('outbid', gen_random_uuid()::text, $1, 'sala@bilaland.is', $2, now() - $3::interval, now() - $4::interval) RETURNING id`,
        [carId, status, sentAgo, createdAgo],
      )
    ).rows[0].id as string;
  for (let i = 0; i < 3; i += 1) await mail('sent', '31 days', '31 days');
  await mail('sandbox', '40 days', '40 days');
  kept.email_outbox.push(await mail('sent', '1 day', '1 day'));
  kept.email_outbox.push(await mail('pending', null, '60 days')); // never sent: the backlog, not history
  kept.email_outbox.push(await mail('failed', null, '60 days')); // the operator's to look at

  // a saved search's matches (kept 8 days for the digest) and its digest records (30 days)
  const dealer = (
    await q(`INSERT INTO dealers (first_name, surname, organization_number, dealer_name, mobile_number, street_address, postal_code, city, email, status)
             VALUES ('R', 'D', '4411220099', 'Geymsla ehf.', '+3548990011', 'Gata 1', '101', 'Reykjavík', 'geymsla@bilar.is', 'approved') RETURNING id`)
  ).rows[0].id as string;
  const search = (
    await q(`INSERT INTO saved_searches (dealer_id, name, filters, alert) VALUES ($1, 'Allt', '{}', 'daily') RETURNING id`, [dealer])
  ).rows[0].id as string;
  await q(
    `INSERT INTO saved_search_matches (search_id, event_id, dealer_id, car_id, matched_at) VALUES ($1, 1, $2, $3, now() - interval '9 days')`,
    [search, dealer, carId],
  );
  await q(
    `INSERT INTO saved_search_matches (search_id, event_id, dealer_id, car_id, matched_at) VALUES ($1, 2, $2, $3, now() - interval '7 days')`,
    [search, dealer, carId],
  );
  await q(`INSERT INTO alert_digests (dealer_id, day, matches) VALUES ($1, current_date - 31, 1), ($1, current_date - 29, 0)`, [dealer]);
  return kept;
}

const rows = async (app: TestApp, text: string) => (await app.sql.query(text)).rows as Array<Record<string, unknown>>;

describe('retention sweep', () => {
  let app: TestApp;
  const pools: Db[] = [];

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    for (const p of pools) await p.end();
    await app?.close();
  });

  it('deletes every row past its retention exactly once, in batches, with two sweeps at once', async () => {
    const kept = await seed(app);
    for (let i = 0; i < 2; i += 1) pools.push(await createDb(app.config.DATABASE_URL!, app.config));
    const [a, b] = await Promise.all(pools.map((db) => sweepExpiredRows(db, SETTINGS)));
    const total = Object.fromEntries(Object.keys(a).map((t) => [t, a[t as keyof typeof a] + b[t as keyof typeof b]]));
    expect(total).toEqual({
      rate_limit_hits: 5,
      idempotency_keys: 3,
      phone_verifications: 3,
      seller_login_codes: 3,
      dealer_login_codes: 0,
      email_outbox: 4,
      saved_search_matches: 1,
      alert_digests: 1,
    });
    expect((await rows(app, 'SELECT event_id::int AS e FROM saved_search_matches')).map((r) => r.e)).toEqual([2]);
    expect((await rows(app, 'SELECT current_date - day AS ago FROM alert_digests')).map((r) => r.ago)).toEqual([29]);

    expect((await rows(app, 'SELECT key FROM rate_limit_hits ORDER BY key')).map((r) => r.key)).toEqual(['current', 'just-reset']);
    expect((await rows(app, 'SELECT key FROM idempotency_keys')).map((r) => r.key)).toEqual(['fresh']);
    for (const table of ['phone_verifications', 'seller_login_codes', 'email_outbox']) {
      expect((await rows(app, `SELECT id FROM ${table}`)).map((r) => r.id).sort()).toEqual([...kept[table]].sort());
    }
    // Nothing left: a second pass deletes nothing.
    expect(Object.values(await sweepExpiredRows(pools[0], SETTINGS)).every((n) => n === 0)).toBe(true);
  });

  it('passes over a row another transaction holds instead of waiting for it', async () => {
    await app.sql.query(
      `INSERT INTO rate_limit_hits (key, hits, reset_at) VALUES ('held', 1, now() - interval '3 hours'), ('free', 1, now() - interval '3 hours')`,
    );
    const holder = await app.sql.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM rate_limit_hits WHERE key = 'held' FOR UPDATE`);
      const started = Date.now();
      const deleted = await sweepExpiredRows(pools[0], SETTINGS);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(deleted.rate_limit_hits).toBe(1);
      await holder.query('ROLLBACK');
    } finally {
      holder.release();
    }
    expect((await rows(app, `SELECT key FROM rate_limit_hits WHERE key IN ('held', 'free')`)).map((r) => r.key)).toEqual(['held']);
    expect((await sweepExpiredRows(pools[0], SETTINGS)).rate_limit_hits).toBe(1);
  });

  it('runs as one job per interval however many instances offer it', async () => {
    await app.sql.query(
      `INSERT INTO idempotency_keys (operation, key, request_hash, created_at) VALUES ('createBid', 'stale', 'h', now() - interval '100 hours')`,
    );
    const instances = await startWorkerInstances(app, 2, { AUCTION_CLOSE_INTERVAL_SECONDS: '3600', OUTBOX_POLL_INTERVAL_SECONDS: '3600' });
    try {
      await eventually(
        async () => (await rows(app, `SELECT 1 FROM idempotency_keys WHERE key = 'stale'`)).length === 0,
        20_000,
        'stale key deleted',
      );
      const jobs = await rows(app, `SELECT state FROM pgboss.job WHERE name = 'retention-sweep'`);
      expect(jobs).toHaveLength(1);
      await eventually(
        async () => (await rows(app, `SELECT 1 FROM pgboss.job WHERE name = 'retention-sweep' AND state = 'completed'`)).length === 1,
        10_000,
        'job completed',
      );
    } finally {
      await instances.stop();
    }
  }, 60_000);
});
