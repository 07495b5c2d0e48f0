import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { normaliseEmail } from '../domain/normalise.js';
import { noRows } from './no-rows.js';

/**
 * The e-mail outbox's table (email_outbox): rows are written in the same transaction as the
 * event they tell of, and claimed one at a time by the sender (src/auctions/outbox.ts).
 * The kinds and their templates live in src/notifications; here a kind is the stored text.
 */

export type OutboxInsert = {
  kind: string;
  /** One e-mail per event: a second row with the same key is dropped. */
  dedupeKey: string;
  /** The car the e-mail is about; null for e-mails about a dealer's account. */
  carId: string | null;
  toEmail: string;
  toName: string | null;
  params: Record<string, string | number | boolean | null>;
};

const outboxIdRow = z.object({ id: z.string() });

/** Inserts a row in the caller's transaction; false when that dedupe key already has one. */
export async function insertOutboxEmail(q: CommonQueryMethods, email: OutboxInsert): Promise<boolean> {
  const id = await q.maybeOneFirst(sql.type(outboxIdRow)`
    INSERT INTO email_outbox (kind, dedupe_key, car_id, to_email, to_name, params)
    VALUES (${email.kind}, ${email.dedupeKey}, ${email.carId}, ${normaliseEmail(email.toEmail, 'to_email')}, ${email.toName},
            ${sql.jsonb(email.params)})
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id`);
  return id !== null;
}

const countRow = z.object({ n: z.number().int() });

/** Inserts many rows in one statement, each dropped when its dedupe key already has one; how many went in. */
export async function insertOutboxEmails(q: CommonQueryMethods, emails: readonly OutboxInsert[]): Promise<number> {
  if (!emails.length) return 0;
  const column = <T>(pick: (e: OutboxInsert) => T) => emails.map(pick);
  return q.oneFirst(sql.type(countRow)`
    WITH added AS (
      INSERT INTO email_outbox (kind, dedupe_key, car_id, to_email, to_name, params)
      SELECT k, d, c, t, n, p::jsonb FROM unnest(
        ${sql.array(
          column((e) => e.kind),
          'text',
        )}::text[], ${sql.array(
          column((e) => e.dedupeKey),
          'text',
        )}::text[], ${sql.array(
          column((e) => e.carId),
          'uuid',
        )}::uuid[], ${sql.array(
          column((e) => normaliseEmail(e.toEmail, 'to_email')),
          'text',
        )}::text[], ${sql.array(
          column((e) => e.toName),
          'text',
        )}::text[], ${sql.array(
          column((e) => JSON.stringify(e.params)),
          'text',
        )}::text[]) AS u(k, d, c, t, n, p)
      ON CONFLICT (dedupe_key) DO NOTHING
      RETURNING 1)
    SELECT count(*)::int AS n FROM added`);
}

const outboxRow = z.object({
  id: z.string().uuid(),
  kind: z.string(),
  car_id: z.string().nullable(),
  to_email: z.string(),
  to_name: z.string().nullable(),
  params: z.record(z.unknown()),
  attempts: z.number().int(),
});
export type OutboxRow = z.infer<typeof outboxRow>;

const settingRow = z.object({ set_config: z.string() });

/**
 * Claims the next due row (FOR UPDATE SKIP LOCKED: one sender per row, whatever the number
 * of instances) for the rest of the transaction, which may stay open for `holdMs` while the
 * e-mail service answers.
 */
export async function claimDueEmail(tx: CommonQueryMethods, holdMs: number): Promise<OutboxRow | null> {
  // The lock is held across the HTTP call: allow for it, whatever the pool's idle timeout.
  await tx.query(sql.type(settingRow)`SELECT set_config('idle_in_transaction_session_timeout', ${String(holdMs)}, true)`);
  return tx.maybeOne(sql.type(outboxRow)`
    SELECT id, kind, car_id, to_email, to_name, params, attempts FROM email_outbox
    WHERE status = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at, created_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED`);
}

export async function markSent(tx: CommonQueryMethods, id: string, sent: { sandbox: boolean; messageId: string | null }): Promise<void> {
  await tx.query(sql.type(noRows)`
    UPDATE email_outbox
    SET status = ${sent.sandbox ? 'sandbox' : 'sent'}, message_id = ${sent.messageId}, attempts = attempts + 1,
        sent_at = now(), last_error = NULL
    WHERE id = ${id}`);
}

/** A done list change leaves no trace: the row named the contact and served only to reach Brevo. */
export async function deleteOutboxRow(tx: CommonQueryMethods, id: string): Promise<void> {
  await tx.query(sql.type(noRows)`DELETE FROM email_outbox WHERE id = ${id}`);
}

/** Not sent and no attempt spent: the row waits `delaySeconds`. */
export async function holdEmail(tx: CommonQueryMethods, id: string, error: string, delaySeconds: number): Promise<void> {
  await tx.query(sql.type(noRows)`
    UPDATE email_outbox SET last_error = ${error}, next_attempt_at = now() + make_interval(secs => ${delaySeconds})
    WHERE id = ${id}`);
}

export async function failEmail(tx: CommonQueryMethods, id: string, attempts: number, error: string): Promise<void> {
  await tx.query(sql.type(noRows)`
    UPDATE email_outbox SET status = 'failed', attempts = ${attempts}, last_error = ${error} WHERE id = ${id}`);
}

export async function retryEmail(tx: CommonQueryMethods, id: string, attempts: number, error: string, delaySeconds: number): Promise<void> {
  await tx.query(sql.type(noRows)`
    UPDATE email_outbox SET attempts = ${attempts}, last_error = ${error},
           next_attempt_at = now() + make_interval(secs => ${delaySeconds})
    WHERE id = ${id}`);
}
