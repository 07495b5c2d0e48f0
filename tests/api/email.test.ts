import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { registerCar } from '../helpers/fixtures.js';
import { BREVO_KEY, startFakeBrevo, type BrevoMode } from '../fakes/brevo.js';
import type { Fake } from '../fakes/fake-server.js';

const ADMIN_KEY = 'admin-test-key-0123456789-abcdefghij';
let fake: Fake<BrevoMode>;
let app: TestApp;
beforeAll(async () => {
  fake = await startFakeBrevo();
  app = await startTestApp({
    BREVO_API_KEY: BREVO_KEY,
    BREVO_API_BASE: fake.url,
    BREVO_WELCOME_TEMPLATE_ID: '12',
    BREVO_LIST_ID: '3',
    BREVO_DOI_TEMPLATE_ID: '21',
    BREVO_DOI_REDIRECT_URL: 'https://kaggi.is/takk',
    BREVO_TIMEOUT_MS: '1000',
    ADMIN_API_KEY: ADMIN_KEY,
  });
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

const contact = { name: 'Jón Páll Jónsson', email: 'Jon@Example.is', phone: '777 7777' };
const admin = { 'X-Admin-Key': ADMIN_KEY };

const welcomeLogs = async (email: string) =>
  (await app.sql.query(`SELECT count(*)::int AS n FROM email_logs WHERE kind = 'welcome' AND email = $1`, [email])).rows[0].n;
const SAME_ANSWER = {
  success: true,
  message: 'Welcome e-mail sent',
  messageId: expect.stringMatching(/^<\d+\.[0-9a-f]+@smtp-relay\.mailin\.fr>$/),
  sandbox: false,
};

describe('POST /api/send-welcome-email', () => {
  it('sends the Brevo template with the contract params and logs it', async () => {
    fake.behave('ok');
    await registerCar(app, { email: contact.email });
    const res = await app.request('POST', '/api/send-welcome-email', { body: contact });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, sandbox: false });
    const sent = fake.requests.at(-1)!;
    expect(sent.path).toBe('/smtp/email');
    expect(sent.headers['api-key']).toBe(BREVO_KEY);
    expect(sent.body).toMatchObject({
      to: [{ email: 'jon@example.is', name: 'Jón Páll Jónsson' }],
      templateId: 12,
      params: { FIRSTNAME: 'Jón', LASTNAME: 'Páll Jónsson', SMS: '+3547777777' },
    });
    expect(res.body.messageId).toBeTruthy();
    const { rows } = await app.sql.query(`SELECT kind, email, status, message_id FROM email_logs ORDER BY created_at DESC LIMIT 1`);
    expect(rows[0]).toEqual({ kind: 'welcome', email: 'jon@example.is', status: 'sent', message_id: res.body.messageId });
  });

  it('sends once per car: a second call sends nothing and answers the same', async () => {
    fake.behave('ok');
    const before = fake.requests.length;
    const again = await app.request('POST', '/api/send-welcome-email', { body: contact });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(SAME_ANSWER);
    expect(fake.requests.length).toBe(before);
    expect(await welcomeLogs('jon@example.is')).toBe(1);
    // two at once for a new car: one e-mail
    await registerCar(app, { email: 'tvisvar@example.is' });
    const both = await Promise.all(
      [1, 2].map(() => app.request('POST', '/api/send-welcome-email', { body: { ...contact, email: 'tvisvar@example.is' } })),
    );
    expect(both.map((r) => r.status)).toEqual([200, 200]);
    expect(fake.requests.slice(before).filter((r) => r.path === '/smtp/email')).toHaveLength(1);
    expect(await welcomeLogs('tvisvar@example.is')).toBe(1);
  });

  it('sends nothing to an address without a car registered in the last hour, with the same answer', async () => {
    fake.behave('ok');
    const before = fake.requests.length;
    const stranger = await app.request('POST', '/api/send-welcome-email', { body: { ...contact, email: 'anyone@elsewhere.is' } });
    expect(stranger.status).toBe(200);
    expect(stranger.body).toEqual(SAME_ANSWER);
    const old = await registerCar(app, { email: 'gamall@example.is' });
    await app.sql.query(`UPDATE "Bílar" SET created_at = now() - interval '61 minutes' WHERE id = $1`, [old.id]);
    const late = await app.request('POST', '/api/send-welcome-email', { body: { ...contact, email: 'gamall@example.is' } });
    expect(late.body).toEqual(SAME_ANSWER);
    expect(fake.requests.length).toBe(before);
    expect(await welcomeLogs('anyone@elsewhere.is')).toBe(0);
    expect(await welcomeLogs('gamall@example.is')).toBe(0);
  });

  it('Brevo down → 503 upstream_unavailable, and the failure is logged', async () => {
    await registerCar(app, { email: 'nidri@example.is' });
    fake.behave('error500');
    const res = await app.request('POST', '/api/send-welcome-email', { body: { ...contact, email: 'nidri@example.is' } });
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('upstream_unavailable');
    expect(res.text).not.toContain(BREVO_KEY);
    const { rows } = await app.sql.query(`SELECT status, error FROM email_logs ORDER BY created_at DESC LIMIT 1`);
    expect(rows[0]).toEqual({ status: 'failed', error: 'upstream_unavailable' });
    fake.behave('ok');
    // a failed attempt is not the car's one e-mail
    const retry = await app.request('POST', '/api/send-welcome-email', { body: { ...contact, email: 'nidri@example.is' } });
    expect(retry.status).toBe(200);
    expect(fake.requests.at(-1)!.path).toBe('/smtp/email');
  });

  it('an invalid phone → 422 invalid_phone, an invalid e-mail → 422, nothing sent', async () => {
    const before = fake.requests.length;
    expect((await app.request('POST', '/api/send-welcome-email', { body: { ...contact, phone: '12345' } })).body.error).toBe(
      'invalid_phone',
    );
    expect((await app.request('POST', '/api/send-welcome-email', { body: { ...contact, email: 'nope' } })).status).toBe(422);
    expect(fake.requests.length).toBe(before);
  });
});

describe('POST /api/add-to-brevo-list', () => {
  it('asks Brevo for a double opt-in (FIRSTNAME, LASTNAME, SMS in E.164): the list only after confirming', async () => {
    fake.behave('ok');
    const before = fake.requests.length;
    const res = await app.request('POST', '/api/add-to-brevo-list', { body: contact });
    expect(res.body).toMatchObject({ success: true, already_on_list: false, sandbox: false });
    expect(res.body.message).toMatch(/once confirmed/);
    const sent = fake.requests.slice(before);
    // never the direct add to the list
    expect(sent.map((r) => r.path)).toEqual(['/contacts/doubleOptinConfirmation']);
    expect(sent[0].body).toEqual({
      email: 'jon@example.is',
      attributes: { FIRSTNAME: 'Jón', LASTNAME: 'Páll Jónsson', SMS: '+3547777777' },
      includeListIds: [3],
      templateId: 21,
      redirectionUrl: 'https://kaggi.is/takk',
    });
  });

  it('without BREVO_DOI_TEMPLATE_ID: 503 not_configured, nothing sent', async () => {
    const local = await startTestApp({ BREVO_API_KEY: BREVO_KEY, BREVO_API_BASE: fake.url, BREVO_TIMEOUT_MS: '1000' });
    try {
      const before = fake.requests.length;
      const res = await local.request('POST', '/api/add-to-brevo-list', { body: contact });
      expect([res.status, res.body.error]).toEqual([503, 'not_configured']);
      expect(fake.requests.length).toBe(before);
    } finally {
      await local.close();
    }
  });

  it('a contact already on the list is a success that says so', async () => {
    fake.behave('duplicate');
    const res = await app.request('POST', '/api/add-to-brevo-list', { body: contact });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, already_on_list: true });
    expect(res.body.message).toMatch(/once confirmed/);
    expect(fake.requests.at(-1)!.path).toBe('/contacts/doubleOptinConfirmation');
    fake.behave('ok');
  });

  it('an SMS number owned by another contact: the contact is still added, without the number', async () => {
    fake.behave('duplicate_sms');
    const before = fake.requests.length;
    const res = await app.request('POST', '/api/add-to-brevo-list', { body: contact });
    // the fake keeps refusing while the SMS attribute is sent; the retry leaves it off
    const tries = fake.requests.slice(before);
    expect(tries).toHaveLength(2);
    expect((tries[1].body as { attributes: Record<string, unknown> }).attributes.SMS).toBeUndefined();
    expect(res.status).toBe(200);
    fake.behave('ok');
  });
});

describe('admin endpoints', () => {
  it('need the admin key: missing → 401, wrong → 403', async () => {
    expect((await app.request('GET', '/api/debug-brevo')).status).toBe(401);
    const wrong = await app.request('GET', '/api/debug-brevo', { headers: { 'X-Admin-Key': 'guess' } });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error).toBe('invalid_admin_key');
  });

  it('are off (403 admin_disabled) without ADMIN_API_KEY', async () => {
    const local = await startTestApp();
    try {
      const res = await local.request('POST', '/api/test-real-email', {
        body: { email: 'a@b.is' },
        headers: { 'X-Admin-Key': 'anything' },
      });
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('admin_disabled');
    } finally {
      await local.close();
    }
  });

  it('debug-brevo reports the account and lists, never any part of the key', async () => {
    fake.behave('ok');
    const res = await app.request('GET', '/api/debug-brevo', { headers: admin });
    expect(res.body).toMatchObject({ success: true, configured: true, connected: true, list_id: 3 });
    expect(res.body.account.email).toBe('admin@kaggi.is');
    expect(res.body.lists.map((l: { id: number }) => l.id)).toEqual([3, 7]);
    for (let i = 0; i + 6 <= BREVO_KEY.length; i += 1) expect(res.text).not.toContain(BREVO_KEY.slice(i, i + 6));
    fake.behave('unauthorized');
    const down = await app.request('GET', '/api/debug-brevo', { headers: admin });
    expect(down.body).toMatchObject({ connected: false, account: null, lists: [] });
    fake.behave('ok');
  });

  it('test-brevo-list, test-automation-trigger and test-real-email reach Brevo', async () => {
    fake.behave('ok');
    expect((await app.request('POST', '/api/test-brevo-list', { body: { email: 'prufa@kaggi.is' }, headers: admin })).body.success).toBe(
      true,
    );
    expect((fake.requests.at(-1)!.body as { email: string }).email).toBe('prufa@kaggi.is');
    const trigger = await app.request('POST', '/api/test-automation-trigger', { headers: admin });
    expect(trigger.body).toMatchObject({ success: true, test_email: 'test@kaggi.is', list_id: 3 });
    const real = await app.request('POST', '/api/test-real-email', { body: { email: 'Anna@Example.is', name: 'Anna' }, headers: admin });
    expect(real.body).toMatchObject({ success: true, email: 'anna@example.is', sandbox: false });
    expect(fake.requests.at(-1)!.path).toBe('/smtp/email');
  });
});

describe('sandbox', () => {
  it('records the e-mail without sending it, labelled', async () => {
    const local = await startTestApp();
    try {
      await registerCar(local, { email: contact.email });
      const res = await local.request('POST', '/api/send-welcome-email', { body: contact });
      expect(res.body).toMatchObject({ success: true, sandbox: true });
      const { rows } = await local.sql.query(`SELECT status FROM email_logs`);
      expect(rows).toEqual([{ status: 'sandbox' }]);
    } finally {
      await local.close();
    }
  });
});
