import { sql } from 'slonik';
import { z } from 'zod';
import { ApiError, notConfigured } from '../errors.js';
import { toE164 } from '../domain/normalise.js';
import { CODE_TTL_MINUTES, MAX_CODE_ATTEMPTS, codeMatches, hashCode, newCode } from '../domain/codes.js';
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
  const { twilio } = deps.services;
  if (twilio.mode === 'disabled') throw notConfigured('SMS verification');
  const phone = phoneFromBody(body);
  if (!twilio.ownCodes) {
    const started = await twilio.startVerification(phone);
    return { status: 200, body: { success: true, message: 'Verification code sent', status: 'pending', sandbox: started.sandbox } };
  }
  const code = newCode(twilio.codeLength);
  // A new code replaces any open one, so only the latest SMS works.
  const id = await deps.db.transaction(async (tx) => {
    await tx.query(sql.unsafe`
      UPDATE phone_verifications SET consumed_at = now() WHERE phone = ${phone} AND consumed_at IS NULL`);
    return tx.oneFirst(sql.type(z.object({ id: z.string() }))`
      INSERT INTO phone_verifications (phone, code_hash, expires_at)
      VALUES (${phone}, ${hashCode(phone, code)}, now() + make_interval(mins => ${CODE_TTL_MINUTES}))
      RETURNING id`);
  });
  try {
    const sent = await twilio.sendSms(phone, `Kaggi: staðfestingarkóðinn þinn er ${code}. Hann gildir í ${CODE_TTL_MINUTES} mínútur.`);
    log.info('verification code sent', { sandbox: sent.sandbox });
    return { status: 200, body: { success: true, message: 'Verification code sent', status: 'pending', sandbox: sent.sandbox } };
  } catch (error) {
    // A code that never arrived must not stay valid.
    await deps.db.query(sql.unsafe`DELETE FROM phone_verifications WHERE id = ${id}`);
    throw error;
  }
};

const openCode = z.object({ id: z.string(), code_hash: z.string(), attempts: z.number().int() });

const verifyCode: Handler<'verifyCode'> = async ({ body, deps }) => {
  const { twilio } = deps.services;
  if (twilio.mode === 'disabled') throw notConfigured('SMS verification');
  const phone = phoneFromBody(body);
  const answer = (valid: boolean, message: string) => ({ status: 200 as const, body: { success: true as const, valid, message } });
  if (!twilio.ownCodes) {
    const valid = await twilio.checkVerification(phone, body.code);
    return answer(valid, valid ? 'Phone number verified' : 'The code is wrong or has expired');
  }
  return deps.db.transaction(async (tx) => {
    // Row lock: two simultaneous checks cannot both use one code or skip an attempt.
    const row = await tx.maybeOne(sql.type(openCode)`
      SELECT id, code_hash, attempts FROM phone_verifications
      WHERE phone = ${phone} AND consumed_at IS NULL AND expires_at > now()
      ORDER BY created_at DESC LIMIT 1
      FOR UPDATE`);
    if (!row) return answer(false, 'No valid code for this number; request a new one');
    if (codeMatches(phone, body.code, row.code_hash)) {
      await tx.query(sql.unsafe`UPDATE phone_verifications SET consumed_at = now() WHERE id = ${row.id}`);
      return answer(true, 'Phone number verified');
    }
    const attempts = row.attempts + 1;
    await tx.query(sql.unsafe`
      UPDATE phone_verifications
      SET attempts = ${attempts}, consumed_at = CASE WHEN ${attempts} >= ${MAX_CODE_ATTEMPTS} THEN now() END
      WHERE id = ${row.id}`);
    return answer(false, attempts >= MAX_CODE_ATTEMPTS ? 'Too many wrong codes; request a new one' : 'The code is wrong');
  });
};

const getSmsServiceInfo: Handler<'getSmsServiceInfo'> = ({ deps }) => {
  const { twilio } = deps.services;
  return {
    status: 200,
    body: { success: true, ...twilio.status(), sandbox: twilio.mode === 'sandbox' },
  };
};

export const smsHandlers = { sendVerificationCode, verifyCode, getSmsServiceInfo };
