/**
 * Masking for logs: enough left to recognise a value when debugging with the
 * person on the phone, not enough to harvest it.
 */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${email[0]}***${email.slice(at)}`;
}

export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  return digits.length <= 2 ? '***' : `***${digits.slice(-2)}`;
}

const EMAIL = /[^\s/@"'<>(),;:]+@[^\s/@"'<>(),;:]+\.[^\s/@"'<>(),;:]+/g;
// International numbers (+354 777 7777), kennitölur (590269-7199) and
// Icelandic 7-digit numbers (777-7777), each standing on its own.
const PERSONAL_NUMBER = /\+\d[\d -]{5,16}\d|(?<![\w-])\d{6}-?\d{4}(?![\w-])|(?<![\w-])\d{3}[ -]?\d{4}(?![\w-])/g;

export function maskText(text: string): string {
  return text.replace(EMAIL, (m) => maskEmail(m)).replace(PERSONAL_NUMBER, (m) => maskPhone(m));
}

/** Masks every string in a log entry, however deep, keeping structure. */
export function maskDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskText(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskDeep(v, depth + 1)]));
}
