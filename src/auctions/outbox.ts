import type { CommonQueryMethods } from 'slonik';
import type { Config } from '../config.js';
import type { Db } from '../db/pool.js';
import { roundIsOpen } from '../db/alerts.js';
import { claimDueEmail, deleteOutboxRow, failEmail, holdEmail, markSent, retryEmail, type OutboxRow } from '../db/outbox.js';
import { splitName } from '../domain/normalise.js';
import { ApiError } from '../errors.js';
import type { BrevoClient } from '../integrations/index.js';
import type { Logger } from '../logger.js';
import { EMAIL_KINDS, ROUND_KINDS, type EmailKind } from '../notifications/kinds.js';
import { render } from '../notifications/templates.js';

/**
 * The e-mail outbox's sender. Use cases queue a row in the same transaction as the
 * event itself (`queueEmail`, src/notifications), so an e-mail is never lost when the
 * event commits; `flushOutbox` sends due rows through Brevo.
 *
 * Never twice: a row is claimed with FOR UPDATE SKIP LOCKED (one sender per
 * row, whatever the number of instances), sent, and marked in the same
 * transaction; the row id also goes to Brevo as its idempotency key, so even a
 * crash between Brevo's answer and the commit does not send it again.
 */

/** Seconds to wait before attempt `attempt + 1` after `attempt` failures: base · 2^(attempt−1), at most `max`. */
export function retryDelaySeconds(attempt: number, baseSeconds: number, maxSeconds: number): number {
  return Math.min(maxSeconds, baseSeconds * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
}

/** `dropped`: an e-mail about a round that is over by the time it would go (ROUND_KINDS), deleted unsent. */
export type FlushResult = { sent: number; sandbox: number; retrying: number; failed: number; held: number; dropped: number };

type FlushDeps = {
  db: Db;
  brevo: BrevoClient;
  config: Pick<
    Config,
    | 'BREVO_OUTBID_TEMPLATE_ID'
    | 'BREVO_TIMEOUT_MS'
    | 'OUTBOX_BATCH_SIZE'
    | 'OUTBOX_MAX_ATTEMPTS'
    | 'OUTBOX_RETRY_BASE_SECONDS'
    | 'OUTBOX_RETRY_MAX_SECONDS'
  >;
  logger: Logger;
};

type Outcome = keyof FlushResult;

/**
 * Sends up to OUTBOX_BATCH_SIZE due e-mails, one row per transaction (the row
 * lock is held while Brevo answers, at most BREVO_TIMEOUT_MS). With Brevo
 * disabled (production without a key) nothing is claimed: the rows wait,
 * untouched, for a configured server.
 */
export async function flushOutbox({ db, brevo, config, logger }: FlushDeps): Promise<FlushResult> {
  const result: FlushResult = { sent: 0, sandbox: 0, retrying: 0, failed: 0, held: 0, dropped: 0 };
  if (brevo.mode === 'disabled') return result;
  for (let i = 0; i < config.OUTBOX_BATCH_SIZE; i += 1) {
    const outcome = await db.transaction(async (tx): Promise<Outcome | null> => {
      const row = await claimDueEmail(tx, config.BREVO_TIMEOUT_MS + 10_000);
      if (!row) return null;
      // An alert or a reminder is true only while its round runs: one that waited past it says nothing true.
      if ((ROUND_KINDS as readonly string[]).includes(row.kind) && !(await roundIsOpen(tx, row.car_id))) {
        await deleteOutboxRow(tx, row.id);
        logger.info('outbox e-mail dropped: its round is over', { outbox_id: row.id, kind: row.kind });
        return 'dropped';
      }
      try {
        if (row.kind === 'newsletter_signup' || row.kind === 'newsletter_removal') {
          const done = await changeList(brevo, row);
          await deleteOutboxRow(tx, row.id);
          logger.info('outbox list change done', { outbox_id: row.id, kind: row.kind, sandbox: done.sandbox });
          return done.sandbox ? 'sandbox' : 'sent';
        }
        const sent = await send(brevo, config, row);
        await markSent(tx, row.id, sent);
        logger.info('outbox e-mail sent', { outbox_id: row.id, kind: row.kind, sandbox: sent.sandbox });
        return sent.sandbox ? 'sandbox' : 'sent';
      } catch (error) {
        return recordFailure(tx, config, logger, row, error);
      }
    });
    if (outcome === null) break;
    result[outcome] += 1;
  }
  return result;
}

async function recordFailure(
  tx: CommonQueryMethods,
  config: FlushDeps['config'],
  logger: Logger,
  row: OutboxRow,
  error: unknown,
): Promise<Outcome> {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError ? error.code : 'internal_error';
  if (code === 'not_configured') {
    // A missing setting (e.g. BREVO_SENDER_EMAIL): no attempt is spent, the row waits the longest delay.
    await holdEmail(tx, row.id, message, config.OUTBOX_RETRY_MAX_SECONDS);
    logger.warn('outbox e-mail held: e-mail is not fully configured', { outbox_id: row.id, kind: row.kind, error: message });
    return 'held';
  }
  const attempts = row.attempts + 1;
  // Brevo refusing the address will not change with time; anything else may.
  const permanent = code === 'invalid_email';
  if (permanent || attempts >= config.OUTBOX_MAX_ATTEMPTS) {
    await failEmail(tx, row.id, attempts, message);
    logger.error('outbox e-mail failed for good', { outbox_id: row.id, kind: row.kind, attempts, error: message });
    return 'failed';
  }
  const retryAfter = error instanceof ApiError ? Number(error.headers?.['Retry-After'] ?? 0) : 0;
  const delay = Math.max(
    retryDelaySeconds(attempts, config.OUTBOX_RETRY_BASE_SECONDS, config.OUTBOX_RETRY_MAX_SECONDS),
    Number.isFinite(retryAfter) ? retryAfter : 0,
  );
  await retryEmail(tx, row.id, attempts, message, delay);
  logger.warn('outbox e-mail not sent, will retry', { outbox_id: row.id, kind: row.kind, attempts, retry_in_s: delay, error: message });
  return 'retrying';
}

/** The newsletter list follows consent: a sign-up (double opt-in when Brevo has the template) or a removal. */
async function changeList(brevo: BrevoClient, row: OutboxRow): Promise<{ sandbox: boolean }> {
  if (row.kind === 'newsletter_removal') return brevo.removeFromList(row.to_email);
  const { firstName, lastName } = splitName(row.to_name ?? '');
  return brevo.upsertContact({ email: row.to_email, firstName, lastName });
}

function send(brevo: BrevoClient, config: FlushDeps['config'], row: OutboxRow) {
  const to = { email: row.to_email, ...(row.to_name ? { name: row.to_name } : {}) };
  if (row.kind === 'outbid' && config.BREVO_OUTBID_TEMPLATE_ID) {
    return brevo.sendTemplateEmail({ to, templateId: config.BREVO_OUTBID_TEMPLATE_ID, params: row.params, idempotencyKey: row.id });
  }
  const { subject, html } = render(kindOf(row), row.params);
  return brevo.sendEmail({ to, subject, htmlContent: html, idempotencyKey: row.id });
}

/** A kind this build does not know (a newer instance queued it) fails the send and is retried, as an outage would be. */
function kindOf(row: OutboxRow): EmailKind {
  if (!(EMAIL_KINDS as readonly string[]).includes(row.kind)) throw new Error(`unknown e-mail kind ${row.kind}`);
  return row.kind as EmailKind;
}
