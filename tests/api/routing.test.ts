import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileRoutes } from '../../src/api/routes.js';
import { timestamptzToIso } from '../../src/db/pool.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

describe('compiled routes (openapi-backend’s matching rules)', () => {
  const match = compileRoutes([
    { method: 'get', path: '/api/cars', value: 'listCars' },
    { method: 'get', path: '/api/cars/{car_id}', value: 'getCar' },
    { method: 'post', path: '/api/cars/register', value: 'registerCar' },
    { method: 'patch', path: '/api/cars/{car_id}/status', value: 'updateCarStatus' },
    { method: 'get', path: '/api/files/{name}.json', value: 'file' },
  ]);

  it('prefers the template with the most literal characters, for each method', () => {
    expect(match('POST', '/api/cars/register')).toEqual({ kind: 'found', value: 'registerCar', params: {} });
    // no GET on the literal path: the template takes it, as openapi-backend did
    expect(match('GET', '/api/cars/register')).toEqual({ kind: 'found', value: 'getCar', params: { car_id: 'register' } });
    expect(match('PATCH', '/api/cars/abc/status')).toEqual({ kind: 'found', value: 'updateCarStatus', params: { car_id: 'abc' } });
  });

  it('ignores a trailing slash, matches one non-empty segment per parameter, escapes literals', () => {
    expect(match('GET', '/api/cars/')).toMatchObject({ kind: 'found', value: 'listCars' });
    expect(match('GET', '/api/cars/a/b')).toEqual({ kind: 'not_found' });
    expect(match('GET', '/api/files/x.json')).toEqual({ kind: 'found', value: 'file', params: { name: 'x' } });
    expect(match('GET', '/api/files/xajson')).toEqual({ kind: 'not_found' });
  });

  it('405 when the path exists with other methods, 404 when it does not; parameters are not decoded again', () => {
    expect(match('DELETE', '/api/cars')).toEqual({ kind: 'method_not_allowed' });
    expect(match('PUT', '/api/cars/x')).toEqual({ kind: 'method_not_allowed' });
    expect(match('GET', '/api/nothing')).toEqual({ kind: 'not_found' });
    expect(match('GET', '/api/cars/a%40b')).toEqual({ kind: 'found', value: 'getCar', params: { car_id: 'a%40b' } });
  });
});

describe('timestamps from PostgreSQL', () => {
  it('become the ISO strings Date would make, truncated to milliseconds', () => {
    for (const value of [
      '2026-11-29 14:00:00.123456+00',
      '2026-11-29 14:00:00.999999+00',
      '2026-11-29 14:00:00+00',
      '2026-11-29 14:00:00.5+00',
      '2026-11-29 16:00:00.5+02',
      '2026-11-29 14:00:00.12+05:30',
      '2026-11-29 14:00:00.123+00',
      '2026-11-29 14:00:00.1234+00',
      '12026-11-29 14:00:00.5+00',
      '2026-11-29 14:00:00.5-03',
    ]) {
      expect(timestamptzToIso(value)).toBe(new Date(Date.parse(value)).toISOString());
    }
    // where V8's legacy parser is wrong (it reads year 1 as 2001), the text is right
    expect(timestamptzToIso('0001-01-01 00:00:00+00')).toBe('0001-01-01T00:00:00.000Z');
    // forms Date cannot read stay what Date makes of them (Invalid Date throws in toISOString)
    expect(() => timestamptzToIso('infinity')).toThrow(RangeError);
  });
});

describe('routing through HTTP', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => app?.close());

  it('405 method_not_allowed on a known path, 404 route_not_found on an unknown one', async () => {
    const wrongMethod = await app.request('DELETE', '/api/cars');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.error).toBe('method_not_allowed');
    const unknown = await app.request('GET', '/api/cars/a/b/c');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('route_not_found');
  });

  it('decodes a path parameter once: %2540 is the text %40, and %25E0 is a 422, not a 500', async () => {
    const once = await app.request('GET', '/api/favorites/jon%2540example.is');
    expect(once.status).toBe(422);
    expect(once.body.errors[0].path).toBe('path.dealer_email');
    const decoded = await app.request('GET', '/api/favorites/jon%40example.is');
    expect(decoded.status).toBe(200);
    const brokenTwice = await app.request('GET', '/api/cars/%25E0');
    expect(brokenTwice.status).toBe(422);
    expect(brokenTwice.body.errors[0].path).toBe('path.car_id');
  });

  it('coerces query parameters, validates them, and ignores undeclared ones (but where a search refuses them)', async () => {
    const ok = await app.request('GET', '/api/status?limit=2&utm_source=x');
    expect(ok.status).toBe(200);
    expect(ok.body.length).toBeLessThanOrEqual(2);
    // a misspelt filter must not widen a search silently (x-kaggi-strict-query)
    const strict = await app.request('GET', '/api/cars?limit=2&utm_source=x');
    expect(strict.status).toBe(422);
    const bad = await app.request('GET', '/api/cars?limit=0');
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(['query.limit']);
  });
});
