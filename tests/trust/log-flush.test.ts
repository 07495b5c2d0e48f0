import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/app.js';
import { startServerProcess } from './server-process.js';

/**
 * Issue 19: log lines go through a buffer (one write per many lines), and
 * none is lost when the process ends: a graceful stop, a fatal error.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('buffered log lines', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database?.drop());

  it('a graceful stop right after a burst of requests loses no access line', async () => {
    const server = await startServerProcess('log-flush', database.url, { AUCTION_WORKER_ENABLED: 'false' });
    try {
      const ids = Array.from({ length: 150 }, (_, i) => `flush-${i}`);
      for (let i = 0; i < ids.length; i += 15) {
        await Promise.all(ids.slice(i, i + 15).map((id) => server.request('GET', '/health', { headers: { 'X-Request-Id': id } })));
      }
      // At once: the lines of the last requests are still in the buffer (flushed every 200 ms or per 16 kB).
      expect((await server.stop()).code).toBe(0);
      const lines = server.logs.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      const logged = new Set(lines.filter((l) => l.message === 'request').map((l) => l.request_id));
      expect(ids.filter((id) => !logged.has(id))).toEqual([]);
      expect(lines.at(-1)?.message).toBe('stopped');
    } finally {
      await server.kill();
    }
  }, 60_000);

  it('a fatal error (an uncaught exception, or exit(1) after logging it) still writes every line', () => {
    for (const ending of ['throw new Error("boom")', 'logger.error("fatal", { error: "boom" }); process.exit(1)']) {
      const script = `
        import { accessLogOf, createLogger } from './src/logger.ts';
        const logger = createLogger({ LOG_LEVEL: 'info', NODE_ENV: 'production' });
        const access = accessLogOf(logger);
        for (let i = 0; i < 500; i += 1) access('info', { request_id: 'fatal-' + i, method: 'GET', path: '/health', operation: 'getHealth', status: 200, duration_ms: 0.1 });
        logger.info('last words');
        ${ending};`;
      const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { PATH: process.env.PATH },
      });
      expect(run.status).toBe(1);
      const lines = run.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.filter((l) => l.message === 'request')).toHaveLength(500);
      expect(lines.some((l) => l.message === 'last words')).toBe(true);
    }
  }, 60_000);
});
