import { sql, type FragmentSqlToken } from 'slonik';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Db } from '../db/pool.js';
import type { Logger } from '../logger.js';
import type { Storage } from '../storage/index.js';
import { addRetentionTotals } from '../db/privacy.js';
import { expiredDigests, expiredMatches } from '../db/alerts.js';
import { eraseCarsPastRetention } from '../usecases/privacy.js';

/**
 * Rows that have served their purpose and would otherwise stay forever:
 * rate-limit counters whose window has reset, Idempotency-Keys past their
 * replay window, one-time codes that were used or expired, e-mails the
 * outbox has sent, and saved searches' matches and digest records past their use. The retention job (src/auctions/worker.ts) deletes each
 * past its retention.
 *
 * In batches, each its own short statement (no transaction around them): a
 * batch locks only rows past their retention, which no request reads any
 * more, and SKIP LOCKED passes over a row someone else holds, so the sweep
 * never waits on a request and a request waits at most one batch on it. Two
 * sweeps at once (two instances) each delete different rows, every row once.
 */

export type RetentionSettings = Pick<
  Config,
  | 'RETENTION_BATCH_SIZE'
  | 'RETENTION_RATE_LIMIT_HITS_HOURS'
  | 'RETENTION_IDEMPOTENCY_KEYS_HOURS'
  | 'RETENTION_ONE_TIME_CODES_HOURS'
  | 'RETENTION_OUTBOX_SENT_DAYS'
  | 'IDEMPOTENCY_TTL_HOURS'
>;

export const RETAINED_TABLES = [
  'rate_limit_hits',
  'idempotency_keys',
  'phone_verifications',
  'seller_login_codes',
  'dealer_login_codes',
  'email_outbox',
  'saved_search_matches',
  'alert_digests',
] as const;
export type SweepResult = Record<(typeof RETAINED_TABLES)[number], number>;

const deletedRow = z.object({ n: z.number().int() });

/** Which rows of each table are past their retention. */
function expiredRows(settings: RetentionSettings): Record<keyof SweepResult, FragmentSqlToken> {
  const hoursAgo = (n: number) => sql.fragment`now() - make_interval(hours => ${n})`;
  // A key younger than IDEMPOTENCY_TTL_HOURS still replays its answer, whatever the retention says.
  const keyHours = Math.max(settings.RETENTION_IDEMPOTENCY_KEYS_HOURS, settings.IDEMPOTENCY_TTL_HOURS);
  const codeHours = settings.RETENTION_ONE_TIME_CODES_HOURS;
  // Used (consumed_at) or expired (expires_at), and that long ago.
  const codes = sql.fragment`(consumed_at < ${hoursAgo(codeHours)} OR expires_at < ${hoursAgo(codeHours)})`;
  return {
    rate_limit_hits: sql.fragment`reset_at < ${hoursAgo(settings.RETENTION_RATE_LIMIT_HITS_HOURS)}`,
    idempotency_keys: sql.fragment`created_at < ${hoursAgo(keyHours)}`,
    phone_verifications: codes,
    seller_login_codes: codes,
    dealer_login_codes: codes,
    // Sent or written to the log by the sandbox; pending and failed rows stay for the operator.
    email_outbox: sql.fragment`status IN ('sent', 'sandbox') AND sent_at < now() - make_interval(days => ${settings.RETENTION_OUTBOX_SENT_DAYS})`,
    // What a saved search matched, kept for the daily digest; the record that a day's digest went (src/domain/alerts.ts).
    saved_search_matches: expiredMatches,
    alert_digests: expiredDigests,
  };
}

/** Deletes one batch of `table`'s expired rows; returns how many went. */
async function deleteBatch(db: Db, table: string, expired: FragmentSqlToken, limit: number): Promise<number> {
  const t = sql.identifier([table]);
  return db.oneFirst(sql.type(deletedRow)`
    WITH gone AS (
      DELETE FROM ${t} WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM ${t} WHERE ${expired} LIMIT ${limit} FOR UPDATE SKIP LOCKED))
      RETURNING 1)
    SELECT count(*)::int AS n FROM gone`);
}

/** Deletes every row past its retention, table by table, a batch at a time. */
export async function sweepExpiredRows(db: Db, settings: RetentionSettings): Promise<SweepResult> {
  const expired = expiredRows(settings);
  const result = Object.fromEntries(RETAINED_TABLES.map((t) => [t, 0])) as SweepResult;
  const limit = settings.RETENTION_BATCH_SIZE;
  for (const table of RETAINED_TABLES) {
    for (;;) {
      const n = await deleteBatch(db, table, expired[table], limit);
      result[table] += n;
      // A short batch: nothing more is due (or what is left is locked by another sweep, which deletes it).
      if (n < limit) break;
    }
  }
  return result;
}

/**
 * The personal-data side of retention (docs/privacy.md): cars that ended unsold
 * RETENTION_UNSOLD_DAYS ago and sold cars whose legal hold (SALE_RETENTION_YEARS) is over
 * are erased as an erasure erases them (src/usecases/privacy.ts), and the look-up, company
 * check, SMS and e-mail logs go after RETENTION_LOGS_DAYS. In batches, each its own
 * transaction with SKIP LOCKED, so several instances at once erase each car once. The
 * erased cars' photo objects are deleted from `storage` after each batch commits.
 */
export type PrivacyRetentionSettings = Pick<
  Config,
  'RETENTION_BATCH_SIZE' | 'RETENTION_UNSOLD_DAYS' | 'SALE_RETENTION_YEARS' | 'RETENTION_LOGS_DAYS'
>;

export const PRIVACY_RETENTION = [
  'unsold_cars',
  'sold_cars',
  'vehicle_verifications',
  'company_validations',
  'phone_verifications',
  'email_logs',
] as const;
export type PrivacySweepResult = Record<(typeof PRIVACY_RETENTION)[number], number>;

const LOG_TABLES = ['vehicle_verifications', 'company_validations', 'phone_verifications', 'email_logs'] as const;

export async function sweepPersonalData(
  db: Db,
  settings: PrivacyRetentionSettings,
  objects: { logger: Logger; storage?: Storage },
): Promise<PrivacySweepResult> {
  const result = Object.fromEntries(PRIVACY_RETENTION.map((t) => [t, 0])) as PrivacySweepResult;
  const limit = settings.RETENTION_BATCH_SIZE;
  for (const [which, period] of [
    ['unsold', settings.RETENTION_UNSOLD_DAYS],
    ['sold', settings.SALE_RETENTION_YEARS],
  ] as const) {
    for (;;) {
      const n = await eraseCarsPastRetention({ db, ...objects }, which, period, limit);
      result[which === 'unsold' ? 'unsold_cars' : 'sold_cars'] += n;
      if (n < limit) break;
    }
  }
  const old = sql.fragment`created_at < now() - make_interval(days => ${settings.RETENTION_LOGS_DAYS})`;
  for (const table of LOG_TABLES) {
    for (;;) {
      const n = await deleteBatch(db, table, old, limit);
      result[table] += n;
      if (n < limit) break;
    }
  }
  await addRetentionTotals(db, result);
  return result;
}
