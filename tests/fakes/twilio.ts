import { randomBytes } from 'node:crypto';
import { BAD_JSON, json, startFake, type Fake, type FakeReply, type RecordedRequest } from './fake-server.js';

/**
 * Fake Twilio REST API (Verify v2 and Messaging 2010-04-01), in Twilio's JSON shapes,
 * error bodies included: `{code, message, more_info, status}`. Checks HTTP Basic auth.
 */
export type TwilioMode =
  | 'ok'
  | 'not_found' // VerificationCheck → 404 code 20404 (no pending verification)
  | 'error500'
  | 'timeout'
  | 'bad_json'
  | 'invalid_number' // 400 code 60200 (Verify) / 21211 (Messages)
  | 'rate_limited' // 429 code 20429
  | 'max_attempts' // 429 code 60203 with Retry-After
  | 'wrong_code' // VerificationCheck → status "pending"
  | 'auth_error'; // 401 code 20003

export const TWILIO_SID = `AC${'0123456789abcdef'.repeat(2)}`;
export const TWILIO_TOKEN = 'twilio-test-auth-token';
export const VERIFY_SID = `VA${'fedcba9876543210'.repeat(2)}`;
export const TWILIO_FROM = '+15005550006';
/** The code the fake's Verify approves in mode 'ok'. */
export const VALID_CODE = '123456';

const sidOf = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;
const now = () => new Date().toUTCString();

const twilioError = (status: number, code: number, message: string, headers?: Record<string, string>): FakeReply =>
  json(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }, headers);

type Form = Record<string, string>;

function verification(serviceSid: string, form: Form, status: string) {
  return {
    sid: sidOf('VE'),
    service_sid: serviceSid,
    account_sid: TWILIO_SID,
    to: form.To,
    channel: (form.Channel ?? 'sms').toLowerCase(),
    status,
    valid: status === 'approved',
    lookup: {},
    amount: null,
    payee: null,
    send_code_attempts: [{ attempt_sid: sidOf('VL'), channel: 'sms', time: new Date().toISOString() }],
    date_created: new Date().toISOString(),
    date_updated: new Date().toISOString(),
    sna: null,
    url: `https://verify.twilio.com/v2/Services/${serviceSid}/Verifications/${sidOf('VE')}`,
  };
}

function message(form: Form) {
  const sid = sidOf('SM');
  return {
    account_sid: TWILIO_SID,
    api_version: '2010-04-01',
    body: form.Body,
    date_created: now(),
    date_sent: null,
    date_updated: now(),
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    from: form.From,
    messaging_service_sid: null,
    num_media: '0',
    num_segments: '1',
    price: null,
    price_unit: 'USD',
    sid,
    status: 'queued',
    subresource_uris: { media: `/2010-04-01/Accounts/${TWILIO_SID}/Messages/${sid}/Media.json` },
    to: form.To,
    uri: `/2010-04-01/Accounts/${TWILIO_SID}/Messages/${sid}.json`,
  };
}

const ROUTES: Array<[RegExp, (req: RecordedRequest, mode: TwilioMode, m: RegExpExecArray) => FakeReply]> = [
  [
    /^\/v2\/Services\/([^/]+)\/Verifications$/,
    (req, mode, m) => {
      if (mode === 'invalid_number') return twilioError(400, 60200, `Invalid parameter \`To\`: ${(req.body as Form).To}`);
      if (mode === 'max_attempts') return twilioError(429, 60203, 'Max send attempts reached', { 'Retry-After': '120' });
      return json(201, verification(m[1], req.body as Form, 'pending'));
    },
  ],
  [
    /^\/v2\/Services\/([^/]+)\/VerificationCheck$/,
    (req, mode, m) => {
      const form = req.body as Form;
      if (mode === 'not_found') {
        return twilioError(404, 20404, `The requested resource /Services/${m[1]}/VerificationCheck was not found`);
      }
      if (mode === 'invalid_number') return twilioError(400, 60200, `Invalid parameter \`To\`: ${form.To}`);
      const approved = mode === 'ok' && form.Code === VALID_CODE;
      return json(200, verification(m[1], form, approved ? 'approved' : 'pending'));
    },
  ],
  [
    /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/,
    (req, mode) => {
      const form = req.body as Form;
      if (mode === 'invalid_number') return twilioError(400, 21211, `The 'To' number ${form.To} is not a valid phone number.`);
      return json(201, message(form));
    },
  ],
];

export async function startFakeTwilio(): Promise<Fake<TwilioMode>> {
  const expectedAuth = `Basic ${Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString('base64')}`;
  return startFake<TwilioMode>('ok', (req, mode) => {
    for (const [pattern, handle] of ROUTES) {
      const m = pattern.exec(req.path);
      if (!m || req.method !== 'POST') continue;
      if (mode === 'timeout') return 'hang';
      if (mode === 'auth_error' || req.headers.authorization !== expectedAuth) return twilioError(401, 20003, 'Authenticate');
      if (mode === 'error500') return twilioError(500, 20500, 'Internal Server Error');
      if (mode === 'bad_json') return BAD_JSON;
      if (mode === 'rate_limited') return twilioError(429, 20429, 'Too Many Requests');
      return handle(req, mode, m);
    }
    return twilioError(404, 20404, `The requested resource ${req.path} was not found`);
  });
}
