import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { registerCar, setStatus } from '../helpers/fixtures.js';
import { closeDueAuctions, scheduleUnscheduledAuctions } from '../../src/auctions/closing.js';
import { bid, eventually, outbox, setEndsIn, startWorkerInstances } from './helpers.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => app?.close());

const carRow = async (a: TestApp, id: string) =>
  (await a.sql.query('SELECT status, winning_bid_id, closed_at, auction_ends_at FROM "Bílar" WHERE id = $1', [id])).rows[0];

/** Every transition to `closed`, written by a trigger: the proof that closing ran once per car. */
async function recordClosings(a: TestApp): Promise<void> {
  await a.sql.query(`
    CREATE TABLE close_log (car_id uuid NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
    CREATE FUNCTION log_close() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO close_log (car_id) VALUES (NEW.id); RETURN NEW; END $$;
    CREATE TRIGGER log_close AFTER UPDATE OF status ON "Bílar"
      FOR EACH ROW WHEN (NEW.status = 'closed' AND OLD.status <> 'closed') EXECUTE FUNCTION log_close();`);
}

describe('closing ended auctions', () => {
  it('closes what is due, records the winner, queues one e-mail per seller, and is harmless to repeat', async () => {
    const withBids = await registerCar(app);
    await bid(app, withBids.id, 100_000, 'a@dealer.is');
    await bid(app, withBids.id, 112_000, 'b@dealer.is');
    const noBids = await registerCar(app);
    const notDue = await registerCar(app);
    await bid(app, notDue.id, 100_000, 'a@dealer.is');
    const pending = await registerCar(app);
    await setStatus(app, pending.id, 'pending');
    // a car from dealer registration has no seller e-mail
    const { rows: inserted } = await app.sql.query(`
      INSERT INTO "Bílar" (seller_name, email, car_make, car_model, car_plate, year, mileage, status, auction_ends_at)
      VALUES ('Söluaðili', NULL, 'Kia', 'Ceed', 'NOMAIL1', 2020, 1000, 'active', now() - interval '1 minute') RETURNING id`);
    const noEmail = inserted[0].id as string;
    await setEndsIn(app, withBids.id, -1);
    await setEndsIn(app, noBids.id, -5);
    await setEndsIn(app, notDue.id, 60);

    const closed = await closeDueAuctions(app.db);
    expect(closed.map((c) => c.id).sort()).toEqual([withBids.id, noBids.id, noEmail].sort());

    const winner = (await app.request('GET', `/api/bids/car/${withBids.id}`)).body.bids[0];
    expect(await carRow(app, withBids.id)).toMatchObject({ status: 'closed', winning_bid_id: winner.id });
    expect(winner.dealer_email).toBe('b@dealer.is');
    expect(await carRow(app, noBids.id)).toMatchObject({ status: 'closed', winning_bid_id: null });
    expect((await carRow(app, notDue.id)).status).toBe('active');
    expect((await carRow(app, pending.id)).status).toBe('pending');
    const listed = (await app.request('GET', `/api/cars/${withBids.id}`)).body.car;
    expect(listed).toMatchObject({ status: 'closed', highest_bid: 112_000, min_next_bid: null });

    const sellerMail = (await outbox(app, withBids.id)).filter((m) => m.kind === 'auction_closed');
    expect(sellerMail).toHaveLength(1);
    expect(sellerMail[0]).toMatchObject({ to_email: 'jon@example.is', status: 'pending' });
    expect(sellerMail[0].params).toMatchObject({ highest_bid: 112_000, bid_count: 2, reserve_met: true });
    expect((await outbox(app, noBids.id)).map((m) => m.kind)).toEqual(['auction_closed']);
    expect(await outbox(app, noEmail)).toEqual([]);

    // again, and many times at once: nothing more happens
    expect(await closeDueAuctions(app.db)).toEqual([]);
    const again = await Promise.all(Array.from({ length: 8 }, () => closeDueAuctions(app.db)));
    expect(again.flat()).toEqual([]);
    expect((await outbox(app, withBids.id)).filter((m) => m.kind === 'auction_closed')).toHaveLength(1);
  });

  it('closes each car once when many closing runs race', async () => {
    const local = await startTestApp();
    try {
      await recordClosings(local);
      const ids: string[] = [];
      for (let i = 0; i < 12; i += 1) {
        const car = await registerCar(local);
        await bid(local, car.id, 100_000 + i * 12_000, `d${i}@dealer.is`);
        ids.push(car.id);
      }
      await local.sql.query(`UPDATE "Bílar" SET auction_ends_at = now() - interval '1 second' WHERE id = ANY($1)`, [ids]);
      const runs = await Promise.all(Array.from({ length: 10 }, () => closeDueAuctions(local.db)));
      expect(
        runs
          .flat()
          .map((c) => c.id)
          .sort(),
      ).toEqual([...ids].sort());
      const { rows } = await local.sql.query('SELECT car_id, count(*)::int AS n FROM close_log GROUP BY car_id');
      expect(rows).toHaveLength(12);
      expect(rows.every((r: { n: number }) => r.n === 1)).toBe(true);
      const mails = await outbox(local);
      expect(mails.filter((m) => m.kind === 'auction_closed')).toHaveLength(12);
    } finally {
      await local.close();
    }
  });

  it('gives active cars without a closing time one (demo data, imports)', async () => {
    const { rows } = await app.sql.query(`
      INSERT INTO "Bílar" (seller_name, email, car_make, car_model, car_plate, year, mileage, status)
      VALUES ('Anna', 'anna@example.is', 'Kia', 'Ceed', 'NOEND1', 2021, 5000, 'active') RETURNING id`);
    expect((await app.request('GET', `/api/cars/${rows[0].id}`)).body.car.auction_ends_at).toBeNull();
    expect(await scheduleUnscheduledAuctions(app.db, 48)).toBeGreaterThanOrEqual(1);
    const car = (await app.request('GET', `/api/cars/${rows[0].id}`)).body.car;
    expect(Date.parse(car.auction_ends_at)).toBeGreaterThan(Date.now() + 47 * 3600_000);
  });
});

describe('the auction worker (pg-boss)', () => {
  it('closes auctions exactly once with two instances on one database, on time, and sends the e-mails once', async () => {
    const local = await startTestApp();
    let instances: Awaited<ReturnType<typeof startWorkerInstances>> | undefined;
    try {
      await recordClosings(local);
      // two instances: each its own config, pool, services and pg-boss, as two servers would have
      instances = await startWorkerInstances(local, 2, { AUCTION_CLOSE_INTERVAL_SECONDS: '2', OUTBOX_POLL_INTERVAL_SECONDS: '1' });

      const ended: string[] = [];
      for (let i = 0; i < 8; i += 1) {
        const car = await registerCar(local);
        await bid(local, car.id, 100_000, `a${i}@dealer.is`);
        await bid(local, car.id, 112_000, `b${i}@dealer.is`); // outbids a: one outbid e-mail each
        ended.push(car.id);
      }
      await local.sql.query(`UPDATE "Bílar" SET auction_ends_at = now() - interval '1 second' WHERE id = ANY($1)`, [ended]);
      // one more that ends in 3 seconds: closed by its own job, not a minute later
      const soon = await registerCar(local);
      await setEndsIn(local, soon.id, 3);
      const running = await registerCar(local);

      const all = [...ended, soon.id];
      await eventually(
        async () => {
          const { rows } = await local.sql.query(`SELECT count(*)::int AS n FROM "Bílar" WHERE id = ANY($1) AND status = 'closed'`, [all]);
          return rows[0].n === all.length;
        },
        30_000,
        'all auctions closed',
      );
      const soonRow = await carRow(local, soon.id);
      expect(soonRow.closed_at.getTime() - soonRow.auction_ends_at.getTime()).toBeLessThan(6_000);
      expect((await carRow(local, running.id)).status).toBe('active');

      // the e-mails (sandbox: logged and marked) go out, each once
      await eventually(
        async () => {
          const { rows } = await local.sql.query(`SELECT count(*)::int AS n FROM email_outbox WHERE status = 'pending'`);
          return rows[0].n === 0;
        },
        30_000,
        'outbox drained',
      );
      const mails = await outbox(local);
      expect(mails.filter((m) => m.kind === 'auction_closed')).toHaveLength(all.length);
      expect(mails.filter((m) => m.kind === 'outbid')).toHaveLength(ended.length);
      expect(mails.every((m) => m.status === 'sandbox' && m.attempts === 1)).toBe(true);

      const { rows } = await local.sql.query('SELECT car_id, count(*)::int AS n FROM close_log GROUP BY car_id');
      expect(rows.map((r: { car_id: string }) => r.car_id).sort()).toEqual([...all].sort());
      expect(rows.every((r: { n: number }) => r.n === 1)).toBe(true);
      const jobs = await local.sql.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'auction-close'`);
      expect(jobs.rows[0].n).toBeGreaterThan(0);
    } finally {
      await instances?.stop();
      await local.close();
    }
  }, 90_000);
});
