import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readdirSync } from 'node:fs';
import pg from 'pg';
import Postgrator from 'postgrator';
import type { Logger } from '../logger.js';

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../sql/migrations');
export const SCHEMA_TABLE = 'schemaversion';
// Any constant works; it only has to be the same for every instance.
const MIGRATION_LOCK = 7_114_331;

/** Highest migration version shipped with this build (readiness compares against it). */
export const LATEST_MIGRATION = Math.max(
  0,
  ...readdirSync(MIGRATIONS_DIR)
    .map((file) => /^(\d+)\.do\./.exec(file)?.[1])
    .filter((v): v is string => v !== undefined)
    .map(Number),
);

/** Runs SQL on the migration's connection; `values` absent → a simple query (multi-statement scripts). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the shape of pg-boss's own adapter, which says any[]
export type ExecuteSql = (text: string, values?: unknown[]) => Promise<{ rows: any[] }>;

/**
 * Brings the schema to the latest version: the SQL migrations, then the steps the
 * caller passes in (start-up passes the job queue's set-up, src/schema.ts). Everything
 * that creates or changes schema happens here, under one advisory lock, so several
 * instances may start at once: one migrates, the others wait and find nothing to do.
 */
export async function migrate(
  url: string,
  logger: Logger,
  after: readonly ((executeSql: ExecuteSql) => Promise<void>)[] = [],
): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const postgrator = new Postgrator({
      migrationPattern: path.join(MIGRATIONS_DIR, '*.sql'),
      driver: 'pg',
      schemaTable: SCHEMA_TABLE,
      execQuery: (query) => client.query(query),
    });
    const applied = await postgrator.migrate();
    for (const m of applied) logger.info('migration applied', { version: m.version, name: m.name });
    // pg-boss passes multi-statement scripts without values: they must go as a simple query.
    const executeSql: ExecuteSql = (text, values) => (values === undefined ? client.query(text) : client.query(text, values));
    for (const step of after) await step(executeSql);
    return Number(await postgrator.getDatabaseVersion());
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await client.end();
  }
}

const migrationVersionRow = z.object({ v: z.number().int().nullable() });

/** The highest migration applied to the database (0 before any). */
export async function appliedMigration(q: CommonQueryMethods): Promise<number> {
  return (await q.oneFirst(sql.type(migrationVersionRow)`SELECT max(version)::int AS v FROM ${sql.identifier([SCHEMA_TABLE])}`)) ?? 0;
}
