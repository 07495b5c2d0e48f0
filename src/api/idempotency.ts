import { createHash } from 'node:crypto';
import { sql } from 'slonik';
import { z } from 'zod';
import { ApiError } from '../errors.js';
import type { Db } from '../db/pool.js';

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

const stored = z.object({
  request_hash: z.string(),
  state: z.enum(['pending', 'done']),
  response_status: z.number().int().nullable(),
  response_body: z.unknown(),
});

type Reply = { status: number; body: unknown; headers?: Record<string, string> };

/**
 * Runs a write once per (operation, Idempotency-Key): a retry with the same
 * body gets the first answer back (marked Idempotent-Replayed), a different
 * body under the same key is a 422, and a retry while the first is still
 * running a 409. Failed attempts release the key so the client may retry.
 * Keys live in PostgreSQL, so every instance honours them.
 */
export async function idempotent<R extends Reply>(
  db: Db,
  ttlHours: number,
  request: { operation: string; key: string; body: unknown },
  run: () => Promise<R>,
): Promise<R> {
  const hash = createHash('sha256').update(canonical(request.body ?? null)).digest('hex');
  const { operation, key } = request;
  await db.query(sql.unsafe`
    DELETE FROM idempotency_keys
    WHERE operation = ${operation} AND key = ${key} AND created_at < now() - make_interval(hours => ${ttlHours})`);
  const claimed = await db.maybeOneFirst(sql.type(claimedKeyRow)`
    INSERT INTO idempotency_keys (operation, key, request_hash) VALUES (${operation}, ${key}, ${hash})
    ON CONFLICT DO NOTHING RETURNING key`);
  if (!claimed) {
    const previous = await db.maybeOne(sql.type(stored)`
      SELECT request_hash, state, response_status, response_body FROM idempotency_keys
      WHERE operation = ${operation} AND key = ${key}`);
    if (!previous) throw new ApiError(409, 'idempotency_in_progress', 'A request with this Idempotency-Key just finished; retry');
    if (previous.request_hash !== hash) {
      throw new ApiError(422, 'idempotency_key_reused', 'This Idempotency-Key was used with a different request body', {
        errors: [{ path: 'header.idempotency-key', message: 'header.idempotency-key was used with a different request body' }],
      });
    }
    if (previous.state === 'pending') {
      throw new ApiError(409, 'idempotency_in_progress', 'A request with this Idempotency-Key is still being processed');
    }
    return { status: previous.response_status!, body: previous.response_body, headers: { 'Idempotent-Replayed': 'true' } } as unknown as R;
  }
  try {
    const reply = await run();
    await db.query(sql.unsafe`
      UPDATE idempotency_keys SET state = 'done', response_status = ${reply.status}, response_body = ${sql.jsonb(reply.body as never)}
      WHERE operation = ${operation} AND key = ${key}`);
    return reply;
  } catch (error) {
    await db.query(sql.unsafe`DELETE FROM idempotency_keys WHERE operation = ${operation} AND key = ${key}`);
    throw error;
  }
}
