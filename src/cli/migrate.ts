import { loadConfig } from '../config.js';
import { startEmbeddedPostgres } from '../db/embedded.js';
import { migrateSchema } from '../schema.js';
import { createLogger } from '../logger.js';

/** `npm run migrate`: DATABASE_URL when set, otherwise the embedded development database. */
const config = loadConfig();
const logger = createLogger(config);
const embedded = config.DATABASE_URL
  ? undefined
  : await startEmbeddedPostgres({ dir: config.EMBEDDED_PG_DIR, port: config.EMBEDDED_PG_PORT, logger });
try {
  const version = await migrateSchema(config.DATABASE_URL ?? embedded!.url, logger);
  logger.info('database schema is current', { version });
} finally {
  await embedded?.stop();
}
