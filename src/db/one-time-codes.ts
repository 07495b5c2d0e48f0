import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { CODE_TTL_MINUTES, MAX_CODE_ATTEMPTS, codeMatches, hashCode } from '../domain/codes.js';
import { noRows } from './no-rows.js';

const codeIdRow = z.object({ id: z.string() });

/**
 * One-time codes kept in PostgreSQL (phone verification, seller and dealer sign-in): only a hash bound
 * to its subject is stored, a code lives CODE_TTL_MINUTES, works once, dies after
 * MAX_CODE_ATTEMPTS wrong tries, and a new code replaces the subject's open one. Checks
 * lock the code's row, so two at once can neither both use a code nor skip an attempt.
 */

type CodeTable =
  | { table: 'phone_verifications'; subject: 'phone' }
  | { table: 'seller_login_codes'; subject: 'car_id' }
  | { table: 'dealer_login_codes'; subject: 'dealer_id' };

export type CodeCheck = 'valid' | 'wrong' | 'exhausted' | 'none';

const openCode = z.object({ id: z.string(), code_hash: z.string(), attempts: z.number().int() });

export function codeStore({ table, subject }: CodeTable) {
  const T = sql.identifier([table]);
  const S = sql.identifier([subject]);
  return {
    /** Stores `code` for `key`, retiring any open one; returns the row id. */
    async issue(tx: CommonQueryMethods, key: string, code: string): Promise<string> {
      await tx.query(sql.type(noRows)`UPDATE ${T} SET consumed_at = now() WHERE ${S} = ${key} AND consumed_at IS NULL`);
      return tx.oneFirst(sql.type(codeIdRow)`
        INSERT INTO ${T} (${S}, code_hash, expires_at)
        VALUES (${key}, ${hashCode(key, code)}, now() + make_interval(mins => ${CODE_TTL_MINUTES}))
        RETURNING id`);
    },

    /** Checks `code` against the key's newest open code, counting a wrong try; call inside a transaction. */
    async check(tx: CommonQueryMethods, key: string, code: string): Promise<CodeCheck> {
      const row = await tx.maybeOne(sql.type(openCode)`
        SELECT id, code_hash, attempts FROM ${T}
        WHERE ${S} = ${key} AND consumed_at IS NULL AND expires_at > now()
        ORDER BY created_at DESC LIMIT 1
        FOR UPDATE`);
      if (!row) return 'none';
      if (codeMatches(key, code, row.code_hash)) {
        await tx.query(sql.type(noRows)`UPDATE ${T} SET consumed_at = now() WHERE id = ${row.id}`);
        return 'valid';
      }
      const attempts = row.attempts + 1;
      await tx.query(sql.type(noRows)`
        UPDATE ${T}
        SET attempts = ${attempts}, consumed_at = CASE WHEN ${attempts} >= ${MAX_CODE_ATTEMPTS} THEN now() END
        WHERE id = ${row.id}`);
      return attempts >= MAX_CODE_ATTEMPTS ? 'exhausted' : 'wrong';
    },

    /** Forgets a code that never reached its owner. */
    async discard(q: CommonQueryMethods, id: string): Promise<void> {
      await q.query(sql.type(noRows)`DELETE FROM ${T} WHERE id = ${id}`);
    },
  };
}

export const phoneCodes = codeStore({ table: 'phone_verifications', subject: 'phone' });
export const sellerCodes = codeStore({ table: 'seller_login_codes', subject: 'car_id' });
export const dealerCodes = codeStore({ table: 'dealer_login_codes', subject: 'dealer_id' });
