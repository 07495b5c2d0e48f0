/**
 * Masking for logs: enough left to recognise a value when debugging with the
 * person on the phone, not enough to harvest it.
 */
export function maskEmail(email: string): string {
  const [local, domain] = email.split('@');
  if (!domain) return '***';
  return `${local.slice(0, 1)}***@${domain}`;
}

export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  return digits.length <= 2 ? '***' : `***${digits.slice(-2)}`;
}

const EMAIL = /[^\s/@"'<>]+@[^\s/@"'<>]+\.[^\s/@"'<>]+/g;
// phones (7+ digits, optional +) and kennitölur (6-4 digits) in free text
const NUMBER_LIKE = /\+?\d[\d -]{5,}\d/g;

export function maskText(text: string): string {
  return text.replace(EMAIL, (m) => maskEmail(m)).replace(NUMBER_LIKE, (m) => maskPhone(m));
}
