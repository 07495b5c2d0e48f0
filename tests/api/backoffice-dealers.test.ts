import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { count, insertDealer, registerCar } from '../helpers/fixtures.js';
import { SANDBOX_COMPANIES } from '../../src/integrations/rsk.js';
import { supabaseHsToken } from '../helpers/tokens.js';

const SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long';
const ADMIN_KEY = 'admin-key-for-tests-0123456789abcdef';

const token = (claims: Record<string, unknown>) => supabaseHsToken(SECRET, claims);
const bearer = async (email: string) => ({ Authorization: `Bearer ${await token({ email })}` });
const adminToken = async () => ({ Authorization: `Bearer ${await token({ email: 'boss@kaggi.is', app_metadata: { role: 'admin' } })}` });
const adminKey = { 'X-Admin-Key': ADMIN_KEY };

const APPROVED = 'approved@bilaland.is';
const RIVAL = 'rival@hekla.is';
const PENDING = 'pending@bilasala.is';
const SUSPENDED = 'suspended@bilasala.is';
const UNKNOWN = 'nobody@example.is';

describe('back office with AUTH_MODE=jwt', () => {
  let app: TestApp;
  let carId: string;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    app = await startTestApp({ AUTH_MODE: 'jwt', SUPABASE_JWT_SECRET: SECRET, ADMIN_API_KEY: ADMIN_KEY });
    ids.approved = await insertDealer(app, APPROVED, 'approved');
    ids.rival = await insertDealer(app, RIVAL, 'approved');
    ids.pending = await insertDealer(app, PENDING, 'pending');
    ids.suspended = await insertDealer(app, SUSPENDED, 'suspended');
    carId = (await registerCar(app, { firstName: 'Jón', lastName: 'Jónsson', email: 'jon@example.is', postalCode: '101' })).id;
  });
  afterAll(async () => app?.close());

  it('registration creates a pending dealer and says so', async () => {
    const [kennitala] = Object.keys(SANDBOX_COMPANIES);
    const res = await app.request('POST', '/api/dealers/register', {
      body: {
        firstName: 'Sigríður',
        surname: 'Pálsdóttir',
        organizationNumber: kennitala,
        dealerName: 'Nýskráð',
        mobileNumber: '6123456',
        streetAddress: 'Fosshálsi 1',
        postalCode: '110',
        city: 'Reykjavík',
        email: 'new@dealer.is',
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.data.dealer).toMatchObject({ status: 'pending', status_reason: null, email: 'new@dealer.is' });
    const { rows } = await app.sql.query('SELECT status FROM dealers WHERE email = $1', ['new@dealer.is']);
    expect(rows).toEqual([{ status: 'pending' }]);
  });

  describe('every dealer route needs an approved dealer', () => {
    const routes = (email: string) => [
      { method: 'POST', path: '/api/bids/create', body: { car_id: carId, dealer_name: 'X', dealer_email: email, bid_amount: 100_000 } },
      { method: 'GET', path: `/api/bids/dealer/${email}` },
      { method: 'POST', path: '/api/favorites/add', body: { car_id: carId, dealer_email: email } },
      { method: 'GET', path: `/api/favorites/${email}` },
      { method: 'DELETE', path: '/api/favorites/remove', body: { car_id: carId, dealer_email: email } },
      { method: 'GET', path: `/api/dashboard/stats/${email}` },
    ];
    const cases = [
      { who: 'no dealer with that e-mail', email: UNKNOWN, status: 403, error: 'dealer_not_approved' },
      { who: 'a pending dealer', email: PENDING, status: 403, error: 'dealer_not_approved' },
      { who: 'a suspended dealer', email: SUSPENDED, status: 403, error: 'dealer_suspended' },
    ];
    it.each(cases)('$who → $status $error, and nothing is written', async ({ email, status, error }) => {
      for (const r of routes(email)) {
        const res = await app.request(r.method, r.path, { body: r.body, headers: await bearer(email) });
        expect([res.status, res.body.error], `${r.method} ${r.path}`).toEqual([status, error]);
      }
      expect(await count(app, `"uppboð" WHERE dealer_email = '${email}'`)).toBe(0);
      expect(await count(app, `favorites WHERE dealer_email = '${email}'`)).toBe(0);
    });

    it('an approved dealer passes every route', async () => {
      const seen = [];
      for (const r of routes(APPROVED)) {
        const res = await app.request(r.method, r.path, { body: r.body, headers: await bearer(APPROVED) });
        seen.push([r.method, r.path.split('/')[2], res.status]);
      }
      expect(seen.map((s) => s[2])).toEqual([201, 200, 201, 200, 200, 200]);
    });

    it('without a token still 401, and a token for another dealer still 403 forbidden', async () => {
      const anonymous = await app.request('GET', `/api/favorites/${APPROVED}`);
      expect(anonymous.status).toBe(401);
      const other = await app.request('GET', `/api/favorites/${APPROVED}`, { headers: await bearer(RIVAL) });
      expect([other.status, other.body.error]).toEqual([403, 'forbidden']);
    });
  });

  describe('the seller’s personal data', () => {
    const hidden = { seller_name: null, email: null, postal_code: null };
    const shown = { seller_name: 'Jón Jónsson', email: 'jon@example.is', postal_code: '101' };

    it('is null for anonymous, unknown, pending and suspended callers, on the list and the car', async () => {
      const callers: [string, Record<string, string>][] = [
        ['anonymous', {}],
        ['unknown', await bearer(UNKNOWN)],
        ['pending', await bearer(PENDING)],
        ['suspended', await bearer(SUSPENDED)],
        ['invalid token', { Authorization: 'Bearer not.a.token' }],
        ['wrong admin key', { 'X-Admin-Key': 'wrong' }],
      ];
      for (const [who, headers] of callers) {
        const list = await app.request('GET', '/api/cars', { headers });
        expect(list.status, who).toBe(200);
        const car = list.body.cars.find((c: { id: string }) => c.id === carId);
        expect(car, who).toMatchObject(hidden);
        expect(car.car_make, who).toBe('Toyota');
        const one = await app.request('GET', `/api/cars/${carId}`, { headers });
        expect(one.body.car, who).toMatchObject(hidden);
      }
    });

    it('is shown to an approved dealer, the admin key and an admin token (cars, car, favourites)', async () => {
      for (const headers of [await bearer(APPROVED), adminKey, await adminToken()]) {
        expect((await app.request('GET', `/api/cars/${carId}`, { headers })).body.car).toMatchObject(shown);
        const list = await app.request('GET', '/api/cars', { headers });
        expect(list.body.cars.find((c: { id: string }) => c.id === carId)).toMatchObject(shown);
      }
      await app.request('POST', '/api/favorites/add', { body: { car_id: carId, dealer_email: APPROVED }, headers: await bearer(APPROVED) });
      const favourites = await app.request('GET', `/api/favorites/${APPROVED}`, { headers: await bearer(APPROVED) });
      expect(favourites.body.favorites[0]).toMatchObject({ id: carId, ...shown });
    });
  });

  it('a car’s bids name only the caller’s own bidders (all for an admin, none for anyone else)', async () => {
    const car = (await registerCar(app)).id;
    const bid = async (email: string, amount: number) =>
      app.request('POST', '/api/bids/create', {
        body: { car_id: car, dealer_name: `Dealer ${email}`, dealer_email: email, bid_amount: amount },
        headers: await bearer(email),
      });
    expect((await bid(APPROVED, 100_000)).status).toBe(201);
    expect((await bid(RIVAL, 200_000)).status).toBe(201);
    const names = (bids: { dealer_email: string | null; bid_amount: number }[]) => bids.map((b) => [b.bid_amount, b.dealer_email]);

    const mine = await app.request('GET', `/api/bids/car/${car}`, { headers: await bearer(APPROVED) });
    expect(names(mine.body.bids)).toEqual([
      [200_000, null],
      [100_000, APPROVED],
    ]);
    expect(mine.body.bids[0].dealer_name).toBeNull();
    const anonymous = await app.request('GET', `/api/bids/car/${car}`);
    expect(names(anonymous.body.bids)).toEqual([
      [200_000, null],
      [100_000, null],
    ]);
    const admin = await app.request('GET', `/api/bids/car/${car}`, { headers: adminKey });
    expect(names(admin.body.bids)).toEqual([
      [200_000, RIVAL],
      [100_000, APPROVED],
    ]);
  });

  describe('admin: dealers list and status', () => {
    it('needs the admin key or an admin token', async () => {
      expect((await app.request('GET', '/api/admin/dealers')).status).toBe(401);
      const dealer = await app.request('GET', '/api/admin/dealers', { headers: await bearer(APPROVED) });
      expect([dealer.status, dealer.body.error]).toEqual([403, 'forbidden']);
      expect((await app.request('GET', '/api/admin/dealers', { headers: { 'X-Admin-Key': 'wrong' } })).status).toBe(403);
      expect((await app.request('GET', '/api/admin/dealers', { headers: adminKey })).status).toBe(200);
      expect((await app.request('GET', '/api/admin/dealers', { headers: await adminToken() })).status).toBe(200);
      const put = await app.request('PUT', `/api/admin/dealers/${ids.pending}/status`, {
        body: { status: 'approved' },
        headers: await bearer(APPROVED),
      });
      expect(put.status).toBe(403);
      expect((await app.sql.query('SELECT status FROM dealers WHERE id = $1', [ids.pending])).rows[0].status).toBe('pending');
    });

    it('filters by status and pages with a cursor', async () => {
      const suspended = await app.request('GET', '/api/admin/dealers?status=suspended', { headers: adminKey });
      expect(suspended.body.dealers.map((d: { email: string }) => d.email)).toEqual([SUSPENDED]);
      const all = (await app.request('GET', '/api/admin/dealers', { headers: adminKey })).body.dealers.map((d: { id: string }) => d.id);
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { dealers: { id: string }[]; next_cursor: string | null } } = await app.request(
          'GET',
          `/api/admin/dealers?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          { headers: adminKey },
        );
        paged.push(...page.body.dealers.map((d) => d.id));
        cursor = page.body.next_cursor;
      } while (cursor);
      expect(paged).toEqual(all);
      expect(all.length).toBeGreaterThanOrEqual(4);
      expect((await app.request('GET', '/api/admin/dealers?status=gone', { headers: adminKey })).status).toBe(422);
      expect((await app.request('GET', '/api/admin/dealers?cursor=bm9wZQ', { headers: adminKey })).status).toBe(422);
    });

    it('unknown dealer → 404; approve and suspend queue one e-mail each; the same status again sends nothing', async () => {
      const missing = await app.request('PUT', '/api/admin/dealers/00000000-0000-4000-8000-000000000000/status', {
        body: { status: 'approved' },
        headers: adminKey,
      });
      expect(missing.status).toBe(404);
      const id = await insertDealer(app, 'queue@dealer.is', 'pending');
      const approve = await app.request('PUT', `/api/admin/dealers/${id}/status`, { body: { status: 'approved' }, headers: adminKey });
      expect(approve.status).toBe(200);
      expect(approve.body.dealer).toMatchObject({ id, status: 'approved', status_reason: null });
      const again = await app.request('PUT', `/api/admin/dealers/${id}/status`, {
        body: { status: 'approved' },
        headers: await adminToken(),
      });
      expect(again.status).toBe(200);
      expect(again.body.dealer.status_changed_at).toBe(approve.body.dealer.status_changed_at);
      const suspend = await app.request('PUT', `/api/admin/dealers/${id}/status`, {
        body: { status: 'suspended', reason: ' Unpaid invoices ' },
        headers: adminKey,
      });
      expect(suspend.body.dealer).toMatchObject({ status: 'suspended', status_reason: 'Unpaid invoices' });
      const { rows } = await app.sql.query(
        `SELECT kind, to_email, car_id, params->>'reason' AS reason FROM email_outbox WHERE to_email = 'queue@dealer.is' ORDER BY created_at`,
      );
      expect(rows).toEqual([
        { kind: 'dealer_approved', to_email: 'queue@dealer.is', car_id: null, reason: null },
        { kind: 'dealer_suspended', to_email: 'queue@dealer.is', car_id: null, reason: 'Unpaid invoices' },
      ]);
      // and the suspension is in force at once
      const res = await app.request('GET', '/api/favorites/queue@dealer.is', { headers: await bearer('queue@dealer.is') });
      expect([res.status, res.body.error]).toEqual([403, 'dealer_suspended']);
    });
  });

  it('a suspended dealer’s bids stay, but their proxy maximum no longer bids for them', async () => {
    const leader = 'proxy@leader.is';
    await insertDealer(app, leader, 'approved');
    const bid = async (c: string, email: string, amount: number, max?: number) =>
      app.request('POST', '/api/bids/create', {
        body: { car_id: c, dealer_name: `Dealer ${email}`, dealer_email: email, bid_amount: amount, ...(max ? { max_amount: max } : {}) },
        headers: await bearer(email),
      });
    // control: while approved, the maximum answers the rival's bid
    const control = (await registerCar(app)).id;
    expect((await bid(control, leader, 100_000, 500_000)).status).toBe(201);
    const answered = await bid(control, RIVAL, 112_000);
    expect([answered.body.leading, answered.body.highest_bid]).toEqual([false, 124_000]);

    const car = (await registerCar(app)).id;
    expect((await bid(car, leader, 100_000, 500_000)).body.leading).toBe(true);
    const leaderId = (await app.sql.query('SELECT id FROM dealers WHERE email = $1', [leader])).rows[0].id;
    expect(
      (await app.request('PUT', `/api/admin/dealers/${leaderId}/status`, { body: { status: 'suspended' }, headers: adminKey })).status,
    ).toBe(200);
    const taken = await bid(car, RIVAL, 112_000);
    expect([taken.status, taken.body.leading, taken.body.highest_bid]).toEqual([201, true, 112_000]);
    const { rows } = await app.sql.query('SELECT dealer_email, bid_amount, proxy FROM "uppboð" WHERE car_id = $1 ORDER BY seq', [car]);
    expect(rows).toEqual([
      { dealer_email: leader, bid_amount: 100_000, proxy: false },
      { dealer_email: RIVAL, bid_amount: 112_000, proxy: false },
    ]);
    const bids = await app.request('GET', `/api/bids/car/${car}`, { headers: adminKey });
    expect(bids.body.count).toBe(2);
  });
});

describe('back office with AUTH_MODE=off', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ ADMIN_API_KEY: ADMIN_KEY });
  });
  afterAll(async () => app?.close());

  it('everything stays visible to anyone, and dealer routes need no approval', async () => {
    const car = (await registerCar(app, { email: 'jon@example.is' })).id;
    const res = await app.request('POST', '/api/bids/create', {
      body: { car_id: car, dealer_name: 'Bílaland', dealer_email: 'fixed@dealer.is', bid_amount: 100_000 },
    });
    expect(res.status).toBe(201);
    expect((await app.request('GET', `/api/cars/${car}`)).body.car).toMatchObject({ seller_name: 'Jón Jónsson', email: 'jon@example.is' });
    expect((await app.request('GET', `/api/bids/car/${car}`)).body.bids[0]).toMatchObject({
      dealer_email: 'fixed@dealer.is',
      dealer_name: 'Bílaland',
    });
  });

  it('the back-office operations still need the admin key', async () => {
    expect((await app.request('GET', '/api/admin/dealers')).status).toBe(401);
    expect((await app.request('GET', '/api/admin/dealers', { headers: adminKey })).status).toBe(200);
  });
});
