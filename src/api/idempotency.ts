import { createHash } from 'node:crypto';
import { sql, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import { ApiError } from '../errors.js';
import type { Db } from '../db/pool.js';
import { noRows } from '../db/no-rows.js';

const claimedKeyRow = z.object({ key: z.string() });

/** JSON with sorted keys, so `{a,b}` and `{b,a}` are the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const stored = z.object({
  request_hash: z.string(),
  state: z.enum(['pending', 'done']),
  response_status: z.number().int().nullable(),
  response_body: z.unknown(),
});

type Reply = { status: number; body: unknown; headers?: Record<string, string> };

export type IdempotentRequest = {
  operation: string;
  /** Who is asking (src/api/router.ts `callerScope`): keys of different callers never meet. */
  scope: string;
  key: string;
  body: unknown;
};

export type IdempotencyOptions = {
  ttlHours: number;
  /** How long a retry waits for a first request with its key still running, before 409 `idempotency_in_progress`. */
  waitMs: number;
  /** Called once a new answer has been committed, before it is sent (the crash test's hook). */
  onCommitted?: () => void;
};

const METHODS = [
  'any',
  'anyFirst',
  'exists',
  'many',
  'manyFirst',
  'maybeOne',
  'maybeOneFirst',
  'one',
  'oneFirst',
  'query',
  'transaction',
] as const;

/**
 * The pool as a handler sees it, with every query inside `tx`: the handler's own
 * `transaction(...)` becomes a savepoint of it. Once `tx` has ended (work a handler
 * left running after its answer) queries go to the pool again instead of failing.
 */
function inTransaction(pool: Db, tx: DatabaseTransactionConnection, open: () => boolean): Db {
  const bound: Record<string, unknown> = { ...pool };
  for (const method of METHODS) {
    bound[method] = (...args: unknown[]) => ((open() ? tx : pool)[method] as (...a: unknown[]) => unknown)(...args);
  }
  return bound as unknown as Db;
}

/** PostgreSQL's SQLSTATE of `error` or of one of its causes (Slonik wraps the driver's error). */
function sqlState(error: unknown): string | undefined {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth += 1) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return undefined;
}

const inProgress = () =>
  new ApiError(409, 'idempotency_in_progress', 'A request with this Idempotency-Key is still being processed; retry shortly');

/**
 * Runs a write once per (caller, operation, Idempotency-Key), in Stripe's atomic phases
 * folded into ONE transaction: claim the key, run the handler's writes, store the answer,
 * commit. So there is no moment at which the write is committed and the answer is not, or
 * the reverse: a crash or a failure anywhere before the commit leaves neither (the key is
 * free again), after it both (a retry gets the stored answer).
 *
 * - A retry with the same body gets the first answer back (marked Idempotent-Replayed).
 * - The same key with a different body is a 422.
 * - A retry while the first is still running waits on the key's row (PostgreSQL's unique
 *   index makes it), then replays the first answer, or claims the key if the first failed;
 *   after `waitMs` it gets 409 `idempotency_in_progress`. It never runs the write twice.
 * - A failed attempt (any error) stores noRows, so the client may retry.
 *
 * The caller's scope is stored hashed with the operation: another caller's same key is
 * another key, so it neither collides with nor reveals this one, and the table holds no
 * e-mail or IP address. Keys live in PostgreSQL, so every instance honours them.
 */
export async function idempotent<R extends Reply>(
  db: Db,
  options: IdempotencyOptions,
  request: IdempotentRequest,
  run: (db: Db) => Promise<R>,
): Promise<R> {
  const hash = sha256(canonical(request.body ?? null));
  const operation = `${request.operation}:${sha256(request.scope).slice(0, 32)}`;
  const { key } = request;
  let open = true;
  let fresh = false;
  const reply = await db
    .transaction(async (tx) => {
      await tx.query(sql.type(noRows)`SELECT set_config('lock_timeout', ${`${options.waitMs}ms`}, true)`);
      let claimed: string | null;
      try {
        // A new key, or one whose time is up: ours. A key another transaction has just claimed:
        // this statement waits for that transaction, then sees its outcome.
        claimed = await tx.maybeOneFirst(sql.type(claimedKeyRow)`
          INSERT INTO idempotency_keys AS k (operation, key, request_hash) VALUES (${operation}, ${key}, ${hash})
          ON CONFLICT (operation, key) DO UPDATE
            SET request_hash = excluded.request_hash, state = 'pending', response_status = NULL, response_body = NULL, created_at = now()
            WHERE k.created_at < now() - make_interval(hours => ${options.ttlHours})
          RETURNING key`);
      } catch (error) {
        if (sqlState(error) === '55P03') throw inProgress();
        throw error;
      }
      await tx.query(sql.type(noRows)`SET LOCAL lock_timeout TO DEFAULT`);
      if (!claimed) {
        const previous = await tx.one(sql.type(stored)`
          SELECT request_hash, state, response_status, response_body FROM idempotency_keys
          WHERE operation = ${operation} AND key = ${key}`);
        if (previous.request_hash !== hash) {
          throw new ApiError(422, 'idempotency_key_reused', 'This Idempotency-Key was used with a different request body', {
            errors: [{ path: 'header.idempotency-key', message: 'header.idempotency-key was used with a different request body' }],
          });
        }
        // Only a row left by an older version that claimed keys outside the transaction can be pending.
        if (previous.state === 'pending') throw inProgress();
        return {
          status: previous.response_status!,
          body: previous.response_body,
          headers: { 'Idempotent-Replayed': 'true' },
        } as unknown as R;
      }
      const answer = await run(inTransaction(db, tx, () => open));
      await tx.query(sql.type(noRows)`
        UPDATE idempotency_keys SET state = 'done', response_status = ${answer.status}, response_body = ${sql.jsonb(answer.body as never)}
        WHERE operation = ${operation} AND key = ${key}`);
      fresh = true;
      return answer;
    })
    .finally(() => {
      open = false;
    });
  if (fresh) options.onCommitted?.();
  return reply;
}
