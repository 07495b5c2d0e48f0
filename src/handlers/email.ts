import { randomBytes, randomUUID } from 'node:crypto';
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { ApiError, notConfigured, recordingFailure } from '../errors.js';
import { normaliseEmail, splitName, toE164 } from '../domain/normalise.js';
import type { Deps, Handler } from '../api/types.js';

type Contact = { name: string; email: string; phone?: string };

function phoneOrReject(phone: string | undefined, path: string): string | undefined {
  if (phone === undefined || phone.trim() === '') return undefined;
  const e164 = toE164(phone);
  if (!e164) {
    throw new ApiError(422, 'invalid_phone', `${path} is not a valid phone number`, {
      errors: [{ path, message: `${path} is not a valid phone number` }],
    });
  }
  return e164;
}

/** The welcome e-mail: Brevo template when configured, else a plain message from the sender; logged through `db`. */
async function sendWelcome(deps: Deps, kind: string, contact: Contact, db: CommonQueryMethods = deps.db) {
  const { brevo } = deps.services;
  const email = normaliseEmail(contact.email);
  const { firstName, lastName } = splitName(contact.name);
  const templateId = brevo.welcomeTemplateId;
  const log = (status: 'sent' | 'sandbox' | 'failed', messageId: string | null, error: string | null) =>
    db.query(sql.unsafe`
      INSERT INTO email_logs (kind, email, name, template_id, message_id, status, error)
      VALUES (${kind}, ${email}, ${contact.name}, ${templateId ?? null}, ${messageId}, ${status}, ${error})`);
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
        : brevo.sendEmail({
            to: { email, name: contact.name },
            subject: 'Velkomin(n) á Kaggi',
            htmlContent: `<p>Hæ ${escapeHtml(firstName)},</p><p>Takk fyrir að skrá bílinn þinn á Kaggi. Við látum þig vita þegar tilboð berast.</p>`,
          }),
    (code) => log('failed', null, code),
  );
  await log(result.sandbox ? 'sandbox' : 'sent', result.messageId, null);
  return { email, ...result };
}

/**
 * Adds or updates the contact on BREVO_LIST_ID (`doubleOptIn`: Brevo asks the address
 * first, and adds it once confirmed); an SMS number owned by another contact is left off.
 */
async function addContact(deps: Deps, contact: Contact, options: { doubleOptIn?: boolean } = {}) {
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
  await deps.db.query(sql.unsafe`
    INSERT INTO list_additions (email, name, phone, list_id, already_on_list, status)
    VALUES (${email}, ${contact.name}, ${contact.phone ?? null}, ${brevo.listId}, ${result.alreadyOnList},
            ${result.sandbox ? 'sandbox' : 'added'})`);
  return { email, ...result };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const WELCOME_WINDOW_MINUTES = 60;
const welcomeCar = z.object({ id: z.string(), created_at: z.string() });
const lockedRow = z.object({ locked: z.boolean() });
const existsRow = z.object({ sent: z.boolean() });

/**
 * The welcome e-mail goes only to the address of a car registered in the last hour, once
 * per car: anyone can call this, and it must not send Kaggi-branded mail to any address
 * (nor tell whether an address registered a car). Otherwise the answer is the same, with
 * an id of the same shape, and nothing is sent. The car's advisory lock makes two calls at
 * once send one e-mail (it locks no row, so bids on the car never wait for Brevo).
 */
async function sendWelcomeOncePerCar(deps: Deps, contact: Contact): Promise<{ messageId: string; sandbox: boolean }> {
  const email = normaliseEmail(contact.email);
  // The failure is returned, not thrown, so that its log row commits with the transaction.
  const outcome = await deps.db.transaction(
    async (tx): Promise<{ sent: { messageId: string; sandbox: boolean } } | { failed: unknown }> => {
      const car = await tx.maybeOne(sql.type(welcomeCar)`
      SELECT id, created_at::text AS created_at FROM "Bílar"
      WHERE email = ${email} AND created_at > now() - make_interval(mins => ${WELCOME_WINDOW_MINUTES})
      ORDER BY created_at DESC, id DESC LIMIT 1`);
      if (car) {
        await tx.query(sql.type(lockedRow)`SELECT true AS locked FROM pg_advisory_xact_lock(hashtextextended(${`welcome:${car.id}`}, 0))`);
        const already = await tx.oneFirst(sql.type(existsRow)`
        SELECT EXISTS (
          SELECT 1 FROM email_logs
          WHERE kind = 'welcome' AND email = ${email} AND status IN ('sent', 'sandbox') AND created_at >= ${car.created_at}::timestamptz
        ) AS sent`);
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

const sendWelcomeEmail: Handler<'sendWelcomeEmail'> = async ({ body, deps }) => {
  const phone = phoneOrReject(body.phone, 'body.phone');
  if (deps.services.brevo.mode === 'disabled') throw notConfigured('Brevo email service');
  const sent = await sendWelcomeOncePerCar(deps, { name: body.name.trim(), email: body.email, phone });
  return {
    status: 200,
    body: {
      success: true,
      message: sent.sandbox ? 'Welcome e-mail recorded (sandbox: not sent)' : 'Welcome e-mail sent',
      messageId: sent.messageId,
      sandbox: sent.sandbox,
    },
  };
};

const addToBrevoList: Handler<'addToBrevoList'> = async ({ body, deps }) => {
  const phone = phoneOrReject(body.phone, 'body.phone');
  const added = await addContact(deps, { name: body.name.trim(), email: body.email, phone }, { doubleOptIn: true });
  const message = 'Confirmation e-mail sent; the contact joins the list once confirmed';
  return {
    status: 200,
    body: {
      success: true,
      message: added.sandbox ? `${message} (sandbox)` : message,
      already_on_list: added.alreadyOnList,
      sandbox: added.sandbox,
    },
  };
};

const debugBrevo: Handler<'debugBrevo'> = async ({ deps }) => {
  const { brevo } = deps.services;
  const base = { success: true as const, configured: brevo.mode === 'live', sandbox: brevo.mode === 'sandbox', list_id: brevo.listId };
  if (brevo.mode !== 'live') return { status: 200, body: { ...base, connected: false, account: null, lists: [] } };
  // A diagnostic answers "not connected" rather than failing: that is what it is for.
  try {
    const [account, lists] = await Promise.all([brevo.getAccount(), brevo.getLists()]);
    const { sandbox: _, ...accountFields } = account;
    const present = Object.fromEntries(Object.entries(accountFields).filter(([, v]) => v !== null)) as Record<string, string>;
    return { status: 200, body: { ...base, connected: true, account: present, lists } };
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 503) throw error;
    return { status: 200, body: { ...base, connected: false, account: null, lists: [] } };
  }
};

const TEST_CONTACT = { name: 'Kaggi Prófun', email: 'test@kaggi.is' };

const testBrevoList: Handler<'testBrevoList'> = async ({ body, deps }) => {
  const added = await addContact(deps, { name: body?.name ?? TEST_CONTACT.name, email: body?.email ?? TEST_CONTACT.email });
  return {
    status: 200,
    body: { success: true, message: `Test contact ${added.email} is on list ${deps.services.brevo.listId}`, sandbox: added.sandbox },
  };
};

const testAutomationTrigger: Handler<'testAutomationTrigger'> = async ({ deps }) => {
  const added = await addContact(deps, TEST_CONTACT);
  return {
    status: 200,
    body: {
      success: true,
      message: 'Test contact added; the list automation should start for it',
      test_email: added.email,
      list_id: deps.services.brevo.listId,
      sandbox: added.sandbox,
    },
  };
};

const testRealEmail: Handler<'testRealEmail'> = async ({ body, deps }) => {
  const sent = await sendWelcome(deps, 'test', { name: body.name ?? TEST_CONTACT.name, email: body.email });
  return {
    status: 200,
    body: {
      success: true,
      message: sent.sandbox ? 'Sandbox: e-mail recorded, not sent' : 'Test e-mail sent',
      email: sent.email,
      sandbox: sent.sandbox,
    },
  };
};

export const emailHandlers = { sendWelcomeEmail, addToBrevoList, debugBrevo, testBrevoList, testAutomationTrigger, testRealEmail };
