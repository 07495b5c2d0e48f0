import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { idFromMongoId } from '../../src/import/ids.js';
import { runImport } from '../../src/import/importer.js';
import { CAR_A, CAR_B, CAR_C, CAR_D_OID, EXPORT_DIR } from './helpers.js';

/** The imported data as the API serves it; every response is checked against openapi.yaml by `request()`. */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
  const report = await runImport({ dir: EXPORT_DIR, databaseUrl: app.config.DATABASE_URL!, batchSize: 3 });
  expect(report.row_counts_ok).toBe(true);
});
afterAll(async () => app?.close());

describe('imported data through the API', () => {
  it('an imported car shows its imported bids, highest first', async () => {
    const res = await app.request('GET', `/api/bids/car/${CAR_A}`);
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(3);
    expect(res.body.bids.map((b: { bid_amount: number }) => b.bid_amount)).toEqual([1_750_000, 1_600_000, 1_500_000]);
    expect(res.body.bids.map((b: { dealer_email: string }) => b.dealer_email)).toEqual([
      'sala@hekla.is',
      'brimborg@example.is',
      'sala@bilaland.is',
    ]);
    expect(res.body.bids[0]).toMatchObject({ car_id: CAR_A, dealer_name: 'Hekla hf.', created_at: '2024-03-01T11:00:00.000Z' });
  });

  it('serves the car with its highest bid, normalised plate and the export’s timestamps', async () => {
    const res = await app.request('GET', `/api/cars/${CAR_A}`);
    expect(res.status).toBe(200);
    expect(res.body.car).toMatchObject({
      id: CAR_A,
      seller_name: 'Guðrún Þórðardóttir',
      email: 'gudrun@example.is',
      car_plate: 'AB123',
      year: 2018,
      mileage: 84000,
      highest_bid: 1_750_000,
      bid_count: 3,
      created_at: '2024-03-01T09:00:00.000Z',
    });
    expect(res.body.car).not.toHaveProperty('phone');
  });

  it('finds a car that had no id in MongoDB under its derived key, with the bid that named it by ObjectId', async () => {
    const id = idFromMongoId(CAR_D_OID);
    const car = await app.request('GET', `/api/cars/${id}`);
    expect(car.status).toBe(200);
    expect(car.body.car).toMatchObject({ car_plate: 'DAK71', status: 'active', highest_bid: 3_200_000, bid_count: 1 });
    const bids = await app.request('GET', `/api/bids/car/${id}`);
    expect(bids.body.bids).toHaveLength(1);
  });

  it('lists imported cars by status, Icelandic plates included', async () => {
    const sold = await app.request('GET', '/api/cars?status=sold');
    expect(sold.status).toBe(200);
    expect(sold.body.cars.map((c: { id: string }) => c.id)).toContain(CAR_B);
    expect(sold.body.cars.find((c: { id: string }) => c.id === CAR_B)).toMatchObject({ car_plate: 'ÞÓR12', highest_bid: 900_000 });
    const pending = await app.request('GET', '/api/cars?status=pending');
    expect(pending.body.cars.map((c: { car_plate: string }) => c.car_plate).sort()).toEqual(['XY-987', 'ÆÐI99']);
  });

  it('shows a dealer’s imported favourites once, and their bids', async () => {
    const favs = await app.request('GET', `/api/favorites/${encodeURIComponent('Sala@Bilaland.is')}`);
    expect(favs.status).toBe(200);
    // imported twice (under two ids, one in capitals): one favourite
    expect(favs.body.favorites.map((c: { id: string }) => c.id)).toEqual([CAR_A]);
    const bids = await app.request('GET', `/api/bids/dealer/${encodeURIComponent('sala@bilaland.is')}`);
    expect(bids.status).toBe(200);
    expect(bids.body.bids.map((b: { bid_amount: number }) => b.bid_amount).sort((x: number, y: number) => x - y)).toEqual([
      900_000, 1_500_000,
    ]);
    const askja = await app.request('GET', `/api/bids/dealer/${encodeURIComponent('askja@example.is')}`);
    expect(askja.body.bids.map((b: { car_id: string }) => b.car_id)).toEqual([CAR_C]);
  });

  it('lists the imported status checks newest first', async () => {
    const res = await app.request('GET', '/api/status');
    expect(res.status).toBe(200);
    expect(res.body.map((s: { client_name: string }) => s.client_name)).toEqual(['deploy', 'Þjónustuvöktun', 'monitor']);
    expect(res.body[0].details).toEqual({ version: 42, at: { $date: '2024-05-02T00:00:00Z' }, ok: true });
  });

  it('does not let an import re-run disturb what the API serves', async () => {
    const before = await app.request('GET', `/api/bids/car/${CAR_A}`);
    const again = await runImport({ dir: EXPORT_DIR, databaseUrl: app.config.DATABASE_URL! });
    expect(again.totals.inserted + again.totals.updated).toBe(0);
    const after = await app.request('GET', `/api/bids/car/${CAR_A}`);
    expect(after.body).toEqual(before.body);
  });
});
