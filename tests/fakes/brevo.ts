import { BAD_JSON, json, startFake, type Fake, type FakeReply, type RecordedRequest } from './fake-server.js';

/** Fake Brevo v3: POST /smtp/email, POST /contacts, POST /contacts/doubleOptinConfirmation, list removal, GET /account, GET /contacts/lists. */
export type BrevoMode =
  | 'ok'
  | 'not_found' // 404 document_not_found (e.g. template id)
  | 'error500'
  | 'timeout'
  | 'bad_json'
  | 'duplicate' // POST /contacts answers 204 (existing contact updated)
  | 'invalid_email' // 400 invalid_parameter "email is not valid"
  | 'duplicate_sms' // 400 duplicate_parameter on /contacts
  | 'unauthorized' // 401 "Key not found"
  | 'rate_limited'; // 429

export const BREVO_KEY = 'xkeysib-test-0000000000000000';

const ACCOUNT = {
  organization_id: 'org-1',
  email: 'admin@kaggi.is',
  firstName: 'Kaggi',
  lastName: 'Admin',
  companyName: 'Kaggi ehf.',
  address: { street: 'Laugavegur 1', city: 'Reykjavík', zipCode: '101', country: 'Iceland' },
  plan: [{ type: 'free', creditsType: 'sendLimit', credits: 300 }],
  relay: { enabled: true, data: { userName: 'admin@kaggi.is', relay: 'smtp-relay.brevo.com', port: 587 } },
};

const LISTS = {
  lists: [
    { id: 3, name: 'Kaggi seljendur', folderId: 1, totalBlacklisted: 0, totalSubscribers: 12, uniqueSubscribers: 12 },
    { id: 7, name: 'Prófun', folderId: 1, totalBlacklisted: 1, totalSubscribers: 2, uniqueSubscribers: 2 },
  ],
  count: 2,
};

const ROUTES: Record<string, (req: RecordedRequest, mode: BrevoMode) => FakeReply> = {
  'POST /smtp/email': () => json(201, { messageId: `<${Date.now()}.1@smtp-relay.mailin.fr>` }),
  'POST /contacts': (req, mode) => {
    if (mode === 'duplicate') return { status: 204 };
    // Brevo refuses only a contact whose SMS attribute belongs to someone else.
    const sms = (req.body as { attributes?: { SMS?: unknown } } | undefined)?.attributes?.SMS;
    if (mode === 'duplicate_sms' && sms !== undefined) {
      return json(400, {
        code: 'duplicate_parameter',
        message: 'Unable to create contact, SMS is already associated with another Contact',
      });
    }
    return json(201, { id: 42 });
  },
  // Double opt-in: Brevo sends the confirmation and adds the contact to includeListIds once confirmed.
  'POST /contacts/doubleOptinConfirmation': (req, mode) => {
    const body = (req.body ?? {}) as {
      email?: unknown;
      includeListIds?: unknown;
      templateId?: unknown;
      redirectionUrl?: unknown;
      attributes?: { SMS?: unknown };
    };
    for (const name of ['email', 'includeListIds', 'templateId', 'redirectionUrl'] as const) {
      if (body[name] === undefined) return json(400, { code: 'missing_parameter', message: `${name} is missing` });
    }
    if (!Array.isArray(body.includeListIds) || typeof body.templateId !== 'number' || typeof body.redirectionUrl !== 'string') {
      return json(400, { code: 'invalid_parameter', message: 'includeListIds, templateId or redirectionUrl is not valid' });
    }
    if (mode === 'duplicate') return { status: 204 };
    if (mode === 'duplicate_sms' && body.attributes?.SMS !== undefined) {
      return json(400, {
        code: 'duplicate_parameter',
        message: 'Unable to create contact, SMS is already associated with another Contact',
      });
    }
    return json(201, {});
  },
  // List removal (BREVO_LIST_ID 3, the default): Brevo answers with the contacts it took off.
  'POST /contacts/lists/3/contacts/remove': (req) => {
    const emails = (req.body as { emails?: unknown } | undefined)?.emails;
    if (!Array.isArray(emails) || emails.length === 0) return json(400, { code: 'missing_parameter', message: 'emails is missing' });
    return json(201, { contacts: { success: emails, failure: [] } });
  },
  'GET /account': () => json(200, ACCOUNT),
  'GET /contacts/lists': () => json(200, LISTS),
};

export async function startFakeBrevo(): Promise<Fake<BrevoMode>> {
  return startFake<BrevoMode>('ok', (req, mode) => {
    const route = ROUTES[`${req.method} ${req.path}`];
    if (!route) return json(404, { code: 'not_found', message: `No route ${req.method} ${req.path}` });
    if (mode === 'timeout') return 'hang';
    if (mode === 'unauthorized' || req.headers['api-key'] !== BREVO_KEY) {
      return json(401, { code: 'unauthorized', message: 'Key not found' });
    }
    if (mode === 'error500') return json(500, { code: 'internal_error', message: 'Internal server error' });
    if (mode === 'bad_json') return BAD_JSON;
    if (mode === 'not_found') return json(404, { code: 'document_not_found', message: 'Template ID does not exist' });
    if (mode === 'invalid_email') return json(400, { code: 'invalid_parameter', message: 'email is not valid' });
    if (mode === 'rate_limited') {
      return json(429, { code: 'too_many_requests', message: 'Too many requests' }, { 'x-sib-ratelimit-reset': '17' });
    }
    return route(req, mode);
  });
}
