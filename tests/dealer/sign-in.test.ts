import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, decodeJwt } from 'jose';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { insertDealer, nextPlate, registerCar } from '../helpers/fixtures.js';
import { startFakeBrevo, type BrevoMode } from '../fakes/brevo.js';
import type { Fake } from '../fakes/fake-server.js';
import { codeFromEmail, mailsTo } from '../api/seller-helpers.js';
import { supabaseHsToken } from '../helpers/tokens.js';
import { DEALER_SECRET, SELLER_SECRET, SUPABASE_SECRET, bearer, dealerEnv, dealerSignIn } from './helpers.js';

/** The dealer's password-less sign-in, and where a dealer token is (and is not) worth something. */

let brevo: Fake<BrevoMode>;
let app: TestApp;
const secret = (s: string) => new TextEncoder().encode(s);

beforeAll(async () => {
  brevo = await startFakeBrevo();
  app = await startTestApp(dealerEnv(brevo, { AUTH_MODE: 'jwt', SUPABASE_JWT_SECRET: SUPABASE_SECRET }));
});
afterAll(async () => {
  await app?.close();
  await brevo?.close();
});

describe('dealer sign-in', () => {
  it('a registered dealer signs in with the code from the e-mail and the token names them', async () => {
    const id = await insertDealer(app, 'sala@bilaland.is', 'approved');
    const before = mailsTo(brevo, 'sala@bilaland.is').length;
    const login = await app.request('POST', '/api/dealer/login', { body: { email: 'Sala@Bilaland.IS' } });
    expect(login.status).toBe(202);
    const code = await codeFromEmail(brevo, 'sala@bilaland.is', before + 1);
    const verified = await app.request('POST', '/api/dealer/verify', { body: { email: 'sala@bilaland.is', code } });
    expect(verified.status).toBe(200);
    expect(verified.body.dealer).toEqual({ id, email: 'sala@bilaland.is', company_name: 'Dealer sala@bilaland.is', status: 'approved' });
    const claims = decodeJwt(verified.body.token);
    expect(claims).toMatchObject({ sub: id, role: 'dealer', aud: 'kaggi-dealer' });
    expect(claims.exp! - claims.iat!).toBe(12 * 3600);
    expect(Date.parse(verified.body.expires_at)).toBe(claims.exp! * 1000);

    const me = await app.request('GET', '/api/dealer/me', { headers: bearer(verified.body.token) });
    expect(me.status).toBe(200);
    expect(me.body.dealer.id).toBe(id);
    // the code worked once
    const again = await app.request('POST', '/api/dealer/verify', { body: { email: 'sala@bilaland.is', code } });
    expect([again.status, again.body.error]).toEqual([401, 'invalid_code']);
  });

  it('an unknown e-mail gets the same 202 and no mail; any bad code is 401 invalid_code', async () => {
    const login = await app.request('POST', '/api/dealer/login', { body: { email: 'nobody@example.is' } });
    expect(login.status).toBe(202);
    const known = await app.request('POST', '/api/dealer/login', { body: { email: 'sala@bilaland.is' } });
    expect(login.body).toEqual(known.body);
    await new Promise((r) => setTimeout(r, 300));
    expect(mailsTo(brevo, 'nobody@example.is')).toHaveLength(0);
    for (const body of [
      { email: 'nobody@example.is', code: '123456' },
      { email: 'sala@bilaland.is', code: '000000' },
    ]) {
      const res = await app.request('POST', '/api/dealer/verify', { body });
      expect([res.status, res.body.error]).toEqual([401, 'invalid_code']);
    }
    const malformed = await app.request('POST', '/api/dealer/verify', { body: { email: 'sala@bilaland.is', code: '12' } });
    expect(malformed.status).toBe(422);
  });

  it('a pending dealer signs in and sees their state, but may not bid (403 dealer_not_approved)', async () => {
    await insertDealer(app, 'bidur@bilar.is', 'pending');
    const token = await dealerSignIn(app, brevo, 'bidur@bilar.is');
    const me = await app.request('GET', '/api/dealer/me', { headers: bearer(token) });
    expect(me.body.dealer.status).toBe('pending');
    const car = await registerCar(app, { carPlate: nextPlate('P') });
    const bid = await app.request('POST', '/api/bids/create', {
      headers: bearer(token),
      body: { car_id: car.id, dealer_name: 'Bíður', dealer_email: 'bidur@bilar.is', bid_amount: 100_000 },
    });
    expect([bid.status, bid.body.error]).toEqual([403, 'dealer_not_approved']);
  });

  it('an approved dealer bids with their own token, for themself only', async () => {
    await insertDealer(app, 'kaupir@bilar.is', 'approved');
    const token = await dealerSignIn(app, brevo, 'kaupir@bilar.is');
    const car = await registerCar(app, { carPlate: nextPlate('K') });
    const bid = await app.request('POST', '/api/bids/create', {
      headers: bearer(token),
      body: { car_id: car.id, dealer_name: 'Kaupir', dealer_email: 'kaupir@bilar.is', bid_amount: 100_000 },
    });
    expect(bid.status, bid.text).toBe(201);
    const other = await app.request('POST', '/api/bids/create', {
      headers: bearer(token),
      body: { car_id: car.id, dealer_name: 'Annar', dealer_email: 'annar@bilar.is', bid_amount: 200_000 },
    });
    expect([other.status, other.body.error]).toEqual([403, 'forbidden']);
    // a suspended dealer's token stops at once
    await app.sql.query(`UPDATE dealers SET status = 'suspended' WHERE email = 'kaupir@bilar.is'`);
    const suspended = await app.request('POST', '/api/bids/create', {
      headers: bearer(token),
      body: { car_id: car.id, dealer_name: 'Kaupir', dealer_email: 'kaupir@bilar.is', bid_amount: 300_000 },
    });
    expect([suspended.status, suspended.body.error]).toEqual([403, 'dealer_suspended']);
  });

  it('a Supabase token of a dealer also shows GET /api/dealer/me', async () => {
    const id = await insertDealer(app, 'supa@bilar.is', 'approved');
    const token = await supabaseHsToken(SUPABASE_SECRET, { email: 'supa@bilar.is' });
    const me = await app.request('GET', '/api/dealer/me', { headers: bearer(token) });
    expect([me.status, me.body.dealer?.id]).toEqual([200, id]);
  });
});

describe('token scope', () => {
  it('seller and dealer tokens never cross, whatever secret signed them', async () => {
    const dealerId = await insertDealer(app, 'scope@bilar.is', 'approved');
    const dealerToken = await dealerSignIn(app, brevo, 'scope@bilar.is');
    // the seller's operations refuse a dealer token
    expect((await app.request('GET', '/api/seller/car', { headers: bearer(dealerToken) })).status).toBe(401);
    const forge = (key: string, iss: string, aud: string, role: string, sub = dealerId) =>
      new SignJWT({ role, email: 'scope@bilar.is', sv: 0 })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(sub)
        .setIssuer(iss)
        .setAudience(aud)
        .setExpirationTime('1h')
        .sign(secret(key));
    const cases = {
      sellerShaped: await forge(SELLER_SECRET, 'kaggi', 'kaggi-seller', 'seller'),
      dealerClaimsWithSellerSecret: await forge(SELLER_SECRET, 'kaggi-dealer-sign-in', 'kaggi-dealer', 'dealer'),
      dealerAudienceSellerIssuer: await forge(DEALER_SECRET, 'kaggi', 'kaggi-dealer', 'dealer'),
      wrongRole: await forge(DEALER_SECRET, 'kaggi-dealer-sign-in', 'kaggi-dealer', 'seller'),
      ourIssuerWithSupabaseSecret: await forge(SUPABASE_SECRET, 'kaggi-dealer-sign-in', 'authenticated', 'dealer'),
      unknownDealer: await forge(DEALER_SECRET, 'kaggi-dealer-sign-in', 'kaggi-dealer', 'dealer', '00000000-0000-4000-8000-000000000000'),
    };
    for (const [name, token] of Object.entries(cases)) {
      const me = await app.request('GET', '/api/dealer/me', { headers: bearer(token) });
      expect([name, me.status]).toEqual([name, 401]);
      const fav = await app.request('GET', '/api/favorites/scope%40bilar.is', { headers: bearer(token) });
      expect([name, fav.status]).toEqual([name, 401]);
    }
    const ok = await forge(DEALER_SECRET, 'kaggi-dealer-sign-in', 'kaggi-dealer', 'dealer');
    expect((await app.request('GET', '/api/dealer/me', { headers: bearer(ok) })).status).toBe(200);
    expect((await app.request('GET', '/api/dealer/me')).status).toBe(401);
  });
});

describe('configuration', () => {
  it('in production without DEALER_TOKEN_SECRET sign-in answers 503 not_configured', async () => {
    const prod = await startTestApp({ ...dealerEnv(brevo), NODE_ENV: 'production', AUTH_MODE: 'off', DEALER_TOKEN_SECRET: '' });
    try {
      const login = await prod.request('POST', '/api/dealer/login', { body: { email: 'sala@bilaland.is' } });
      expect([login.status, login.body.error]).toEqual([503, 'not_configured']);
      const verify = await prod.request('POST', '/api/dealer/verify', { body: { email: 'sala@bilaland.is', code: '123456' } });
      expect(verify.status).toBe(503);
    } finally {
      await prod.close();
    }
  });

  it('with AUTH_MODE=off a dealer token still signs in and shows the dealer; GET /api/dealer/me needs one', async () => {
    const open = await startTestApp(dealerEnv(brevo, { AUTH_MODE: 'off', DEALER_TOKEN_SECRET: '' }));
    try {
      const id = await insertDealer(open, 'opinn@bilar.is', 'approved');
      const token = await dealerSignIn(open, brevo, 'opinn@bilar.is');
      expect((await open.request('GET', '/api/dealer/me', { headers: bearer(token) })).body.dealer.id).toBe(id);
      expect((await open.request('GET', '/api/dealer/me')).status).toBe(401);
      // the per-process secret of that app is not this one's
      expect((await app.request('GET', '/api/dealer/me', { headers: bearer(token) })).status).toBe(401);
    } finally {
      await open.close();
    }
  });

  it('limits logins per e-mail (RATE_LIMIT_DEALER_LOGIN_PER_EMAIL_PER_HOUR)', async () => {
    const limited = await startTestApp(dealerEnv(brevo, { RATE_LIMIT_DEALER_LOGIN_PER_EMAIL_PER_HOUR: '2' }));
    try {
      for (let i = 0; i < 2; i += 1) {
        expect((await limited.request('POST', '/api/dealer/login', { body: { email: 'rl@bilar.is' } })).status).toBe(202);
      }
      const res = await limited.request('POST', '/api/dealer/login', { body: { email: 'RL@bilar.is' } });
      expect([res.status, res.body.error]).toEqual([429, 'rate_limited']);
      expect((await limited.request('POST', '/api/dealer/login', { body: { email: 'other@bilar.is' } })).status).toBe(202);
    } finally {
      await limited.close();
    }
  });
});
