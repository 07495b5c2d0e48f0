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
