import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startFakeTwilio, TWILIO_FROM, TWILIO_SID, TWILIO_TOKEN, VALID_CODE, VERIFY_SID, type TwilioMode } from '../fakes/twilio.js';
import type { Fake } from '../fakes/fake-server.js';

let fake: Fake<TwilioMode>;
beforeAll(async () => {
  fake = await startFakeTwilio();
});
afterAll(async () => fake?.close());

const twilioEnv = (extra: Record<string, string>) => ({
  TWILIO_ACCOUNT_SID: TWILIO_SID,
  TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
  TWILIO_API_BASE: fake.url,
  TWILIO_TIMEOUT_MS: '1000',
  ...extra,
});

const send = (app: TestApp, phone: string, field = 'phone') =>
  app.request('POST', '/api/send-verification-code', { body: { [field]: phone } });
const check = (app: TestApp, phone: string, code: string) => app.request('POST', '/api/verify-code', { body: { phone, code } });
const lastSmsCode = () => {
  const sms = fake.requests.filter((r) => r.path.endsWith('/Messages.json')).at(-1)!;
  return { to: (sms.body as Record<string, string>).To, code: /(\d{6})/.exec((sms.body as Record<string, string>).Body)![1] };
};

describe('own codes sent with the Messaging API', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(twilioEnv({ TWILIO_PHONE_NUMBER: TWILIO_FROM }));
  });
  afterAll(async () => app?.close());

  it('sends a 6-digit code to the E.164 number, stores only its hash, and verifies it once', async () => {
    fake.behave('ok');
    const res = await send(app, '777-7777');
    expect(res.body).toEqual({ success: true, message: 'Verification code sent', status: 'pending', sandbox: false });
    const { to, code } = lastSmsCode();
    expect(to).toBe('+3547777777');
    const { rows } = await app.sql.query(`SELECT code_hash FROM phone_verifications WHERE phone = '+3547777777'`);
    expect(rows).toHaveLength(1);
    expect(rows[0].code_hash).not.toContain(code);

    const wrong = await check(app, '+354 777 7777', code === '000000' ? '111111' : '000000');
    expect(wrong.body).toMatchObject({ success: true, valid: false });
    const right = await check(app, '3547777777', code);
    expect(right.body).toMatchObject({ success: true, valid: true });
    expect((await check(app, '7777777', code)).body.valid).toBe(false); // single use
  });

  it('accepts phone_number as an alias', async () => {
    expect((await send(app, '691 2345', 'phone_number')).status).toBe(200);
    expect(lastSmsCode().to).toBe('+3546912345');
  });

  it('sends to numbers of SMS_ALLOWED_COUNTRIES only (default IS): 422 sms_country_not_allowed, nothing sent', async () => {
    const before = fake.requests.length;
    for (const phone of ['+47 912 34 567', '+46701234567', '+4520123456']) {
      const res = await send(app, phone, 'phone_number');
      expect([res.status, res.body.error], phone).toEqual([422, 'sms_country_not_allowed']);
      expect(res.body.errors).toEqual([{ path: 'body.phone_number', message: expect.stringContaining('IS') }]);
    }
    expect(fake.requests.length).toBe(before);
    const { rows } = await app.sql.query(`SELECT count(*)::int AS n FROM phone_verifications WHERE phone NOT LIKE '+354%'`);
    expect(rows[0].n).toBe(0);
  });

  it('sends to the other countries SMS_ALLOWED_COUNTRIES names', async () => {
    const nordic = await startTestApp(twilioEnv({ TWILIO_PHONE_NUMBER: TWILIO_FROM, SMS_ALLOWED_COUNTRIES: 'is, NO,SE' }));
    try {
      expect((await send(nordic, '+47 912 34 567')).status).toBe(200);
      expect(lastSmsCode().to).toBe('+4791234567');
      expect((await send(nordic, '+46701234567')).status).toBe(200);
      expect((await send(nordic, '+4520123456')).body.error).toBe('sms_country_not_allowed');
    } finally {
      await nordic.close();
    }
  });

  it('locks a code after 5 wrong tries, and expired codes never verify', async () => {
    expect((await send(app, '6111111')).status).toBe(200);
    const { code } = lastSmsCode();
    const wrongCode = code === '999999' ? '888888' : '999999';
    for (let i = 0; i < 5; i += 1) expect((await check(app, '6111111', wrongCode)).body.valid).toBe(false);
    expect((await check(app, '6111111', code)).body.valid).toBe(false);

    expect((await send(app, '8200002')).status).toBe(200);
    const second = lastSmsCode().code;
    const expired = await app.sql.query(
      `UPDATE phone_verifications SET expires_at = now() - interval '1 second' WHERE phone = '+3548200002'`,
    );
    expect(expired.rowCount).toBe(1);
    expect((await check(app, '8200002', second)).body.valid).toBe(false);
  });

  it('a new code replaces the previous one', async () => {
    expect((await send(app, '8200003')).status).toBe(200);
    const first = lastSmsCode().code;
    expect((await send(app, '8200003')).status).toBe(200);
    const second = lastSmsCode().code;
    if (first !== second) expect((await check(app, '8200003', first)).body.valid).toBe(false);
    expect((await check(app, '8200003', second)).body.valid).toBe(true);
  });

  it('rejects numbers that are not phone numbers with 422 invalid_phone', async () => {
    const res = await send(app, '12345');
    expect(res.status).toBe(422);
    expect(res.body.error).toBe('invalid_phone');
    expect(res.body.errors[0].path).toBe('body.phone');
  });

  it('maps Twilio failures: invalid number 422, its rate limit 429, outage 503 — and the undelivered code is not kept', async () => {
    fake.behave('invalid_number');
    expect((await send(app, '8200004')).status).toBe(422);
    fake.behave('rate_limited');
    const limited = await send(app, '8200004');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeTruthy();
    fake.behave('error500');
    expect((await send(app, '8200004')).status).toBe(503);
    fake.behave('ok');
    const { rows } = await app.sql.query(`SELECT count(*)::int AS n FROM phone_verifications WHERE phone = '+3548200004'`);
    expect(rows[0].n).toBe(0);
  });

  it('sms-service-info says which provider runs, without SIDs or tokens', async () => {
    const res = await app.request('GET', '/api/sms-service-info');
    expect(res.body).toEqual({ success: true, configured: true, provider: 'twilio_messaging', code_length: 6, sandbox: false });
    expect(res.text).not.toContain(TWILIO_SID);
    expect(res.text).not.toContain(TWILIO_TOKEN);
  });
});

describe('Twilio Verify', () => {
  it('starts and checks verifications through the Verify API', async () => {
    const app = await startTestApp(twilioEnv({ TWILIO_VERIFY_SERVICE_SID: VERIFY_SID }));
    try {
      fake.behave('ok');
      expect((await send(app, '7777777')).status).toBe(200);
      const started = fake.requests.at(-1)!;
      expect(started.path).toBe(`/v2/Services/${VERIFY_SID}/Verifications`);
      expect(started.body).toMatchObject({ To: '+3547777777', Channel: 'sms' });
      expect((await check(app, '7777777', VALID_CODE)).body).toMatchObject({ success: true, valid: true });
      fake.behave('wrong_code');
      expect((await check(app, '7777777', '000000')).body.valid).toBe(false);
      fake.behave('not_found');
      expect((await check(app, '7777777', VALID_CODE)).body.valid).toBe(false);
      fake.behave('ok');
    } finally {
      await app.close();
    }
  });
});

describe('rate limits on SMS', () => {
  it('5 sends per phone per hour, however the number is written', async () => {
    const app = await startTestApp();
    try {
      const spellings = ['7777777', '777-7777', '+354 777 7777', '3547777777', '+3547777777'];
      for (const phone of spellings) expect((await send(app, phone)).status, phone).toBe(200);
      expect((await send(app, '7777777')).status).toBe(429);
      expect((await send(app, '7777778')).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('20 sends per IP per hour', async () => {
    const app = await startTestApp();
    try {
      const headers = { 'X-Forwarded-For': '192.0.2.55' };
      for (let i = 0; i < 20; i += 1) {
        const res = await app.request('POST', '/api/send-verification-code', {
          body: { phone: `+354 82${String(i).padStart(5, '0')}` },
          headers,
        });
        expect(res.status, `send ${i + 1}`).toBe(200);
      }
      expect((await app.request('POST', '/api/send-verification-code', { body: { phone: '8299999' }, headers })).status).toBe(429);
    } finally {
      await app.close();
    }
  });

  it('RATE_LIMIT_SMS_PER_PREFIX_PER_DAY sends a day to one number range, whatever the client', async () => {
    const app = await startTestApp({ RATE_LIMIT_SMS_PER_PREFIX_PER_DAY: '3' });
    try {
      // +354 820 0001 … 0004: one range (the number without its last 4 digits), four clients
      for (let i = 1; i <= 3; i += 1) {
        const res = await app.request('POST', '/api/send-verification-code', {
          body: { phone: `820000${i}` },
          headers: { 'X-Forwarded-For': `192.0.2.${i}` },
        });
        expect(res.status, `send ${i}`).toBe(200);
      }
      const fourth = await app.request('POST', '/api/send-verification-code', {
        body: { phone: '8200004' },
        headers: { 'X-Forwarded-For': '192.0.2.4' },
      });
      expect([fourth.status, fourth.body.error]).toEqual([429, 'rate_limited']);
      expect((await send(app, '8210001')).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('with TRUST_PROXY_HOPS=0 (the default) a made-up X-Forwarded-For does not make a new client', async () => {
    const app = await startTestApp({ TRUST_PROXY_HOPS: '0', RATE_LIMIT_SMS_PER_IP_PER_HOUR: '2' });
    try {
      const sendAs = (phone: string, ip: string) =>
        app.request('POST', '/api/send-verification-code', { body: { phone }, headers: { 'X-Forwarded-For': ip } });
      expect((await sendAs('8300001', '203.0.113.1')).status).toBe(200);
      expect((await sendAs('8310001', '203.0.113.2')).status).toBe(200);
      expect((await sendAs('8320001', '203.0.113.3')).status).toBe(429);
    } finally {
      await app.close();
    }
  });

  it('10 code checks per phone per 15 minutes', async () => {
    const app = await startTestApp();
    try {
      for (let i = 0; i < 10; i += 1) expect((await check(app, '7777777', '123456')).status).toBe(200);
      expect((await check(app, '777 7777', '123456')).status).toBe(429);
    } finally {
      await app.close();
    }
  });
});

describe('sandbox', () => {
  it('keeps working without credentials, labelled, and production without them answers 503', async () => {
    const dev = await startTestApp();
    const prod = await startTestApp({ NODE_ENV: 'production', AUTH_MODE: 'off' });
    try {
      expect((await send(dev, '7777777')).body.sandbox).toBe(true);
      expect((await dev.request('GET', '/api/sms-service-info')).body).toMatchObject({
        provider: 'sandbox',
        sandbox: true,
        configured: false,
      });
      const res = await send(prod, '7777777');
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('not_configured');
    } finally {
      await dev.close();
      await prod.close();
    }
  });
});
