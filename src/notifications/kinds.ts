/** Every e-mail the outbox sends, by kind; the templates (templates.ts) render each. */
export const EMAIL_KINDS = [
  'outbid',
  'auction_closed',
  'auction_won',
  'sale_confirmed',
  'auction_ended_unsold',
  'decision_expired',
  'dealer_approved',
  'dealer_suspended',
  'sale_step',
  'sale_overdue',
  'sale_cancelled',
  'pickup_proposed',
  'pickup_answered',
  'search_alert',
  'search_digest',
  'auction_reminder',
] as const;
export type EmailKind = (typeof EMAIL_KINDS)[number];

/**
 * E-mails about a running round (its car in `car_id`): true only while the round runs, so
 * the outbox drops one still queued when the round is over (src/auctions/outbox.ts).
 */
export const ROUND_KINDS: readonly EmailKind[] = ['search_alert', 'auction_reminder'];

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
