import PgBoss from 'pg-boss';
import type { ExecuteSql } from '../db/migrate.js';

/**
 * The pg-boss queues the auction worker uses, and their set-up.
 *
 * Installing pg-boss's schema and creating a queue are DDL (a queue is a new
 * partition attached to pgboss.job). Two instances doing that at the same
 * moment deadlock in PostgreSQL, and one of them fails to start. So it is not
 * done by the worker at start: it is part of migrating (src/db/migrate.ts),
 * under the same advisory lock as the SQL migrations, and the worker only
 * checks that the schema is there.
 */

export const CLOSE_QUEUE = 'auction-close';
export const OUTBOX_QUEUE = 'email-outbox';
/** Deleting rows past their retention (src/auctions/retention.ts). */
export const RETENTION_QUEUE = 'retention-sweep';
/** Marking sales past a deadline overdue (src/auctions/overdue-sales.ts). */
export const SALE_OVERDUE_QUEUE = 'sale-overdue';
/** Registry lookups that failed at registration (src/auctions/vehicle-lookups.ts). */
export const VEHICLE_QUEUE = 'vehicle-lookup';

/** Removing stored photo objects no row names (src/auctions/media-sweep.ts). */
export const MEDIA_SWEEP_QUEUE = 'media-orphan-sweep';
/** Saved-search alerts, daily digests and end-of-round reminders (src/auctions/alerts.ts). */
export const DEALER_ALERTS_QUEUE = 'dealer-alerts';

const queueOptions = { policy: 'singleton' as const, retryLimit: 5, retryDelay: 2, retryBackoff: true, expireInSeconds: 300 };
export const QUEUES = [
  CLOSE_QUEUE,
  OUTBOX_QUEUE,
  RETENTION_QUEUE,
  VEHICLE_QUEUE,
  MEDIA_SWEEP_QUEUE,
  SALE_OVERDUE_QUEUE,
  DEALER_ALERTS_QUEUE,
] as const;

/**
 * Creates or upgrades the `pgboss` schema and creates the queues, on the
 * caller's connection (which holds the migration lock). Idempotent: an
 * existing schema at the current version and existing queues are left alone.
 */
export async function installJobQueues(executeSql: ExecuteSql): Promise<void> {
  const boss = new PgBoss({ db: { executeSql }, migrate: true, supervise: false, schedule: false });
  await boss.start();
  try {
    for (const name of QUEUES) await boss.createQueue(name, { name, ...queueOptions });
  } finally {
    await boss.stop({ graceful: false, close: false });
  }
}
