import { ApiError, notConfigured } from '../errors.js';
import { toE164 } from '../domain/normalise.js';
import { assertSmsCountry } from '../domain/sms-countries.js';
import { CODE_TTL_MINUTES, newCode } from '../domain/codes.js';
import { phoneCodes } from '../db/one-time-codes.js';
import { confirmRegistrations } from '../db/registrations.js';
import type { Handler } from '../api/types.js';
import { sellerSession } from '../usecases/seller-session.js';

/** `phone`, or its alias `phone_number`, as E.164; 422 invalid_phone otherwise. */
export function phoneFromBody(body: { phone?: string; phone_number?: string }): string {
  const field = body.phone !== undefined ? 'phone' : 'phone_number';
  const e164 = toE164(body.phone ?? body.phone_number ?? '');
  if (!e164) {
    throw new ApiError(422, 'invalid_phone', `body.${field} is not a valid phone number`, {
      errors: [{ path: `body.${field}`, message: `body.${field} is not a valid phone number` }],
    });
  }
  return e164;
}

const sendVerificationCode: Handler<'sendVerificationCode'> = async ({ body, deps, log }) => {
  const { twilio } = deps.services;
  if (twilio.mode === 'disabled') throw notConfigured('SMS verification');
  const phone = phoneFromBody(body);
  assertSmsCountry(phone, deps.config.SMS_ALLOWED_COUNTRIES, `body.${body.phone !== undefined ? 'phone' : 'phone_number'}`);
  if (!twilio.ownCodes) {
    const started = await twilio.startVerification(phone);
    return { status: 200, body: { success: true, message: 'Verification code sent', status: 'pending', sandbox: started.sandbox } };
  }
  const code = newCode(twilio.codeLength);
  const id = await deps.db.transaction((tx) => phoneCodes.issue(tx, phone, code));
  try {
    const sent = await twilio.sendSms(phone, `Kaggi: staðfestingarkóðinn þinn er ${code}. Hann gildir í ${CODE_TTL_MINUTES} mínútur.`);
    log.info('verification code sent', { sandbox: sent.sandbox });
    return { status: 200, body: { success: true, message: 'Verification code sent', status: 'pending', sandbox: sent.sandbox } };
  } catch (error) {
    // A code that never arrived must not stay valid.
    await phoneCodes.discard(deps.db, id);
    throw error;
  }
};

/**
 * A matching code also confirms the registrations waiting on the number (LISTING_REQUIRES_PHONE):
 * the frontend's "register, then verify the phone" is the proof, with no extra step.
 */
const verifyCode: Handler<'verifyCode'> = async ({ body, deps, log }) => {
  const { twilio } = deps.services;
  if (twilio.mode === 'disabled') throw notConfigured('SMS verification');
  const phone = phoneFromBody(body);
  type Issued = { car_id: string; token: string; expires_at: string };
  const answer = (valid: boolean, message: string, confirmed: string[] = [], tokens: Issued[] = []) => ({
    status: 200 as const,
    body: {
      success: true as const,
      valid,
      message,
      ...(confirmed.length ? { confirmed_car_ids: confirmed } : {}),
      ...(tokens.length ? { seller_tokens: tokens } : {}),
    },
  });
  // A confirmed listing's seller gets its token here, as an unconfirmed registration's answer had none.
  const verified = async (confirmed: { confirmed: string[]; lapsed: string[] }) => {
    if (confirmed.confirmed.length + confirmed.lapsed.length) log.info('registrations confirmed by phone', confirmed);
    const tokens: Issued[] = [];
    for (const carId of confirmed.confirmed) {
      const session = await sellerSession(deps, log, carId);
      if (session) tokens.push({ car_id: carId, ...session });
    }
    return answer(true, 'Phone number verified', confirmed.confirmed, tokens);
  };
  if (!twilio.ownCodes) {
    const valid = await twilio.checkVerification(phone, body.code);
    if (!valid) return answer(false, 'The code is wrong or has expired');
    return verified(await deps.db.transaction((tx) => confirmRegistrations(tx, phone, deps.config)));
  }
  // The code and the confirmation in one transaction: a used code always confirmed its cars.
  const outcome = await deps.db.transaction(async (tx) => {
    const result = await phoneCodes.check(tx, phone, body.code);
    return { result, confirmed: result === 'valid' ? await confirmRegistrations(tx, phone, deps.config) : null };
  });
  if (outcome.confirmed) return verified(outcome.confirmed);
  return {
    wrong: answer(false, 'The code is wrong'),
    exhausted: answer(false, 'Too many wrong codes; request a new one'),
    none: answer(false, 'No valid code for this number; request a new one'),
    valid: answer(true, 'Phone number verified'),
  }[outcome.result];
};

const getSmsServiceInfo: Handler<'getSmsServiceInfo'> = ({ deps }) => {
  const { twilio } = deps.services;
  return {
    status: 200,
    body: { success: true, ...twilio.status(), sandbox: twilio.mode === 'sandbox' },
  };
};

export const smsHandlers = { sendVerificationCode, verifyCode, getSmsServiceInfo };
