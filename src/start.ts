import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import type { Config } from './config.js';
import type { EmbeddedDatabase } from './db/embedded.js';
import { migrateSchema } from './schema.js';
import { createDb, type Db } from './db/pool.js';
import { seedDemoData } from './db/seed.js';
import { startAuctionWorker, type AuctionWorker } from './auctions/worker.js';
import { createServices } from './integrations/index.js';
import type { Logger } from './logger.js';
import { EventHub } from './events/hub.js';
import { drainOnStop, poolQuiet, type Drain } from './drain.js';
import { createHttpServer } from './api/request-limits.js';
import { startTracing, stopTracing } from './observability/tracing.js';
import { createStorage, type Storage } from './storage/index.js';

/** What is running so far; a stop during start-up stops just that. */
export type Running = {
  embedded?: EmbeddedDatabase;
  db?: Db;
  server?: Server;
  drain?: Drain;
  auctions?: AuctionWorker;
  events?: EventHub;
  storage?: Storage;
};

/** How long a stop waits for the requests in flight before it cuts their connections. */
const STOP_DEADLINE_MS = 10_000;

/**
 * One instance: database (embedded or DATABASE_URL) → migrate (schema and job
 * queues, under the migration lock) → pool → worker → listen. Each piece is
 * recorded in `running` as soon as it exists, so `stopInstance` can release
 * whatever a failed or interrupted start left behind.
 */
export async function startInstance(config: Config, logger: Logger, running: Running): Promise<{ port: number }> {
  // First, so the start's own queries are traced too; nothing of the SDK loads when it is off.
  if (await startTracing(config))
    logger.info('tracing on', { endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, service: config.OTEL_SERVICE_NAME });
  let url = config.DATABASE_URL;
  if (!url && config.NODE_ENV === 'production') {
    throw new Error(
      'DATABASE_URL is not set: production needs its PostgreSQL (postgres://user:password@host:5432/database); the embedded database is for development only.',
    );
  }
  if (!url) {
    // Loaded only when used: a deployed instance never pays for it.
    const { startEmbeddedPostgres } = await import('./db/embedded.js');
    running.embedded = await startEmbeddedPostgres({ dir: config.EMBEDDED_PG_DIR, port: config.EMBEDDED_PG_PORT, logger });
    url = running.embedded.url;
    logger.info('using embedded PostgreSQL', { dir: config.EMBEDDED_PG_DIR, port: config.EMBEDDED_PG_PORT });
  }
  await migrateSchema(url, logger);
  running.db = await createDb(url, config);
  // Demo rows only ever go into the embedded database, and only when it has no cars.
  if (running.embedded) await seedDemoData(url, logger);

  if (config.AUTH_MODE === 'off' && config.NODE_ENV === 'production') {
    logger.warn('AUTH_MODE=off in production: anyone can read and act for any dealer by e-mail. Set AUTH_MODE=jwt.');
  }
  const services = createServices(config, logger);
  // Live events: one LISTEN connection and every open stream of this instance (started by the first stream).
  running.events = new EventHub({ url, db: running.db, config, logger });
  const storage = await createStorage(config);
  running.storage = storage;
  if (storage.driver === 'disk' && config.NODE_ENV === 'production' && !config.MEDIA_PUBLIC_BASE_URL) {
    logger.warn('MEDIA_PUBLIC_BASE_URL is not set: photo URLs point at http://localhost; set it to this API’s public origin + /media/');
  }
  const app = await createApp({ config, db: running.db, logger, services, startedAt: new Date(), events: running.events, storage });
  // Closing ended auctions and sending auction e-mails (pg-boss, in the same database).
  // Started before listening: "listening" means everything is up.
  if (config.AUCTION_WORKER_ENABLED) {
    running.auctions = await startAuctionWorker({
      config,
      db: running.db,
      databaseUrl: url,
      logger,
      brevo: services.brevo,
      creditinfo: services.creditinfo,
      storage,
    });
  }
  const server = createHttpServer(app).listen(config.PORT, config.HOST);
  running.server = server;
  running.drain = drainOnStop(server);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  logger.info('Kaggi API listening', { port, environment: config.NODE_ENV, docs: `http://localhost:${port}/docs` });
  return { port };
}

/**
 * The one line a failed start prints: its cause and what to do about it
 * (a supervisor's log is often all an operator sees).
 */
export function explainStartFailure(error: unknown, config: Pick<Config, 'PORT' | 'HOST' | 'DATABASE_URL'>): string {
  const e = error as (NodeJS.ErrnoException & { address?: string; port?: number }) | undefined;
  if (e?.code === 'EADDRINUSE' && e.syscall === 'listen') {
    return `port ${config.PORT} on ${config.HOST} is in use by another process (an earlier \`npm start\` still running?): stop it, or set PORT to a free port.`;
  }
  if (e?.code === 'ECONNREFUSED' || e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN' || e?.code === 'ETIMEDOUT') {
    const where = config.DATABASE_URL ? new URL(config.DATABASE_URL).host : `${e.address ?? '?'}:${e.port ?? '?'}`;
    return `the database at ${where} refused or did not answer (${e.code}): start PostgreSQL there, or fix DATABASE_URL.`;
  }
  if (typeof e?.code === 'string' && /^(28|3D)/.test(e.code)) {
    // 28xxx: bad user or password; 3D000: no such database.
    return `the database refused the login: ${e.message}. Fix the user, password or database name in DATABASE_URL.`;
  }
  if (error instanceof Error) return error.message || error.name;
  return `an unexplained failure (${String(error)}): run again with LOG_LEVEL=debug to see each step.`;
}

/**
 * Stop accepting, answer the requests in flight (each answer then closes its
 * keep-alive connection, src/drain.ts), let a running job finish, then release
 * the database once nothing uses it.
 */
export async function stopInstance(running: Running): Promise<void> {
  const { server, drain, auctions, db, embedded, events } = running;
  const closed = server?.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
  drain?.begin();
  // Streams never finish by themselves: end them, then close the connections they leave idle.
  await events?.close();
  server?.closeIdleConnections();
  const forced = setTimeout(() => server?.closeAllConnections(), STOP_DEADLINE_MS);
  await Promise.all([closed, auctions?.stop()]);
  clearTimeout(forced);
  // A request whose connection was cut (its client hung up, or the deadline above) may still be running its SQL.
  if (db) await poolQuiet(db, STOP_DEADLINE_MS);
  await db?.end();
  await running.storage?.close();
  await embedded?.stop();
  // The last spans (the stop's requests) reach the collector before the process exits.
  await stopTracing().catch(() => undefined);
}
