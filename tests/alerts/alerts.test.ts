import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { insertDealer, nextPlate, registerCar } from '../helpers/fixtures.js';
import { startFakeBrevo, type BrevoMode } from '../fakes/brevo.js';
import type { Fake, RecordedRequest } from '../fakes/fake-server.js';
import { admin, bearer, dealerEnv, dealerSignIn } from '../dealer/helpers.js';
import { eventually, setEndsIn, startWorkerInstances } from '../auctions/helpers.js';
import { flushOutbox } from '../../src/auctions/outbox.js';
import { alertOpenings, queueReminders, sendDigests } from '../../src/auctions/alerts.js';
import { createServices } from '../../src/integrations/index.js';
import { digestDayDue } from '../../src/domain/alerts.js';
import { EMAIL_KINDS } from '../../src/notifications/kinds.js';

/**
 * The dealer-alerts job through HTTP and the fake Brevo: an instant alert once per dealer
 * and opening with two worker instances at it, the daily digest once per day (the clock
 * moved in the database), reminders once per round and none once the round is over.
 */

let brevo: Fake<BrevoMode>;
let app: TestApp;
const SETTINGS = { ALERT_DIGEST_HOUR: 0, AUCTION_REMINDER_MINUTES: 60 };

beforeAll(async () => {
  brevo = await startFakeBrevo();
  app = await startTestApp(dealerEnv(brevo, { AUTH_MODE: 'off' }));
});
afterAll(async () => {
  await app?.close();
  await brevo?.close();
});

type Mail = { to: { email: string }[]; subject: string; htmlContent: string };
const mails = (email: string, subject: RegExp): Mail[] =>
  brevo.requests
    .filter((r: RecordedRequest) => r.path === '/smtp/email')
    .map((r) => r.body as Mail)
    .filter((m) => m.to[0]?.email === email && subject.test(m.subject));

const flush = () =>
  flushOutbox({ db: app.db, brevo: createServices(app.config, app.logger).brevo, config: app.config, logger: app.logger });

async function dealerWithSearches(
  email: string,
  searches: { name: string; filters: Record<string, unknown>; alert: string }[],
  status: 'approved' | 'pending' = 'approved',
): Promise<string> {
  const id = await insertDealer(app, email, status);
  const token = await dealerSignIn(app, brevo, email);
  for (const s of searches) {
    const res = await app.request('POST', '/api/dealer/searches', { headers: bearer(token), body: s });
    expect(res.status, res.text).toBe(201);
  }
  return id;
}

/** A car put into its round as the back office does: PUT /api/cars/{id}/status, the event in car_events. */
async function openCar(overrides: Record<string, unknown>): Promise<{ id: string; car_plate: string; opening: string }> {
  const car = await registerCar(app, { carPlate: nextPlate('AL'), ...overrides });
  const res = await app.request('PUT', `/api/cars/${car.id}/status`, { headers: admin, body: { status: 'active' } });
  expect(res.status, res.text).toBe(200);
  const { rows } = await app.sql.query(
    `SELECT max(id)::text AS id FROM car_events WHERE car_id = $1 AND kind = 'status' AND data->>'status' = 'active'`,
    [car.id],
  );
  expect(rows[0].id).not.toBeNull();
  return { ...car, opening: rows[0].id };
}

const outboxOf = async (kind: string, dealerId: string) =>
  (await app.sql.query(`SELECT * FROM email_outbox WHERE kind = $1 AND dedupe_key LIKE $2 ORDER BY created_at`, [kind, `%:${dealerId}:%`]))
    .rows;

describe('the outbox takes the new kinds', () => {
  it("its CHECK allows every kind of src/notifications, and still every older one (the newsletter's too)", async () => {
    const { rows } = await app.sql.query(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'email_outbox_kind_check'`,
    );
    for (const kind of [...EMAIL_KINDS, 'newsletter_signup', 'newsletter_removal']) expect(rows[0].def, kind).toContain(kind);
  });
});

describe('instant alerts', () => {
  it('one e-mail per dealer per opening, listing the searches it matched, with two worker instances sweeping at once', async () => {
    const both = await dealerWithSearches('instant-a@bilar.is', [
      { name: 'Toyotur', filters: { make: ['Toyota'] }, alert: 'instant' },
      { name: 'Nýlegir <bílar>', filters: { year_min: 2015 }, alert: 'instant' },
      { name: 'Kia', filters: { make: ['Kia'] }, alert: 'instant' },
    ]);
    const other = await dealerWithSearches('instant-b@bilar.is', [{ name: 'Kia', filters: { make: ['Kia'] }, alert: 'instant' }]);
    const pending = await dealerWithSearches('instant-p@bilar.is', [{ name: 'Allt', filters: {}, alert: 'instant' }], 'pending');
    const daily = await dealerWithSearches('instant-d@bilar.is', [{ name: 'Toyotur', filters: { make: ['toyota'] }, alert: 'daily' }]);
    const quiet = await dealerWithSearches('instant-o@bilar.is', [{ name: 'Allt', filters: {}, alert: 'off' }]);
    const erased = await dealerWithSearches('instant-e@bilar.is', [{ name: 'Allt', filters: {}, alert: 'instant' }]);
    await app.sql.query('UPDATE dealers SET erased_at = now() WHERE id = $1', [erased]);

    const workers = await startWorkerInstances(app, 2, {
      ...dealerEnv(brevo, { AUTH_MODE: 'off' }),
      ALERT_INTERVAL_SECONDS: '1',
      OUTBOX_POLL_INTERVAL_SECONDS: '1',
      ALERT_DIGEST_HOUR: '23',
    });
    try {
      const car = await openCar({ carMake: 'Toyota', carModel: 'Corolla', year: 2019, firstName: 'Sigríður', lastName: 'Seljandi' });
      // both instances at once, beside the job each of them runs every second
      const runs = await Promise.all([workers.workers[0].alertsNow(), workers.workers[1].alertsNow()]);
      expect(runs.reduce((n, r) => n + r.alerts, 0)).toBeLessThanOrEqual(1);
      const [mail] = await eventually(
        async () => (mails('instant-a@bilar.is', /^Nýr bíll/).length ? mails('instant-a@bilar.is', /^Nýr bíll/) : null),
        20_000,
        'the alert',
      );
      // a few more runs of both instances: still one
      await Promise.all([workers.workers[0].alertsNow(), workers.workers[1].alertsNow()]);
      await new Promise((r) => setTimeout(r, 2500));
      expect(mails('instant-a@bilar.is', /^Nýr bíll/)).toHaveLength(1);
      expect(mail.subject).toBe(`Nýr bíll í uppboði: Toyota Corolla (${car.car_plate})`);
      expect(mail.htmlContent).toContain('<strong>Toyotur</strong>, <strong>Nýlegir &lt;bílar&gt;</strong>');
      expect(mail.htmlContent).not.toContain('Kia');
      // nothing of the seller's
      for (const seller of ['Sigríður', 'Seljandi', 'jon@example.is', '777']) expect(mail.htmlContent).not.toContain(seller);

      const rows = await outboxOf('search_alert', both);
      expect(rows.map((r) => [r.dedupe_key, r.car_id, r.status])).toEqual([[`search-alert:${both}:${car.opening}`, car.id, 'sent']]);
      for (const id of [other, pending, daily, quiet, erased]) expect(await outboxOf('search_alert', id)).toEqual([]);
      const { rows: mark } = await app.sql.query('SELECT last_event_id::text AS id FROM alert_progress');
      expect(BigInt(mark[0].id)).toBeGreaterThanOrEqual(BigInt(car.opening));

      // a second opening of another car: a second e-mail, for the other dealer too
      const kia = await openCar({ carMake: 'Kia', carModel: 'Niro', year: 2012 });
      await eventually(async () => mails('instant-b@bilar.is', /^Nýr bíll/).length === 1, 20_000, "the Kia's alert");
      await eventually(async () => mails('instant-a@bilar.is', /^Nýr bíll/).length === 2, 20_000, "the Kia's alert to a");
      expect((await outboxOf('search_alert', other)).map((r) => r.dedupe_key)).toEqual([`search-alert:${other}:${kia.opening}`]);
    } finally {
      await workers.stop();
    }
  });

  it('an alert still queued when its round is over is dropped, not sent', async () => {
    const id = await dealerWithSearches('instant-late@bilar.is', [{ name: 'Skodur', filters: { make: ['Skoda'] }, alert: 'instant' }]);
    const car = await openCar({ carMake: 'Skoda', carModel: 'Superb' });
    expect((await alertOpenings(app.db)).alerts).toBeGreaterThanOrEqual(1);
    expect(await outboxOf('search_alert', id)).toHaveLength(1);
    await app.sql.query(`UPDATE "Bílar" SET status = 'withdrawn' WHERE id = $1`, [car.id]);
    const result = await flush();
    expect(result.dropped).toBeGreaterThanOrEqual(1);
    expect(await outboxOf('search_alert', id)).toEqual([]);
    expect(mails('instant-late@bilar.is', /./).filter((m) => /Nýr bíll/.test(m.subject))).toEqual([]);
  });
});

describe('daily digests', () => {
  it('is due from ALERT_DIGEST_HOUR (UTC), for that day', () => {
    expect(digestDayDue(new Date('2026-03-04T16:59:59Z'), 17)).toBeNull();
    expect(digestDayDue(new Date('2026-03-04T17:00:00Z'), 17)).toBe('2026-03-04');
    expect(digestDayDue(new Date('2026-03-04T23:59:00Z'), 17)).toBe('2026-03-04');
    expect(digestDayDue(new Date('2026-03-05T00:10:00Z'), 0)).toBe('2026-03-05');
  });

  it('once per dealer and day, the still-active matches since the last one; nothing when there are none', async () => {
    const fan = await dealerWithSearches('daily-f@bilar.is', [
      { name: 'Dacia', filters: { make: ['Dacia'] }, alert: 'daily' },
      { name: 'Ódýrir', filters: { make: ['Dacia'], mileage_max: 100_000 }, alert: 'daily' },
    ]);
    const none = await dealerWithSearches('daily-n@bilar.is', [{ name: 'Lada', filters: { make: ['Lada'] }, alert: 'daily' }]);
    const first = await openCar({ carMake: 'Dacia', carModel: 'Duster', mileage: 50_000 });
    const closed = await openCar({ carMake: 'Dacia', carModel: 'Logan', mileage: 150_000 });
    await alertOpenings(app.db);
    await app.sql.query(`UPDATE "Bílar" SET status = 'withdrawn' WHERE id = $1`, [closed.id]);

    // two instances at the hour at once
    const sent = await Promise.all([sendDigests(app.db, SETTINGS), sendDigests(app.db, SETTINGS)]);
    expect(sent.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    expect(await sendDigests(app.db, SETTINGS)).toBe(0);
    const { rows: digests } = await app.sql.query(
      `SELECT dealer_id, day = current_date AS today, matches FROM alert_digests WHERE dealer_id = ANY($1) ORDER BY matches DESC`,
      [[fan, none]],
    );
    expect(digests).toEqual([
      { dealer_id: fan, today: true, matches: 1 },
      { dealer_id: none, today: true, matches: 0 },
    ]);
    expect(await outboxOf('search_digest', none)).toEqual([]);
    await flush();
    const [digest] = mails('daily-f@bilar.is', /^Vistaðar leitir/);
    expect(mails('daily-f@bilar.is', /^Vistaðar leitir/)).toHaveLength(1);
    expect(digest.subject).toBe('Vistaðar leitir: 1 nýr bíll í uppboði');
    expect(digest.htmlContent).toContain(`Dacia Duster (${first.car_plate})`);
    expect(digest.htmlContent).toContain('(Dacia, Ódýrir)');
    expect(digest.htmlContent).not.toContain(closed.car_plate);

    // A day later (the clock moved back in the database: the digest and the match were yesterday's)
    await app.sql.query(`UPDATE alert_digests SET day = day - 1, at = at - interval '1 day' WHERE dealer_id = ANY($1)`, [[fan, none]]);
    await app.sql.query(`UPDATE saved_search_matches SET matched_at = matched_at - interval '1 day 1 hour' WHERE dealer_id = $1`, [fan]);
    // and the e-mail it queued is yesterday's too (its key names the day)
    await app.sql.query(
      `UPDATE email_outbox SET created_at = created_at - interval '1 day',
              dedupe_key = replace(dedupe_key, current_date::text, (current_date - 1)::text)
       WHERE kind = 'search_digest' AND dedupe_key LIKE $1`,
      [`%:${fan}:%`],
    );
    const second = await openCar({ carMake: 'Dacia', carModel: 'Sandero', mileage: 150_000 });
    await alertOpenings(app.db);
    expect(await sendDigests(app.db, SETTINGS)).toBe(1);
    expect(await sendDigests(app.db, SETTINGS)).toBe(0);
    await flush();
    const later = mails('daily-f@bilar.is', /^Vistaðar leitir/);
    expect(later).toHaveLength(2);
    expect(later[1].htmlContent).toContain(`Dacia Sandero (${second.car_plate})`);
    expect(later[1].htmlContent).not.toContain(first.car_plate);
    expect(later[1].htmlContent).toContain('(Dacia)');
    expect(mails('daily-n@bilar.is', /^Vistaðar leitir/)).toEqual([]);
    const keys = (await outboxOf('search_digest', fan)).map((r) => r.dedupe_key);
    expect(new Set(keys).size).toBe(2);
  });
});

describe('reminders', () => {
  it('once per dealer per round before it ends, to those who bid or keep it as a favourite; none once it is over', async () => {
    const bidder = await insertDealer(app, 'remind-b@bilar.is');
    const fan = await insertDealer(app, 'remind-f@bilar.is');
    const bystander = await insertDealer(app, 'remind-x@bilar.is');
    const soon = await openCar({ carMake: 'Volvo', carModel: 'XC40' });
    const later = await openCar({ carMake: 'Volvo', carModel: 'XC90' });
    const closing = await openCar({ carMake: 'Volvo', carModel: 'V60' });
    for (const car of [soon, later, closing]) {
      const res = await app.request('POST', '/api/bids/create', {
        body: { car_id: car.id, dealer_name: 'Bílaland', dealer_email: 'remind-b@bilar.is', bid_amount: 500_000 },
      });
      expect(res.status, res.text).toBe(201);
    }
    const fav = await app.request('POST', '/api/favorites/add', { body: { car_id: soon.id, dealer_email: 'remind-f@bilar.is' } });
    expect(fav.status, fav.text).toBeLessThan(300);
    await setEndsIn(app, soon.id, 30 * 60);
    await setEndsIn(app, closing.id, 20 * 60);
    await setEndsIn(app, later.id, 3 * 3600);

    await Promise.all([queueReminders(app.db, SETTINGS), queueReminders(app.db, SETTINGS)]);
    expect(await queueReminders(app.db, SETTINGS)).toBe(0);
    expect((await outboxOf('auction_reminder', bidder)).map((r) => r.dedupe_key).sort()).toEqual(
      [`auction-reminder:${bidder}:${soon.opening}`, `auction-reminder:${bidder}:${closing.opening}`].sort(),
    );
    expect((await outboxOf('auction_reminder', fan)).map((r) => r.dedupe_key)).toEqual([`auction-reminder:${fan}:${soon.opening}`]);
    expect(await outboxOf('auction_reminder', bystander)).toEqual([]);

    // the round of `closing` ends before the mail goes: dropped
    await setEndsIn(app, closing.id, -5);
    await flush();
    const toBidder = mails('remind-b@bilar.is', /^Uppboði lýkur brátt/);
    expect(toBidder.map((m) => m.subject)).toEqual([`Uppboði lýkur brátt: Volvo XC40 (${soon.car_plate})`]);
    expect(toBidder[0].htmlContent).toContain('60 mínútur');
    expect(mails('remind-f@bilar.is', /^Uppboði lýkur brátt/)).toHaveLength(1);
    expect((await outboxOf('auction_reminder', bidder)).map((r) => r.dedupe_key)).toEqual([`auction-reminder:${bidder}:${soon.opening}`]);

    // closed for good: no reminder, whenever the job looks
    await app.sql.query(`UPDATE "Bílar" SET status = 'closed' WHERE id = $1`, [closing.id]);
    expect(await queueReminders(app.db, SETTINGS)).toBe(0);
    await flush();
    expect(mails('remind-b@bilar.is', /^Uppboði lýkur brátt/)).toHaveLength(1);
  });
});
