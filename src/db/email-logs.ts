import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { noRows } from './no-rows.js';

/** What was sent through Brevo outside the outbox (email_logs) and who was added to the list (list_additions). */

export type EmailLog = {
  kind: string;
  email: string;
  name: string;
  template_id: number | null;
  message_id: string | null;
  status: 'sent' | 'sandbox' | 'failed';
  error: string | null;
};

export async function insertEmailLog(q: CommonQueryMethods, log: EmailLog): Promise<void> {
  await q.query(sql.type(noRows)`
    INSERT INTO email_logs (kind, email, name, template_id, message_id, status, error)
    VALUES (${log.kind}, ${log.email}, ${log.name}, ${log.template_id}, ${log.message_id}, ${log.status}, ${log.error})`);
}

export type ListAddition = {
  email: string;
  name: string;
  phone: string | null;
  list_id: number;
  already_on_list: boolean;
  status: 'sandbox' | 'added';
};

export async function insertListAddition(q: CommonQueryMethods, a: ListAddition): Promise<void> {
  await q.query(sql.type(noRows)`
    INSERT INTO list_additions (email, name, phone, list_id, already_on_list, status)
    VALUES (${a.email}, ${a.name}, ${a.phone}, ${a.list_id}, ${a.already_on_list}, ${a.status})`);
}

const welcomeCar = z.object({ id: z.string(), created_at: z.string() });
const lockedRow = z.object({ locked: z.boolean() });
const existsRow = z.object({ sent: z.boolean() });

/** The newest car registered with this e-mail in the last `minutes`, or null. */
export function recentCarOf(q: CommonQueryMethods, email: string, minutes: number) {
  return q.maybeOne(sql.type(welcomeCar)`
    SELECT id, created_at::text AS created_at FROM "Bílar"
    WHERE email = ${email} AND created_at > now() - make_interval(mins => ${minutes})
    ORDER BY created_at DESC, id DESC LIMIT 1`);
}

/** The car's welcome advisory lock, for the rest of the transaction (it locks no row, so bids never wait for Brevo). */
export async function lockWelcome(tx: CommonQueryMethods, carId: string): Promise<void> {
  await tx.query(sql.type(lockedRow)`SELECT true AS locked FROM pg_advisory_xact_lock(hashtextextended(${`welcome:${carId}`}, 0))`);
}

/** Whether a welcome e-mail went to `email` since `since`. */
export function welcomeSentSince(tx: CommonQueryMethods, email: string, since: string): Promise<boolean> {
  return tx.oneFirst(sql.type(existsRow)`
    SELECT EXISTS (
      SELECT 1 FROM email_logs
      WHERE kind = 'welcome' AND email = ${email} AND status IN ('sent', 'sandbox') AND created_at >= ${since}::timestamptz
    ) AS sent`);
}
