import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { RSK_KEY, startFakeRsk, type RskMode } from '../fakes/rsk.js';
import type { Fake } from '../fakes/fake-server.js';

let fake: Fake<RskMode>;
let app: TestApp;
beforeAll(async () => {
  fake = await startFakeRsk({ requireKey: true });
  app = await startTestApp({ RSK_API_BASE: fake.url, RSK_API_KEY: RSK_KEY, RSK_TIMEOUT_MS: '1000' });
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

const check = (kennitala: string) => app.request('POST', '/api/validate-company', { body: { kennitala } });

describe('POST /api/validate-company against the registry', () => {
  it('confirms a registered company with its name, sending the subscription key', async () => {
    fake.behave('ok');
    const res = await check('540269-6029');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      success: true,
      valid: true,
      message: '✅ Staðfest fyrirtæki.',
      company_name: 'Skatturinn',
      kennitala: '5402696029',
      sandbox: false,
    });
    expect(fake.requests.at(-1)!.headers['ocp-apim-subscription-key']).toBe(RSK_KEY);
    const { rows } = await app.sql.query('SELECT kennitala, valid, company_name FROM company_validations ORDER BY created_at DESC LIMIT 1');
    expect(rows[0]).toEqual({ kennitala: '5402696029', valid: true, company_name: 'Skatturinn' });
  });

  it('reads `nafn` too', async () => {
    expect((await check('4710080280')).body.company_name).toBe('Bílasalan Hraun ehf.');
  });

  it('a failing check digit → 200 valid:false without asking the registry', async () => {
    const before = fake.requests.length;
    const res = await check('5402696019');
    expect(res.body).toMatchObject({ valid: false, message: '❌ Ógild kennitala.', company_name: null });
    expect(fake.requests.length).toBe(before);
  });

  it('not in the registry → valid:false "❌ Kennitala fannst ekki."', async () => {
    fake.behave('not_found');
    const res = await check('5402696029');
    expect(res.body).toMatchObject({ valid: false, message: '❌ Kennitala fannst ekki.' });
    fake.behave('ok');
  });

  it('wrong length or non-digits → 422', async () => {
    for (const kt of ['12345', '54026960290', 'abcdefghij']) expect((await check(kt)).status, kt).toBe(422);
  });

  it('registry timeout → 503 with the Icelandic detail, in time', async () => {
    fake.behave('timeout');
    const started = Date.now();
    const res = await check('5402696029');
    expect(res.status).toBe(503);
    expect(res.body.detail).toBe('❌ Tími rann út við staðfestingu.');
    expect(Date.now() - started).toBeLessThan(5000); // the 1 s timeout plus generous slack for a busy machine
    fake.behave('error500');
    expect((await check('5402696029')).status).toBe(503);
    fake.behave('ok');
  });

  it('rsk-service-status reports the registry', async () => {
    const res = await app.request('GET', '/api/rsk-service-status');
    expect(res.body).toMatchObject({ success: true, available: true, configured: true, sandbox: false });
  });
});

describe('rate limit: 30 company checks per hour per IP', () => {
  it('the 31st gets 429', async () => {
    const local = await startTestApp();
    try {
      const headers = { 'X-Forwarded-For': '198.51.100.4' };
      for (let i = 1; i <= 30; i += 1) {
        const res = await local.request('POST', '/api/validate-company', { body: { kennitala: '4102153060' }, headers });
        expect(res.status, `request ${i}`).toBe(200);
      }
      const res = await local.request('POST', '/api/validate-company', { body: { kennitala: '4102153060' }, headers });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBeTruthy();
    } finally {
      await local.close();
    }
  });
});
