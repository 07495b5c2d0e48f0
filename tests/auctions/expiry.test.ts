import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { registerCar } from '../helpers/fixtures.js';
import { closeDueAuctions, expireUndecided } from '../../src/auctions/closing.js';
import { bid, eventually, outbox, startWorkerInstances } from './helpers.js';

const ADMIN = { 'X-Admin-Key': 'expiry-admin-key-0123456789abcdefgh' };
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ ADMIN_API_KEY: 'expiry-admin-key-0123456789abcdefgh', SELLER_DECISION_HOURS: '6' });
});
afterAll(async () => app?.close());

const row = async (a: TestApp, id: string) =>
  (await a.sql.query('SELECT status, closed_at, decision_due_at, auction_ends_at FROM "Bílar" WHERE id = $1', [id])).rows[0];
const hoursBetween = (a: Date, b: Date) => (b.getTime() - a.getTime()) / 3600_000;
const timeline = async (a: TestApp, id: string) =>
  (
    await a.sql.query(`SELECT data->>'status' AS s, data->>'by' AS by FROM car_events WHERE car_id = $1 AND kind = 'status' ORDER BY id`, [
      id,
    ])
  ).rows;

describe('the decision deadline', () => {
  it('is the closing time + SELLER_DECISION_HOURS, whoever closes the auction', async () => {
    const bySweep = await registerCar(app);
    await app.sql.query(`UPDATE "Bílar" SET auction_ends_at = now() - interval '1 second' WHERE id = $1`, [bySweep.id]);
    await closeDueAuctions(app.db, { settings: app.config });
    const swept = await row(app, bySweep.id);
    expect(swept.status).toBe('closed');
    expect(hoursBetween(swept.closed_at, swept.decision_due_at)).toBe(6);

    const byAdmin = await registerCar(app);
    expect((await app.request('PUT', `/api/cars/${byAdmin.id}/status`, { body: { status: 'closed' }, headers: ADMIN })).status).toBe(200);
    const early = await row(app, byAdmin.id);
    expect(hoursBetween(early.closed_at, early.decision_due_at)).toBe(6);
    expect(early.auction_ends_at.getTime()).toBeLessThanOrEqual(early.closed_at.getTime());

    // re-listing clears the deadline; the next close sets a new one
    expect((await app.request('PUT', `/api/cars/${byAdmin.id}/status`, { body: { status: 'active' }, headers: ADMIN })).status).toBe(200);
    expect((await row(app, byAdmin.id)).decision_due_at).toBeNull();
    expect((await timeline(app, byAdmin.id)).map((e: { s: string }) => e.s)).toEqual(['active', 'closed', 'active']);
  });

  it('expires an undecided result once its deadline has passed, as the column says at the time', async () => {
    const car = await registerCar(app);
    await bid(app, car.id, 100_000, 'a@dealer.is');
    await bid(app, car.id, 112_000, 'b@dealer.is');
    await app.sql.query(`UPDATE "Bílar" SET auction_ends_at = now() - interval '1 second' WHERE id = $1`, [car.id]);
    await closeDueAuctions(app.db, { settings: app.config });
    expect(await expireUndecided(app.db)).toEqual([]); // not yet due

    // an admin extended the deadline after it had passed once: the sweep honours the new one
    await app.sql.query(`UPDATE "Bílar" SET decision_due_at = now() + interval '1 hour' WHERE id = $1`, [car.id]);
    expect(await expireUndecided(app.db)).toEqual([]);

    await app.sql.query(`UPDATE "Bílar" SET decision_due_at = now() - interval '1 second' WHERE id = $1`, [car.id]);
    const expired = await expireUndecided(app.db);
    expect(expired.map((c) => [c.id, c.from, c.to, c.by])).toEqual([[car.id, 'closed', 'expired', 'sweep']]);
    expect((await row(app, car.id)).status).toBe('expired');
    expect(await expireUndecided(app.db)).toEqual([]);

    const mails = await outbox(app, car.id);
    expect(mails.filter((m) => m.kind === 'decision_expired').map((m) => m.to_email)).toEqual(['jon@example.is']);
    expect(
      mails
        .filter((m) => m.kind === 'auction_ended_unsold')
        .map((m) => m.to_email)
        .sort(),
    ).toEqual(['a@dealer.is', 'b@dealer.is']);
    expect((await timeline(app, car.id)).map((e: { s: string; by: string }) => `${e.s}/${e.by}`)).toEqual([
      'active/registration',
      'closed/sweep',
      'expired/sweep',
    ]);
    // the listing and the dealers' views keep working with the new status
    expect((await app.request('GET', `/api/cars/${car.id}`)).body.car).toMatchObject({ status: 'expired', min_next_bid: null });
    expect((await app.request('GET', '/api/bids/dealer/a%40dealer.is')).body.bids[0].car.status).toBe('expired');
    expect((await bid(app, car.id, 500_000, 'c@dealer.is')).body.error).toBe('car_not_active');
    // an admin may re-list an expired car (and only that)
    expect((await app.request('PUT', `/api/cars/${car.id}/status`, { body: { status: 'sold' }, headers: ADMIN })).status).toBe(409);
    expect((await app.request('PUT', `/api/cars/${car.id}/status`, { body: { status: 'active' }, headers: ADMIN })).status).toBe(200);
  });
});

describe('expiry with two instances (pg-boss workers)', () => {
  it('expires each undecided result exactly once and tells everyone once', async () => {
    const local = await startTestApp();
    let instances: Awaited<ReturnType<typeof startWorkerInstances>> | undefined;
    try {
      await local.sql.query(`
        CREATE TABLE expire_log (car_id uuid NOT NULL);
        CREATE FUNCTION log_expire() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN INSERT INTO expire_log (car_id) VALUES (NEW.id); RETURN NEW; END $$;
        CREATE TRIGGER log_expire AFTER UPDATE OF status ON "Bílar"
          FOR EACH ROW WHEN (NEW.status = 'expired' AND OLD.status <> 'expired') EXECUTE FUNCTION log_expire();`);
      const ids: string[] = [];
      for (let i = 0; i < 6; i += 1) {
        const car = await registerCar(local);
        await bid(local, car.id, 100_000, `a${i}@dealer.is`);
        ids.push(car.id);
      }
      await local.sql.query(`UPDATE "Bílar" SET auction_ends_at = now() - interval '1 second' WHERE id = ANY($1)`, [ids]);
      await closeDueAuctions(local.db);
      await local.sql.query(`UPDATE "Bílar" SET decision_due_at = now() - interval '1 second' WHERE id = ANY($1)`, [ids]);
      // one more whose deadline comes in 3 seconds: expired by a job due then, not at the next interval
      const soon = await registerCar(local);
      await local.sql.query(`UPDATE "Bílar" SET auction_ends_at = now() - interval '1 second' WHERE id = $1`, [soon.id]);
      await closeDueAuctions(local.db);
      await local.sql.query(`UPDATE "Bílar" SET decision_due_at = now() + interval '3 seconds' WHERE id = $1`, [soon.id]);
      const all = [...ids, soon.id];

      instances = await startWorkerInstances(local, 2, { AUCTION_CLOSE_INTERVAL_SECONDS: '10', OUTBOX_POLL_INTERVAL_SECONDS: '1' });
      await eventually(
        async () => {
          const { rows } = await local.sql.query(`SELECT count(*)::int AS n FROM "Bílar" WHERE id = ANY($1) AND status = 'expired'`, [all]);
          return rows[0].n === all.length;
        },
        40_000,
        'all results expired',
      );
      await eventually(
        async () => {
          const { rows } = await local.sql.query(`SELECT count(*)::int AS n FROM email_outbox WHERE status = 'pending'`);
          return rows[0].n === 0;
        },
        30_000,
        'outbox drained',
      );

      const { rows } = await local.sql.query('SELECT car_id, count(*)::int AS n FROM expire_log GROUP BY car_id');
      expect(rows.map((r: { car_id: string }) => r.car_id).sort()).toEqual([...all].sort());
      expect(rows.every((r: { n: number }) => r.n === 1)).toBe(true);
      const { rows: events } = await local.sql.query(
        `SELECT car_id, count(*)::int AS n FROM car_events WHERE kind = 'status' AND data->>'status' = 'expired' GROUP BY car_id`,
      );
      expect(events.every((r: { n: number }) => r.n === 1)).toBe(true);
      expect(events).toHaveLength(all.length);
      const mails = await outbox(local);
      expect(mails.filter((m) => m.kind === 'decision_expired')).toHaveLength(all.length);
      expect(mails.filter((m) => m.kind === 'auction_ended_unsold')).toHaveLength(ids.length);
      expect(mails.every((m) => m.status === 'sandbox' && m.attempts === 1)).toBe(true);
      const late = await local.sql.query(
        `SELECT extract(epoch FROM updated_at - decision_due_at)::float8 AS s FROM "Bílar" WHERE id = $1`,
        [soon.id],
      );
      expect(late.rows[0].s).toBeLessThan(6);
    } finally {
      await instances?.stop();
      await local.close();
    }
  }, 90_000);
});
