import { sql } from 'slonik';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { CONFIRMATION_HOURS } from '../domain/lifecycle.js';
import { changeStatus, defaultLifecycleSettings, type LifecycleSettings, type StatusChanged } from '../usecases/lifecycle.js';

const carIdRow = z.object({ id: z.string().uuid() });
const secondsRow = z.object({ seconds: z.number().nullable() });

/**
 * The sweeps: closing ended auctions and expiring results the seller never decided on.
 * All times are PostgreSQL's (`now()`), so every instance agrees and tests move time by
 * moving `auction_ends_at` / `decision_due_at` in the database.
 *
 * Exactly once: the cars are locked (FOR UPDATE SKIP LOCKED, so two runs split the work
 * instead of waiting on each other), and `changeStatus` re-checks under the lock that the
 * car is still `active` and due (or `closed` and past its deadline), so a car leaves that
 * status once; the e-mails carry dedupe keys on top.
 */

export type SweepOptions = { settings?: LifecycleSettings; limit?: number };

async function sweep(
  db: Db,
  to: 'closed' | 'expired' | 'lapsed',
  due: ReturnType<typeof sql.fragment>,
  { settings = defaultLifecycleSettings(), limit = 500 }: SweepOptions,
): Promise<readonly StatusChanged[]> {
  return db.transaction(async (tx) => {
    const ids = await tx.anyFirst(sql.type(carIdRow)`
      SELECT id FROM "Bílar" WHERE ${due}
      ORDER BY id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED`);
    // Separate statements: each snapshot sees every bid committed before the locks were won.
    const changed: StatusChanged[] = [];
    for (const id of ids) {
      const result = await changeStatus(tx, id, to, {
        by: 'sweep',
        settings,
        ifAllowed: true,
        ...(to === 'expired' ? { reason: 'decision_deadline' } : {}),
      });
      if (result) changed.push(result);
    }
    return changed;
  });
}

/** Closes every auction whose time is up (at most `limit` per call). Safe to run anywhere, any number of times. */
export function closeDueAuctions(db: Db, options: SweepOptions = {}): Promise<readonly StatusChanged[]> {
  return sweep(db, 'closed', sql.fragment`status = 'active' AND auction_ends_at <= now()`, options);
}

/** Expires every closed car whose decision deadline has passed (as the column says now). */
export function expireUndecided(db: Db, options: SweepOptions = {}): Promise<readonly StatusChanged[]> {
  return sweep(db, 'expired', sql.fragment`status = 'closed' AND decision_due_at <= now()`, options);
}

/**
 * Lapses every registration whose phone was not verified within CONFIRMATION_HOURS. Nothing
 * waits on this (an unconfirmed car holds no plate, and confirmation ignores an old one): it
 * settles the status so that lists and the car's timeline say what happened.
 */
export function lapseUnconfirmed(db: Db, options: SweepOptions = {}): Promise<readonly StatusChanged[]> {
  return sweep(
    db,
    'lapsed',
    sql.fragment`status = 'unconfirmed' AND created_at <= now() - make_interval(hours => ${CONFIRMATION_HOURS})`,
    options,
  );
}

/**
 * Active cars without a closing time (demo data, imports) get one: now + the configured
 * duration. Not a status change (the car stays `active`), so no event: it only repairs a
 * missing column of a running auction.
 */
export async function scheduleUnscheduledAuctions(db: Db, durationHours: number): Promise<number> {
  const ids = await db.anyFirst(sql.type(carIdRow)`
    UPDATE "Bílar" SET auction_ends_at = now() + make_interval(hours => ${durationHours}), updated_at = now()
    WHERE status = 'active' AND auction_ends_at IS NULL
    RETURNING id`);
  return ids.length;
}

/** Seconds (database time) until the next auction ends or decision falls due; null when none is waiting. */
export async function secondsUntilNextClose(db: Db): Promise<number | null> {
  return db.oneFirst(sql.type(secondsRow)`
    SELECT extract(epoch FROM least(
             (SELECT min(auction_ends_at) FROM "Bílar" WHERE status = 'active' AND auction_ends_at > now()),
             (SELECT min(decision_due_at) FROM "Bílar" WHERE status = 'closed' AND decision_due_at > now())) - now())::float8 AS seconds`);
}
