import PgBoss from 'pg-boss';
import type { Config } from '../config.js';
import type { Db } from '../db/pool.js';
import type { BrevoClient, CreditinfoClient } from '../integrations/index.js';
import type { Logger } from '../logger.js';
import { closeDueAuctions, expireUndecided, lapseUnconfirmed, scheduleUnscheduledAuctions, secondsUntilNextClose } from './closing.js';
import { flushOutbox } from './outbox.js';
import { sweepOverdueSales } from './overdue-sales.js';
import { runDealerAlerts, type AlertsResult } from './alerts.js';
import {
  CLOSE_QUEUE,
  DEALER_ALERTS_QUEUE,
  MEDIA_SWEEP_QUEUE,
  OUTBOX_QUEUE,
  RETENTION_QUEUE,
  SALE_OVERDUE_QUEUE,
  VEHICLE_QUEUE,
} from './queues.js';
import { fillVehicleSpecs } from './vehicle-lookups.js';
import { sweepOrphanObjects, type MediaSweepResult } from './media-sweep.js';
import type { Storage } from '../storage/index.js';
import { sweepExpiredRows, sweepPersonalData, type PrivacySweepResult, type SweepResult } from './retention.js';

/**
 * The background side of auctions, on pg-boss (a job queue in PostgreSQL, schema
 * `pgboss` in the same database): closing ended auctions, expiring results the seller
 * did not decide on in time, sending the e-mail outbox, deleting rows past their
 * retention (src/auctions/retention.ts), marking sales past a deadline overdue
 * (src/auctions/overdue-sales.ts) and the dealers' alerts, digests and reminders
 * (src/auctions/alerts.ts). Any number of instances may run it.
 *
 * - Every instance offers a job to each queue once per interval; a throttle key
 *   (`singletonSeconds`) keeps it to one job per interval across all instances,
 *   and the `singleton` queue policy lets only one run at a time.
 * - After a closing run, an auction that ends before the next interval gets a
 *   job of its own, due at its closing time, so auctions close on time.
 * - Jobs live in the database: an instance that stops leaves nothing behind
 *   that the others cannot pick up.
 * The work itself is idempotent (see closing.ts and outbox.ts), so a job that
 * runs twice after a crash does no harm.
 */

/** How often failed registry lookups are looked at; each has its own backoff on top. */
const VEHICLE_LOOKUP_EVERY_SECONDS = 30;

export type AuctionWorkerDeps = {
  config: Config;
  db: Db;
  /** pg-boss keeps its own small pool on the same database. */
  databaseUrl: string;
  logger: Logger;
  brevo: BrevoClient;
  /** The vehicle registry, for specifications it could not give at registration; absent → none are filled in. */
  creditinfo?: CreditinfoClient;
  /** The photo store whose orphans the media sweep removes; without one there is no media sweep. */
  storage?: Storage;
};

export type AuctionWorker = {
  /** Runs one closing pass now (as the job does). */
  closeNow(): Promise<number>;
  /** Runs one outbox pass now (as the job does). */
  flushNow(): Promise<void>;
  /** Runs one retention sweep now (as the job does): expired rows, then personal data past its retention. */
  sweepNow(): Promise<SweepResult & PrivacySweepResult>;
  /** Runs one overdue-sales pass now (as the job does); how many sales it marked. */
  overdueNow(): Promise<number>;
  /** Runs one pass of the registry lookups that failed at registration (as the job does). */
  fillVehiclesNow(): Promise<{ filled: number; retrying: number }>;
  /** Runs one orphan-object sweep of the photo store now (as the job does). */
  sweepMediaNow(): Promise<MediaSweepResult>;
  /** Runs one pass of the dealer-alerts job now (as the job does): instant alerts, digests, reminders. */
  alertsNow(): Promise<AlertsResult>;
  /** Stops offering jobs, lets a running one finish, closes pg-boss's pool. */
  stop(): Promise<void>;
};

export async function startAuctionWorker({
  config,
  db,
  databaseUrl,
  logger,
  brevo,
  creditinfo,
  storage,
}: AuctionWorkerDeps): Promise<AuctionWorker> {
  const log = logger.child({ component: 'auction-worker' });
  const boss = new PgBoss({
    connectionString: databaseUrl,
    application_name: 'kaggi-jobs',
    max: 4,
    schedule: false, // no cron: jobs are offered by the instances themselves
    // The schema and the queues are made by migrate() under the migration lock
    // (see queues.ts); here pg-boss only checks they are there.
    migrate: false,
    archiveCompletedAfterSeconds: 3600,
    deleteAfterHours: 24,
  });
  boss.on('error', (error) => log.warn('job queue error', { error: error.message }));
  await boss.start();

  const closeEvery = config.AUCTION_CLOSE_INTERVAL_SECONDS;
  const outboxEvery = config.OUTBOX_POLL_INTERVAL_SECONDS;
  const polling = (seconds: number) => Math.max(0.5, Math.min(2, seconds / 2));

  const closeNow = async (): Promise<number> => {
    const scheduled = await scheduleUnscheduledAuctions(db, config.AUCTION_DURATION_HOURS);
    if (scheduled) log.info('auctions given a closing time', { count: scheduled });
    const closed = await closeDueAuctions(db, { settings: config });
    for (const car of closed) {
      log.info('auction closed', { car_id: car.id, winning_bid_id: car.winning_bid_id, highest_bid: car.highest_bid });
    }
    // The same pass settles results nobody decided on: the deadline is read from the row
    // each time, so one moved later (an admin extending it) is honoured.
    const expired = await expireUndecided(db, { settings: config });
    for (const car of expired) log.info('undecided result expired', { car_id: car.id });
    const lapsed = await lapseUnconfirmed(db, { settings: config });
    for (const car of lapsed) log.info('unconfirmed registration lapsed', { car_id: car.id });
    // An auction ending before the next regular run gets a job due at its closing time.
    const next = await secondsUntilNextClose(db);
    if (next !== null && next < closeEvery) {
      await boss.send(CLOSE_QUEUE, {}, { singletonKey: 'close', startAfter: Math.max(0, Math.ceil(next)) });
    }
    // The e-mails were just queued: send them without waiting for the next pass.
    if (closed.length + expired.length) await offer(OUTBOX_QUEUE, 'outbox', 1);
    return closed.length + expired.length;
  };

  let warnedDisabled = false;
  const flushNow = async (): Promise<void> => {
    if (brevo.mode === 'disabled') {
      if (!warnedDisabled) log.warn('Brevo is not configured: auction e-mails stay in the outbox until it is');
      warnedDisabled = true;
      return;
    }
    const result = await flushOutbox({ db, brevo, config, logger: log });
    if (result.sent + result.sandbox + result.retrying + result.failed + result.held + result.dropped > 0) log.info('outbox pass', result);
  };

  const sweepNow = async (): Promise<SweepResult & PrivacySweepResult> => {
    const deleted = await sweepExpiredRows(db, config);
    if (Object.values(deleted).some((n) => n > 0)) log.info('expired rows deleted', deleted);
    const erased = await sweepPersonalData(db, config, { logger: log, storage });
    // Counts only: which cars were erased is no business of the log.
    if (Object.values(erased).some((n) => n > 0)) log.info('personal data past its retention erased', erased);
    return { ...deleted, ...erased };
  };

  const overdueNow = async (): Promise<number> => {
    const marked = await sweepOverdueSales(db, config);
    if (marked) {
      log.info('sales marked overdue', { count: marked });
      await offer(OUTBOX_QUEUE, 'outbox', 1);
    }
    return marked;
  };

  const fillVehiclesNow = async () => {
    if (!creditinfo) return { filled: 0, retrying: 0 };
    const result = await fillVehicleSpecs({ db, creditinfo, logger: log });
    if (result.filled + result.retrying > 0) log.info('vehicle lookups', result);
    return result;
  };

  const sweepMediaNow = async (): Promise<MediaSweepResult> => {
    if (!storage) return { examined: 0, removed: 0 };
    const swept = await sweepOrphanObjects(db, storage);
    if (swept.removed > 0) log.info('orphan photo objects removed', swept);
    return swept;
  };

  const alertsEvery = config.ALERT_INTERVAL_SECONDS;
  const alertsNow = async (): Promise<AlertsResult> => {
    const result = await runDealerAlerts(db, config);
    if (result.alerts + result.digests + result.reminders > 0) {
      log.info('dealer alerts queued', result);
      await offer(OUTBOX_QUEUE, 'outbox', 1);
    }
    return result;
  };

  await boss.work(CLOSE_QUEUE, { pollingIntervalSeconds: polling(closeEvery) }, async () => {
    await closeNow();
  });
  await boss.work(OUTBOX_QUEUE, { pollingIntervalSeconds: polling(outboxEvery) }, async () => {
    await flushNow();
  });
  // Once per interval across all instances: the same throttle key as the other queues, the singleton policy.
  const sweepEvery = config.RETENTION_SWEEP_INTERVAL_MINUTES * 60;
  await boss.work(RETENTION_QUEUE, { pollingIntervalSeconds: 2 }, async () => {
    await sweepNow();
  });

  const overdueEvery = config.SALE_OVERDUE_INTERVAL_SECONDS;
  await boss.work(SALE_OVERDUE_QUEUE, { pollingIntervalSeconds: polling(overdueEvery) }, async () => {
    await overdueNow();
  });
  await boss.work(DEALER_ALERTS_QUEUE, { pollingIntervalSeconds: polling(alertsEvery) }, async () => {
    await alertsNow();
  });
  await boss.work(VEHICLE_QUEUE, { pollingIntervalSeconds: 2 }, async () => {
    await fillVehiclesNow();
  });
  const mediaSweepEvery = config.MEDIA_SWEEP_INTERVAL_MINUTES * 60;
  if (storage) {
    await boss.work(MEDIA_SWEEP_QUEUE, { pollingIntervalSeconds: 2 }, async () => {
      await sweepMediaNow();
    });
  }

  /** One job per queue per `seconds` slot, however many instances offer it. */
  async function offer(name: string, key: string, seconds: number): Promise<void> {
    try {
      await boss.send(name, {}, { singletonKey: key, singletonSeconds: seconds });
    } catch (error) {
      log.warn('could not offer a job', { queue: name, error: error instanceof Error ? error.message : String(error) });
    }
  }
  const offerClose = () => void offer(CLOSE_QUEUE, 'close', closeEvery);
  const offerOutbox = () => void offer(OUTBOX_QUEUE, 'outbox', outboxEvery);
  const offerSweep = () => void offer(RETENTION_QUEUE, 'retention', sweepEvery);
  const offerOverdue = () => void offer(SALE_OVERDUE_QUEUE, 'sale-overdue', overdueEvery);
  const offerVehicles = () => void offer(VEHICLE_QUEUE, 'vehicles', VEHICLE_LOOKUP_EVERY_SECONDS);
  const offerAlerts = () => void offer(DEALER_ALERTS_QUEUE, 'dealer-alerts', alertsEvery);
  offerClose();
  offerAlerts();
  offerOverdue();
  offerVehicles();
  offerOutbox();
  const offerMediaSweep = () => void offer(MEDIA_SWEEP_QUEUE, 'media-sweep', mediaSweepEvery);
  offerSweep();
  if (storage) offerMediaSweep();
  const timers = [
    ...(storage ? [setInterval(offerMediaSweep, mediaSweepEvery * 1000)] : []),
    setInterval(offerClose, closeEvery * 1000),
    setInterval(offerOutbox, outboxEvery * 1000),
    setInterval(offerSweep, sweepEvery * 1000),
    setInterval(offerOverdue, overdueEvery * 1000),
    setInterval(offerVehicles, VEHICLE_LOOKUP_EVERY_SECONDS * 1000),
    setInterval(offerAlerts, alertsEvery * 1000),
  ];
  for (const t of timers) t.unref();
  log.info('auction worker started', { close_every_s: closeEvery, outbox_every_s: outboxEvery, brevo: brevo.mode });

  let stopped = false;
  return {
    closeNow,
    flushNow,
    sweepNow,
    overdueNow,
    fillVehiclesNow,
    sweepMediaNow,
    alertsNow,
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const t of timers) clearInterval(t);
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
      log.info('auction worker stopped');
    },
  };
}
