import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

export const CODE_TTL_MINUTES = 10;
export const MAX_CODE_ATTEMPTS = 5;

/** A uniformly random numeric code, leading zeros kept. */
export function newCode(length: number): string {
  return String(randomInt(0, 10 ** length)).padStart(length, '0');
}

/** Codes are stored hashed, bound to the phone so one hash fits one number only. */
export function hashCode(phone: string, code: string): string {
  return createHash('sha256').update(`${phone}:${code}`).digest('hex');
}

export function codeMatches(phone: string, code: string, storedHash: string): boolean {
  const given = Buffer.from(hashCode(phone, code), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}
