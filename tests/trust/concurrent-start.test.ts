import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { QUEUES } from '../../src/auctions/queues.js';
import { startInstance, stopInstance, type Running } from '../../src/start.js';
import { createTestDatabase, request } from '../helpers/app.js';

/**
 * Issue 11: any number of instances may start at the same moment on a fresh
 * database. Three instances (the whole start-up of src/start.ts: migrations,
 * job-queue schema and queues, pool, worker, listen) race on an empty
 * database, twenty times over; every start must succeed and be ready.
 */

const ROUNDS = 20;
const INSTANCES = 3;

describe('instances starting together', () => {
  it(`${INSTANCES} instances at once on a fresh database, ${ROUNDS} rounds: no failed start`, async () => {
    const failures: string[] = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      // An empty database (not the migrated template): the start-ups must create the schema themselves.
      const database = await createTestDatabase({ empty: true });
      const config = loadConfig({
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        DATABASE_URL: database.url,
        PORT: '0',
        HOST: '127.0.0.1',
        DB_POOL_MAX: '2',
      });
      const logger = createLogger(config);
      const instances: Running[] = Array.from({ length: INSTANCES }, () => ({}));
      try {
        const starts = await Promise.allSettled(instances.map((running) => startInstance(config, logger, running)));
        starts.forEach((s, i) => {
          if (s.status === 'rejected')
            failures.push(`round ${round}, instance ${i + 1}: ${s.reason instanceof Error ? s.reason.message : s.reason}`);
        });
        for (const s of starts) {
          if (s.status !== 'fulfilled') continue;
          const ready = await request(`http://127.0.0.1:${s.value.port}`, 'GET', '/health/ready');
          expect(ready.status).toBe(200);
        }
        // One schema came out of the race: every migration recorded once, each job queue once.
        {
          const migrations = await database.sql.query<{ version: string; n: number }>(
            'SELECT version::text, count(*)::int AS n FROM schemaversion GROUP BY version HAVING count(*) > 1',
          );
          expect(migrations.rows).toEqual([]);
          const queues = await database.sql.query<{ name: string }>('SELECT name FROM pgboss.queue ORDER BY name');
          expect(queues.rows.map((r) => r.name)).toEqual([...QUEUES].sort());
        }
      } finally {
        // Whatever started is stopped, also in a round where another instance failed.
        await Promise.all(instances.map((running) => stopInstance(running)));
        await database.drop();
      }
    }
    expect(failures).toEqual([]);
  }, 300_000);
});
