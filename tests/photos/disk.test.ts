import { mkdtemp, rm, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createStorage, type Storage } from '../../src/storage/index.js';
import { ADMIN_KEY, SELLER_SECRET, admin, photoSuite } from './photos-suite.js';
import { jpegWithGps, photoPart, upload } from './helpers.js';

/** Photos on the disk driver (the default), served by the API at /media/. */
describe('photos on disk', () => {
  let app: TestApp;
  let storage: Storage;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kaggi-media-'));
    app = await startTestApp({
      STORAGE_DRIVER: 'disk',
      MEDIA_DIR: dir,
      ADMIN_API_KEY: ADMIN_KEY,
      SELLER_TOKEN_SECRET: SELLER_SECRET,
      PHOTO_MAX_BYTES: String(2 * 1024 * 1024),
      PHOTO_MAX_PER_CAR: '6',
      MEDIA_PUBLIC_BASE_URL: 'http://127.0.0.1:1/media/',
    });
    storage = await createStorage(app.config);
  });
  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  photoSuite(() => ({ app, storage }));

  it('serves /media/ with the immutable cache header and a cross-origin resource policy; other names are 404', async () => {
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
          carPlate: 'MD123',
          year: 2018,
          mileage: 1,
        },
      })
    ).body.car;
    const photo = (await upload(app, `/api/cars/${car.id}/photos`, [photoPart(await jpegWithGps(400, 300))], admin)).body.photo;
    const local = (u: string) => `${app.url}/media/${u.split('/media/')[1]}`;
    const res = await fetch(local(photo.urls.card));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(100);
    for (const bad of ['../package.json', '..%2F..%2Fpackage.json', `photos/${photo.id}/../../x`, 'photos/x/thumb.webp']) {
      const r = await fetch(`${app.url}/media/${bad}`);
      expect(r.status, bad).toBe(404);
    }
  });

  it('storage down → 503 storage_unavailable, no row', async () => {
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
          carPlate: 'DN456',
          year: 2018,
          mileage: 1,
        },
      })
    ).body.car;
    const broken = path.join(dir, 'photos');
    await chmod(broken, 0o500);
    try {
      // root ignores file modes: a store whose directory is a file is down for everyone
      const downApp = await startTestApp({ MEDIA_DIR: '/dev/null/media', ADMIN_API_KEY: ADMIN_KEY, SELLER_TOKEN_SECRET: SELLER_SECRET });
      try {
        const c = (
          await downApp.request('POST', '/api/cars/register', {
            body: {
              firstName: 'A',
              lastName: 'B',
              email: 'a@b.is',
              phone: '777-7777',
              postalCode: '101',
              carMake: 'Kia',
              carModel: 'Rio',
              carPlate: 'DN457',
              year: 2018,
              mileage: 1,
            },
          })
        ).body.car;
        const res = await upload(downApp, `/api/cars/${c.id}/photos`, [photoPart(await jpegWithGps(400, 300))], admin);
        expect(res.status).toBe(503);
        expect(res.body.error).toBe('storage_unavailable');
        const { rows } = await downApp.sql.query('SELECT count(*)::int AS n FROM car_photos');
        expect(rows[0].n).toBe(0);
      } finally {
        await downApp.close();
      }
    } finally {
      await chmod(broken, 0o700);
    }
    expect(car.id).toBeTruthy();
  });
});

describe('the typed client', () => {
  it('uploadPhoto sends the multipart form with the client’s token', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kaggi-media-'));
    const app = await startTestApp({ MEDIA_DIR: dir, ADMIN_API_KEY: ADMIN_KEY, SELLER_TOKEN_SECRET: SELLER_SECRET });
    try {
      const { createKaggiClient, uploadPhoto } = await import('../../client/index.js');
      const registered = await app.request('POST', '/api/cars/register', {
        body: {
          firstName: 'A',
          lastName: 'B',
          email: 'a@b.is',
          phone: '777-7777',
          postalCode: '101',
          carMake: 'Kia',
          carModel: 'Rio',
          carPlate: 'CL123',
          year: 2018,
          mileage: 1,
        },
      });
      const seller = createKaggiClient(app.url, { token: registered.body.seller_token });
      const jpeg = await jpegWithGps(400, 300);
      const { data, error, response } = await uploadPhoto(seller, registered.body.car.id, new Blob([new Uint8Array(jpeg)]), {
        kind: 'interior',
        caption: 'Seats',
      });
      expect(error, JSON.stringify(error)).toBeUndefined();
      expect(response.status).toBe(201);
      expect(data!.photo).toMatchObject({ kind: 'interior', caption: 'Seats', position: 1 });
    } finally {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
