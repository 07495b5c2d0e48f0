import { ApiError } from '../errors.js';
import { toE164 } from '../domain/normalise.js';
import { checkPhoneCode, sendPhoneCode, smsServiceInfo, twilioOf } from '../usecases/phone-verification.js';
import { listingToken } from '../api/seller-auth.js';
import type { Handler } from '../api/types.js';

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
  twilioOf(deps);
  const phone = phoneFromBody(body);
  const sent = await sendPhoneCode(deps, log, phone, `body.${body.phone !== undefined ? 'phone' : 'phone_number'}`);
  return { status: 200, body: { success: true, message: 'Verification code sent', status: 'pending', sandbox: sent.sandbox } };
};

const ANSWERS = {
  wrong: 'The code is wrong',
  exhausted: 'Too many wrong codes; request a new one',
  none: 'No valid code for this number; request a new one',
  valid: 'Phone number verified',
} as const;

/** Twilio Verify says only wrong or right: its wrong code reads as before, "wrong or has expired". */
const verifyCode: Handler<'verifyCode'> = async ({ body, deps, log }) => {
  twilioOf(deps);
  const phone = phoneFromBody(body);
  const { result, confirmed, sessions } = await checkPhoneCode(deps, phone, body.code);
  if (confirmed && confirmed.confirmed.length + confirmed.lapsed.length) log.info('registrations confirmed by phone', confirmed);
  const message = result === 'wrong' && !deps.services.twilio.ownCodes ? 'The code is wrong or has expired' : ANSWERS[result];
  const ids = confirmed?.confirmed ?? [];
  // A confirmed listing's seller gets its token here, as an unconfirmed registration's answer had none.
  const tokens: { car_id: string; token: string; expires_at: string }[] = [];
  for (const { car_id, session } of sessions) {
    const issued = await listingToken(deps.config, deps.logger, car_id, session);
    if (issued) tokens.push({ car_id, ...issued });
  }
  return {
    status: 200,
    body: {
      success: true,
      valid: result === 'valid',
      message,
      ...(ids.length ? { confirmed_car_ids: ids } : {}),
      ...(tokens.length ? { seller_tokens: tokens } : {}),
    },
  };
};

const getSmsServiceInfo: Handler<'getSmsServiceInfo'> = ({ deps }) => ({
  status: 200,
  body: { success: true, ...smsServiceInfo(deps) },
});

export const smsHandlers = { sendVerificationCode, verifyCode, getSmsServiceInfo };
