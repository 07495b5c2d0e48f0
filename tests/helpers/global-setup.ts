import type { TestProject } from 'vitest/node';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { createLogger } from '../../src/logger.js';
import { buildDocsIfStale } from '../../src/cli/build-docs.js';

export const TEMPLATE_DB = 'kaggi_test_template';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
  }
}

let embedded: EmbeddedDatabase | undefined;

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
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // Leftovers of an interrupted run would otherwise accumulate.
    const stale = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'kaggi_t\\_%' OR datname = $1`,
      [TEMPLATE_DB],
    );
    for (const { datname } of stale.rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${TEMPLATE_DB}"`);
  } finally {
    await admin.end();
  }
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${TEMPLATE_DB}`;
  await migrate(templateUrl.toString(), logger);
  await buildDocsIfStale();
  project.provide('adminUrl', adminUrl);
}

export async function teardown(): Promise<void> {
  await embedded?.stop();
}
