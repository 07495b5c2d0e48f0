import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createStorage, type Storage } from '../../src/storage/index.js';
import { ADMIN_KEY, SELLER_SECRET, admin, photoSuite } from './photos-suite.js';
import { jpegWithGps, photoPart, upload } from './helpers.js';

/** Photos on the s3 driver, against a real S3-protocol server (s3rver) on loopback. */
describe('photos on s3', () => {
  let app: TestApp;
  let storage: Storage;
  let server: S3rver;
  let dir: string;
  let endpoint: string;
  const env = (url: string) => ({
    STORAGE_DRIVER: 's3',
    S3_ENDPOINT: url,
    S3_REGION: 'us-east-1',
    S3_BUCKET: 'kaggi-media',
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
    S3_FORCE_PATH_STYLE: 'true',
    ADMIN_API_KEY: ADMIN_KEY,
    SELLER_TOKEN_SECRET: SELLER_SECRET,
    PHOTO_MAX_BYTES: String(2 * 1024 * 1024),
    PHOTO_MAX_PER_CAR: '6',
  });
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kaggi-s3-'));
    server = new S3rver({
      port: 0,
      address: '127.0.0.1',
      silent: true,
      directory: dir,
      configureBuckets: [{ name: 'kaggi-media', configs: [] }],
    });
    const address = await server.run();
    endpoint = `http://127.0.0.1:${address.port}`;
    app = await startTestApp(env(endpoint));
    storage = await createStorage(app.config);
  });
  afterAll(async () => {
    await app?.close();
    await storage?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  photoSuite(() => ({ app, storage }));

  it('URLs point at the bucket; /media is not served', async () => {
    const car = (
      await app.request('POST', '/api/cars/register', {
        body: {
          firstName: 'A',
          lastName: 'B',
          email: 'a@b.is',
          phone: '777-7777',
          postalCode: '101',
          carMake: 'Kia',
          carModel: 'Rio',
          carPlate: 'SU123',
          year: 2018,
          mileage: 1,
        },
      })
    ).body.car;
    const photo = (await upload(app, `/api/cars/${car.id}/photos`, [photoPart(await jpegWithGps(400, 300))], admin)).body.photo;
    expect(photo.urls.card).toBe(`${endpoint}/kaggi-media/photos/${photo.id}/card.webp`);
    expect((await fetch(`${app.url}/media/photos/${photo.id}/card.webp`)).status).toBe(404);
  });

  it('the store down → 503 storage_unavailable and no row', async () => {
    // a port nothing listens on
    const down = await startTestApp({ ...env('http://127.0.0.1:9'), S3_ENDPOINT: 'http://127.0.0.1:9' });
    try {
      const car = (
        await down.request('POST', '/api/cars/register', {
          body: {
            firstName: 'A',
            lastName: 'B',
            email: 'a@b.is',
            phone: '777-7777',
            postalCode: '101',
            carMake: 'Kia',
            carModel: 'Rio',
            carPlate: 'SD123',
            year: 2018,
            mileage: 1,
          },
        })
      ).body.car;
      const res = await upload(down, `/api/cars/${car.id}/photos`, [photoPart(await jpegWithGps(400, 300))], admin);
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('storage_unavailable');
      expect(res.headers.get('retry-after')).toBeTruthy();
      const { rows } = await down.sql.query('SELECT count(*)::int AS n FROM car_photos');
      expect(rows[0].n).toBe(0);
    } finally {
      await down.close();
    }
  });
});
