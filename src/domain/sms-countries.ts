import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { ApiError } from '../errors.js';

/**
 * Against SMS pumping (premium numbers abroad sent codes at our cost): codes go only to
 * numbers of SMS_ALLOWED_COUNTRIES, and each number range (its prefix) gets a daily
 * budget (RATE_LIMIT_SMS_PER_PREFIX_PER_DAY, src/api/rate-limits.ts).
 */

/** The ISO 3166 country of an E.164 number; undefined when no country owns it. */
export function phoneCountry(e164: string): string | undefined {
  return parsePhoneNumberFromString(e164)?.country;
}

/** 422 `sms_country_not_allowed` unless the number belongs to one of `allowed`. */
export function assertSmsCountry(e164: string, allowed: readonly string[], path = 'body.phone'): void {
  const country = phoneCountry(e164);
  if (country && allowed.includes(country)) return;
  const message = `SMS codes are sent only to numbers of ${allowed.join(', ')}; ${path} is ${country ? `a number of ${country}` : 'of no country we send to'}`;
  throw new ApiError(422, 'sms_country_not_allowed', message, { errors: [{ path, message }] });
}

/** Digits dropped from the end of a number to name its range: a prefix spans 10,000 numbers. */
const RANGE_DIGITS = 4;

/** `+3547771234` → `+354777`: the range a pumping attack walks through. */
export function phonePrefix(e164: string): string {
  return e164.slice(0, Math.max(2, e164.length - RANGE_DIGITS));
}
