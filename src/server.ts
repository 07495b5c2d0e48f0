import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.js';
import { migrate } from './db/migrate.js';
import { createDb } from './db/pool.js';
import { seedDemoData } from './db/seed.js';
import { startAuctionWorker, type AuctionWorker } from './auctions/worker.js';
import { createServices } from './integrations/index.js';
import { createLogger } from './logger.js';

/** config → database (embedded or DATABASE_URL) → migrate → listen → graceful stop */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config);

  let embedded: EmbeddedDatabase | undefined;
  let url = config.DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedPostgres({ dir: config.EMBEDDED_PG_DIR, port: config.EMBEDDED_PG_PORT, logger });
    url = embedded.url;
    logger.info('using embedded PostgreSQL', { dir: config.EMBEDDED_PG_DIR, port: config.EMBEDDED_PG_PORT });
  }
  await migrate(url, logger);
  const db = await createDb(url, config);
  // Demo rows only ever go into the embedded database, and only when it has no cars.
  if (embedded) await seedDemoData(url, logger);

  if (config.AUTH_MODE === 'off' && config.NODE_ENV === 'production') {
    logger.warn('AUTH_MODE=off in production: anyone can read and act for any dealer by e-mail. Set AUTH_MODE=jwt.');
  }
  const services = createServices(config, logger);
  const app = await createApp({ config, db, logger, services, startedAt: new Date(), databaseUrl: url });
  const server = app.listen(config.PORT, config.HOST);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  logger.info('Kaggi API listening', { port, environment: config.NODE_ENV, docs: `http://localhost:${port}/docs` });
  // Closing ended auctions and sending auction e-mails (pg-boss, in the same database).
  const auctions: AuctionWorker | undefined = config.AUCTION_WORKER_ENABLED
    ? await startAuctionWorker({ config, db, databaseUrl: url, logger, brevo: services.brevo })
    : undefined;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    // Stop accepting, let in-flight requests and a running job finish, then release the database.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const forced = setTimeout(() => server.closeAllConnections(), 10_000);
    const workerStopped = auctions
      ?.stop()
      .catch((error: unknown) => logger.warn('auction worker did not stop cleanly', { error: error instanceof Error ? error.message : String(error) }));
    await Promise.all([closed, workerStopped]);
    clearTimeout(forced);
    await db.end();
    await embedded?.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error('Kaggi API failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
