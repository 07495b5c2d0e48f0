import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { camelCar, count, nextPlate, placeBid, registerCar, setStatus, snakeCar } from '../helpers/fixtures.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => app?.close());

describe('POST /api/cars/register', () => {
  it('accepts the camelCase body the frontend sends and stores a normalised, active car', async () => {
    const body = camelCar({ carPlate: 'ab 123', phone: '777-7777' });
    const res = await app.request('POST', '/api/cars/register', { body: { ...body, unknownField: 'ignored' } });
    expect(res.status).toBe(201);
    expect(res.body.success).toBe(true);
    expect(res.body.car).toMatchObject({
      seller_name: 'Jón Jónsson',
      email: 'jon@example.is',
      car_plate: 'AB123',
      status: 'active',
      highest_bid: null,
      bid_count: 0,
      min_next_bid: 12_000,
      reserve_met: true,
    });
    // an active car's auction runs for AUCTION_DURATION_HOURS (48) from registration
    const ends = Date.parse(res.body.car.auction_ends_at) - Date.parse(res.body.car.created_at);
    expect(Math.abs(ends - 48 * 3600_000)).toBeLessThan(1000);
    expect(res.body.car_id).toBe(res.body.car.id);
    const { rows } = await app.sql.query('SELECT phone, car_plate, email FROM "Bílar" WHERE id = $1', [res.body.car_id]);
    expect(rows[0]).toEqual({ phone: '+3547777777', car_plate: 'AB123', email: 'jon@example.is' });
    expect(res.body.car).not.toHaveProperty('phone');
  });

  it('accepts the snake_case body too, with numbers as strings from a form', async () => {
    const res = await app.request('POST', '/api/cars/register', { body: snakeCar({ year: '2019', mileage: '61000' }) });
    expect(res.status).toBe(201);
    expect(res.body.car).toMatchObject({ seller_name: 'Guðrún Sigurðardóttir', year: 2019, mileage: 61000 });
  });

  it('answers 409 for a plate that is already registered, however it is spelled, and writes nothing', async () => {
    const plate = nextPlate('D');
    await registerCar(app, { carPlate: plate });
    const before = await count(app, '"Bílar"');
    const res = await app.request('POST', '/api/cars/register', {
      body: snakeCar({ car_plate: ` ${plate.toLowerCase().replace(/^(..)/, '$1 ')}` }),
    });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ success: false, error: 'plate_already_registered' });
    expect(res.body.detail).toBe(res.body.message);
    expect(await count(app, '"Bílar"')).toBe(before);
  });

  it('rejects invalid fields with 422 and a path per problem, writing nothing', async () => {
    const before = await count(app, '"Bílar"');
    const res = await app.request('POST', '/api/cars/register', {
      body: camelCar({ email: 'not-an-email', mileage: -5, carPlate: 'X' }),
    });
    expect(res.status).toBe(422);
    expect(res.body.error).toBe('validation_failed');
    const paths = res.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['body.email', 'body.mileage', 'body.carPlate']));
    expect(await count(app, '"Bílar"')).toBe(before);
  });

  it('rejects a phone number that is not a number, and a year in the future', async () => {
    const next = new Date().getUTCFullYear() + 2;
    const res = await app.request('POST', '/api/cars/register', { body: camelCar({ phone: '123456', year: next }) });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['body.phone', 'body.year']);
  });

  it('answers 422 when required fields are missing', async () => {
    const res = await app.request('POST', '/api/cars/register', { body: { firstName: 'Jón' } });
    expect(res.status).toBe(422);
    expect(res.body.errors.length).toBeGreaterThan(0);
  });
});

describe('GET /api/cars', () => {
  it('lists newest first with keyset pagination and a status filter', async () => {
    const local = await startTestApp();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i += 1) ids.push((await registerCar(local)).id);
      await setStatus(local, ids[1], 'pending');
      const page1 = await local.request('GET', '/api/cars?limit=2');
      expect(page1.status).toBe(200);
      expect(page1.body.cars.map((c: { id: string }) => c.id)).toEqual([ids[4], ids[3]]);
      expect(page1.body.count).toBe(2);
      const page2 = await local.request('GET', `/api/cars?limit=2&cursor=${page1.body.next_cursor}`);
      expect(page2.body.cars.map((c: { id: string }) => c.id)).toEqual([ids[2], ids[1]]);
      const page3 = await local.request('GET', `/api/cars?limit=2&cursor=${page2.body.next_cursor}`);
      expect(page3.body.cars.map((c: { id: string }) => c.id)).toEqual([ids[0]]);
      expect(page3.body.next_cursor).toBeNull();
      const pending = await local.request('GET', '/api/cars?status=pending');
      expect(pending.body.cars.map((c: { id: string }) => c.id)).toEqual([ids[1]]);
    } finally {
      await local.close();
    }
  });

  it('shows the highest bid and bid count on each car', async () => {
    const car = await registerCar(app);
    await placeBid(app, car.id, 1_500_000);
    await placeBid(app, car.id, 1_600_000, 'sala@hekla.is');
    const res = await app.request('GET', `/api/cars/${car.id}`);
    expect(res.body.car).toMatchObject({ highest_bid: 1_600_000, bid_count: 2, min_next_bid: 1_612_000, reserve_met: true });
  });

  it('rejects a bad limit, status or cursor with 422', async () => {
    for (const q of ['limit=0', 'limit=501', 'status=stolen', 'cursor=bm90LWEtdXVpZA', 'limit=abc']) {
      const res = await app.request('GET', `/api/cars?${q}`);
      expect(res.status, q).toBe(422);
    }
  });
});

describe('GET /api/cars/{car_id}', () => {
  it('answers 404 for a missing car and 422 for a non-uuid', async () => {
    expect((await app.request('GET', '/api/cars/7d1f0a4e-2a7b-4f53-9a55-1b2c3d4e5f60')).status).toBe(404);
    const bad = await app.request('GET', '/api/cars/not-a-uuid');
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].path).toBe('path.car_id');
  });
});

describe('PUT /api/cars/{car_id}/status', () => {
  it('moves between active and pending, makes sold final', async () => {
    const car = await registerCar(app);
    await setStatus(app, car.id, 'pending');
    const paused = await app.request('GET', `/api/cars/${car.id}`);
    expect(paused.body.car).toMatchObject({ status: 'pending', auction_ends_at: null, min_next_bid: null });
    const viaQuery = await app.request('PUT', `/api/cars/${car.id}/status?status=active`);
    expect(viaQuery.status).toBe(200);
    expect(viaQuery.body.car.status).toBe('active');
    expect(Date.parse(viaQuery.body.car.auction_ends_at)).toBeGreaterThan(Date.now() + 47 * 3600_000);
    await setStatus(app, car.id, 'sold');
    const back = await app.request('PUT', `/api/cars/${car.id}/status`, { body: { status: 'active' } });
    expect(back.status).toBe(409);
    expect(back.body.error).toBe('invalid_status_transition');
    const { rows } = await app.sql.query('SELECT status FROM "Bílar" WHERE id = $1', [car.id]);
    expect(rows[0].status).toBe('sold');
  });

  it('answers 422 for an unknown status or none, 404 for a missing car', async () => {
    const car = await registerCar(app);
    expect((await app.request('PUT', `/api/cars/${car.id}/status`, { body: { status: 'stolen' } })).status).toBe(422);
    expect((await app.request('PUT', `/api/cars/${car.id}/status`, { body: {} })).status).toBe(422);
    const missing = await app.request('PUT', '/api/cars/7d1f0a4e-2a7b-4f53-9a55-1b2c3d4e5f60/status', { body: { status: 'sold' } });
    expect(missing.status).toBe(404);
  });
});
