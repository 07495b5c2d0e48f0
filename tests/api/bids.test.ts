import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { count, insertDealer, placeBid, registerCar, setStatus } from '../helpers/fixtures.js';
import { supabaseHsToken } from '../helpers/tokens.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => app?.close());

describe('POST /api/bids/create', () => {
  it('accepts a first bid of at least one increment, then only bids at least one increment higher', async () => {
    const car = await registerCar(app);
    const tooSmall = await placeBid(app, car.id, 11_999);
    expect(tooSmall.status).toBe(409);
    expect(tooSmall.body).toMatchObject({ error: 'bid_too_low', min_next_bid: 12_000 });
    const first = await placeBid(app, car.id, 2_000_000);
    expect(first.status).toBe(201);
    expect(first.body.bid).toMatchObject({ car_id: car.id, bid_amount: 2_000_000, dealer_email: 'sala@bilaland.is', proxy: false });
    expect(first.body.bid_id).toBe(first.body.bid.id);
    expect(first.body).toMatchObject({ leading: true, highest_bid: 2_000_000, min_next_bid: 2_012_000, reserve_met: true });

    const same = await placeBid(app, car.id, 2_000_000, 'sala@hekla.is');
    expect(same.status).toBe(409);
    expect(same.body).toMatchObject({ error: 'bid_too_low', min_next_bid: 2_012_000 });
    const belowStep = await placeBid(app, car.id, 2_011_999, 'sala@hekla.is');
    expect(belowStep.status).toBe(409);
    const lower = await placeBid(app, car.id, 1_000, 'sala@hekla.is');
    expect(lower.status).toBe(409);
    expect((await placeBid(app, car.id, 2_012_000, 'sala@hekla.is')).status).toBe(201);
    const { rows } = await app.sql.query('SELECT bid_amount FROM "uppboð" WHERE car_id = $1 ORDER BY bid_amount', [car.id]);
    expect(rows.map((r) => r.bid_amount)).toEqual([2_000_000, 2_012_000]);
  });

  it('refuses bids on cars that are not active, and on missing cars', async () => {
    const car = await registerCar(app);
    await setStatus(app, car.id, 'pending');
    const res = await placeBid(app, car.id, 500_000);
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('car_not_active');
    const missing = await placeBid(app, '7d1f0a4e-2a7b-4f53-9a55-1b2c3d4e5f60', 500_000);
    expect(missing.status).toBe(404);
    expect(await count(app, `"uppboð" WHERE car_id = '${car.id}'`)).toBe(0);
  });

  it('validates amounts and e-mails', async () => {
    const car = await registerCar(app);
    for (const bad of [0, -1, 1.5, '100', 3_000_000_000]) {
      const res = await app.request('POST', '/api/bids/create', {
        body: { car_id: car.id, dealer_name: 'Hekla', dealer_email: 'sala@hekla.is', bid_amount: bad },
      });
      expect(res.status, String(bad)).toBe(422);
      expect(res.body.errors[0].path).toBe('body.bid_amount');
    }
    const res = await app.request('POST', '/api/bids/create', {
      body: { car_id: car.id, dealer_name: 'Hekla', dealer_email: 'nope', bid_amount: 10 },
    });
    expect(res.status).toBe(422);
  });

  it('keeps bids consistent when 50 dealers bid on one car at the same instant', async () => {
    const car = await registerCar(app);
    // distinct amounts one increment (12,000) apart, so the largest is always accepted
    const amounts = Array.from({ length: 50 }, (_, i) => 1_000_000 + ((i * 7919) % 50) * 12_000);
    const results = await Promise.all(amounts.map((amount, i) => placeBid(app, car.id, amount, `dealer${i}@example.is`)));
    expect(results.filter((r) => r.status >= 500)).toHaveLength(0);
    expect(results.every((r) => r.status === 201 || (r.status === 409 && r.body.error === 'bid_too_low'))).toBe(true);
    const accepted = results.filter((r) => r.status === 201).map((r) => r.body.bid.bid_amount);
    expect(accepted.length).toBeGreaterThan(0);
    // In commit order every accepted bid is strictly above the one before it.
    const { rows } = await app.sql.query('SELECT bid_amount FROM "uppboð" WHERE car_id = $1 ORDER BY created_at, id', [car.id]);
    const inOrder = rows.map((r) => r.bid_amount);
    expect(inOrder).toHaveLength(accepted.length);
    for (let i = 1; i < inOrder.length; i += 1) expect(inOrder[i]).toBeGreaterThan(inOrder[i - 1]);
    // every accepted bid is at least one increment above the one before it
    for (let i = 1; i < inOrder.length; i += 1) expect(inOrder[i] - inOrder[i - 1]).toBeGreaterThanOrEqual(12_000);
    const final = await app.request('GET', `/api/cars/${car.id}`);
    expect(final.body.car.highest_bid).toBe(Math.max(...accepted));
    expect(final.body.car.highest_bid).toBe(Math.max(...amounts));
    expect(final.body.car.min_next_bid).toBe(Math.max(...amounts) + 12_000);
  });
});

describe('POST /api/bids/create: who bids (AUTH_MODE=off)', () => {
  const bidsOn = (carId: string) => count(app, `"uppboð" WHERE car_id = '${carId}'`);

  it('refuses the car’s own seller (409 own_car) by e-mail, whatever its case', async () => {
    const car = await registerCar(app, { email: 'Seljandi@Example.IS' });
    const res = await placeBid(app, car.id, 500_000, 'SELJANDI@example.is');
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('own_car');
    expect(await bidsOn(car.id)).toBe(0);
    expect((await placeBid(app, car.id, 500_000, 'someone.else@example.is')).status).toBe(201);
  });

  it('refuses a registered dealer whose mobile number is the car’s phone, under another e-mail', async () => {
    const dealerId = await insertDealer(app, 'shill@dealer.is', 'approved');
    await app.sql.query(`UPDATE dealers SET mobile_number = '+3546901234' WHERE id = $1`, [dealerId]);
    const car = await registerCar(app, { email: 'private@example.is', phone: '690 1234' });
    const res = await placeBid(app, car.id, 500_000, 'shill@dealer.is');
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('own_car');
    expect(await bidsOn(car.id)).toBe(0);
  });

  it('stores a registered dealer’s company name, not the name sent; an unknown e-mail keeps the name sent', async () => {
    const dealerId = await insertDealer(app, 'kari@bilasalan.is', 'approved');
    await app.sql.query(`UPDATE dealers SET company_name = 'Bílasalan Kári ehf.' WHERE id = $1`, [dealerId]);
    const car = await registerCar(app);
    const res = await app.request('POST', '/api/bids/create', {
      body: { car_id: car.id, dealer_name: 'Kaggi ehf. (staff)', dealer_email: 'Kari@Bilasalan.is', bid_amount: 400_000 },
    });
    expect(res.status).toBe(201);
    expect(res.body.bid.dealer_name).toBe('Bílasalan Kári ehf.');
    const outsider = await app.request('POST', '/api/bids/create', {
      body: { car_id: car.id, dealer_name: '  Óskráð sala  ', dealer_email: 'unknown@example.is', bid_amount: 500_000 },
    });
    expect(outsider.body.bid.dealer_name).toBe('Óskráð sala');
    const { rows } = await app.sql.query('SELECT dealer_name FROM "uppboð" WHERE car_id = $1 ORDER BY bid_amount', [car.id]);
    expect(rows.map((r) => r.dealer_name)).toEqual(['Bílasalan Kári ehf.', 'Óskráð sala']);
  });

  it('a proxy answer for a registered leader carries the registered name too', async () => {
    const dealerId = await insertDealer(app, 'proxy@bilasalan.is', 'approved');
    const car = await registerCar(app);
    const first = await app.request('POST', '/api/bids/create', {
      body: { car_id: car.id, dealer_name: 'Made up', dealer_email: 'proxy@bilasalan.is', bid_amount: 100_000, max_amount: 900_000 },
    });
    expect(first.status).toBe(201);
    expect((await placeBid(app, car.id, 200_000, 'other@example.is')).body.leading).toBe(false);
    const { rows } = await app.sql.query(
      `SELECT b.dealer_name, d.dealer_name AS registered FROM "uppboð" b JOIN dealers d ON d.email = b.dealer_email
       WHERE b.car_id = $1 AND d.id = $2`,
      [car.id, dealerId],
    );
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.dealer_name).toBe(row.registered);
  });
});

describe('POST /api/bids/create: who bids (AUTH_MODE=jwt)', () => {
  const SECRET = 'bids-test-jwt-secret-with-at-least-32-characters';
  let jwtApp: TestApp;
  beforeAll(async () => {
    jwtApp = await startTestApp({ AUTH_MODE: 'jwt', SUPABASE_JWT_SECRET: SECRET });
  });
  afterAll(async () => jwtApp?.close());

  const bidAs = async (carId: string, email: string, dealerName: string, amount: number) =>
    jwtApp.request('POST', '/api/bids/create', {
      body: { car_id: carId, dealer_name: dealerName, dealer_email: email, bid_amount: amount },
      headers: { Authorization: `Bearer ${await supabaseHsToken(SECRET, { email })}` },
    });

  it('the token’s dealer bids under the registered company name and never on a car they sell', async () => {
    const dealerId = await insertDealer(jwtApp, 'sala@hekla.is', 'approved');
    await jwtApp.sql.query(`UPDATE dealers SET company_name = 'Hekla hf.' WHERE id = $1`, [dealerId]);
    const other = await registerCar(jwtApp);
    const placed = await bidAs(other.id, 'sala@hekla.is', 'Kaggi ehf. (staff)', 300_000);
    expect(placed.status).toBe(201);
    expect(placed.body.bid.dealer_name).toBe('Hekla hf.');

    const own = await registerCar(jwtApp, { email: 'sala@hekla.is' });
    const refused = await bidAs(own.id, 'sala@hekla.is', 'Hekla', 300_000);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('own_car');
    expect(await count(jwtApp, `"uppboð" WHERE car_id = '${own.id}'`)).toBe(0);
  });
});

describe('GET /api/bids/car/{car_id}', () => {
  it('lists a car’s bids highest first', async () => {
    const car = await registerCar(app);
    await placeBid(app, car.id, 100_000, 'a@example.is');
    await placeBid(app, car.id, 300_000, 'b@example.is');
    const res = await app.request('GET', `/api/bids/car/${car.id}`);
    expect(res.body.bids.every((b: { proxy: boolean }) => b.proxy === false)).toBe(true);
    expect(res.status).toBe(200);
    expect(res.body.bids.map((b: { bid_amount: number }) => b.bid_amount)).toEqual([300_000, 100_000]);
    expect(res.body.count).toBe(2);
  });

  it('answers [] for a car without bids and 404 for a missing car', async () => {
    const car = await registerCar(app);
    const empty = await app.request('GET', `/api/bids/car/${car.id}`);
    expect(empty.body).toEqual({ success: true, bids: [], count: 0 });
    expect((await app.request('GET', '/api/bids/car/7d1f0a4e-2a7b-4f53-9a55-1b2c3d4e5f60')).status).toBe(404);
  });
});

describe('GET /api/bids/dealer/{dealer_email}', () => {
  it('returns the dealer’s bids newest first, each with its car', async () => {
    const a = await registerCar(app, { carMake: 'BMW', carModel: '320i' });
    const b = await registerCar(app, { carMake: 'Kia', carModel: 'Ceed' });
    await placeBid(app, a.id, 100_000, 'Brimborg@Example.is');
    await placeBid(app, b.id, 200_000, 'brimborg@example.is');
    const res = await app.request('GET', `/api/bids/dealer/${encodeURIComponent('BRIMBORG@example.is')}`);
    expect(res.status).toBe(200);
    expect(res.body.bids).toHaveLength(2);
    expect(res.body.bids[0].car).toEqual({
      id: b.id,
      car_make: 'Kia',
      car_model: 'Ceed',
      car_plate: b.car_plate,
      year: 2018,
      status: 'active',
    });
    expect(res.body.bids[1].car.id).toBe(a.id);
  });

  it('answers 422 for something that is not an e-mail', async () => {
    expect((await app.request('GET', '/api/bids/dealer/not-an-email')).status).toBe(422);
  });
});
