import { expect } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import type { Fake } from '../fakes/fake-server.js';
import { BREVO_KEY, type BrevoMode } from '../fakes/brevo.js';
import { codeFromEmail, mailsTo } from '../api/seller-helpers.js';

export const DEALER_SECRET = 'dealer-secret-for-tests-0123456789abcdef';
export const SELLER_SECRET = 'seller-secret-for-dealer-tests-0123456789';
export const SUPABASE_SECRET = 'supabase-secret-for-dealer-tests-0123456';
export const ADMIN_KEY = 'admin-key-for-dealer-tests-0123456789';

/** Brevo pointed at the fake, fixed token secrets and an admin key. */
export function dealerEnv(brevo: Fake<BrevoMode>, extra: Record<string, string> = {}) {
  return {
    BREVO_API_KEY: BREVO_KEY,
    BREVO_API_BASE: brevo.url,
    BREVO_SENDER_EMAIL: 'kaggi@kaggi.is',
    BREVO_TIMEOUT_MS: '2000',
    DEALER_TOKEN_SECRET: DEALER_SECRET,
    SELLER_TOKEN_SECRET: SELLER_SECRET,
    ADMIN_API_KEY: ADMIN_KEY,
    ...extra,
  };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
export const admin = { 'X-Admin-Key': ADMIN_KEY };

/** Login → the code from the fake Brevo → verify: the dealer's token. */
export async function dealerSignIn(app: TestApp, brevo: Fake<BrevoMode>, email: string): Promise<string> {
  const before = mailsTo(brevo, email.trim().toLowerCase()).length;
  const login = await app.request('POST', '/api/dealer/login', { body: { email } });
  expect(login.status).toBe(202);
  const code = await codeFromEmail(brevo, email.trim().toLowerCase(), before + 1);
  const verified = await app.request('POST', '/api/dealer/verify', { body: { email, code } });
  expect(verified.status, verified.text).toBe(200);
  return verified.body.token;
}
