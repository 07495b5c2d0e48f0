import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBrevo } from '../../src/integrations/brevo.js';
import { BREVO_KEY, startFakeBrevo, type BrevoMode } from '../fakes/brevo.js';
import type { Fake } from '../fakes/fake-server.js';
import { apiError, capturingLogger, elapsed, silentLogger, SLACK_MS, TEST_TIMEOUT_MS, testConfig } from './setup.js';

let fake: Fake<BrevoMode>;
beforeAll(async () => {
  fake = await startFakeBrevo();
});
afterAll(() => fake.close());
afterEach(() => {
  fake.behave('ok');
  fake.requests.length = 0;
});

const liveEnv = () => ({
  BREVO_API_KEY: BREVO_KEY,
  BREVO_API_BASE: fake.url,
  BREVO_SENDER_EMAIL: 'noreply@kaggi.is',
  BREVO_SENDER_NAME: 'Kaggi',
  BREVO_LIST_ID: '3',
  BREVO_WELCOME_TEMPLATE_ID: '5',
});
const live = (extra: Record<string, string | undefined> = {}) => createBrevo(testConfig({ ...liveEnv(), ...extra }), silentLogger());

describe('brevo live', () => {
  it('sends a template email with the api-key header', async () => {
    const client = live();
    expect(client.mode).toBe('live');
    expect(client.welcomeTemplateId).toBe(5);
    const res = await client.sendTemplateEmail({
      to: { email: 'jon@example.com', name: 'Jón Jónsson' },
      templateId: 5,
      params: { FIRSTNAME: 'Jón' },
    });
    expect(res.sandbox).toBe(false);
    expect(res.messageId).toMatch(/@smtp-relay\.mailin\.fr>$/);
    const [req] = fake.requests;
    expect([req.method, req.path]).toEqual(['POST', '/smtp/email']);
    expect(req.headers['api-key']).toBe(BREVO_KEY);
    expect(req.body).toEqual({
      to: [{ email: 'jon@example.com', name: 'Jón Jónsson' }],
      templateId: 5,
      params: { FIRSTNAME: 'Jón' },
    });
  });

  it('sends a plain email from the configured sender', async () => {
    await live().sendEmail({ to: { email: 'a@example.com' }, subject: 'Halló', htmlContent: '<p>Hæ</p>' });
    expect(fake.requests[0].body).toEqual({
      sender: { email: 'noreply@kaggi.is', name: 'Kaggi' },
      to: [{ email: 'a@example.com' }],
      subject: 'Halló',
      htmlContent: '<p>Hæ</p>',
    });
  });

  it('a plain email without BREVO_SENDER_EMAIL → 503 not_configured', async () => {
    const err = await apiError(
      live({ BREVO_SENDER_EMAIL: undefined }).sendEmail({ to: { email: 'a@example.com' }, subject: 's', htmlContent: 'h' }),
    );
    expect([err.status, err.code]).toEqual([503, 'not_configured']);
    expect(fake.requests).toHaveLength(0);
  });

  it('upserts a contact onto BREVO_LIST_ID (201 = new contact)', async () => {
    const res = await live().upsertContact({ email: 'jon@example.com', firstName: 'Jón', lastName: 'Jónsson', sms: '+3547771234' });
    expect(res).toEqual({ alreadyOnList: false, sandbox: false });
    const [req] = fake.requests;
    expect([req.method, req.path]).toEqual(['POST', '/contacts']);
    expect(req.headers['api-key']).toBe(BREVO_KEY);
    expect(req.body).toEqual({
      email: 'jon@example.com',
      attributes: { FIRSTNAME: 'Jón', LASTNAME: 'Jónsson', SMS: '+3547771234' },
      listIds: [3],
      updateEnabled: true,
    });
  });

  it('omits SMS when no phone is given', async () => {
    await live().upsertContact({ email: 'a@example.com', firstName: 'A' });
    expect(fake.requests[0].body).toMatchObject({ attributes: { FIRSTNAME: 'A', LASTNAME: '' } });
    expect((fake.requests[0].body as { attributes: object }).attributes).not.toHaveProperty('SMS');
  });

  it('204 (existing contact updated) → alreadyOnList true', async () => {
    fake.behave('duplicate');
    expect(await live().upsertContact({ email: 'a@example.com', firstName: 'A' })).toEqual({ alreadyOnList: true, sandbox: false });
  });

  it('SMS already on another contact → 409 duplicate_contact', async () => {
    fake.behave('duplicate_sms');
    const err = await apiError(live().upsertContact({ email: 'a@example.com', firstName: 'A', sms: '+3547771234' }));
    expect([err.status, err.code]).toEqual([409, 'duplicate_contact']);
  });

  it('account and lists are trimmed', async () => {
    const client = live();
    expect(await client.getAccount()).toEqual({ email: 'admin@kaggi.is', company_name: 'Kaggi ehf.', plan: 'free', sandbox: false });
    expect(await client.getLists()).toEqual([
      { id: 3, name: 'Kaggi seljendur', totalSubscribers: 12 },
      { id: 7, name: 'Prófun', totalSubscribers: 2 },
    ]);
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /account', 'GET /contacts/lists']);
    expect(fake.requests.every((r) => r.headers['api-key'] === BREVO_KEY)).toBe(true);
  });

  it('400 invalid email → 422 invalid_email', async () => {
    fake.behave('invalid_email');
    const err = await apiError(live().sendTemplateEmail({ to: { email: 'nope@x' }, templateId: 5 }));
    expect([err.status, err.code]).toEqual([422, 'invalid_email']);
  });

  it('401 (key refused) → 503 that says so without the key', async () => {
    const { logger, lines } = capturingLogger();
    const client = createBrevo(testConfig({ ...liveEnv(), BREVO_API_KEY: 'xkeysib-wrong-key' }), logger);
    const err = await apiError(client.getAccount());
    expect([err.status, err.code]).toEqual([503, 'upstream_unavailable']);
    expect(err.message).toMatch(/refused the configured API key/);
    const everything = JSON.stringify(err.toBody()) + lines.join('\n');
    expect(everything).not.toContain('xkeysib-wrong-key');
    expect(lines.join('\n')).toContain('"mode":"live"');
  });

  it('429 → 503 with Retry-After', async () => {
    fake.behave('rate_limited');
    const err = await apiError(live().upsertContact({ email: 'a@example.com', firstName: 'A' }));
    expect([err.status, err.code]).toEqual([503, 'upstream_unavailable']);
    expect(err.headers).toEqual({ 'Retry-After': '17' });
  });

  it('404 (e.g. unknown template) → 503', async () => {
    fake.behave('not_found');
    const err = await apiError(live().sendTemplateEmail({ to: { email: 'a@example.com' }, templateId: 999 }));
    expect([err.status, err.code]).toEqual([503, 'upstream_unavailable']);
  });

  it.each(['error500', 'bad_json'] as const)('%s → 503 upstream_unavailable', async (mode) => {
    fake.behave(mode);
    const err = await apiError(live().sendTemplateEmail({ to: { email: 'a@example.com' }, templateId: 5 }));
    expect([err.status, err.code]).toEqual([503, 'upstream_unavailable']);
  });

  it('timeout → 503 within BREVO_TIMEOUT_MS', async () => {
    fake.behave('timeout');
    const { ms, result } = await elapsed(() => live().getLists());
    expect(result.status).toBe('rejected');
    expect((result as PromiseRejectedResult).reason.code).toBe('upstream_unavailable');
    expect(ms).toBeLessThan(TEST_TIMEOUT_MS + SLACK_MS);
  });
});

describe('brevo sandbox and disabled', () => {
  it('sandbox: no HTTP, sandbox message ids, masked recipient in the log', async () => {
    const { logger, lines } = capturingLogger();
    const client = createBrevo(testConfig({ NODE_ENV: 'development', BREVO_API_BASE: fake.url }), logger);
    expect(client.mode).toBe('sandbox');
    const sent = await client.sendTemplateEmail({ to: { email: 'jon@example.com', name: 'Jón' }, templateId: 5 });
    expect(sent.sandbox).toBe(true);
    expect(sent.messageId).toMatch(/^sandbox-[0-9a-f-]{36}$/);
    expect((await client.sendEmail({ to: { email: 'jon@example.com' }, subject: 's', htmlContent: 'h' })).sandbox).toBe(true);
    expect(await client.upsertContact({ email: 'jon@example.com', firstName: 'Jón' })).toEqual({ alreadyOnList: false, sandbox: true });
    expect((await client.getAccount()).sandbox).toBe(true);
    expect(await client.getLists()).toEqual([]);
    expect(fake.requests).toHaveLength(0);
    const log = lines.join('\n');
    expect(log).toContain('"mode":"sandbox"');
    expect(log).toContain('j***@example.com');
    expect(log).not.toContain('jon@example.com');
  });

  it('production without a key → every call 503 not_configured', async () => {
    const client = createBrevo(testConfig({ NODE_ENV: 'production', BREVO_API_BASE: fake.url }), silentLogger());
    expect(client.mode).toBe('disabled');
    const calls = [
      client.sendTemplateEmail({ to: { email: 'a@example.com' }, templateId: 5 }),
      client.sendEmail({ to: { email: 'a@example.com' }, subject: 's', htmlContent: 'h' }),
      client.upsertContact({ email: 'a@example.com', firstName: 'A' }),
      client.getAccount(),
      client.getLists(),
    ];
    for (const call of calls) {
      const err = await apiError(call);
      expect([err.status, err.code]).toEqual([503, 'not_configured']);
    }
    expect(fake.requests).toHaveLength(0);
  });
});
