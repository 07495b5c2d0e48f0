import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKaggiClient, type Inspection, type KaggiClient, type PriceEstimateResponse } from '../../client/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { registerCar } from '../helpers/fixtures.js';
import { specChecked } from './spec-checked.js';

/** The back office through the typed client: an admin records a report that opens the round; anyone reads it and asks for an estimate. */
let app: TestApp;
let admin: KaggiClient;
let anyone: KaggiClient;
beforeAll(async () => {
  app = await startTestApp({ ADMIN_API_KEY: 'admin-key-for-tests-0123456789abcdef' });
  const checked = specChecked();
  admin = createKaggiClient(app.url, { adminKey: 'admin-key-for-tests-0123456789abcdef', middleware: [checked.middleware] });
  anyone = createKaggiClient(app.url, { middleware: [checked.middleware] });
});
afterAll(async () => app?.close());

describe('typed client: back office', () => {
  it('records an inspection, opens the round, and reads report, dealers and estimate', async () => {
    const car = await registerCar(app);
    await app.sql.query(`UPDATE "Bílar" SET status = 'pending', auction_ends_at = NULL WHERE id = $1`, [car.id]);
    const put = await admin.PUT('/api/admin/cars/{car_id}/inspection', {
      params: { path: { car_id: car.id } },
      body: { inspector: 'NAF', inspected_at: '2025-11-24T10:00:00Z', odometer_km: 84_000, overall_grade: 4, open_auction: true },
    });
    expect(put.data?.car.status).toBe('active');
    const read = await anyone.GET('/api/cars/{car_id}/inspection', { params: { path: { car_id: car.id } } });
    const inspection: Inspection | undefined = read.data?.inspection;
    expect(inspection?.id).toBe(put.data?.inspection.id);
    const refused = await anyone.GET('/api/admin/dealers', {});
    expect(refused.error?.error).toBe('admin_key_required');
    expect((await admin.GET('/api/admin/dealers', { params: { query: { status: 'pending' } } })).data?.dealers).toEqual([]);
    const estimate = await anyone.GET('/api/price-estimate', {
      params: { query: { make: 'Toyota', model: 'Yaris', year: 2018, mileage: 84_000 } },
    });
    const body: PriceEstimateResponse | undefined = estimate.data;
    expect(body).toEqual({ success: true, estimate: null, reason: 'insufficient_data' });
  });
});
