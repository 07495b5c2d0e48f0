import { ConfigError, type Config } from '../config.js';
import { ApiError, notConfigured, upstreamUnavailable } from '../errors.js';
import type { Logger } from '../logger.js';
import { retryAfterSeconds } from './http.js';
import { maskPhone } from '../domain/privacy.js';
import { assertSmsCountry } from '../domain/sms-countries.js';
import { resolveMode, type IntegrationMode } from './mode.js';
import { traceClient } from '../observability/tracing.js';
import type { TwilioSdk } from './twilio-sdk.js';
import { TwilioRateLimited } from './twilio-rate-limited.js';

/**
 * SMS through Twilio: either the Verify API (Twilio makes, sends and checks the code) or
 * plain Messaging (the server makes and stores its own code and calls `sendSms`).
 *
 * Uses the `twilio` SDK with a custom http client that bounds every call by
 * TWILIO_TIMEOUT_MS and, when TWILIO_API_BASE is set, sends every call to that origin
 * (the path is kept), for staging and tests.
 */

const SERVICE = 'Twilio';
export const SMS_CODE_LENGTH = 6;

export type SmsProvider = 'twilio_verify' | 'twilio_messaging' | 'sandbox' | 'none';

export type TwilioStatus = { configured: boolean; provider: SmsProvider; code_length: number };

export interface TwilioClient {
  readonly mode: IntegrationMode;
  readonly provider: SmsProvider;
  readonly codeLength: number;
  /**
   * true when the server must make, store and check its own codes and deliver them with
   * `sendSms` (provider twilio_messaging or sandbox); false when Twilio Verify does it.
   */
  readonly ownCodes: boolean;
  /** Verify only: Twilio sends a code to the number. */
  startVerification(toE164: string): Promise<{ status: string; sandbox: boolean }>;
  /** Verify only: true when Twilio approves the code; false for a wrong or expired code. */
  checkVerification(toE164: string, code: string): Promise<boolean>;
  /** Sends an SMS from TWILIO_PHONE_NUMBER. In sandbox the message is only logged. */
  sendSms(toE164: string, body: string): Promise<{ sid: string; sandbox: boolean }>;
  status(): TwilioStatus;
}

const INVALID_PHONE_CODES = new Set([60200, 21211, 21614, 60205]);
const RATE_LIMIT_CODES = new Set([20429, 60203, 60202]);
const AUTH_CODES = new Set([20003, 20005]);
const E164 = /^\+[1-9]\d{6,14}$/;

function rateLimited(code: number | undefined, retryAfter: string | undefined): ApiError {
  // Verify's "max send attempts" window is 10 minutes.
  const seconds = retryAfterSeconds(retryAfter, code === 60203 ? 600 : 60);
  return new ApiError(429, 'rate_limited', 'Too many SMS requests for this number, try again later', {
    headers: { 'Retry-After': String(seconds) },
  });
}

/** Maps whatever the SDK threw to an ApiError. `notFound` handles a 404 where one is expected. */
function mapTwilioError(err: unknown, logger: Logger, action: string): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof TwilioRateLimited) {
    logger.warn('twilio rate limited', { action, code: err.code });
    return rateLimited(err.code, err.retryAfter);
  }
  const e = err as { status?: unknown; code?: unknown; name?: unknown; message?: unknown } | null;
  const status = typeof e?.status === 'number' ? e.status : undefined;
  const code = typeof e?.code === 'number' ? e.code : undefined;
  if (status !== undefined && code !== undefined) {
    // A Twilio RestException / TwilioServiceException: the API answered with an error body.
    logger.warn('twilio request refused', { action, status, code });
    if (INVALID_PHONE_CODES.has(code)) {
      return new ApiError(422, 'invalid_phone', 'This phone number cannot receive SMS messages');
    }
    if (status === 429 || RATE_LIMIT_CODES.has(code)) return rateLimited(code, undefined);
    if (status === 401 || AUTH_CODES.has(code)) {
      return upstreamUnavailable(SERVICE, 'Twilio refused the configured credentials; the SMS service is unavailable');
    }
    return upstreamUnavailable(SERVICE, `The SMS service is unavailable (Twilio error ${code}), try again later`);
  }
  if (status !== undefined) {
    logger.warn('twilio request failed', { action, status });
    if (status === 401) {
      return upstreamUnavailable(SERVICE, 'Twilio refused the configured credentials; the SMS service is unavailable');
    }
    return upstreamUnavailable(SERVICE, `The SMS service is unavailable (HTTP ${status}), try again later`);
  }
  // axios (network, timeout, abort) or a JSON.parse failure of a malformed body.
  const axiosCode = typeof e?.code === 'string' ? e.code : undefined;
  const timedOut = axiosCode === 'ECONNABORTED' || axiosCode === 'ETIMEDOUT' || axiosCode === 'ERR_CANCELED';
  logger.warn('twilio unavailable', {
    action,
    kind: timedOut ? 'timeout' : err instanceof SyntaxError ? 'bad_json' : 'network',
    code: axiosCode,
  });
  if (timedOut) return upstreamUnavailable(SERVICE, 'The SMS service did not answer in time, try again later', err);
  if (err instanceof SyntaxError) return upstreamUnavailable(SERVICE, 'The SMS service sent a malformed response, try again later', err);
  return upstreamUnavailable(SERVICE, 'The SMS service could not be reached, try again later', err);
}

function assertE164(toE164: string): void {
  if (!E164.test(toE164)) throw new ApiError(422, 'invalid_phone', 'The phone number must be in E.164 form, e.g. +3547771234');
}

export function createTwilio(config: Config, logger: Logger): TwilioClient {
  const sid = config.TWILIO_ACCOUNT_SID;
  const token = config.TWILIO_AUTH_TOKEN;
  const verifySid = config.TWILIO_VERIFY_SERVICE_SID;
  const from = config.TWILIO_PHONE_NUMBER;
  const hasAuth = Boolean(sid && token);

  let provider: SmsProvider;
  if (hasAuth && verifySid) provider = 'twilio_verify';
  else if (hasAuth && from) provider = 'twilio_messaging';
  else provider = config.NODE_ENV === 'production' ? 'none' : 'sandbox';
  const configured = provider === 'twilio_verify' || provider === 'twilio_messaging';
  const mode = resolveMode(configured, config);

  if (configured && !sid!.startsWith('AC')) {
    throw new ConfigError(['TWILIO_ACCOUNT_SID: must start with AC']);
  }
  logger.info('twilio mode', { mode, provider, apiBase: config.TWILIO_API_BASE ? 'custom' : 'twilio' });

  // The SDK is large (about 20 MB resident): loaded on the first call, and only when configured.
  let sdk: Promise<TwilioSdk> | undefined;
  const client = (): Promise<TwilioSdk> =>
    (sdk ??= import('./twilio-sdk.js').then(({ createTwilioSdk }) =>
      createTwilioSdk(sid!, token!, { base: config.TWILIO_API_BASE, timeoutMs: config.TWILIO_TIMEOUT_MS }),
    ));

  async function verifyService() {
    if (mode === 'disabled') throw notConfigured('SMS service (Twilio)');
    if (provider !== 'twilio_verify' || !configured) {
      throw new Error(`Twilio Verify is not in use (provider ${provider}); make an own code and call sendSms`);
    }
    return (await client()).verify.v2.services(verifySid!);
  }

  return {
    mode,
    provider,
    codeLength: SMS_CODE_LENGTH,
    ownCodes: provider === 'twilio_messaging' || provider === 'sandbox',
    status: () => ({ configured, provider, code_length: SMS_CODE_LENGTH }),

    async startVerification(toE164) {
      const service = await verifyService();
      assertE164(toE164);
      assertSmsCountry(toE164, config.SMS_ALLOWED_COUNTRIES, 'to');
      try {
        const v = await traceClient('Twilio', 'verifications.create', () => service.verifications.create({ to: toE164, channel: 'sms' }));
        logger.info('twilio verification started', { to: maskPhone(toE164), status: v.status });
        return { status: v.status ?? 'pending', sandbox: false };
      } catch (err) {
        throw mapTwilioError(err, logger, 'start verification');
      }
    },

    async checkVerification(toE164, code) {
      const service = await verifyService();
      assertE164(toE164);
      try {
        const check = await traceClient('Twilio', 'verificationChecks.create', () =>
          service.verificationChecks.create({ to: toE164, code }),
        );
        return check.status === 'approved';
      } catch (err) {
        const e = err as { status?: unknown; code?: unknown } | null;
        // 404 (20404): no pending verification for this number — expired, approved or never started.
        if (e?.status === 404) return false;
        throw mapTwilioError(err, logger, 'check verification');
      }
    },

    async sendSms(toE164, body) {
      if (mode === 'disabled') throw notConfigured('SMS service (Twilio)');
      assertE164(toE164);
      // every SMS path (the seller's sign-in code too), not only the public endpoint
      assertSmsCountry(toE164, config.SMS_ALLOWED_COUNTRIES, 'to');
      if (mode === 'sandbox') {
        // Sandbox only (never production): the text is logged so a developer can read the code.
        const sid = `sandbox-${Date.now().toString(36)}`;
        logger.info('twilio sandbox: SMS not sent', { to: maskPhone(toE164), body, sid });
        return { sid, sandbox: true };
      }
      if (!from || !configured) throw notConfigured('SMS sender number (TWILIO_PHONE_NUMBER)');
      try {
        const api = await client();
        const msg = await traceClient('Twilio', 'messages.create', () => api.messages.create({ to: toE164, from, body }));
        logger.info('twilio sms sent', { to: maskPhone(toE164), sid: msg.sid });
        return { sid: msg.sid, sandbox: false };
      } catch (err) {
        throw mapTwilioError(err, logger, 'send sms');
      }
    },
  };
}
