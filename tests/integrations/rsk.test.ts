import { isCompany, isValid } from 'kennitala';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRsk, RSK_TIMEOUT_MESSAGE, RSK_UNAVAILABLE_MESSAGE, SANDBOX_COMPANIES } from '../../src/integrations/rsk.js';
import { kennitalaChecksumHolds as kennitalaChecksumOk } from '../../src/domain/normalise.js';
import type { Fake } from '../fakes/fake-server.js';
import { RSK_COMPANIES, RSK_KEY, startFakeRsk, type RskMode } from '../fakes/rsk.js';
import { apiError, capturingLogger, elapsed, silentLogger, SLACK_MS, TEST_TIMEOUT_MS, testConfig } from './setup.js';

let fake: Fake<RskMode>;
beforeAll(async () => {
  fake = await startFakeRsk({ requireKey: true });
});
afterAll(() => fake.close());
afterEach(() => {
  fake.behave('ok');
  fake.requests.length = 0;
});

const live = () => createRsk(testConfig({ RSK_API_BASE: fake.url, RSK_API_KEY: RSK_KEY }), silentLogger());

describe('rsk live', () => {
  it('looks a company up with the subscription key', async () => {
    const client = live();
    expect(client.mode).toBe('live');
    expect(await client.lookup('540269-6029')).toEqual({ kennitala: '5402696029', name: 'Skatturinn', sandbox: false });
    const [req] = fake.requests;
    expect([req.method, req.path]).toEqual(['GET', '/5402696029']);
    expect(req.headers['ocp-apim-subscription-key']).toBe(RSK_KEY);
    expect(req.headers.accept).toBe('application/json');
  });

  it('reads `nafn` when there is no `name`', async () => {
    expect((await live().lookup('4710080280'))?.name).toBe('Bílasalan Hraun ehf.');
  });

  it('404 → null', async () => {
    expect(await live().lookup('6501192070')).toBeNull();
    fake.behave('not_found');
    expect(await live().lookup('5402696029')).toBeNull();
  });

  it('timeout → 503 with the Icelandic timeout message, within RSK_TIMEOUT_MS', async () => {
    fake.behave('timeout');
    const { ms, result } = await elapsed(() => live().lookup('5402696029'));
    expect(result.status).toBe('rejected');
    const err = (result as PromiseRejectedResult).reason;
    expect([err.status, err.code, err.message]).toEqual([503, 'upstream_unavailable', RSK_TIMEOUT_MESSAGE]);
    expect(ms).toBeLessThan(TEST_TIMEOUT_MS + SLACK_MS);
  });

  it.each(['error500', 'bad_json', 'unauthorized'] as const)('%s → 503 "Fyrirtækjaskrá svarar ekki"', async (mode) => {
    fake.behave(mode);
    const err = await apiError(live().lookup('5402696029'));
    expect([err.status, err.code, err.message]).toEqual([503, 'upstream_unavailable', RSK_UNAVAILABLE_MESSAGE]);
  });

  it('a malformed kennitala → 422 without a request', async () => {
    const err = await apiError(live().lookup('12345'));
    expect(err.status).toBe(422);
    expect(fake.requests).toHaveLength(0);
  });

  it('production without a key is live and sends no key header', async () => {
    const open = await startFakeRsk();
    try {
      const client = createRsk(testConfig({ NODE_ENV: 'production', RSK_API_BASE: open.url }), silentLogger());
      expect(client.mode).toBe('live');
      expect((await client.lookup('5402696029'))?.name).toBe('Skatturinn');
      expect(open.requests[0].headers).not.toHaveProperty('ocp-apim-subscription-key');
      expect(await client.status()).toEqual({ available: true, configured: false, sandbox: false });
    } finally {
      await open.close();
    }
  });

  it('status(): a cheap probe decides `available`', async () => {
    const client = live();
    expect(await client.status()).toEqual({ available: true, configured: true, sandbox: false });
    expect(fake.requests[0].path).toBe('/5402696029');
    fake.behave('error500');
    expect(await client.status()).toEqual({ available: false, configured: true, sandbox: false });
    fake.behave('timeout');
    const { ms, result } = await elapsed(() => client.status());
    expect(result).toEqual({ status: 'fulfilled', value: { available: false, configured: true, sandbox: false } });
    expect(ms).toBeLessThan(TEST_TIMEOUT_MS + SLACK_MS);
  });

  it('never logs the key', async () => {
    const { logger, lines } = capturingLogger();
    const client = createRsk(testConfig({ RSK_API_BASE: fake.url, RSK_API_KEY: RSK_KEY }), logger);
    fake.behave('error500');
    await apiError(client.lookup('5402696029'));
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.join('\n')).not.toContain(RSK_KEY);
  });
});

describe('rsk sandbox', () => {
  it('outside production without a key: fixed companies, no HTTP', async () => {
    const { logger, lines } = capturingLogger();
    const client = createRsk(testConfig({ NODE_ENV: 'development', RSK_API_BASE: fake.url }), logger);
    expect(client.mode).toBe('sandbox');
    expect(lines.join('\n')).toContain('"mode":"sandbox"');
    expect(await client.lookup('650119-2070')).toEqual({ kennitala: '6501192070', name: 'Kaggi ehf.', sandbox: true });
    expect((await client.lookup('4102153060'))?.name).toBe('Bílaland ehf.');
    expect(await client.lookup('5402696029')).toBeNull();
    expect(await client.status()).toEqual({ available: true, configured: false, sandbox: true });
    expect(fake.requests).toHaveLength(0);
  });

  it('sandbox kennitölur are valid company numbers with a correct check digit', () => {
    for (const kt of Object.keys(SANDBOX_COMPANIES)) {
      expect(kennitalaChecksumOk(kt), kt).toBe(true);
      expect(isValid(kt) && isCompany(kt), kt).toBe(true);
    }
    for (const kt of Object.keys(RSK_COMPANIES)) expect(kennitalaChecksumOk(kt), kt).toBe(true);
  });

  it('kennitalaChecksumOk applies the mod-11 rule', () => {
    expect(kennitalaChecksumOk('5402696029')).toBe(true);
    expect(kennitalaChecksumOk('5402696019')).toBe(false);
    expect(kennitalaChecksumOk('540269602')).toBe(false);
    // The kennitala package does not check the digit:
    expect(isValid('5402696019')).toBe(true);
  });
});
