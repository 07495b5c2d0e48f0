import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Db } from '../db/pool.js';
import { ApiError } from '../errors.js';
import { normaliseEmail } from '../domain/normalise.js';
import type { BrevoClient } from '../integrations/index.js';
import type { Logger } from '../logger.js';

const outboxIdRow = z.object({ id: z.string() });

/**
 * The e-mail outbox. Auction events write a row in the same transaction as the
 * event itself (`enqueueEmail`), so an e-mail is never lost when the event
 * commits; `flushOutbox` sends due rows through Brevo.
 *
 * Never twice: a row is claimed with FOR UPDATE SKIP LOCKED (one sender per
 * row, whatever the number of instances), sent, and marked in the same
 * transaction; the row id also goes to Brevo as its idempotency key, so even a
 * crash between Brevo's answer and the commit does not send it again.
 */

export const EMAIL_KINDS = [
  'outbid',
  'auction_closed',
  'auction_won',
  'sale_confirmed',
  'auction_ended_unsold',
  'decision_expired',
  'dealer_approved',
  'dealer_suspended',
] as const;
export type EmailKind = (typeof EMAIL_KINDS)[number];

export type OutboxEmail = {
  kind: EmailKind;
  /** One e-mail per event: a second row with the same key is dropped. */
  dedupeKey: string;
  /** The car the e-mail is about; null for e-mails about a dealer's account. */
  carId: string | null;
  toEmail: string;
  toName: string | null;
  params: Record<string, string | number | boolean | null>;
};

/** Queues an e-mail inside the caller's transaction. Returns false when that event already has its e-mail. */
export async function enqueueEmail(q: CommonQueryMethods, email: OutboxEmail): Promise<boolean> {
  const id = await q.maybeOneFirst(sql.type(outboxIdRow)`
    INSERT INTO email_outbox (kind, dedupe_key, car_id, to_email, to_name, params)
    VALUES (${email.kind}, ${email.dedupeKey}, ${email.carId}, ${normaliseEmail(email.toEmail, 'to_email')}, ${email.toName},
            ${sql.jsonb(email.params)})
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id`);
  return id !== null;
}

/** Seconds to wait before attempt `attempt + 1` after `attempt` failures: base · 2^(attempt−1), at most `max`. */
export function retryDelaySeconds(attempt: number, baseSeconds: number, maxSeconds: number): number {
  return Math.min(maxSeconds, baseSeconds * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
}

const outboxRow = z.object({
  id: z.string().uuid(),
  kind: z.enum(EMAIL_KINDS),
  to_email: z.string(),
  to_name: z.string().nullable(),
  params: z.record(z.unknown()),
  attempts: z.number().int(),
});
type OutboxRow = z.infer<typeof outboxRow>;

export type FlushResult = { sent: number; sandbox: number; retrying: number; failed: number; held: number };

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
  const result: FlushResult = { sent: 0, sandbox: 0, retrying: 0, failed: 0, held: 0 };
  if (brevo.mode === 'disabled') return result;
  for (let i = 0; i < config.OUTBOX_BATCH_SIZE; i += 1) {
    const outcome = await db.transaction(async (tx): Promise<Outcome | null> => {
      // The lock is held across the HTTP call: allow for it, whatever the pool's idle timeout.
      await tx.query(sql.unsafe`
        SELECT set_config('idle_in_transaction_session_timeout', ${String(config.BREVO_TIMEOUT_MS + 10_000)}, true)`);
      const row = await tx.maybeOne(sql.type(outboxRow)`
        SELECT id, kind, to_email, to_name, params, attempts FROM email_outbox
        WHERE status = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at, created_at
        LIMIT 1
        FOR UPDATE SKIP LOCKED`);
      if (!row) return null;
      try {
        const sent = await send(brevo, config, row);
        await tx.query(sql.unsafe`
          UPDATE email_outbox
          SET status = ${sent.sandbox ? 'sandbox' : 'sent'}, message_id = ${sent.messageId}, attempts = attempts + 1,
              sent_at = now(), last_error = NULL
          WHERE id = ${row.id}`);
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
    await tx.query(sql.unsafe`
      UPDATE email_outbox SET last_error = ${message},
             next_attempt_at = now() + make_interval(secs => ${config.OUTBOX_RETRY_MAX_SECONDS})
      WHERE id = ${row.id}`);
    logger.warn('outbox e-mail held: e-mail is not fully configured', { outbox_id: row.id, kind: row.kind, error: message });
    return 'held';
  }
  const attempts = row.attempts + 1;
  // Brevo refusing the address will not change with time; anything else may.
  const permanent = code === 'invalid_email';
  if (permanent || attempts >= config.OUTBOX_MAX_ATTEMPTS) {
    await tx.query(sql.unsafe`
      UPDATE email_outbox SET status = 'failed', attempts = ${attempts}, last_error = ${message} WHERE id = ${row.id}`);
    logger.error('outbox e-mail failed for good', { outbox_id: row.id, kind: row.kind, attempts, error: message });
    return 'failed';
  }
  const retryAfter = error instanceof ApiError ? Number(error.headers?.['Retry-After'] ?? 0) : 0;
  const delay = Math.max(
    retryDelaySeconds(attempts, config.OUTBOX_RETRY_BASE_SECONDS, config.OUTBOX_RETRY_MAX_SECONDS),
    Number.isFinite(retryAfter) ? retryAfter : 0,
  );
  await tx.query(sql.unsafe`
    UPDATE email_outbox SET attempts = ${attempts}, last_error = ${message},
           next_attempt_at = now() + make_interval(secs => ${delay})
    WHERE id = ${row.id}`);
  logger.warn('outbox e-mail not sent, will retry', { outbox_id: row.id, kind: row.kind, attempts, retry_in_s: delay, error: message });
  return 'retrying';
}

function send(brevo: BrevoClient, config: FlushDeps['config'], row: OutboxRow) {
  const to = { email: row.to_email, ...(row.to_name ? { name: row.to_name } : {}) };
  if (row.kind === 'outbid' && config.BREVO_OUTBID_TEMPLATE_ID) {
    return brevo.sendTemplateEmail({ to, templateId: config.BREVO_OUTBID_TEMPLATE_ID, params: row.params, idempotencyKey: row.id });
  }
  const { subject, html } = render(row.kind, row.params);
  return brevo.sendEmail({ to, subject, htmlContent: html, idempotencyKey: row.id });
}

// ---------- plain e-mails (no template) ----------

const escapeHtml = (value: unknown) =>
  String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const formatIsk = (amount: unknown) => (typeof amount === 'number' ? `${new Intl.NumberFormat('is-IS').format(amount)} kr.` : '–');

const formatTime = (iso: unknown) =>
  typeof iso === 'string'
    ? new Date(iso).toLocaleString('is-IS', { timeZone: 'Atlantic/Reykjavik', dateStyle: 'medium', timeStyle: 'short' })
    : '–';

/** Subject and HTML of an e-mail sent without a Brevo template (Icelandic, like the frontend). */
export function render(kind: EmailKind, p: Record<string, unknown>): { subject: string; html: string } {
  const car = `${p.car_make} ${p.car_model} (${p.car_plate})`;
  if (kind === 'outbid') {
    return {
      subject: `Yfirboðið: ${car}`,
      html:
        `<p>Sæl/l ${escapeHtml(p.dealer_name)},</p>` +
        `<p>Annar söluaðili hefur boðið betur í <strong>${escapeHtml(car)}</strong>, árgerð ${escapeHtml(p.year)}.</p>` +
        `<p>Hæsta boð er nú ${escapeHtml(formatIsk(p.highest_bid))}; næsta leyfilega boð er ${escapeHtml(formatIsk(p.min_next_bid))}.</p>` +
        `<p>Uppboðinu lýkur ${escapeHtml(formatTime(p.auction_ends_at))}.</p>` +
        `<p>Kveðja,<br>Kaggi</p>`,
    };
  }
  if (kind === 'dealer_approved') {
    return {
      subject: 'Aðgangur samþykktur: Kaggi',
      html:
        `<p>Sæl/l ${escapeHtml(p.dealer_name)},</p>` +
        `<p>Aðgangur ${escapeHtml(p.dealer_name)} að Kaggi hefur verið samþykktur. Nú getur þú boðið í bíla.</p>` +
        `<p>Kveðja,<br>Kaggi</p>`,
    };
  }
  if (kind === 'dealer_suspended') {
    return {
      subject: 'Aðgangi lokað tímabundið: Kaggi',
      html:
        `<p>Sæl/l ${escapeHtml(p.dealer_name)},</p>` +
        `<p>Aðgangi ${escapeHtml(p.dealer_name)} að Kaggi hefur verið lokað tímabundið; þú getur ekki boðið í bíla á meðan.` +
        (p.reason ? ` Ástæða: ${escapeHtml(p.reason)}` : '') +
        `</p><p>Hafðu samband við okkur ef þú hefur spurningar.</p>` +
        `<p>Kveðja,<br>Kaggi</p>`,
    };
  }
  if (kind === 'auction_won') {
    return {
      subject: `Þú keyptir: ${car}`,
      html:
        `<p>Sæl/l ${escapeHtml(p.dealer_name)},</p>` +
        `<p>Seljandinn hefur tekið boði þínu, ${escapeHtml(formatIsk(p.sold_for))}, í <strong>${escapeHtml(car)}</strong>, árgerð ${escapeHtml(p.year)}.</p>` +
        `<p>Við höfum samband um afhendingu.</p>` +
        `<p>Kveðja,<br>Kaggi</p>`,
    };
  }
  if (kind === 'sale_confirmed') {
    return {
      subject: `Bíllinn er seldur: ${car}`,
      html:
        `<p>Sæl/l ${escapeHtml(p.seller_name)},</p>` +
        `<p><strong>${escapeHtml(car)}</strong> er seldur fyrir ${escapeHtml(formatIsk(p.sold_for))}.</p>` +
        `<p>Við höfum samband um afhendingu og greiðslu.</p>` +
        `<p>Kveðja,<br>Kaggi</p>`,
    };
  }
  if (kind === 'auction_ended_unsold') {
    const why =
      {
        declined: 'Seljandinn hafnaði boðunum',
        withdrawn: 'Seljandinn dró bílinn til baka',
        expired: 'Seljandinn tók ekki afstöðu í tæka tíð',
      }[String(p.status) as 'declined' | 'withdrawn' | 'expired'] ?? 'Uppboðinu lauk án sölu';
    return {
      subject: `Uppboði lokið án sölu: ${car}`,
      html:
        `<p>Sæl/l ${escapeHtml(p.dealer_name)},</p>` +
        `<p>${escapeHtml(why)}: <strong>${escapeHtml(car)}</strong> verður ekki seldur í þessu uppboði.</p>` +
        `<p>Kveðja,<br>Kaggi</p>`,
    };
  }
  if (kind === 'decision_expired') {
    return {
      subject: `Frestur til að svara liðinn: ${car}`,
      html:
        `<p>Sæl/l ${escapeHtml(p.seller_name)},</p>` +
        `<p>Frestur til að taka hæsta boði í <strong>${escapeHtml(car)}</strong> er liðinn og boðin falla niður.</p>` +
        `<p>Hafðu samband ef þú vilt bjóða bílinn upp aftur.</p>` +
        `<p>Kveðja,<br>Kaggi</p>`,
    };
  }
  const outcome =
    typeof p.highest_bid === 'number'
      ? `Hæsta boð var ${escapeHtml(formatIsk(p.highest_bid))} (${escapeHtml(p.bid_count)} boð)` +
        (p.reserve_met ? '.' : ', undir lágmarksverðinu þínu.')
      : 'Ekkert boð barst.';
  const decide =
    typeof p.highest_bid === 'number' && typeof p.decision_due_at === 'string'
      ? `<p>Þú getur tekið hæsta boði eða hafnað því á „Mín síða“ (bílnúmer og netfang) til ${escapeHtml(formatTime(p.decision_due_at))}.</p>`
      : '<p>Við höfum samband við þig um framhaldið.</p>';
  return {
    subject: `Uppboði lokið: ${car}`,
    html:
      `<p>Sæl/l ${escapeHtml(p.seller_name)},</p>` +
      `<p>Uppboðinu á <strong>${escapeHtml(car)}</strong> er lokið. ${outcome}</p>` +
      decide +
      `<p>Kveðja,<br>Kaggi</p>`,
  };
}
