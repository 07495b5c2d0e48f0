import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { ApiError, notConfigured, upstreamUnavailable } from '../errors.js';
import type { Logger } from '../logger.js';
import { field, requestJson, retryAfterSeconds, stringField, type HttpResponse } from './http.js';
import { maskEmail } from '../domain/privacy.js';
import { resolveMode, type IntegrationMode } from './mode.js';

/**
 * Brevo (ex-Sendinblue): transactional e-mail and the marketing contact list.
 * Header `api-key`; base BREVO_API_BASE; every request bounded by BREVO_TIMEOUT_MS.
 */

const SERVICE = 'Brevo';

export type EmailRecipient = { email: string; name?: string };
export type SendResult = { messageId: string; sandbox: boolean };
export type UpsertResult = { alreadyOnList: boolean; sandbox: boolean };
export type BrevoAccount = { email: string | null; company_name: string | null; plan: string | null; sandbox: boolean };
export type BrevoList = { id: number; name: string; totalSubscribers: number };
export type BrevoStatus = { mode: IntegrationMode; configured: boolean; sandbox: boolean; listId: number };

export interface BrevoClient {
  readonly mode: IntegrationMode;
  /** BREVO_LIST_ID, the list upsertContact adds contacts to. */
  readonly listId: number;
  /** BREVO_WELCOME_TEMPLATE_ID, if configured. */
  readonly welcomeTemplateId: number | undefined;
  /** `idempotencyKey` (a UUID): Brevo sends one e-mail per key, however often the request is repeated (TTL ~15 min). */
  sendTemplateEmail(input: {
    to: EmailRecipient;
    templateId: number;
    params?: Record<string, unknown>;
    idempotencyKey?: string;
  }): Promise<SendResult>;
  sendEmail(input: { to: EmailRecipient; subject: string; htmlContent: string; idempotencyKey?: string }): Promise<SendResult>;
  upsertContact(input: { email: string; firstName: string; lastName?: string; sms?: string }): Promise<UpsertResult>;
  /**
   * Double opt-in: Brevo e-mails the address its confirmation (BREVO_DOI_TEMPLATE_ID) and
   * adds the contact to BREVO_LIST_ID only once they have confirmed.
   */
  requestDoubleOptIn(input: { email: string; firstName: string; lastName?: string; sms?: string }): Promise<UpsertResult>;
  /** Takes the contact off BREVO_LIST_ID (newsletter consent withdrawn, or the person erased); a contact Brevo does not have is no error. */
  removeFromList(email: string): Promise<{ sandbox: boolean }>;
  getAccount(): Promise<BrevoAccount>;
  getLists(): Promise<BrevoList[]>;
  status(): BrevoStatus;
}

/** Maps a non-2xx Brevo answer (its body is `{code, message}`) to an ApiError. */
function brevoError(res: HttpResponse, action: string, logger: Logger): ApiError {
  const code = stringField(res.body, 'code');
  const message = stringField(res.body, 'message') ?? '';
  logger.warn('brevo request refused', { action, status: res.status, code, message });
  if (res.status === 400) {
    if (code === 'duplicate_parameter') {
      return new ApiError(409, 'duplicate_contact', 'This phone number already belongs to another contact on the mailing list');
    }
    if (/e-?mail/i.test(message) && !/sender/i.test(message)) {
      return new ApiError(422, 'invalid_email', 'The email service rejected this email address');
    }
    return upstreamUnavailable(SERVICE, `Brevo rejected the ${action} request (${code ?? 'bad_request'})`);
  }
  if (res.status === 401) {
    return upstreamUnavailable(SERVICE, 'Brevo refused the configured API key (BREVO_API_KEY); the email service is unavailable');
  }
  if (res.status === 403) {
    return upstreamUnavailable(SERVICE, 'Brevo refused the request (account or IP address not authorised)');
  }
  if (res.status === 404) {
    return upstreamUnavailable(SERVICE, `Brevo could not find a resource for ${action} (check template and list ids)`);
  }
  if (res.status === 429) {
    const seconds = retryAfterSeconds(res.headers.get('retry-after') ?? res.headers.get('x-sib-ratelimit-reset'), 60);
    return new ApiError(503, 'upstream_unavailable', 'Brevo is rate limiting this server, try again later', {
      headers: { 'Retry-After': String(seconds) },
    });
  }
  return upstreamUnavailable(SERVICE, `Brevo answered ${action} with HTTP ${res.status}`);
}

export function createBrevo(config: Config, logger: Logger): BrevoClient {
  const configured = Boolean(config.BREVO_API_KEY);
  const mode = resolveMode(configured, config);
  logger.info('brevo mode', { mode });
  if (mode === 'live' && !config.BREVO_SENDER_EMAIL) {
    logger.warn('brevo: BREVO_SENDER_EMAIL not set, plain sendEmail is unavailable (templates use their own sender)');
  }

  const base = config.BREVO_API_BASE.replace(/\/+$/, '');
  const listId = config.BREVO_LIST_ID;
  const sender = config.BREVO_SENDER_EMAIL ? { email: config.BREVO_SENDER_EMAIL, name: config.BREVO_SENDER_NAME } : undefined;

  function call(method: 'GET' | 'POST', path: string, json?: unknown) {
    return requestJson({
      service: SERVICE,
      url: `${base}${path}`,
      method,
      headers: { 'api-key': config.BREVO_API_KEY! },
      json,
      timeoutMs: config.BREVO_TIMEOUT_MS,
    });
  }

  function guard(): void {
    if (mode === 'disabled') throw notConfigured('Brevo email service');
  }

  function sandboxSend(action: string, to: EmailRecipient, extra: Record<string, unknown>): SendResult {
    const messageId = `sandbox-${randomUUID()}`;
    logger.info('brevo sandbox: email not sent', { action, to: maskEmail(to.email), messageId, ...extra });
    return { messageId, sandbox: true };
  }

  async function send(payload: Record<string, unknown>, action: string): Promise<SendResult> {
    const res = await call('POST', '/smtp/email', payload);
    if (res.status < 200 || res.status >= 300) throw brevoError(res, action, logger);
    const ids = field(res.body, 'messageIds');
    const messageId = stringField(res.body, 'messageId') ?? (Array.isArray(ids) && typeof ids[0] === 'string' ? ids[0] : null);
    if (!messageId) throw upstreamUnavailable(SERVICE, 'Brevo accepted the email but returned no message id');
    return { messageId, sandbox: false };
  }

  const recipient = (to: EmailRecipient) => (to.name ? { email: to.email, name: to.name } : { email: to.email });
  const idempotency = (key?: string) => (key ? { headers: { idempotencyKey: key } } : {});

  return {
    mode,
    listId,
    welcomeTemplateId: config.BREVO_WELCOME_TEMPLATE_ID,
    status: () => ({ mode, configured, sandbox: mode === 'sandbox', listId }),

    async sendTemplateEmail({ to, templateId, params, idempotencyKey }) {
      guard();
      if (mode === 'sandbox') return sandboxSend('template email', to, { templateId });
      // The template's own sender applies (Brevo templates carry one).
      return send({ to: [recipient(to)], templateId, ...(params ? { params } : {}), ...idempotency(idempotencyKey) }, 'template email');
    },

    async sendEmail({ to, subject, htmlContent, idempotencyKey }) {
      guard();
      if (mode === 'sandbox') return sandboxSend('email', to, { subject });
      if (!sender) throw notConfigured('Brevo sender address (BREVO_SENDER_EMAIL)');
      return send({ sender, to: [recipient(to)], subject, htmlContent, ...idempotency(idempotencyKey) }, 'email');
    },

    async upsertContact({ email, firstName, lastName, sms }) {
      guard();
      if (mode === 'sandbox') {
        logger.info('brevo sandbox: contact not stored', { email: maskEmail(email), listId });
        return { alreadyOnList: false, sandbox: true };
      }
      const attributes: Record<string, string> = { FIRSTNAME: firstName, LASTNAME: lastName ?? '' };
      if (sms) attributes.SMS = sms;
      const res = await call('POST', '/contacts', { email, attributes, listIds: [listId], updateEnabled: true });
      if (res.status === 201 || res.status === 200) return { alreadyOnList: false, sandbox: false };
      if (res.status === 204) return { alreadyOnList: true, sandbox: false };
      throw brevoError(res, 'contact', logger);
    },

    async requestDoubleOptIn({ email, firstName, lastName, sms }) {
      guard();
      if (mode === 'sandbox') {
        logger.info('brevo sandbox: double opt-in not requested', { email: maskEmail(email), listId });
        return { alreadyOnList: false, sandbox: true };
      }
      if (!config.BREVO_DOI_TEMPLATE_ID) throw notConfigured('Brevo double opt-in (BREVO_DOI_TEMPLATE_ID)');
      const attributes: Record<string, string> = { FIRSTNAME: firstName, LASTNAME: lastName ?? '' };
      if (sms) attributes.SMS = sms;
      const res = await call('POST', '/contacts/doubleOptinConfirmation', {
        email,
        attributes,
        includeListIds: [listId],
        templateId: config.BREVO_DOI_TEMPLATE_ID,
        redirectionUrl: config.BREVO_DOI_REDIRECT_URL,
      });
      // 201: confirmation sent to a new contact; 204: to a contact Brevo already had
      if (res.status === 201 || res.status === 200) return { alreadyOnList: false, sandbox: false };
      if (res.status === 204) return { alreadyOnList: true, sandbox: false };
      throw brevoError(res, 'double opt-in', logger);
    },

    async removeFromList(email) {
      guard();
      if (mode === 'sandbox') {
        logger.info('brevo sandbox: contact not removed', { email: maskEmail(email), listId });
        return { sandbox: true };
      }
      const res = await call('POST', `/contacts/lists/${listId}/contacts/remove`, { emails: [email] });
      // 400 "contact not in list" and 404 "no such contact": either way it is off the list.
      if (
        (res.status >= 200 && res.status < 300) ||
        res.status === 404 ||
        (res.status === 400 && /not|already/i.test(stringField(res.body, 'message') ?? ''))
      ) {
        return { sandbox: false };
      }
      throw brevoError(res, 'list removal', logger);
    },

    async getAccount() {
      guard();
      if (mode === 'sandbox') {
        return { email: config.BREVO_SENDER_EMAIL ?? null, company_name: null, plan: 'sandbox', sandbox: true };
      }
      const res = await call('GET', '/account');
      if (res.status !== 200) throw brevoError(res, 'account', logger);
      const plans = field(res.body, 'plan');
      const planTypes = Array.isArray(plans) ? plans.map((p) => stringField(p, 'type')).filter((t): t is string => !!t) : [];
      return {
        email: stringField(res.body, 'email'),
        company_name: stringField(res.body, 'companyName'),
        plan: planTypes.length ? planTypes.join(', ') : null,
        sandbox: false,
      };
    },

    async getLists() {
      guard();
      if (mode === 'sandbox') return [];
      const res = await call('GET', '/contacts/lists?limit=50&offset=0');
      if (res.status !== 200) throw brevoError(res, 'lists', logger);
      const lists = field(res.body, 'lists');
      if (!Array.isArray(lists)) return [];
      return lists.map((l) => ({
        id: Number(field(l, 'id')),
        name: stringField(l, 'name') ?? '',
        totalSubscribers: Number(field(l, 'totalSubscribers') ?? field(l, 'uniqueSubscribers') ?? 0) || 0,
      }));
    },
  };
}
