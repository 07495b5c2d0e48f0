import { describe, expect, it } from 'vitest';
import { readableLine } from '../../src/logger.js';
import { startTestApp } from '../helpers/app.js';

// winston's formatted line (triple-beam's MESSAGE)
const MESSAGE = Symbol.for('message');

/** Issue 11: one access line per request at `info`, the default level. */

const accessLines = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === 'request');

describe('access log', () => {
  it('writes one line per request at info: method, masked path, status, duration, request id, operation', async () => {
    const lines: string[] = [];
    const app = await startTestApp({ LOG_LEVEL: 'info' }, { logLines: lines });
    try {
      const favourites = await app.request('GET', '/api/favorites/jon.secret%40example.is', { headers: { 'X-Request-Id': 'trace-fav-1' } });
      expect(favourites.status).toBe(200);
      const missing = await app.request('GET', '/api/cars/00000000-0000-4000-8000-000000000000');
      expect(missing.status).toBe(404);
      const invalid = await app.request('POST', '/api/bids/create', { body: { car_id: 'nope' } });
      expect(invalid.status).toBe(422);
      // The line is written when the response has finished: give the last one a moment.
      await new Promise((resolve) => setTimeout(resolve, 50));

      const access = accessLines(lines);
      expect(access).toHaveLength(3);
      expect(access[0]).toMatchObject({
        level: 'info',
        method: 'GET',
        operation: 'listFavorites',
        status: 200,
        request_id: 'trace-fav-1',
      });
      expect(access[0].path).toMatch(/^\/api\/favorites\/j\*\*\*@example\.is$/);
      expect(JSON.stringify(access)).not.toContain('jon.secret');
      expect(access[1]).toMatchObject({ method: 'GET', operation: 'getCar', status: 404, request_id: missing.headers.get('x-request-id') });
      expect(access[2]).toMatchObject({ method: 'POST', path: '/api/bids/create', operation: 'createBid', status: 422 });
      for (const line of access) {
        expect(typeof line.duration_ms).toBe('number');
        expect(line.duration_ms as number).toBeGreaterThanOrEqual(0);
        expect(typeof line.timestamp).toBe('string');
      }
    } finally {
      await app.close();
    }
  });

  it('is silenced by LOG_LEVEL=warn', async () => {
    const lines: string[] = [];
    const app = await startTestApp({ LOG_LEVEL: 'warn' }, { logLines: lines });
    try {
      expect((await app.request('GET', '/api/cars')).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(accessLines(lines)).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('reads as one short line at a development terminal', () => {
    const access = readableLine.transform({
      level: 'info',
      message: 'request',
      timestamp: '2026-11-29T12:03:04.567Z',
      service: 'kaggi-backend',
      method: 'GET',
      path: '/api/cars',
      status: 200,
      duration_ms: 3.1,
      operation: 'listCars',
      request_id: 'abc',
    }) as Record<string | symbol, unknown>;
    expect(access[MESSAGE]).toBe('12:03:04.567 GET /api/cars 200 3.1 ms listCars');
    const other = readableLine.transform({ level: 'warn', message: 'slow', timestamp: '2026-11-29T12:03:04.567Z', count: 2 }) as Record<
      string | symbol,
      unknown
    >;
    expect(other[MESSAGE]).toBe('12:03:04.567 warn slow count=2');
  });
});
