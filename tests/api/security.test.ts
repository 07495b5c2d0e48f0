import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { count, insertDealer, placeBid, registerCar } from '../helpers/fixtures.js';
import { emailKey, normaliseEmail } from '../../src/domain/normalise.js';

const SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long';
const dealer = 'sala@bilaland.is';

async function hsToken(claims: Record<string, unknown>, options: { expiresIn?: string; audience?: string; secret?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .setAudience(options.audience ?? 'authenticated')
    .sign(new TextEncoder().encode(options.secret ?? SECRET));
}
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const SELLER_TOKEN_SECRET = 'seller-secret-for-security-tests-0123456789';
/** Signed as the server signs each kind, but without `exp`. */
const withoutExpiry = (claims: Record<string, unknown>, secret: string, audience: string, issuer?: string) => {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setAudience(audience);
  return (issuer ? jwt.setIssuer(issuer) : jwt).sign(new TextEncoder().encode(secret));
};

describe('AUTH_MODE=jwt with a Supabase HS256 secret', () => {
  let app: TestApp;
  let carId: string;
  beforeAll(async () => {
    app = await startTestApp({
      AUTH_MODE: 'jwt',
      SUPABASE_JWT_SECRET: SECRET,
      ADMIN_API_KEY: 'admin-key-for-tests-0123456789abcdef',
      SELLER_TOKEN_SECRET,
    });
    await insertDealer(app, dealer, 'approved');
    carId = (await registerCar(app)).id;
  });
  afterAll(async () => app?.close());

  it('dealer-scoped reads need a token (401) whose e-mail is the dealer in the path (403)', async () => {
    expect((await app.request('GET', `/api/bids/dealer/${dealer}`)).status).toBe(401);
    const other = await app.request('GET', `/api/bids/dealer/${dealer}`, { headers: bearer(await hsToken({ email: 'someone@else.is' })) });
    expect(other.status).toBe(403);
    const mine = await app.request('GET', `/api/bids/dealer/${dealer}`, { headers: bearer(await hsToken({ email: 'Sala@Bilaland.is' })) });
    expect(mine.status).toBe(200);
    for (const path of [`/api/favorites/${dealer}`, `/api/dashboard/stats/${dealer}`]) {
      expect((await app.request('GET', path)).status, path).toBe(401);
      expect((await app.request('GET', path, { headers: bearer(await hsToken({ email: dealer })) })).status, path).toBe(200);
    }
  });

  it('a bid is placed only for the token’s own e-mail, and nothing is written otherwise', async () => {
    const body = { car_id: carId, dealer_name: 'Bílaland', dealer_email: dealer, bid_amount: 1_000_000 };
    expect((await app.request('POST', '/api/bids/create', { body })).status).toBe(401);
    expect((await app.request('POST', '/api/bids/create', { body, headers: bearer(await hsToken({ email: 'x@y.is' })) })).status).toBe(403);
    expect(await count(app, '"uppboð"')).toBe(0);
    expect((await app.request('POST', '/api/bids/create', { body, headers: bearer(await hsToken({ email: dealer })) })).status).toBe(201);
  });

  it('rejects expired tokens, wrong audience, wrong secret and garbage', async () => {
    const bad = [
      await hsToken({ email: dealer }, { expiresIn: '-1m' }),
      await hsToken({ email: dealer }, { audience: 'anon' }),
      await hsToken({ email: dealer }, { secret: 'another-secret-of-sufficient-length-0123456789' }),
      'not.a.token',
    ];
    for (const token of bad) {
      const res = await app.request('GET', `/api/favorites/${dealer}`, { headers: bearer(token) });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('unauthorized');
    }
  });

  it('refuses tokens without an expiry: dealer, admin and seller tokens', async () => {
    const dealerToken = await withoutExpiry({ email: dealer }, SECRET, 'authenticated');
    const dealerRes = await app.request('GET', `/api/favorites/${dealer}`, { headers: bearer(dealerToken) });
    expect([dealerRes.status, dealerRes.body.error]).toEqual([401, 'unauthorized']);
    const adminToken = await withoutExpiry({ app_metadata: { role: 'admin' } }, SECRET, 'authenticated');
    const adminRes = await app.request('PUT', `/api/cars/${carId}/status`, { body: { status: 'pending' }, headers: bearer(adminToken) });
    expect([adminRes.status, adminRes.body.error]).toEqual([401, 'unauthorized']);
    const sellerToken = await new SignJWT({ role: 'seller' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(carId)
      .setIssuedAt()
      .setIssuer('kaggi')
      .setAudience('kaggi-seller')
      .sign(new TextEncoder().encode(SELLER_TOKEN_SECRET));
    const sellerRes = await app.request('GET', '/api/seller/car', { headers: bearer(sellerToken) });
    expect([sellerRes.status, sellerRes.body.error]).toEqual([401, 'unauthorized']);
    // the same tokens with an expiry get in
    expect((await app.request('GET', `/api/favorites/${dealer}`, { headers: bearer(await hsToken({ email: dealer })) })).status).toBe(200);
  });

  it('a token for a look-alike address (Kelvin sign, \\u212Aari@d1.is) does not act as the dealer kari@d1.is', async () => {
    await insertDealer(app, 'kari@d1.is', 'approved');
    const kelvin = await hsToken({ email: '\u212Aari@d1.is' });
    // today's toLowerCase() folds U+212A to k: it would be kari@d1.is
    expect('\u212Aari@d1.is'.toLowerCase()).toBe('kari@d1.is');
    for (const path of ['/api/favorites/kari@d1.is', '/api/dashboard/stats/kari@d1.is', '/api/bids/dealer/kari@d1.is']) {
      const res = await app.request('GET', path, { headers: bearer(kelvin) });
      expect([res.status, res.body.error], path).toEqual([401, 'unauthorized']);
    }
    const before = await count(app, '"uppboð"');
    const bid = await app.request('POST', '/api/bids/create', {
      body: { car_id: carId, dealer_name: 'D1', dealer_email: 'kari@d1.is', bid_amount: 2_000_000 },
      headers: bearer(kelvin),
    });
    expect([bid.status, bid.body.error]).toEqual([401, 'unauthorized']);
    expect(await count(app, '"uppboð"')).toBe(before);
    // on a public read the token counts as none: no dealer's view
    const cars = await app.request('GET', '/api/cars', { headers: bearer(kelvin) });
    expect(cars.status).toBe(200);
    // the real dealer, in any case, still is
    expect(
      (await app.request('GET', '/api/favorites/kari@d1.is', { headers: bearer(await hsToken({ email: 'KARI@d1.is' })) })).status,
    ).toBe(200);
  });

  it('changing a car’s status needs the admin key or an admin token', async () => {
    const path = `/api/cars/${carId}/status`;
    const body = { status: 'pending' };
    expect((await app.request('PUT', path, { body })).status).toBe(401);
    expect((await app.request('PUT', path, { body, headers: bearer(await hsToken({ email: dealer })) })).status).toBe(403);
    const byToken = await app.request('PUT', path, {
      body,
      headers: bearer(await hsToken({ email: 'boss@kaggi.is', app_metadata: { role: 'admin' } })),
    });
    expect(byToken.status).toBe(200);
    expect(
      (await app.request('PUT', path, { body: { status: 'active' }, headers: { 'X-Admin-Key': 'admin-key-for-tests-0123456789abcdef' } }))
        .status,
    ).toBe(200);
    expect((await app.request('PUT', path, { body, headers: { 'X-Admin-Key': 'wrong' } })).status).toBe(403);
  });

  it('public reads stay open', async () => {
    expect((await app.request('GET', '/api/cars')).status).toBe(200);
  });
});

describe('AUTH_MODE=jwt with keys from a JWKS URL (RS256)', () => {
  let jwks: Server;
  let app: TestApp;
  let sign: (claims: Record<string, unknown>) => Promise<string>;
  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
    app = await startTestApp({ AUTH_MODE: 'jwt', AUTH_JWKS_URL: url, AUTH_ISSUER: 'https://kaggi.supabase.co/auth/v1' });
    await insertDealer(app, dealer, 'approved');
    sign = (claims) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer('https://kaggi.supabase.co/auth/v1')
        .setAudience('authenticated')
        .setExpirationTime('5m')
        .sign(privateKey);
  });
  afterAll(async () => {
    await app?.close();
    jwks?.close();
  });

  it('accepts a token signed by the published key and checks the issuer when configured', async () => {
    expect((await app.request('GET', `/api/favorites/${dealer}`, { headers: bearer(await sign({ email: dealer })) })).status).toBe(200);
    const foreign = await new SignJWT({ email: dealer })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer('https://evil.example/auth/v1')
      .setAudience('authenticated')
      .setExpirationTime('5m')
      .sign((await generateKeyPair('RS256')).privateKey);
    expect((await app.request('GET', `/api/favorites/${dealer}`, { headers: bearer(foreign) })).status).toBe(401);
  });
});

describe('Idempotency-Key', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => app?.close());

  it('the same key and body returns the first answer without a second row; another body is a 422', async () => {
    const car = await registerCar(app);
    const headers = { 'Idempotency-Key': 'bid-7f3a' };
    const body = { car_id: car.id, dealer_name: 'Hekla', dealer_email: 'sala@hekla.is', bid_amount: 2_000_000 };
    const first = await app.request('POST', '/api/bids/create', { body, headers });
    const again = await app.request('POST', '/api/bids/create', { body: { ...body }, headers });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await count(app, `"uppboð" WHERE car_id = '${car.id}'`)).toBe(1);
    const changed = await app.request('POST', '/api/bids/create', { body: { ...body, bid_amount: 3_000_000 }, headers });
    expect(changed.status).toBe(422);
    expect(changed.body.error).toBe('idempotency_key_reused');
    expect(await count(app, `"uppboð" WHERE car_id = '${car.id}'`)).toBe(1);
  });

  it('car registration replays too, and keys are per operation', async () => {
    const body = {
      seller_name: 'Anna',
      email: 'anna@example.is',
      phone: '8200009',
      postal_code: '101',
      car_make: 'Kia',
      car_model: 'Rio',
      car_plate: 'IDM01',
      year: 2015,
      mileage: 1,
    };
    const headers = { 'Idempotency-Key': 'reg-1' };
    const a = await app.request('POST', '/api/cars/register', { body, headers });
    const b = await app.request('POST', '/api/cars/register', { body, headers });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.body.car_id).toBe(a.body.car_id);
    expect(await count(app, `"Bílar" WHERE car_plate = 'IDM01'`)).toBe(1);
    // without the header a retry is an ordinary second request
    expect((await app.request('POST', '/api/cars/register', { body })).status).toBe(409);
  });

  it('concurrent retries with one key write one row', async () => {
    const car = await registerCar(app);
    const body = { car_id: car.id, dealer_name: 'Hekla', dealer_email: 'sala@hekla.is', bid_amount: 500_000 };
    const results = await Promise.all(
      Array.from({ length: 8 }, () => app.request('POST', '/api/bids/create', { body, headers: { 'Idempotency-Key': 'burst-1' } })),
    );
    expect(results.every((r) => r.status === 201 || (r.status === 409 && r.body.error === 'idempotency_in_progress'))).toBe(true);
    expect(await count(app, `"uppboð" WHERE car_id = '${car.id}'`)).toBe(1);
  });

  it('a failed attempt releases the key', async () => {
    const car = await registerCar(app);
    await placeBid(app, car.id, 900_000);
    const headers = { 'Idempotency-Key': 'low-1' };
    const low = { car_id: car.id, dealer_name: 'Hekla', dealer_email: 'sala@hekla.is', bid_amount: 100 };
    expect((await app.request('POST', '/api/bids/create', { body: low, headers })).status).toBe(409);
    const { rows } = await app.sql.query(`SELECT count(*)::int AS n FROM idempotency_keys WHERE key = 'low-1'`);
    expect(rows[0].n).toBe(0);
  });
});

describe('privacy in logs', () => {
  it('a full seller and dealer flow leaves no phone, e-mail or kennitala in the logs', async () => {
    const lines: string[] = [];
    const app = await startTestApp({}, { logLines: lines });
    try {
      const car = await app.request('POST', '/api/cars/register', {
        body: {
          firstName: 'Jón',
          lastName: 'Jónsson',
          email: 'jon.secret@example.is',
          phone: '+354 861 2345',
          postalCode: '101',
          carMake: 'Kia',
          carModel: 'Ceed',
          carPlate: 'PRV01',
          year: 2019,
          mileage: 1000,
        },
      });
      expect(car.status).toBe(201);
      await app.request('POST', '/api/send-verification-code', { body: { phone: '8612345' } });
      await app.request('POST', '/api/send-welcome-email', {
        body: { name: 'Jón Jónsson', email: 'jon.secret@example.is', phone: '8612345' },
      });
      await app.request('POST', '/api/validate-company', { body: { kennitala: '410215-3060' } });
      await app.request('POST', '/api/bids/create', {
        body: { car_id: car.body.car_id, dealer_name: 'B', dealer_email: 'dealer.secret@bilaland.is', bid_amount: 10 },
      });
      await app.request('GET', '/api/bids/dealer/dealer.secret@bilaland.is');
      await app.request('GET', '/api/favorites/dealer.secret%40bilaland.is');
      const log = lines.join('\n');
      expect(lines.length).toBeGreaterThan(5);
      for (const secret of [
        'jon.secret@example.is',
        'dealer.secret@bilaland.is',
        'dealer.secret%40bilaland.is',
        '+3548612345',
        '8612345',
        '861 2345',
        '4102153060',
        '410215-3060',
      ]) {
        expect(log, secret).not.toContain(secret);
      }
      // listings never show the seller's phone
      const listing = await app.request('GET', '/api/cars');
      expect(listing.text).not.toContain('8612345');
    } finally {
      await app.close();
    }
  });
});

describe('headers', () => {
  it('X-Request-Id on every answer, errors and limits included', async () => {
    const app = await startTestApp({ RATE_LIMIT_GLOBAL_PER_MINUTE: '2' });
    try {
      const answers = [
        await app.request('GET', '/health'),
        await app.request('GET', '/api/nope'),
        await app.request('POST', '/api/status', { raw: '{', headers: { 'content-type': 'application/json' } }),
        await app.request('GET', '/api/cars'),
      ];
      for (const a of answers) expect(a.headers.get('x-request-id')).toBeTruthy();
      expect(answers[3].status).toBe(429);
    } finally {
      await app.close();
    }
  });
});

describe('e-mail addresses: one normal form (src/domain/normalise.ts)', () => {
  it('trims, applies NFKC and folds case; refuses what NFKC would change', () => {
    expect(emailKey('  Jon@Example.IS ')).toBe('jon@example.is');
    expect(emailKey('STRAẞE@bilar.is')).toBe('strasse@bilar.is');
    expect(emailKey('Jón@Bílar.is')).toBe('jón@bílar.is');
    for (const lookAlike of ['\u212Aari@d1.is', '\uFB01@d1.is', 'jo\u0301n@d1.is', 'ｊｏｎ@d1.is'])
      expect(emailKey(lookAlike), lookAlike).toBeNull();
    expect(() => normaliseEmail('\u212Aari@d1.is', 'body.dealer_email')).toThrow(
      /body\.dealer_email: must be an e-mail address in Unicode normal form/,
    );
  });
});
