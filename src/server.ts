import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import { toApiError } from './api/error-middleware.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.js';
import { migrate } from './db/migrate.js';
import { createDb, type Db } from './db/pool.js';
import { seedDemoData } from './db/seed.js';
import { startAuctionWorker, type AuctionWorker } from './auctions/worker.js';
import { createServices } from './integrations/index.js';
import { createLogger, type Logger } from './logger.js';

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

/** What is running so far; a stop signal during start-up stops just that. */
type Running = { embedded?: EmbeddedDatabase; db?: Db; server?: Server; auctions?: AuctionWorker };

function installGracefulStop(logger: Logger, running: Running): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    const { server, auctions, db, embedded } = running;
    // Stop accepting, let in-flight requests and a running job finish, then release the database.
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    server?.closeIdleConnections();
    const forced = setTimeout(() => server?.closeAllConnections(), 10_000);
    await Promise.all([closed, auctions?.stop()]);
    clearTimeout(forced);
    await db?.end();
    await embedded?.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/**
 * pg-boss marks jobs done or failed without awaiting it, so during a database
 * outage those calls reject with nobody listening. Such a rejection is the
 * outage (already answered as 503 and retried when the database is back), not
 * a reason to kill a server that must resume by itself. Anything else still
 * stops the process, as Node would.
 */
function survivingDatabaseOutages(logger: Logger): void {
  process.on('unhandledRejection', (reason) => {
    if (toApiError(reason).code === 'database_unavailable') {
      logger.warn('database unavailable in a background task', { error: reason instanceof Error ? reason.message : String(reason) });
      return;
    }
    logger.error('unhandled rejection', { error: reason instanceof Error ? { message: reason.message, stack: reason.stack } : String(reason) });
    process.exit(1);
  });
}

/** config → database (embedded or DATABASE_URL) → migrate → listen → graceful stop */
async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger(config);
  const running: Running = {};
  installGracefulStop(logger, running);
  survivingDatabaseOutages(logger);

  let url = config.DATABASE_URL;
  if (!url) {
    running.embedded = await startEmbeddedPostgres({ dir: config.EMBEDDED_PG_DIR, port: config.EMBEDDED_PG_PORT, logger });
    url = running.embedded.url;
    logger.info('using embedded PostgreSQL', { dir: config.EMBEDDED_PG_DIR, port: config.EMBEDDED_PG_PORT });
  }
  await migrate(url, logger);
  const db = await createDb(url, config);
  running.db = db;
  // Demo rows only ever go into the embedded database, and only when it has no cars.
  if (running.embedded) await seedDemoData(url, logger);

  if (config.AUTH_MODE === 'off' && config.NODE_ENV === 'production') {
    logger.warn('AUTH_MODE=off in production: anyone can read and act for any dealer by e-mail. Set AUTH_MODE=jwt.');
  }
  const services = createServices(config, logger);
  const app = await createApp({ config, db, logger, services, startedAt: new Date() });
  // Closing ended auctions and sending auction e-mails (pg-boss, in the same database).
  // Started before listening: "listening" means everything is up.
  if (config.AUCTION_WORKER_ENABLED) {
    running.auctions = await startAuctionWorker({ config, db, databaseUrl: url, logger, brevo: services.brevo });
  }
  const server = app.listen(config.PORT, config.HOST);
  running.server = server;
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  logger.info('Kaggi API listening', { port, environment: config.NODE_ENV, docs: `http://localhost:${port}/docs` });
}

main().catch((error: unknown) => {
  console.error('Kaggi API failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
