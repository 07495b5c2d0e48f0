import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { count, placeBid, registerCar, setStatus } from '../helpers/fixtures.js';

const adminKey = { 'X-Admin-Key': 'admin-key-for-tests-0123456789abcdef' };

const report = (overrides: Record<string, unknown> = {}) => ({
  inspector: 'NAF Reykjavík',
  inspected_at: '2025-11-24T10:00:00Z',
  odometer_km: 84_210,
  overall_grade: 4,
  grades: { body: 4, interior: 5, engine: 4, brakes: 3 },
  damages: [{ area: 'Rear bumper', description: 'Scratch, 10 cm', severity: 'minor' }],
  remarks: 'Winter tyres included.',
  photos: ['https://images.kaggi.is/front.jpg'],
  ...overrides,
});

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ ADMIN_API_KEY: 'admin-key-for-tests-0123456789abcdef' });
});
afterAll(async () => app?.close());

const put = (carId: string, body: unknown, headers: Record<string, string> = adminKey) =>
  app.request('PUT', `/api/admin/cars/${carId}/inspection`, { body, headers });

describe('inspection reports', () => {
  it('a car without a report: 404 inspection_not_found; no such car: 404 not_found; has_inspection false', async () => {
    const car = await registerCar(app);
    const none = await app.request('GET', `/api/cars/${car.id}/inspection`);
    expect([none.status, none.body.error]).toEqual([404, 'inspection_not_found']);
    const missing = await app.request('GET', '/api/cars/00000000-0000-4000-8000-000000000000/inspection');
    expect([missing.status, missing.body.error]).toEqual([404, 'not_found']);
    expect((await app.request('GET', `/api/cars/${car.id}`)).body.car.has_inspection).toBe(false);
  });

  it('recording needs the admin key; nothing is written without it', async () => {
    const car = await registerCar(app);
    expect((await put(car.id, report(), {})).status).toBe(401);
    expect((await put(car.id, report(), { 'X-Admin-Key': 'wrong' })).status).toBe(403);
    expect(await count(app, 'car_inspections')).toBe(0);
    expect((await put('00000000-0000-4000-8000-000000000000', report())).status).toBe(404);
  });

  it('records a report that anyone can read, and a new one replaces it', async () => {
    const car = await registerCar(app);
    const first = await put(car.id, report());
    expect(first.status).toBe(200);
    expect(first.body.inspection).toMatchObject({
      car_id: car.id,
      inspector: 'NAF Reykjavík',
      inspected_at: '2025-11-24T10:00:00.000Z',
      odometer_km: 84_210,
      overall_grade: 4,
      grades: { body: 4, interior: 5, engine: 4, brakes: 3 },
      damages: [{ area: 'Rear bumper', description: 'Scratch, 10 cm', severity: 'minor' }],
      remarks: 'Winter tyres included.',
      photos: ['https://images.kaggi.is/front.jpg'],
    });
    expect(first.body.car).toMatchObject({ id: car.id, has_inspection: true, status: 'active' });
    const read = await app.request('GET', `/api/cars/${car.id}/inspection`);
    expect(read.body.inspection).toEqual(first.body.inspection);
    expect((await app.request('GET', `/api/cars/${car.id}`)).body.car.has_inspection).toBe(true);

    const second = await put(car.id, {
      inspector: 'Viking Kontroll',
      inspected_at: '2025-11-25T09:30:00Z',
      odometer_km: 84_300,
      overall_grade: 3,
    });
    expect(second.status).toBe(200);
    expect(second.body.inspection.id).not.toBe(first.body.inspection.id);
    expect(second.body.inspection).toMatchObject({
      inspector: 'Viking Kontroll',
      overall_grade: 3,
      grades: {},
      damages: [],
      photos: [],
      remarks: null,
    });
    expect((await app.request('GET', `/api/cars/${car.id}/inspection`)).body.inspection).toEqual(second.body.inspection);
    expect(await count(app, `car_inspections WHERE car_id = '${car.id}'`)).toBe(1);
  });

  it('rejects bad grades, plain-http photos and unknown severities with 422', async () => {
    const car = await registerCar(app);
    for (const bad of [
      report({ overall_grade: 6 }),
      report({ grades: { engine: 0 } }),
      report({ photos: ['http://images.kaggi.is/x.jpg'] }),
      report({ damages: [{ area: 'Door', description: 'Dent', severity: 'awful' }] }),
      report({ inspected_at: 'yesterday' }),
    ]) {
      const res = await put(car.id, bad);
      expect(res.status, JSON.stringify(bad)).toBe(422);
    }
    expect(await count(app, `car_inspections WHERE car_id = '${car.id}'`)).toBe(0);
  });

  it('open_auction opens the bidding round of a pending car, as any opened auction', async () => {
    const car = await registerCar(app);
    await setStatus(app, car.id, 'pending');
    expect((await placeBid(app, car.id, 100_000)).status).toBe(409);
    const res = await put(car.id, report({ open_auction: true }));
    expect(res.status).toBe(200);
    expect(res.body.car.status).toBe('active');
    const { rows } = await app.sql.query(
      `SELECT status, extract(epoch FROM auction_ends_at - now()) / 3600 AS hours_left FROM "Bílar" WHERE id = $1`,
      [car.id],
    );
    expect(rows[0].status).toBe('active');
    expect(Number(rows[0].hours_left)).toBeGreaterThan(47.9);
    expect(Number(rows[0].hours_left)).toBeLessThanOrEqual(48);
    expect((await placeBid(app, car.id, 100_000)).status).toBe(201);
  });

  it('open_auction re-lists a closed car with its bids standing; without it the status stays', async () => {
    const car = await registerCar(app);
    expect((await placeBid(app, car.id, 100_000)).status).toBe(201);
    await setStatus(app, car.id, 'closed');
    expect((await put(car.id, report())).body.car.status).toBe('closed');
    const reopened = await put(car.id, report({ open_auction: true }));
    expect(reopened.body.car).toMatchObject({ status: 'active', highest_bid: 100_000, bid_count: 1, min_next_bid: 112_000 });
  });

  it('open_auction on a sold car → 409, and the old report stays', async () => {
    const car = await registerCar(app);
    const first = await put(car.id, report());
    await setStatus(app, car.id, 'sold');
    const res = await put(car.id, report({ inspector: 'Someone else', open_auction: true }));
    expect([res.status, res.body.error]).toEqual([409, 'invalid_status_transition']);
    expect((await app.request('GET', `/api/cars/${car.id}/inspection`)).body.inspection).toEqual(first.body.inspection);
    const { rows } = await app.sql.query('SELECT status FROM "Bílar" WHERE id = $1', [car.id]);
    expect(rows[0].status).toBe('sold');
  });

  it('two reports for one car at once: both succeed, one report remains', async () => {
    const car = await registerCar(app);
    const results = await Promise.all([put(car.id, report({ inspector: 'A' })), put(car.id, report({ inspector: 'B' }))]);
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    expect(await count(app, `car_inspections WHERE car_id = '${car.id}'`)).toBe(1);
  });
});
