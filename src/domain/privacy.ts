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

// Characters that end an e-mail address in free text (whitespace too).
const EMAIL_DELIMITERS = new Set([...'/@"\'<>(),;:']);
const WHITESPACE = /\s/;
const isDelimiter = (c: string) => EMAIL_DELIMITERS.has(c) || WHITESPACE.test(c);

/**
 * Every `local@domain.tld` in the text masked, found in one pass: a regular
 * expression for it is tried again from every start position, so a long run
 * without an `@` (a 16,000-character path) costs quadratic time and holds the
 * event loop. Finds what `/[^D]+@[^D]+\.[^D]+/g` finds (D the delimiters):
 * each character is looked at no more than twice.
 */
function maskEmails(text: string): string {
  let out = '';
  let copied = 0;
  // Start of the run of non-delimiters the scan is in; an address may not begin before `taken`.
  let runStart = 0;
  let taken = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== '@') {
      if (isDelimiter(c)) runStart = i + 1;
      continue;
    }
    if (i > runStart && runStart >= taken) {
      // The domain: the run after the `@`, with a dot that has a character on either side.
      let end = i + 1;
      let dot = -1;
      while (end < text.length && !isDelimiter(text[end])) {
        if (dot === -1 && end >= i + 2 && text[end] === '.') dot = end;
        end++;
      }
      if (dot !== -1 && dot < end - 1) {
        out += text.slice(copied, runStart) + maskEmail(text.slice(runStart, end));
        copied = taken = runStart = end;
        i = end - 1;
        continue;
      }
    }
    runStart = i + 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

// International numbers (+354 777 7777), kennitölur (590269-7199) and
// Icelandic 7-digit numbers (777-7777), each standing on its own. Every
// quantifier is bounded, so each start position costs at most a few dozen steps.
const PERSONAL_NUMBER = /\+\d[\d -]{5,16}\d|(?<![\w-])\d{6}-?\d{4}(?![\w-])|(?<![\w-])\d{3}[ -]?\d{4}(?![\w-])/g;

export function maskText(text: string): string {
  return maskEmails(text).replace(PERSONAL_NUMBER, (m) => maskPhone(m));
}

/** Masks every string in a log entry, however deep, keeping structure. */
export function maskDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskText(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskDeep(v, depth + 1)]));
}
