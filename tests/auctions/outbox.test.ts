import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { registerCar } from '../helpers/fixtures.js';
import { BREVO_KEY, startFakeBrevo, type BrevoMode } from '../fakes/brevo.js';
import type { Fake } from '../fakes/fake-server.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createDb } from '../../src/db/pool.js';
import { createLogger } from '../../src/logger.js';
import { createBrevo } from '../../src/integrations/brevo.js';
import { flushOutbox } from '../../src/auctions/outbox.js';
import { bid, outbox } from './helpers.js';

let fake: Fake<BrevoMode>;
let app: TestApp;
const liveEnv = (base: string) => ({
  BREVO_API_KEY: BREVO_KEY,
  BREVO_API_BASE: base,
  BREVO_SENDER_EMAIL: 'uppbod@kaggi.is',
  BREVO_TIMEOUT_MS: '500',
  OUTBOX_RETRY_BASE_SECONDS: '30',
  OUTBOX_RETRY_MAX_SECONDS: '3600',
  OUTBOX_MAX_ATTEMPTS: '4',
});

beforeAll(async () => {
  fake = await startFakeBrevo();
  app = await startTestApp(liveEnv(fake.url));
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});
beforeEach(async () => {
  fake.behave('ok');
  fake.requests.length = 0;
  // each test starts from an empty outbox
  await app.sql.query('DELETE FROM email_outbox');
});

const flush = (a: TestApp = app, env: Record<string, string> = {}) => {
  const config: Config =
    env && Object.keys(env).length
      ? loadConfig({ ...liveEnv(fake.url), NODE_ENV: 'test', DATABASE_URL: a.config.DATABASE_URL, ...env })
      : a.config;
  return flushOutbox({ db: a.db, brevo: createBrevo(config, a.logger), config, logger: a.logger });
};
/** The controllable clock: make every waiting e-mail due now. */
const makeDue = () => app.sql.query('UPDATE email_outbox SET next_attempt_at = now()');
const sends = () => fake.requests.filter((r) => r.path === '/smtp/email');

/** A car where a@dealer.is is outbid by b@dealer.is: one outbid e-mail queued. */
async function outbidScenario(): Promise<string> {
  const car = await registerCar(app);
  await bid(app, car.id, 100_000, 'a@dealer.is');
  await bid(app, car.id, 112_000, 'b@dealer.is');
  return car.id;
}

describe('the e-mail outbox', () => {
  it('retries a failing Brevo with exponential backoff and sends once it recovers', async () => {
    const carId = await outbidScenario();
    const [queued] = await outbox(app, carId);
    expect(queued).toMatchObject({ kind: 'outbid', to_email: 'a@dealer.is', status: 'pending', attempts: 0 });

    fake.behave('error500');
    expect(await flush()).toMatchObject({ retrying: 1, sent: 0 });
    let [row] = await outbox(app, carId);
    expect(row).toMatchObject({ status: 'pending', attempts: 1 });
    const firstDelay = (row.next_attempt_at.getTime() - Date.now()) / 1000;
    expect(firstDelay).toBeGreaterThan(25);
    expect(firstDelay).toBeLessThan(35);

    // not due yet: nothing is tried
    expect(await flush()).toMatchObject({ retrying: 0, sent: 0 });
    expect(sends()).toHaveLength(1);

    await makeDue();
    fake.behave('timeout');
    expect(await flush()).toMatchObject({ retrying: 1 });
    [row] = await outbox(app, carId);
    expect(row.attempts).toBe(2);
    const secondDelay = (row.next_attempt_at.getTime() - Date.now()) / 1000;
    expect(secondDelay).toBeGreaterThan(55);
    expect(secondDelay).toBeLessThan(65);

    await makeDue();
    fake.behave('ok');
    expect(await flush()).toMatchObject({ sent: 1 });
    [row] = await outbox(app, carId);
    expect(row).toMatchObject({ status: 'sent', attempts: 3, last_error: null });
    expect(row.message_id).toMatch(/smtp-relay/);

    // sent is final: no more sends, whatever happens
    await makeDue();
    expect(await flush()).toMatchObject({ sent: 0 });
    expect(sends()).toHaveLength(3);
    // every attempt carried the row's id as Brevo's idempotency key
    expect(sends().map((r) => (r.body as { headers?: { idempotencyKey?: string } }).headers?.idempotencyKey)).toEqual([
      row.id,
      row.id,
      row.id,
    ]);
    const last = sends().at(-1)!.body as Record<string, unknown>;
    expect(last).toMatchObject({ sender: { email: 'uppbod@kaggi.is' }, to: [{ email: 'a@dealer.is', name: 'a' }] });
    expect(String(last.subject)).toContain('Yfirboðið');
    expect(String(last.htmlContent)).toContain('112.000 kr.');
  });

  it('honours Retry-After from a rate-limited Brevo', async () => {
    await outbidScenario();
    fake.behave('rate_limited');
    await flush();
    const [row] = await outbox(app);
    // the fake asks for 17 s; the backoff (30 s) is longer, so it wins
    expect((row.next_attempt_at.getTime() - Date.now()) / 1000).toBeGreaterThan(25);
  });

  it('gives up after OUTBOX_MAX_ATTEMPTS and at once for an address Brevo refuses, keeping the rows', async () => {
    await outbidScenario();
    fake.behave('error500');
    for (let i = 0; i < 4; i += 1) {
      await makeDue();
      await flush();
    }
    const [row] = await outbox(app);
    expect(row).toMatchObject({ status: 'failed', attempts: 4 });
    await makeDue();
    await flush();
    expect(sends()).toHaveLength(4);

    await app.sql.query('DELETE FROM email_outbox');
    await outbidScenario();
    fake.behave('invalid_email');
    expect(await flush()).toMatchObject({ failed: 1 });
    expect((await outbox(app))[0]).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('uses the outbid template when BREVO_OUTBID_TEMPLATE_ID is set', async () => {
    const carId = await outbidScenario();
    expect(await flush(app, { BREVO_OUTBID_TEMPLATE_ID: '41' })).toMatchObject({ sent: 1 });
    const body = sends()[0].body as Record<string, unknown>;
    expect(body).toMatchObject({
      templateId: 41,
      to: [{ email: 'a@dealer.is' }],
      params: { car_id: carId, highest_bid: 112_000, min_next_bid: 124_000, dealer_name: 'a' },
    });
    expect(body).not.toHaveProperty('subject');
  });

  it('sends each e-mail once when many workers on several connections flush at the same time', async () => {
    for (let i = 0; i < 6; i += 1) await outbidScenario();
    const other = await createDb(app.config.DATABASE_URL!, app.config);
    try {
      const brevo = createBrevo(app.config, app.logger);
      const runs = await Promise.all(
        Array.from({ length: 6 }, (_, i) => flushOutbox({ db: i % 2 ? other : app.db, brevo, config: app.config, logger: app.logger })),
      );
      expect(runs.reduce((n, r) => n + r.sent, 0)).toBe(6);
    } finally {
      await other.end();
    }
    const keys = sends().map((r) => (r.body as { headers: { idempotencyKey: string } }).headers.idempotencyKey);
    expect(keys).toHaveLength(6);
    expect(new Set(keys).size).toBe(6);
    expect((await outbox(app)).every((m) => m.status === 'sent' && m.attempts === 1)).toBe(true);
  });

  it('holds plain e-mails without spending attempts when the sender address is missing', async () => {
    await outbidScenario();
    const config = loadConfig({ ...liveEnv(fake.url), NODE_ENV: 'test', DATABASE_URL: app.config.DATABASE_URL, BREVO_SENDER_EMAIL: '' });
    expect(await flushOutbox({ db: app.db, brevo: createBrevo(config, app.logger), config, logger: app.logger })).toMatchObject({
      held: 1,
    });
    const [row] = await outbox(app);
    expect(row).toMatchObject({ status: 'pending', attempts: 0 });
    expect(row.next_attempt_at.getTime()).toBeGreaterThan(Date.now() + 3000_000);
    expect(sends()).toHaveLength(0);
  });
});

describe('the outbox without Brevo credentials', () => {
  it('sandbox (outside production): logs and marks each e-mail, never calls out', async () => {
    const local = await startTestApp();
    try {
      const car = await registerCar(local);
      await bid(local, car.id, 100_000, 'a@dealer.is');
      await bid(local, car.id, 112_000, 'b@dealer.is');
      const result = await flushOutbox({
        db: local.db,
        brevo: createBrevo(local.config, local.logger),
        config: local.config,
        logger: local.logger,
      });
      expect(result).toMatchObject({ sandbox: 1 });
      const [row] = await outbox(local);
      expect(row).toMatchObject({ status: 'sandbox', attempts: 1 });
      expect(row.message_id).toMatch(/^sandbox-/);
    } finally {
      await local.close();
    }
  });

  it('disabled (production): leaves every e-mail waiting, untouched, however often it runs', async () => {
    const local = await startTestApp();
    try {
      const car = await registerCar(local);
      await bid(local, car.id, 100_000, 'a@dealer.is');
      await bid(local, car.id, 112_000, 'b@dealer.is');
      const config = loadConfig({ NODE_ENV: 'production', AUTH_MODE: 'off', LOG_LEVEL: 'silent', DATABASE_URL: local.config.DATABASE_URL });
      const logger = createLogger(config);
      const brevo = createBrevo(config, logger);
      expect(brevo.mode).toBe('disabled');
      for (let i = 0; i < 5; i += 1) {
        expect(await flushOutbox({ db: local.db, brevo, config, logger })).toEqual({
          sent: 0,
          sandbox: 0,
          retrying: 0,
          failed: 0,
          held: 0,
          dropped: 0,
        });
      }
      const [row] = await outbox(local);
      expect(row).toMatchObject({ status: 'pending', attempts: 0, last_error: null });
    } finally {
      await local.close();
    }
  });
});
