import { randomBytes, randomUUID } from 'node:crypto';
import type { CommonQueryMethods } from 'slonik';
import { ApiError, recordingFailure } from '../errors.js';
import { normaliseEmail, splitName } from '../domain/normalise.js';
import { insertEmailLog, insertListAddition, lockWelcome, recentCarOf, welcomeSentSince } from '../db/email-logs.js';
import type { Deps } from '../deps.js';
import { welcomeEmail } from '../notifications/templates.js';

/** E-mail outside the outbox: the welcome e-mail, the mailing list, and Brevo's diagnostics. */

export type Contact = { name: string; email: string; phone?: string };

/** The welcome e-mail: Brevo template when configured, else a plain message from the sender; logged through `db`. */
export async function sendWelcome(deps: Deps, kind: string, contact: Contact, db: CommonQueryMethods = deps.db) {
  const { brevo } = deps.services;
  const email = normaliseEmail(contact.email);
  const { firstName, lastName } = splitName(contact.name);
  const templateId = brevo.welcomeTemplateId;
  const log = (status: 'sent' | 'sandbox' | 'failed', messageId: string | null, error: string | null) =>
    insertEmailLog(db, { kind, email, name: contact.name, template_id: templateId ?? null, message_id: messageId, status, error });
  const plain = welcomeEmail({ first_name: firstName });
  const result = await recordingFailure(
    () =>
      templateId
        ? brevo.sendTemplateEmail({
            to: { email, name: contact.name },
            templateId,
            params: {
              FIRSTNAME: firstName,
              LASTNAME: lastName,
              NAME: contact.name,
              EMAIL: email,
              ...(contact.phone ? { SMS: contact.phone } : {}),
            },
          })
        : brevo.sendEmail({ to: { email, name: contact.name }, subject: plain.subject, htmlContent: plain.html }),
    (code) => log('failed', null, code),
  );
  await log(result.sandbox ? 'sandbox' : 'sent', result.messageId, null);
  return { email, ...result };
}

/**
 * Adds or updates the contact on BREVO_LIST_ID (`doubleOptIn`: Brevo asks the address
 * first, and adds it once confirmed); an SMS number owned by another contact is left off.
 */
export async function addContact(deps: Deps, contact: Contact, options: { doubleOptIn?: boolean } = {}) {
  const { brevo } = deps.services;
  const email = normaliseEmail(contact.email);
  const { firstName, lastName } = splitName(contact.name);
  const upsert = (sms?: string) =>
    options.doubleOptIn
      ? brevo.requestDoubleOptIn({ email, firstName, lastName, sms })
      : brevo.upsertContact({ email, firstName, lastName, sms });
  let result;
  try {
    result = await upsert(contact.phone);
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 'duplicate_contact')) throw error;
    result = await upsert(undefined);
  }
  // With double opt-in the row records the sign-up handed to Brevo; the contact joins the list when it confirms.
  await insertListAddition(deps.db, {
    email,
    name: contact.name,
    phone: contact.phone ?? null,
    list_id: brevo.listId,
    already_on_list: result.alreadyOnList,
    status: result.sandbox ? 'sandbox' : 'added',
  });
  return { email, ...result };
}

const WELCOME_WINDOW_MINUTES = 60;

/**
 * The welcome e-mail goes only to the address of a car registered in the last hour, once
 * per car: anyone can call this, and it must not send Kaggi-branded mail to any address
 * (nor tell whether an address registered a car). Otherwise the answer is the same, with
 * an id of the same shape, and nothing is sent. The car's advisory lock makes two calls at
 * once send one e-mail (it locks no row, so bids on the car never wait for Brevo).
 */
export async function sendWelcomeOncePerCar(deps: Deps, contact: Contact): Promise<{ messageId: string; sandbox: boolean }> {
  const email = normaliseEmail(contact.email);
  // The failure is returned, not thrown, so that its log row commits with the transaction.
  const outcome = await deps.db.transaction(
    async (tx): Promise<{ sent: { messageId: string; sandbox: boolean } } | { failed: unknown }> => {
      const car = await recentCarOf(tx, email, WELCOME_WINDOW_MINUTES);
      if (car) {
        await lockWelcome(tx, car.id);
        const already = await welcomeSentSince(tx, email, car.created_at);
        if (!already)
          return sendWelcome(deps, 'welcome', contact, tx).then(
            (sent) => ({ sent }),
            (failed: unknown) => ({ failed }),
          );
      }
      const sandbox = deps.services.brevo.mode !== 'live';
      return {
        sent: {
          messageId: sandbox ? `sandbox-${randomUUID()}` : `<${Date.now()}.${randomBytes(6).toString('hex')}@smtp-relay.mailin.fr>`,
          sandbox,
        },
      };
    },
  );
  if ('failed' in outcome) throw outcome.failed;
  return outcome.sent;
}

/** Whether Brevo answers with this configuration; "not connected" rather than a failure: that is what it is for. */
export async function brevoDiagnostics(deps: Pick<Deps, 'services'>) {
  const { brevo } = deps.services;
  const base = { success: true as const, configured: brevo.mode === 'live', sandbox: brevo.mode === 'sandbox', list_id: brevo.listId };
  if (brevo.mode !== 'live') return { ...base, connected: false, account: null, lists: [] };
  // A diagnostic answers "not connected" rather than failing: that is what it is for.
  try {
    const [account, lists] = await Promise.all([brevo.getAccount(), brevo.getLists()]);
    const { sandbox: _, ...accountFields } = account;
    const present = Object.fromEntries(Object.entries(accountFields).filter(([, v]) => v !== null)) as Record<string, string>;
    return { ...base, connected: true, account: present, lists };
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 503) throw error;
    return { ...base, connected: false, account: null, lists: [] };
  }
}
