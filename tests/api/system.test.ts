import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { count } from '../helpers/fixtures.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => app?.close());

describe('system', () => {
  it('GET /api/ describes the service', async () => {
    const res = await app.request('GET', '/api/');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, environment: 'test', version: '1.0.0' });
  });

  it('GET /health answers without the database; /health/ready checks it', async () => {
    const health = await app.request('GET', '/health');
    expect(health.body.status).toBe('OK');
    const ready = await app.request('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', database: 'up', migrations: 'applied' });
  });

  it('/health/ready answers 503 when migrations are missing', async () => {
    await app.sql.query('UPDATE schemaversion SET version = -version WHERE version = (SELECT max(version) FROM schemaversion)');
    try {
      const res = await app.request('GET', '/health/ready');
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('migrations_pending');
    } finally {
      await app.sql.query('UPDATE schemaversion SET version = -version WHERE version < 0');
    }
  });

  it('echoes a sane X-Request-Id and makes one up otherwise', async () => {
    const given = await app.request('GET', '/health', { headers: { 'X-Request-Id': 'abc-123' } });
    expect(given.headers.get('x-request-id')).toBe('abc-123');
    const made = await app.request('GET', '/health', { headers: { 'X-Request-Id': 'bad id with spaces\u00e9' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sets helmet headers and CORS only for configured origins', async () => {
    const allowed = await app.request('GET', '/api/', { headers: { Origin: 'http://localhost:3000' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect(allowed.headers.get('x-content-type-options')).toBe('nosniff');
    const other = await app.request('GET', '/api/', { headers: { Origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('status checks', () => {
  it('stores a status check in PostgreSQL and lists newest first', async () => {
    const first = await app.request('POST', '/api/status', { body: { client_name: 'frontend', details: { build: 42 } } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ success: true, client_name: 'frontend', message: null, details: { build: 42 } });
    const second = await app.request('POST', '/api/status', { body: { message: 'hæ' } });
    const list = await app.request('GET', '/api/status?limit=2');
    expect(list.status).toBe(200);
    expect(list.body.map((s: { id: string }) => s.id)).toEqual([second.body.id, first.body.id]);
    expect(await count(app, 'status_checks')).toBe(2);
  });

  it('needs at least one field', async () => {
    const res = await app.request('POST', '/api/status', { body: {} });
    expect(res.status).toBe(422);
    expect(await count(app, 'status_checks')).toBe(2);
  });

  it('keeps a stored check small: details are at most 10 flat pairs of short values (422 otherwise)', async () => {
    const refused = [
      { details: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, i])) },
      { details: { nested: { deeper: 'x'.repeat(90_000) } } },
      { details: { note: 'x'.repeat(201) } },
      { details: { ['k'.repeat(65)]: 1 } },
      { details: ['x'.repeat(90_000)] },
      { client_name: 'x'.repeat(201) },
    ];
    for (const body of refused) {
      const res = await app.request('POST', '/api/status', { body });
      expect([res.status, res.body.error], JSON.stringify(body).slice(0, 60)).toEqual([422, 'validation_failed']);
    }
    expect(await count(app, 'status_checks')).toBe(2);
    const flat = await app.request('POST', '/api/status', { body: { details: { build: 43, ok: true, branch: 'main', none: null } } });
    expect(flat.status).toBe(201);
  });

  it('reads at most 100 checks (422 above), still as a bare array', async () => {
    const over = await app.request('GET', '/api/status?limit=101');
    expect([over.status, over.body.error]).toEqual([422, 'validation_failed']);
    expect((await app.request('GET', '/api/status?limit=1000')).status).toBe(422);
    const most = await app.request('GET', '/api/status?limit=100');
    expect(most.status).toBe(200);
    expect(Array.isArray(most.body)).toBe(true);
  });
});

describe('the one error shape', () => {
  it('malformed JSON → 400 malformed_json', async () => {
    const res = await app.request('POST', '/api/cars/register', {
      raw: '{"firstName": "Jón",',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, error: 'malformed_json' });
    expect(res.body.detail).toBe(res.body.message);
  });

  it('unknown route → 404 route_not_found', async () => {
    const res = await app.request('GET', '/api/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('route_not_found');
  });

  it('body over the limit → 413', async () => {
    const res = await app.request('POST', '/api/status', { body: { message: 'x'.repeat(200_000) } });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('payload_too_large');
  });

  it('wrong content type → 4xx, not 500', async () => {
    const res = await app.request('POST', '/api/bids/create', { raw: 'car_id=1', headers: { 'content-type': 'text/plain' } });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it('broken percent-encoding in a path → 400', async () => {
    const res = await app.request('GET', '/api/favorites/%E0%A4%A');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('malformed_path');
  });
});
