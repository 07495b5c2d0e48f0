import { maskPhone } from '../../src/domain/privacy.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { createTwilio } from '../../src/integrations/twilio.js';
import { RebasingRequestClient } from '../../src/integrations/twilio-sdk.js';
import type { Fake } from '../fakes/fake-server.js';
import { startFakeTwilio, TWILIO_FROM, TWILIO_SID, TWILIO_TOKEN, VALID_CODE, VERIFY_SID, type TwilioMode } from '../fakes/twilio.js';
import { apiError, capturingLogger, elapsed, silentLogger, SLACK_MS, TEST_TIMEOUT_MS, testConfig } from './setup.js';

let fake: Fake<TwilioMode>;
beforeAll(async () => {
  fake = await startFakeTwilio();
});
afterAll(() => fake.close());
afterEach(() => {
  fake.behave('ok');
  fake.requests.length = 0;
});

const PHONE = '+3547771234';
const basicAuth = `Basic ${Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString('base64')}`;
const auth = () => ({ TWILIO_ACCOUNT_SID: TWILIO_SID, TWILIO_AUTH_TOKEN: TWILIO_TOKEN, TWILIO_API_BASE: fake.url });
const verify = () => createTwilio(testConfig({ ...auth(), TWILIO_VERIFY_SERVICE_SID: VERIFY_SID }), silentLogger());
const messaging = () => createTwilio(testConfig({ ...auth(), TWILIO_PHONE_NUMBER: TWILIO_FROM }), silentLogger());

describe('twilio verify', () => {
  it('starts a verification at TWILIO_API_BASE with Basic auth, To and Channel=sms', async () => {
    const client = verify();
    expect([client.mode, client.provider, client.codeLength, client.ownCodes]).toEqual(['live', 'twilio_verify', 6, false]);
    expect(await client.startVerification(PHONE)).toEqual({ status: 'pending', sandbox: false });
    const [req] = fake.requests;
    expect([req.method, req.path]).toEqual(['POST', `/v2/Services/${VERIFY_SID}/Verifications`]);
    expect(req.headers.authorization).toBe(basicAuth);
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.body).toEqual({ To: PHONE, Channel: 'sms' });
  });

  it('checks a code: approved → true, pending → false', async () => {
    const client = verify();
    expect(await client.checkVerification(PHONE, VALID_CODE)).toBe(true);
    expect(fake.requests[0].path).toBe(`/v2/Services/${VERIFY_SID}/VerificationCheck`);
    expect(fake.requests[0].body).toEqual({ To: PHONE, Code: VALID_CODE });
    expect(await client.checkVerification(PHONE, '000000')).toBe(false);
    fake.behave('wrong_code');
    expect(await client.checkVerification(PHONE, VALID_CODE)).toBe(false);
  });

  it('a 404 on check (nothing pending / expired) → false', async () => {
    fake.behave('not_found');
    expect(await verify().checkVerification(PHONE, VALID_CODE)).toBe(false);
  });

  it('invalid number (60200) → 422 invalid_phone', async () => {
    fake.behave('invalid_number');
    const err = await apiError(verify().startVerification(PHONE));
    expect([err.status, err.code]).toEqual([422, 'invalid_phone']);
  });

  it('429 / 20429 → 429 rate_limited with Retry-After', async () => {
    fake.behave('rate_limited');
    const err = await apiError(verify().startVerification(PHONE));
    expect([err.status, err.code]).toEqual([429, 'rate_limited']);
    expect(err.headers?.['Retry-After']).toBe('60');
  });

  it('60203 max send attempts → 429 with the Retry-After Twilio sent', async () => {
    fake.behave('max_attempts');
    const err = await apiError(verify().startVerification(PHONE));
    expect([err.status, err.code]).toEqual([429, 'rate_limited']);
    expect(err.headers?.['Retry-After']).toBe('120');
  });

  it('401 / 20003 → 503 upstream_unavailable naming no credential', async () => {
    fake.behave('auth_error');
    const { logger, lines } = capturingLogger();
    const client = createTwilio(testConfig({ ...auth(), TWILIO_VERIFY_SERVICE_SID: VERIFY_SID }), logger);
    const err = await apiError(client.startVerification(PHONE));
    expect([err.status, err.code]).toEqual([503, 'upstream_unavailable']);
    expect(err.message).toMatch(/credentials/);
    const everything = JSON.stringify(err.toBody()) + lines.join('\n');
    expect(everything).not.toContain(TWILIO_TOKEN);
    expect(everything).not.toContain(basicAuth);
    expect(lines.join('\n')).toContain('"provider":"twilio_verify"');
  });

  it.each(['error500', 'bad_json'] as const)('%s → 503 upstream_unavailable', async (mode) => {
    fake.behave(mode);
    const err = await apiError(verify().checkVerification(PHONE, VALID_CODE));
    expect([err.status, err.code]).toEqual([503, 'upstream_unavailable']);
  });

  it('timeout → 503 within TWILIO_TIMEOUT_MS', async () => {
    fake.behave('timeout');
    const { ms, result } = await elapsed(() => verify().startVerification(PHONE));
    expect(result.status).toBe('rejected');
    const err = (result as PromiseRejectedResult).reason;
    expect([err.status, err.code]).toEqual([503, 'upstream_unavailable']);
    expect(ms).toBeLessThan(TEST_TIMEOUT_MS + SLACK_MS);
  });

  it('rejects a number that is not E.164 without calling Twilio', async () => {
    const err = await apiError(verify().startVerification('7771234'));
    expect([err.status, err.code]).toEqual([422, 'invalid_phone']);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('twilio messaging', () => {
  it('sends an SMS from TWILIO_PHONE_NUMBER', async () => {
    const client = messaging();
    expect([client.mode, client.provider, client.ownCodes]).toEqual(['live', 'twilio_messaging', true]);
    const res = await client.sendSms(PHONE, 'Kaggi kóði: 123456');
    expect(res.sandbox).toBe(false);
    expect(res.sid).toMatch(/^SM[0-9a-f]{32}$/);
    const [req] = fake.requests;
    expect([req.method, req.path]).toEqual(['POST', `/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`]);
    expect(req.headers.authorization).toBe(basicAuth);
    expect(req.body).toEqual({ To: PHONE, From: TWILIO_FROM, Body: 'Kaggi kóði: 123456' });
  });

  it('invalid number (21211) → 422 invalid_phone', async () => {
    fake.behave('invalid_number');
    const err = await apiError(messaging().sendSms(PHONE, 'x'));
    expect([err.status, err.code]).toEqual([422, 'invalid_phone']);
  });

  it('Verify methods are a programming error under twilio_messaging', async () => {
    await expect(messaging().startVerification(PHONE)).rejects.toThrow(/sendSms/);
  });
});

describe('twilio provider selection, sandbox and disabled', () => {
  it('Verify wins when both a service SID and a phone number are set', () => {
    const client = createTwilio(
      testConfig({ ...auth(), TWILIO_VERIFY_SERVICE_SID: VERIFY_SID, TWILIO_PHONE_NUMBER: TWILIO_FROM }),
      silentLogger(),
    );
    expect(client.provider).toBe('twilio_verify');
    expect(client.status()).toEqual({ configured: true, provider: 'twilio_verify', code_length: 6 });
  });

  it('sandbox: sendSms is logged (number masked), nothing is sent', async () => {
    const { logger, lines } = capturingLogger();
    const client = createTwilio(testConfig({ NODE_ENV: 'development', TWILIO_API_BASE: fake.url }), logger);
    expect([client.mode, client.provider, client.ownCodes]).toEqual(['sandbox', 'sandbox', true]);
    expect(client.status()).toEqual({ configured: false, provider: 'sandbox', code_length: 6 });
    const res = await client.sendSms(PHONE, 'Kóði: 654321');
    expect(res.sandbox).toBe(true);
    expect(fake.requests).toHaveLength(0);
    const log = lines.join('\n');
    expect(log).toContain('"mode":"sandbox"');
    expect(log).toContain(maskPhone(PHONE));
    expect(log).not.toContain(PHONE);
  });

  it('a SID only, without token, is not configured', () => {
    expect(
      createTwilio(testConfig({ TWILIO_ACCOUNT_SID: TWILIO_SID, TWILIO_VERIFY_SERVICE_SID: VERIFY_SID }), silentLogger()).provider,
    ).toBe('sandbox');
  });

  it('production without credentials → provider none, every call 503 not_configured', async () => {
    const client = createTwilio(testConfig({ NODE_ENV: 'production' }), silentLogger());
    expect([client.mode, client.provider]).toEqual(['disabled', 'none']);
    expect(client.status()).toEqual({ configured: false, provider: 'none', code_length: 6 });
    for (const call of [client.startVerification(PHONE), client.checkVerification(PHONE, '123456'), client.sendSms(PHONE, 'x')]) {
      const err = await apiError(call);
      expect([err.status, err.code]).toEqual([503, 'not_configured']);
    }
  });

  it('an account SID that does not start with AC is a ConfigError', () => {
    expect(() =>
      createTwilio(testConfig({ TWILIO_ACCOUNT_SID: 'SK123', TWILIO_AUTH_TOKEN: 't', TWILIO_PHONE_NUMBER: TWILIO_FROM }), silentLogger()),
    ).toThrow(ConfigError);
  });

  it('the http client keeps the path and query and can prefix a base path', () => {
    const plain = new RebasingRequestClient({ base: 'http://127.0.0.1:9999', timeoutMs: 100 });
    expect(plain.rewrite('https://verify.twilio.com/v2/Services/VA1/Verifications?x=1')).toBe(
      'http://127.0.0.1:9999/v2/Services/VA1/Verifications?x=1',
    );
    const prefixed = new RebasingRequestClient({ base: 'https://staging.example.com/twilio/', timeoutMs: 100 });
    expect(prefixed.rewrite('https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json')).toBe(
      'https://staging.example.com/twilio/2010-04-01/Accounts/AC1/Messages.json',
    );
    const none = new RebasingRequestClient({ timeoutMs: 100 });
    expect(none.rewrite('https://api.twilio.com/x')).toBe('https://api.twilio.com/x');
  });
});
