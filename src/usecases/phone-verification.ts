import type { CommonQueryMethods } from 'slonik';
import { notConfigured } from '../errors.js';
import { CODE_TTL_MINUTES, newCode } from '../domain/codes.js';
import { assertSmsCountry } from '../domain/sms-countries.js';
import { phoneCodes, type CodeCheck } from '../db/one-time-codes.js';
import { sellerSessions } from '../db/sellers.js';
import type { Deps } from '../deps.js';
import type { LifecycleSettings } from './lifecycle.js';
import type { Logger } from '../logger.js';
import { confirmRegistrations, type Confirmed } from './registration.js';

type SmsDeps = Pick<Deps, 'db' | 'services' | 'config'>;

/** The SMS client, or 503 `not_configured` (checked before the input is read, as the operations always did). */
export function twilioOf(deps: Pick<Deps, 'services'>) {
  const { twilio } = deps.services;
  if (twilio.mode === 'disabled') throw notConfigured('SMS verification');
  return twilio;
}

/**
 * Sends a verification code to `phone` (E.164): Twilio Verify's, or one of our own kept in
 * phone_verifications and sent by SMS. `field` names the input for a refused country.
 */
export async function sendPhoneCode(deps: SmsDeps, log: Logger, phone: string, field: string): Promise<{ sandbox: boolean }> {
  const twilio = twilioOf(deps);
  assertSmsCountry(phone, deps.config.SMS_ALLOWED_COUNTRIES, field);
  if (!twilio.ownCodes) return { sandbox: (await twilio.startVerification(phone)).sandbox };
  const code = newCode(twilio.codeLength);
  const id = await deps.db.transaction((tx) => phoneCodes.issue(tx, phone, code));
  try {
    const sent = await twilio.sendSms(phone, `Kaggi: staðfestingarkóðinn þinn er ${code}. Hann gildir í ${CODE_TTL_MINUTES} mínútur.`);
    log.info('verification code sent', { sandbox: sent.sandbox });
    return { sandbox: sent.sandbox };
  } catch (error) {
    // A code that never arrived must not stay valid.
    await phoneCodes.discard(deps.db, id);
    throw error;
  }
}

/** `sessions`: each confirmed car's seller session generation, for the seller tokens of the answer. */
export type PhoneCheck = { result: CodeCheck; confirmed: Confirmed | null; sessions: { car_id: string; session: number }[] };

/** Confirms the registrations waiting on the number and reads the confirmed cars' session generations. */
async function confirmWithSessions(tx: CommonQueryMethods, phone: string, settings: LifecycleSettings) {
  const confirmed = await confirmRegistrations(tx, phone, settings);
  const rows = confirmed.confirmed.length ? await sellerSessions(tx, confirmed.confirmed) : [];
  const sessions = confirmed.confirmed.flatMap((id) => rows.filter((r) => r.car_id === id));
  return { confirmed, sessions };
}

/**
 * Checks a code; a matching one also confirms the registrations waiting on the number
 * (LISTING_REQUIRES_PHONE), in the same transaction: a used code always confirmed its cars.
 */
export async function checkPhoneCode(deps: SmsDeps, phone: string, code: string): Promise<PhoneCheck> {
  const twilio = twilioOf(deps);
  if (!twilio.ownCodes) {
    if (!(await twilio.checkVerification(phone, code))) return { result: 'wrong', confirmed: null, sessions: [] };
    return { result: 'valid', ...(await deps.db.transaction((tx) => confirmWithSessions(tx, phone, deps.config))) };
  }
  return deps.db.transaction(async (tx) => {
    const result = await phoneCodes.check(tx, phone, code);
    if (result !== 'valid') return { result, confirmed: null, sessions: [] };
    return { result, ...(await confirmWithSessions(tx, phone, deps.config)) };
  });
}

export function smsServiceInfo(deps: Pick<Deps, 'services'>) {
  const { twilio } = deps.services;
  return { ...twilio.status(), sandbox: twilio.mode === 'sandbox' };
}
