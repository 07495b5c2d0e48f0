import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCreditinfo } from '../../src/integrations/creditinfo.js';
import { normalisePlate } from '../../src/domain/normalise.js';
import { CREDITINFO_CREDENTIALS, creditinfoEnv, startFakeCreditinfo, type CreditinfoFake } from '../fakes/creditinfo.js';
import { apiError, capturingLogger, elapsed, silentLogger, SLACK_MS, TEST_TIMEOUT_MS, testConfig } from './setup.js';

let fake: CreditinfoFake;
beforeAll(async () => {
  fake = await startFakeCreditinfo();
});
afterAll(() => fake.close());
afterEach(() => {
  fake.behave('ok');
  fake.requests.length = 0;
});

const live = () => createCreditinfo(testConfig(creditinfoEnv(fake.url)), silentLogger());

describe('creditinfo live', () => {
  it('gets a token by password grant and looks the plate up with it', async () => {
    const client = live();
    expect(client.mode).toBe('live');
    const car = await client.lookup('ab 123');
    expect(car).toEqual({
      registrationNumber: 'AB123',
      make: 'TOYOTA',
      model: 'YARIS',
      year: 2018,
      vin: 'VNKKTUD3X0A123456',
      fuel: 'Bensín',
      engineSize: 1496,
      color: 'Hvítur',
      firstRegistration: '2018-05-14',
      source: 'creditinfo',
    });

    const [tokenReq] = fake.tokenRequests();
    expect(tokenReq.method).toBe('POST');
    expect(tokenReq.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(tokenReq.body).toEqual({
      grant_type: 'password',
      client_id: CREDITINFO_CREDENTIALS.CREDITINFO_CLIENT_ID,
      client_secret: CREDITINFO_CREDENTIALS.CREDITINFO_CLIENT_SECRET,
      username: CREDITINFO_CREDENTIALS.CREDITINFO_USERNAME,
      password: CREDITINFO_CREDENTIALS.CREDITINFO_PASSWORD,
    });

    const [vehicleReq] = fake.vehicleRequests();
    expect(vehicleReq.method).toBe('POST');
    expect(vehicleReq.headers.authorization).toMatch(/^Bearer token-\d+$/);
    expect(vehicleReq.headers['content-type']).toBe('application/json');
    expect(vehicleReq.body).toEqual({ registrationNumber: 'AB123' });
  });

  it('maps missing optional fields to null and a 4-char date to its year', async () => {
    const car = await live().lookup('XY987');
    expect(car).toMatchObject({ make: 'TESLA', model: 'MODEL 3', year: 2021, vin: null, engineSize: null, fuel: 'Rafmagn' });
  });

  it('returns null for an empty list, a 404 and a 204', async () => {
    const client = live();
    expect(await client.lookup('ZZ999')).toBeNull();
    fake.behave('not_found');
    expect(await client.lookup('AB123')).toBeNull();
    fake.behave('no_content');
    expect(await client.lookup('AB123')).toBeNull();
  });

  it('caches the token: two lookups, one token request', async () => {
    const client = live();
    await client.lookup('AB123');
    await client.lookup('XY987');
    expect(fake.tokenRequests()).toHaveLength(1);
    expect(fake.vehicleRequests()).toHaveLength(2);
  });

  it('shares one in-flight token request between concurrent callers', async () => {
    const client = live();
    const cars = await Promise.all([client.lookup('AB123'), client.lookup('XY987'), client.lookup('ZZ999')]);
    expect(cars.map((c) => c?.registrationNumber ?? null)).toEqual(['AB123', 'XY987', null]);
    expect(fake.tokenRequests()).toHaveLength(1);
  });

  it('on a 401 fetches a new token once and retries once', async () => {
    const client = live();
    await client.lookup('AB123');
    fake.behave('expired_token');
    const car = await client.lookup('AB123');
    expect(car?.make).toBe('TOYOTA');
    expect(fake.tokenRequests()).toHaveLength(2);
    const [first, refused, retried] = fake.vehicleRequests().map((r) => r.headers.authorization);
    expect(fake.vehicleRequests()).toHaveLength(3);
    expect(refused).toBe(first);
    expect(retried).not.toBe(first);
    expect(retried).toMatch(/^Bearer token-\d+$/);
  });

  it('upstream 500 → 503 upstream_unavailable', async () => {
    fake.behave('error500');
    const err = await apiError(live().lookup('AB123'));
    expect(err.status).toBe(503);
    expect(err.code).toBe('upstream_unavailable');
  });

  it('malformed JSON → 503 upstream_unavailable', async () => {
    fake.behave('bad_json');
    const err = await apiError(live().lookup('AB123'));
    expect([err.status, err.code]).toEqual([503, 'upstream_unavailable']);
  });

  it('a vehicle endpoint that never answers → 503 within the timeout', async () => {
    fake.behave('timeout');
    const { ms, result } = await elapsed(() => live().lookup('AB123'));
    expect(result.status).toBe('rejected');
    const err = (result as PromiseRejectedResult).reason;
    expect([err.status, err.code]).toEqual([503, 'upstream_unavailable']);
    expect(ms).toBeGreaterThanOrEqual(TEST_TIMEOUT_MS - 20);
    expect(ms).toBeLessThan(TEST_TIMEOUT_MS + SLACK_MS);
  });

  it('token + lookup together stay within one timeout', async () => {
    fake.behave('token_timeout');
    const { ms, result } = await elapsed(() => live().lookup('AB123'));
    expect(result.status).toBe('rejected');
    expect((result as PromiseRejectedResult).reason.status).toBe(503);
    expect(ms).toBeLessThan(TEST_TIMEOUT_MS + SLACK_MS);
  });

  it('refused credentials → 503 that names no secret, and nothing secret is logged', async () => {
    fake.behave('bad_credentials');
    const { logger, lines } = capturingLogger();
    const client = createCreditinfo(testConfig(creditinfoEnv(fake.url)), logger);
    const err = await apiError(client.lookup('AB123'));
    expect([err.status, err.code]).toEqual([503, 'upstream_unavailable']);
    expect(err.message).toMatch(/credentials/);
    const everything = JSON.stringify(err.toBody()) + lines.join('\n');
    for (const secret of [CREDITINFO_CREDENTIALS.CREDITINFO_PASSWORD, CREDITINFO_CREDENTIALS.CREDITINFO_CLIENT_SECRET]) {
      expect(everything).not.toContain(secret);
    }
    expect(lines.join('\n')).toContain('"mode":"live"');
  });

  it('never logs the bearer token', async () => {
    const { logger, lines } = capturingLogger();
    const client = createCreditinfo(testConfig(creditinfoEnv(fake.url)), logger);
    await client.lookup('AB123');
    const bearer = String(fake.vehicleRequests()[0].headers.authorization).replace('Bearer ', '');
    fake.behave('error500');
    await apiError(client.lookup('AB123'));
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.join('\n')).not.toContain(bearer);
  });
});

describe('creditinfo sandbox and disabled', () => {
  it('sandbox outside production: fixed plates, labelled, no HTTP', async () => {
    const { logger, lines } = capturingLogger();
    const client = createCreditinfo(
      testConfig({ NODE_ENV: 'development', CREDITINFO_TOKEN_URL: `${fake.url}/connect/token`, VEHICLE_API_BASE: fake.url }),
      logger,
    );
    expect(client.mode).toBe('sandbox');
    expect(client.status()).toEqual({ mode: 'sandbox', configured: false, sandbox: true });
    expect(lines.join('\n')).toContain('"mode":"sandbox"');

    for (const plate of ['AB123', 'is-ab123', 'test 123', 'dak71']) {
      expect(await client.lookup(plate)).toMatchObject({ make: 'Toyota', model: 'Yaris', year: 2018, source: 'sandbox' });
    }
    expect(await client.lookup('GOP41')).toMatchObject({ make: 'Volkswagen', model: 'Golf', year: 2019 });
    expect(await client.lookup('hvf 23')).toMatchObject({ make: 'BMW', model: '320i', year: 2020 });
    expect(await client.lookup('JKL45')).toMatchObject({ make: 'Mercedes-Benz', model: 'C-Class', year: 2017 });
    expect(await client.lookup('MNO67')).toMatchObject({ make: 'Audi', model: 'A4', year: 2021 });
    expect(await client.lookup('PQR89')).toMatchObject({ make: 'Honda', model: 'Civic', year: 2019 });
    expect(await client.lookup('STU12')).toMatchObject({ make: 'Ford', model: 'Focus', year: 2018 });
    expect(await client.lookup('VWX34')).toMatchObject({ make: 'Nissan', model: 'Qashqai', year: 2020 });
    expect(await client.lookup('YZA56')).toMatchObject({ make: 'Kia', model: 'Ceed', year: 2021 });
    expect(await client.lookup('BCD78')).toMatchObject({ make: 'Hyundai', model: 'i30', year: 2019 });
    expect(await client.lookup('EFG90')).toMatchObject({ make: 'Skoda', model: 'Octavia', year: 2020 });
    expect(await client.lookup('ZZZ99')).toBeNull();
    expect(fake.requests).toHaveLength(0);
  });

  it('partial credentials count as none', () => {
    const client = createCreditinfo(testConfig({ CREDITINFO_USERNAME: 'u', CREDITINFO_PASSWORD: 'p' }), silentLogger());
    expect(client.mode).toBe('sandbox');
  });

  it('production without credentials → 503 not_configured', async () => {
    const client = createCreditinfo(testConfig({ NODE_ENV: 'production' }), silentLogger());
    expect(client.mode).toBe('disabled');
    const err = await apiError(client.lookup('AB123'));
    expect([err.status, err.code]).toEqual([503, 'not_configured']);
  });

  it('normalisePlate upper-cases and removes spaces', () => {
    expect(normalisePlate(' ab 1 23 ')).toBe('AB123');
  });
});
