import { readFileSync } from 'node:fs';
import { sql } from 'slonik';
import { z } from 'zod';
import { ApiError } from '../errors.js';
import { LATEST_MIGRATION, SCHEMA_TABLE } from '../db/migrate.js';
import type { Handler } from '../api/types.js';

const migrationVersionRow = z.object({ v: z.number().int().nullable() });

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const getApiInfo: Handler<'getApiInfo'> = ({ deps }) => ({
  status: 200,
  body: {
    success: true,
    message: 'Kaggi API',
    version,
    environment: deps.config.NODE_ENV,
    timestamp: new Date().toISOString(),
  },
});

/** Liveness: answers as long as the process does; never touches the database. */
const getHealth: Handler<'getHealth'> = () => ({
  status: 200,
  body: { status: 'OK', timestamp: new Date().toISOString(), uptime: process.uptime() },
});

const getReadiness: Handler<'getReadiness'> = async ({ deps }) => {
  const applied = await deps.db.oneFirst(sql.type(migrationVersionRow)`
    SELECT max(version)::int AS v FROM ${sql.identifier([SCHEMA_TABLE])}`);
  if ((applied ?? 0) < LATEST_MIGRATION) {
    throw new ApiError(503, 'migrations_pending', `Database schema is at version ${applied ?? 0}, this build needs ${LATEST_MIGRATION}`);
  }
  return { status: 200, body: { status: 'ready', database: 'up', migrations: 'applied' } };
};

export const systemHandlers = { getApiInfo, getHealth, getReadiness };
