import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { validationFailed } from '../errors.js';

/** `ab 123`, `AB123` and `Ab-123`… are the same car only after this. */
export function normalisePlate(plate: string): string {
  return plate.replace(/\s+/g, '').toUpperCase();
}

/**
 * The one form an e-mail address is stored and compared in: trimmed, NFKC, case-folded
 * (lower-, upper- then lower-casing folds `ẞ` and `ß` to `ss` as Unicode's full case folding does). An
 * address that NFKC changes is refused (null) rather than folded: `\u212Aari@d1.is`
 * (Kelvin sign) would otherwise become `kari@d1.is`, someone else's address.
 */
export function emailKey(email: string): string | null {
  const trimmed = email.trim();
  if (trimmed.normalize('NFKC') !== trimmed) return null;
  return trimmed.toLowerCase().toUpperCase().toLowerCase().normalize('NFKC');
}

/** `emailKey`, or 422 `validation_failed` naming the field. */
export function normaliseEmail(email: string, path = 'body.email'): string {
  const key = emailKey(email);
  if (key === null) {
    throw validationFailed([{ path, message: 'must be an e-mail address in Unicode normal form (NFKC), without look-alike characters' }]);
  }
  return key;
}

/**
 * E.164 or null. A number without a country code is Icelandic, as the
 * frontend's default; `354xxxxxxx` without the plus is common in forms.
 */
export function toE164(input: string): string | null {
  const raw = input.trim();
  const digits = raw.replace(/[^\d+]/g, '');
  const candidate = /^354\d{7}$/.test(digits) ? `+${digits}` : raw;
  const parsed = parsePhoneNumberFromString(candidate, 'IS');
  return parsed && parsed.isValid() ? parsed.number : null;
}

/** Digits only; null when the shape (10 digits, optional hyphen) is wrong. */
export function kennitalaDigits(input: string): string | null {
  const trimmed = input.trim();
  if (!/^\d{6}-?\d{4}$/.test(trimmed)) return null;
  return trimmed.replace('-', '');
}

const KENNITALA_WEIGHTS = [3, 2, 7, 6, 5, 4, 3, 2];

/**
 * The mod-11 check digit (9th digit) the contract requires. Written here
 * because the `kennitala` package dropped this check in v3 (and accepts any
 * number starting with 8 or 9), so it cannot answer the question we ask.
 */
export function kennitalaChecksumHolds(digits: string): boolean {
  if (!/^\d{10}$/.test(digits)) return false;
  const sum = KENNITALA_WEIGHTS.reduce((acc, w, i) => acc + w * Number(digits[i]), 0);
  const check = (11 - (sum % 11)) % 11;
  return check !== 10 && check === Number(digits[8]);
}

/** Forms send numbers as strings; the spec has already checked the shape. */
export function toInteger(value: number | string): number {
  return typeof value === 'number' ? value : Number.parseInt(value, 10);
}

export const maxVehicleYear = (now = new Date()): number => now.getUTCFullYear() + 1;

/** "Jón Páll Jónsson" → first "Jón", last "Páll Jónsson" (Brevo's FIRSTNAME / LASTNAME). */
export function splitName(name: string): { firstName: string; lastName: string } {
  const [firstName = '', ...rest] = name.trim().split(/\s+/);
  return { firstName, lastName: rest.join(' ') };
}
