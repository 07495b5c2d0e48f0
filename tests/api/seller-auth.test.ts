import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { nextPlate, registerCar } from '../helpers/fixtures.js';
import { startFakeBrevo, type BrevoMode } from '../fakes/brevo.js';
import { startFakeTwilio, type TwilioMode } from '../fakes/twilio.js';
import type { Fake } from '../fakes/fake-server.js';
import { bearer, SELLER_SECRET, sellerEnv, signIn } from './seller-helpers.js';

/** Who may call the seller's operations, and where a seller token is worth nothing. */

let brevo: Fake<BrevoMode>;
let twilio: Fake<TwilioMode>;
let app: TestApp;
const DEALER_SECRET = 'supabase-secret-for-seller-scope-tests-0123';

beforeAll(async () => {
  brevo = await startFakeBrevo();
  twilio = await startFakeTwilio();
  app = await startTestApp(sellerEnv(brevo, twilio, { AUTH_MODE: 'jwt', SUPABASE_JWT_SECRET: DEALER_SECRET }));
});
afterAll(async () => {
  await app?.close();
  await brevo?.close();
  await twilio?.close();
});

const sellerClaims = (sub: string) =>
  new SignJWT({ role: 'seller' }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuer('kaggi').setAudience('kaggi-seller');
const secret = (s: string) => new TextEncoder().encode(s);

describe('seller tokens', () => {
  it('each token shows its own car only; none, garbage, forged, expired or a dealer’s token → 401', async () => {
    const plateA = nextPlate('A');
    const plateB = nextPlate('B');
    const a = await registerCar(app, { carPlate: plateA, email: 'a@example.is' });
    const b = await registerCar(app, { carPlate: plateB, email: 'b@example.is' });
    const tokenA = await signIn(app, brevo, plateA, 'a@example.is');
    const tokenB = await signIn(app, brevo, plateB, 'b@example.is');
    expect((await app.request('GET', '/api/seller/car', { headers: bearer(tokenA) })).body.car.id).toBe(a.id);
    expect((await app.request('GET', '/api/seller/car', { headers: bearer(tokenB) })).body.car.id).toBe(b.id);

    const expired = await sellerClaims(a.id)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(secret(SELLER_SECRET));
    const forged = await sellerClaims(b.id).setExpirationTime('1h').sign(secret('not-the-seller-secret-0123456789abcdef'));
    const dealer = await new SignJWT({ email: 'sala@bilaland.is', role: 'authenticated' })
      .setProtectedHeader({ alg: 'HS256' })
      .setAudience('authenticated')
      .setExpirationTime('1h')
      .sign(secret(DEALER_SECRET));
    const dealerWithSellerSecret = await new SignJWT({ email: 'sala@bilaland.is' })
      .setProtectedHeader({ alg: 'HS256' })
      .setAudience('authenticated')
      .setExpirationTime('1h')
      .sign(secret(SELLER_SECRET));
    const wrongRole = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(a.id)
      .setIssuer('kaggi')
      .setAudience('kaggi-seller')
      .setExpirationTime('1h')
      .sign(secret(SELLER_SECRET));
    const cases: Record<string, Record<string, string>> = {
      none: {},
      garbage: bearer('not.a.token'),
      expired: bearer(expired),
      forged: bearer(forged),
      dealer: bearer(dealer),
      dealerWithSellerSecret: bearer(dealerWithSellerSecret),
      wrongRole: bearer(wrongRole),
    };
    for (const [name, headers] of Object.entries(cases)) {
      for (const [method, path] of [
        ['GET', '/api/seller/car'],
        ['POST', '/api/seller/car/accept'],
        ['POST', '/api/seller/car/withdraw'],
      ]) {
        const res = await app.request(method, path, { headers });
        expect([name, res.status, res.body.error]).toEqual([name, 401, 'unauthorized']);
      }
    }
    // nothing was changed by any of them
    const { rows } = await app.sql.query(`SELECT status FROM "Bílar" WHERE id = ANY($1)`, [[a.id, b.id]]);
    expect(rows.map((r: { status: string }) => r.status)).toEqual(['active', 'active']);
  });

  it('a seller token is never a dealer’s or an admin’s, even signed with the dealers’ secret', async () => {
    const plate = nextPlate('S');
    const car = await registerCar(app, { carPlate: plate, email: 's@example.is' });
    const token = await signIn(app, brevo, plate, 's@example.is');
    // dealer routes (AUTH_MODE=jwt)
    const bid = await app.request('POST', '/api/bids/create', {
      headers: bearer(token),
      body: { car_id: car.id, dealer_name: 'X', dealer_email: 's@example.is', bid_amount: 100_000 },
    });
    expect([bid.status, bid.body.error]).toEqual([401, 'unauthorized']);
    expect((await app.request('GET', '/api/favorites/s%40example.is', { headers: bearer(token) })).status).toBe(401);
    // admin routes
    expect((await app.request('PUT', `/api/cars/${car.id}/status`, { headers: bearer(token), body: { status: 'sold' } })).status).toBe(401);
    expect((await app.request('POST', `/api/cars/${car.id}/accept-bid`, { headers: bearer(token) })).status).toBe(401);
    // a seller-shaped token signed with the Supabase secret (someone reused it) is refused too
    const lookalike = await new SignJWT({ role: 'seller', email: 's@example.is' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(car.id)
      .setAudience('authenticated')
      .setExpirationTime('1h')
      .sign(secret(DEALER_SECRET));
    expect((await app.request('GET', '/api/favorites/s%40example.is', { headers: bearer(lookalike) })).status).toBe(401);
    const { rows } = await app.sql.query('SELECT count(*)::int AS n FROM "uppboð" WHERE car_id = $1', [car.id]);
    expect(rows[0].n).toBe(0);
  });
});

describe('configuration', () => {
  it('in production without SELLER_TOKEN_SECRET the seller endpoints answer 503 not_configured', async () => {
    const prod = await startTestApp({ ...sellerEnv(brevo, twilio), NODE_ENV: 'production', AUTH_MODE: 'off', SELLER_TOKEN_SECRET: '' });
    try {
      const login = await prod.request('POST', '/api/seller/login', { body: { car_plate: 'AB123', email: 'jon@example.is' } });
      expect([login.status, login.body.error]).toEqual([503, 'not_configured']);
      const verify = await prod.request('POST', '/api/seller/verify', {
        body: { car_plate: 'AB123', email: 'jon@example.is', code: '123456' },
      });
      expect(verify.status).toBe(503);
      const mine = await prod.request('GET', '/api/seller/car', { headers: bearer('x.y.z') });
      expect([mine.status, mine.body.error]).toEqual([503, 'not_configured']);
    } finally {
      await prod.close();
    }
  });

  it('outside production without a secret, a random per-process secret signs working tokens', async () => {
    const dev = await startTestApp({ ...sellerEnv(brevo, twilio), SELLER_TOKEN_SECRET: '' });
    try {
      const plate = nextPlate('R');
      await registerCar(dev, { carPlate: plate, email: 'r@example.is' });
      const token = await signIn(dev, brevo, plate, 'r@example.is');
      expect((await dev.request('GET', '/api/seller/car', { headers: bearer(token) })).status).toBe(200);
      // not signed with the configured secret of the other app
      expect((await app.request('GET', '/api/seller/car', { headers: bearer(token) })).status).toBe(401);
    } finally {
      await dev.close();
    }
  });

  it('limits logins per IP address (RATE_LIMIT_SELLER_LOGIN_PER_IP_PER_HOUR)', async () => {
    const limited = await startTestApp({ ...sellerEnv(brevo, twilio), RATE_LIMIT_SELLER_LOGIN_PER_IP_PER_HOUR: '3' });
    try {
      for (let i = 0; i < 3; i += 1) {
        expect(
          (await limited.request('POST', '/api/seller/login', { body: { car_plate: `IP${i}00`, email: 'ip@example.is' } })).status,
        ).toBe(202);
      }
      const res = await limited.request('POST', '/api/seller/login', { body: { car_plate: 'IP900', email: 'ip@example.is' } });
      expect([res.status, res.body.error]).toEqual([429, 'rate_limited']);
      expect(res.headers.get('retry-after')).toBeTruthy();
    } finally {
      await limited.close();
    }
  });
});
