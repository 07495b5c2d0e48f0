import type { TestProject } from 'vitest/node';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { migrateSchema } from '../../src/schema.js';
import { createLogger } from '../../src/logger.js';
import { buildDocsIfStale } from '../../src/cli/build-docs.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    /** Prefix of this run's databases: several runs may share one PostgreSQL. */
    runPrefix: string;
  }
}

let embedded: EmbeddedDatabase | undefined;
let cleanup: (() => Promise<void>) | undefined;

async function withAdmin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * One real PostgreSQL for the run: TEST_DATABASE_URL when given, otherwise an
 * embedded one. The schema is migrated once into a template database; every
 * test file then gets its own copy (CREATE DATABASE … TEMPLATE), so files
 * can run in parallel without seeing each other's rows.
 */
export async function setup(project: TestProject): Promise<void> {
  const logger = createLogger({ LOG_LEVEL: 'silent', NODE_ENV: 'test' });
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    embedded = await startEmbeddedPostgres({
      dir: process.env.TEST_EMBEDDED_PG_DIR ?? '.data/postgres-test',
      port: Number(process.env.TEST_EMBEDDED_PG_PORT ?? 54330),
      logger,
      database: 'postgres',
    });
    adminUrl = embedded.url;
  }
  const runPrefix = `kaggi_t${process.pid}_${randomBytes(3).toString('hex')}`;
  const templateDb = `${runPrefix}_template`;
  const url = adminUrl;
  await withAdmin(url, (c) => c.query(`CREATE DATABASE "${templateDb}"`));
  // Only this run's databases are dropped: another run may be using the same server.
  cleanup = () =>
    withAdmin(url, async (c) => {
      const { rows } = await c.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, [runPrefix]);
      for (const { datname } of rows) await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    });
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${templateDb}`;
  await migrateSchema(templateUrl.toString(), logger);
  await buildDocsIfStale();
  project.provide('adminUrl', adminUrl);
  project.provide('runPrefix', runPrefix);
}

export async function teardown(): Promise<void> {
  await cleanup?.();
  await embedded?.stop();
}
