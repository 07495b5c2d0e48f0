import { expect } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import type { Fake, RecordedRequest } from '../fakes/fake-server.js';
import { BREVO_KEY, type BrevoMode } from '../fakes/brevo.js';
import { TWILIO_FROM, TWILIO_SID, TWILIO_TOKEN, type TwilioMode } from '../fakes/twilio.js';
import { eventually } from '../auctions/helpers.js';

export const SELLER_SECRET = 'seller-secret-for-tests-0123456789abcdef';
export const ADMIN_KEY = 'admin-key-for-seller-tests-0123456789';

/** Brevo and Twilio Messaging pointed at the fakes, a fixed seller secret and an admin key. */
export function sellerEnv(brevo: Fake<BrevoMode>, twilio: Fake<TwilioMode>, extra: Record<string, string> = {}) {
  return {
    BREVO_API_KEY: BREVO_KEY,
    BREVO_API_BASE: brevo.url,
    BREVO_SENDER_EMAIL: 'kaggi@kaggi.is',
    BREVO_TIMEOUT_MS: '2000',
    TWILIO_ACCOUNT_SID: TWILIO_SID,
    TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    TWILIO_PHONE_NUMBER: TWILIO_FROM,
    TWILIO_API_BASE: twilio.url,
    TWILIO_TIMEOUT_MS: '2000',
    SELLER_TOKEN_SECRET: SELLER_SECRET,
    ADMIN_API_KEY: ADMIN_KEY,
    ...extra,
  };
}

export const admin = { 'X-Admin-Key': ADMIN_KEY };
export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

const sentTo = (email: string) => (r: RecordedRequest) =>
  r.path === '/smtp/email' && (r.body as { to?: { email: string }[] }).to?.[0]?.email === email;

/** E-mails the fake Brevo received for `email`. */
export const mailsTo = (brevo: Fake<BrevoMode>, email: string) => brevo.requests.filter(sentTo(email));

/** Waits for the `n`-th sign-in e-mail to `email` and reads the code from it. */
export async function codeFromEmail(brevo: Fake<BrevoMode>, email: string, n: number): Promise<string> {
  const mail = await eventually(async () => mailsTo(brevo, email)[n - 1], 10_000, `sign-in e-mail #${n} to ${email}`);
  const body = mail.body as { subject: string; htmlContent: string };
  const code = /(\d{6})/.exec(body.subject)?.[1];
  expect(code, body.subject).toMatch(/^\d{6}$/);
  expect(body.htmlContent).toContain(code);
  return code!;
}

/** Login → the code from the e-mail → verify: a seller token. */
export async function signIn(app: TestApp, brevo: Fake<BrevoMode>, plate: string, email: string): Promise<string> {
  const before = mailsTo(brevo, email.toLowerCase()).length;
  const login = await app.request('POST', '/api/seller/login', { body: { car_plate: plate, email } });
  expect(login.status).toBe(202);
  const code = await codeFromEmail(brevo, email.toLowerCase(), before + 1);
  const verified = await app.request('POST', '/api/seller/verify', { body: { car_plate: plate, email, code } });
  expect(verified.status, verified.text).toBe(200);
  return verified.body.token;
}

/** Ends a car's auction now through the closing sweep, as the job would. */
export async function closeNow(app: TestApp, carId: string): Promise<void> {
  await app.sql.query(`UPDATE "Bílar" SET auction_ends_at = now() - interval '1 second' WHERE id = $1`, [carId]);
  const { closeDueAuctions } = await import('../../src/auctions/closing.js');
  await closeDueAuctions(app.db, { settings: app.config });
  const { rows } = await app.sql.query('SELECT status FROM "Bílar" WHERE id = $1', [carId]);
  expect(rows[0].status).toBe('closed');
}
