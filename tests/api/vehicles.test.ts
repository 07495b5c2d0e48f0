import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { creditinfoEnv, startFakeCreditinfo, type CreditinfoFake } from '../fakes/creditinfo.js';

let fake: CreditinfoFake;
let live: TestApp;
beforeAll(async () => {
  fake = await startFakeCreditinfo();
  live = await startTestApp({ ...creditinfoEnv(fake.url), CREDITINFO_TIMEOUT_MS: '1000' });
});
afterAll(async () => {
  await live?.close();
  await fake?.close();
});

const verify = (app: TestApp, plate: string, headers: Record<string, string> = {}) =>
  app.request('POST', '/api/vehicle/verify', { body: { plate, mileage: 84000 }, headers });

describe('POST /api/vehicle/verify against Creditinfo', () => {
  it('maps the registry answer and logs the lookup', async () => {
    fake.behave('ok');
    const res = await verify(live, 'ab 123');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      success: true,
      source: 'creditinfo',
      data: {
        registrationNumber: 'AB123',
        year: 2018,
        vin: 'VNKKTUD3X0A123456',
        fuel: 'Bensín',
        engineSize: 1496,
        color: 'Hvítur',
        mileage: 84000,
      },
    });
    const sent = fake.vehicleRequests().at(-1)!;
    expect(sent.headers.authorization).toMatch(/^Bearer /);
    expect(sent.body).toEqual({ registrationNumber: 'AB123' });
    const { rows } = await live.sql.query(
      `SELECT plate, mileage, outcome, source, client_ip FROM vehicle_verifications ORDER BY created_at DESC LIMIT 1`,
    );
    expect(rows[0]).toMatchObject({ plate: 'AB123', mileage: 84000, outcome: 'found', source: 'creditinfo' });
    expect(rows[0].client_ip).toBeTruthy();
  });

  it('answers 200 success:false not_found for an unknown plate', async () => {
    fake.behave('ok');
    const res = await verify(live, 'ZZ999');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: false, error: 'not_found' });
  });

  it.each(['error500', 'bad_json', 'timeout'] as const)('answers 503 upstream_unavailable on %s, logged as an error', async (mode) => {
    fake.behave(mode);
    const started = Date.now();
    const res = await verify(live, 'AB123');
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('upstream_unavailable');
    expect(Date.now() - started).toBeLessThan(5000); // the 1 s timeout plus generous slack for a busy machine
    const { rows } = await live.sql.query(`SELECT outcome, reason FROM vehicle_verifications ORDER BY created_at DESC LIMIT 1`);
    expect(rows[0]).toEqual({ outcome: 'error', reason: 'upstream_unavailable' });
    fake.behave('ok');
  });

  it('rejects a bad plate or mileage with 422 before calling the registry', async () => {
    const before = fake.requests.length;
    for (const body of [{ plate: 'A', mileage: 1 }, { plate: 'AB123', mileage: -1 }, { plate: 'AB;123', mileage: 1 }, { plate: 'AB123' }]) {
      const res = await live.request('POST', '/api/vehicle/verify', { body });
      expect(res.status, JSON.stringify(body)).toBe(422);
    }
    expect(fake.requests.length).toBe(before);
  });
});

describe('sandbox and production without credentials', () => {
  it('sandbox answers the known plates, labelled', async () => {
    const app = await startTestApp();
    try {
      const res = await verify(app, 'GOP41');
      expect(res.body).toMatchObject({ success: true, source: 'sandbox', data: { make: 'Volkswagen', model: 'Golf', year: 2019 } });
      expect((await verify(app, 'QQ111')).body.error).toBe('not_found');
    } finally {
      await app.close();
    }
  });

  it('production without credentials answers 503 not_configured', async () => {
    const app = await startTestApp({ NODE_ENV: 'production', AUTH_MODE: 'off' });
    try {
      const res = await verify(app, 'AB123');
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('not_configured');
    } finally {
      await app.close();
    }
  });
});

describe('rate limit: 60 lookups per hour per IP', () => {
  it('the 61st gets 429 with Retry-After; another client IP (one proxy hop) is unaffected; /health is never limited', async () => {
    const app = await startTestApp();
    try {
      const ip = { 'X-Forwarded-For': '203.0.113.7' };
      for (let i = 1; i <= 60; i += 1) {
        const res = await verify(app, 'AB123', ip);
        expect(res.status, `request ${i}`).toBe(200);
      }
      const limited = await verify(app, 'AB123', ip);
      expect(limited.status).toBe(429);
      expect(limited.body.error).toBe('rate_limited');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await verify(app, 'AB123', { 'X-Forwarded-For': '203.0.113.8' })).status).toBe(200);
      for (let i = 0; i < 5; i += 1) expect((await app.request('GET', '/health', { headers: ip })).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
