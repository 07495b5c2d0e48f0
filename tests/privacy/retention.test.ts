import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepPersonalData, type PrivacyRetentionSettings } from '../../src/auctions/retention.js';
import { createDb, type Db } from '../../src/db/pool.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { placeBid, registerCar } from '../helpers/fixtures.js';
import { createStorage, type Storage } from '../../src/storage/index.js';
import { jpegWithGps, photoPart, upload } from '../photos/helpers.js';
import { searchStoredObjects } from './helpers.js';

/** Personal data past its retention goes by itself; the clock is moved in the database. */

const TOKEN = 'metrics-token-for-privacy-tests';
const SETTINGS: PrivacyRetentionSettings = {
  RETENTION_BATCH_SIZE: 2,
  RETENTION_UNSOLD_DAYS: 180,
  SALE_RETENTION_YEARS: 7,
  RETENTION_LOGS_DAYS: 90,
};

const ADMIN_KEY = 'admin-key-for-retention-tests-0123456789';
let app: TestApp;
let mediaDir: string;
let storage: Storage;
beforeAll(async () => {
  mediaDir = await mkdtemp(path.join(tmpdir(), 'kaggi-retention-media-'));
  app = await startTestApp({ METRICS_TOKEN: TOKEN, ADMIN_API_KEY: ADMIN_KEY, STORAGE_DRIVER: 'disk', MEDIA_DIR: mediaDir });
  storage = await createStorage(app.config);
});
afterAll(async () => {
  await app?.close();
  if (mediaDir) await rm(mediaDir, { recursive: true, force: true });
});

const q = (text: string, values: unknown[] = []) => app.sql.query(text, values);

describe('retention of personal data', () => {
  it('erases unsold cars after RETENTION_UNSOLD_DAYS and sold ones after the legal hold, each once with two instances at once', async () => {
    const cars: Record<string, string> = {};
    const photos: Record<string, string> = {};
    for (const [key, status, age] of [
      ['old1', 'withdrawn', '181 days'],
      ['old2', 'declined', '200 days'],
      ['old3', 'expired', '400 days'],
      ['old4', 'withdrawn', '181 days'],
      ['old5', 'lapsed', '365 days'],
      ['recent', 'withdrawn', '179 days'],
      ['running', 'active', '400 days'],
      ['soldOld', 'sold', '8 years'],
      ['soldRecent', 'sold', '6 years'],
    ] as const) {
      const car = await registerCar(app, { firstName: 'Gamli', lastName: `Seljandi ${key}`, email: `${key.toLowerCase()}.old@example.is` });
      cars[key] = car.id;
      expect((await placeBid(app, car.id, 400_000, 'dealer.keeps@example.is')).status).toBe(201);
      if (key === 'old1' || key === 'soldOld' || key === 'recent') {
        const res = await upload(app, `/api/cars/${car.id}/photos`, [photoPart(await jpegWithGps(320, 240))], { 'X-Admin-Key': ADMIN_KEY });
        expect(res.status, res.text).toBe(201);
        photos[key] = res.body.photo.id;
      }
      // Straight into the past: the status and its time as a long-ago round would have left them.
      await q(`UPDATE "Bílar" SET status = $2, updated_at = now() - $3::interval, closed_at = now() - $3::interval WHERE id = $1`, [
        car.id,
        status,
        age,
      ]);
      await q(`INSERT INTO seller_login_codes (car_id, code_hash, expires_at) VALUES ($1, 'h', now() + interval '1 hour')`, [car.id]);
    }
    for (let i = 0; i < 3; i += 1) {
      await q(
        `INSERT INTO vehicle_verifications (plate, outcome, client_ip, created_at) VALUES ('AB123', 'found', '10.0.0.1', now() - interval '91 days')`,
      );
    }
    await q(`INSERT INTO vehicle_verifications (plate, outcome, client_ip) VALUES ('AB124', 'found', '10.0.0.2')`);

    const pools: Db[] = [];
    for (let i = 0; i < 2; i += 1) pools.push(await createDb(app.config.DATABASE_URL!, app.config));
    const [a, b] = await Promise.all(pools.map((db) => sweepPersonalData(db, SETTINGS, { logger: app.logger, storage })));
    await Promise.all(pools.map((db) => db.end()));
    // Five unsold and one sold, each erased by exactly one of the two.
    expect(a.unsold_cars + b.unsold_cars).toBe(5);
    expect(a.sold_cars + b.sold_cars).toBe(1);
    expect(a.vehicle_verifications + b.vehicle_verifications).toBe(3);

    const { rows } = await q(
      `SELECT id, seller_name, email, phone, postal_code, erased_at IS NOT NULL AS erased FROM "Bílar" WHERE id = ANY($1)`,
      [Object.values(cars)],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const key of ['old1', 'old2', 'old3', 'old4', 'old5', 'soldOld']) {
      expect(byId.get(cars[key]), key).toMatchObject({
        seller_name: '[erased]',
        email: null,
        phone: null,
        postal_code: null,
        erased: true,
      });
    }
    for (const key of ['recent', 'running', 'soldRecent']) {
      expect(byId.get(cars[key]), key).toMatchObject({ email: `${key.toLowerCase()}.old@example.is`, erased: false });
    }
    // The bids stay; the sign-in codes of erased cars go.
    expect((await q(`SELECT count(*)::int AS n FROM "uppboð" WHERE car_id = ANY($1)`, [Object.values(cars)])).rows[0].n).toBe(9);
    expect((await q(`SELECT count(*)::int AS n FROM seller_login_codes WHERE car_id = ANY($1)`, [Object.values(cars)])).rows[0].n).toBe(3);

    // The erased cars' photos went with them, rows and stored objects; the recent car keeps its own.
    const photoRows = await q(`SELECT id FROM car_photos WHERE id = ANY($1)`, [Object.values(photos)]);
    expect(photoRows.rows.map((r) => r.id)).toEqual([photos.recent]);
    const stored = new Set((await searchStoredObjects(mediaDir, [])).keys.map((k) => k.split('/')[1]));
    expect([...stored]).toEqual([photos.recent]);

    // A second run finds nothing left.
    const again = await sweepPersonalData(app.db, SETTINGS, { logger: app.logger, storage });
    expect(Object.values(again).every((n) => n === 0)).toBe(true);

    // The counts over every run of every instance, in /metrics.
    const metrics = await app.request('GET', '/metrics', { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(metrics.text).toContain('kaggi_retention_erased_total{category="unsold_cars"} 5');
    expect(metrics.text).toContain('kaggi_retention_erased_total{category="sold_cars"} 1');
    expect(metrics.text).toContain('kaggi_retention_erased_total{category="vehicle_verifications"} 3');
  });
});
