import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestJson, UpstreamError } from '../../src/integrations/http.js';
import { BAD_JSON, json, startFake, type Fake } from '../fakes/fake-server.js';

type Mode = 'ok' | 'text404' | 'redirect' | 'bad_json' | 'error502' | 'timeout';
let fake: Fake<Mode>;
beforeAll(async () => {
  fake = await startFake<Mode>('ok', (_req, mode) => {
    if (mode === 'text404') return { status: 404, raw: 'Not Found', headers: { 'content-type': 'text/plain' } };
    if (mode === 'redirect') return { status: 302, headers: { location: 'http://example.invalid/' } };
    if (mode === 'bad_json') return BAD_JSON;
    if (mode === 'error502') return json(502, { message: 'bad gateway' });
    if (mode === 'timeout') return 'hang';
    return json(200, { ok: true });
  });
});
afterAll(() => fake.close());

const get = (timeoutMs = 300) => requestJson({ service: 'Test', url: `${fake.url}/x`, timeoutMs });
const failure = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamError);
  expect((err as UpstreamError).status).toBe(503);
  expect((err as UpstreamError).code).toBe('upstream_unavailable');
  return err as UpstreamError;
};

describe('requestJson', () => {
  it('parses JSON and sends Accept: application/json', async () => {
    fake.behave('ok');
    expect((await get()).body).toEqual({ ok: true });
    expect(fake.requests.at(-1)!.headers.accept).toBe('application/json');
  });

  it('a non-JSON 4xx is returned with body null', async () => {
    fake.behave('text404');
    expect(await get()).toMatchObject({ status: 404, body: null });
  });

  it('does not follow redirects', async () => {
    fake.behave('redirect');
    expect((await get()).status).toBe(302);
  });

  it('maps 5xx, bad JSON, timeout and a refused connection to typed UpstreamErrors', async () => {
    fake.behave('error502');
    expect(await failure(get())).toMatchObject({ kind: 'server_error', upstreamStatus: 502 });
    fake.behave('bad_json');
    expect((await failure(get())).kind).toBe('bad_json');
    fake.behave('timeout');
    expect((await failure(get(100))).kind).toBe('timeout');
    const closed = await startFake<'ok'>('ok', () => json(200, {}));
    const url = closed.url;
    await closed.close();
    expect((await failure(requestJson({ service: 'Test', url, timeoutMs: 300 }))).kind).toBe('network');
  });

  it('an outer deadline signal bounds the request too', async () => {
    fake.behave('timeout');
    const start = performance.now();
    const err = await failure(requestJson({ service: 'Test', url: `${fake.url}/x`, timeoutMs: 5000, signal: AbortSignal.timeout(100) }));
    expect(err.kind).toBe('timeout');
    expect(performance.now() - start).toBeLessThan(1000);
  });
});
