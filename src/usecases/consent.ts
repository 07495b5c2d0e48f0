import { randomUUID } from 'node:crypto';
import type { CommonQueryMethods } from 'slonik';
import { insertConsent, latestConsent } from '../db/consents.js';
import { carEmail, dealersOf } from '../db/privacy.js';
import { notFound, validationFailed } from '../errors.js';
import { insertOutboxEmail } from '../db/outbox.js';
import type { Deps } from '../deps.js';

/**
 * Consent as given (migration 013: a row per change, never overwritten), and the newsletter
 * list following it: a contact joins BREVO_LIST_ID only with `newsletter: true`, and leaves
 * it through the outbox when that is withdrawn or the person erased.
 */

export type ConsentInput = { terms_version?: string; newsletter?: boolean } | undefined;
export type Consent = { terms_version: string | null; newsletter: boolean };

/** The registration's consent; 422 without terms where consent is required (production, or CONSENT_REQUIRED). */
export function readConsent(deps: Pick<Deps, 'config'>, input: ConsentInput, path: string): Consent | null {
  const required = deps.config.NODE_ENV === 'production' || deps.config.CONSENT_REQUIRED;
  const terms = input?.terms_version?.trim() || null;
  if (required && !terms) {
    throw validationFailed([{ path: `${path}.terms_version`, message: `${path}.terms_version is required: the terms must be accepted` }]);
  }
  if (!input) return null;
  return { terms_version: terms, newsletter: input.newsletter === true };
}

/** Queues the list change for `email` in the caller's transaction (the outbox sends it to Brevo). */
export function queueListChange(tx: CommonQueryMethods, email: string, join: boolean, name: string | null) {
  return insertOutboxEmail(tx, {
    kind: join ? 'newsletter_signup' : 'newsletter_removal',
    // Never the e-mail: the key outlives nothing, but it is no place for personal data.
    dedupeKey: `newsletter:${randomUUID()}`,
    carId: null,
    toEmail: email,
    toName: join ? name : null,
    params: {},
  });
}

/** Records a registration's consent with the car or the dealer, in the registration's transaction. */
export async function recordRegistrationConsent(
  tx: CommonQueryMethods,
  who: { carId: string } | { dealerId: string },
  consent: Consent,
  contact: { email: string | null; name: string },
) {
  const seller = 'carId' in who;
  await insertConsent(tx, {
    subject_kind: seller ? 'seller' : 'dealer',
    car_id: seller ? who.carId : null,
    dealer_id: seller ? null : who.dealerId,
    email: null,
    terms_version: consent.terms_version,
    newsletter: consent.newsletter,
    source: seller ? 'car_registration' : 'dealer_registration',
  });
  if (consent.newsletter && contact.email) await queueListChange(tx, contact.email, true, contact.name);
}

/** The list sign-up of `POST /api/add-to-brevo-list`: consent to the newsletter on record. */
export function recordListConsent(deps: Pick<Deps, 'db'>, email: string) {
  return insertConsent(deps.db, {
    subject_kind: 'contact',
    car_id: null,
    dealer_id: null,
    email,
    terms_version: null,
    newsletter: true,
    source: 'brevo_list',
  });
}

/**
 * A seller or dealer changes the newsletter consent: a new row (the terms accepted carried
 * over), and the list joined or left through the outbox when it changes.
 */
export async function changeNewsletterConsent(
  deps: Pick<Deps, 'db'>,
  who: { carId: string } | { dealerEmail: string },
  newsletter: boolean,
): Promise<{ newsletter: boolean; changed: boolean }> {
  return deps.db.transaction(async (tx) => {
    const seller = 'carId' in who;
    const email = seller ? await carEmail(tx, who.carId) : who.dealerEmail;
    const dealerId = seller ? null : ((await dealersOf(tx, { emails: [who.dealerEmail], phones: [] }))[0]?.id ?? null);
    if (!seller && !dealerId) throw notFound('Dealer');
    const latest = await latestConsent(tx, seller ? { carId: who.carId } : { dealerId: dealerId! });
    const before = latest?.newsletter ?? false;
    await insertConsent(tx, {
      subject_kind: seller ? 'seller' : 'dealer',
      car_id: seller ? who.carId : null,
      dealer_id: dealerId,
      email: null,
      terms_version: latest?.terms_version ?? null,
      newsletter,
      source: 'change',
    });
    // Withdrawing removes the contact even if the list had it from elsewhere (an old sign-up).
    if (email && (newsletter !== before || !newsletter)) await queueListChange(tx, email, newsletter, null);
    return { newsletter, changed: newsletter !== before };
  });
}
