import { request } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { eventually } from '../auctions/helpers.js';
import { ADMIN_KEY, SELLER_SECRET, bearer } from './photos-suite.js';
import { jpegWithGps, photoPart, upload } from './helpers.js';

/** Upload limits that are not about the image: the per-token rate limit, and a client that hangs up mid-upload. */
describe('photo uploads: rate limit and a hung-up client', () => {
  let app: TestApp;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kaggi-media-'));
    app = await startTestApp({
      STORAGE_DRIVER: 'disk',
      MEDIA_DIR: dir,
      ADMIN_API_KEY: ADMIN_KEY,
      SELLER_TOKEN_SECRET: SELLER_SECRET,
      RATE_LIMIT_PHOTO_UPLOADS_PER_TOKEN_PER_HOUR: '2',
    });
  });
  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function listedCar(plate: string) {
    const res = await app.request('POST', '/api/cars/register', {
      body: {
        firstName: 'Anna',
        lastName: 'Jónsdóttir',
        email: `${plate.toLowerCase()}@example.is`,
        phone: '777-7777',
        postalCode: '101',
        carMake: 'Kia',
        carModel: 'Rio',
        carPlate: plate,
        year: 2019,
        mileage: 1000,
      },
    });
    expect(res.status, res.text).toBe(201);
    return { id: res.body.car.id as string, token: res.body.seller_token as string };
  }

  const photoRows = async (carId: string) =>
    Number((await app.sql.query('SELECT count(*) AS n FROM car_photos WHERE car_id = $1', [carId])).rows[0].n);

  const storedFiles = async () => (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).length;

  it('a seller token gets 429 with Retry-After after RATE_LIMIT_PHOTO_UPLOADS_PER_TOKEN_PER_HOUR uploads, nothing stored by it', async () => {
    const car = await listedCar('RL101');
    const image = await jpegWithGps(320, 240);
    for (let i = 0; i < 2; i += 1) {
      const ok = await upload(app, `/api/cars/${car.id}/photos`, [photoPart(image)], bearer(car.token));
      expect(ok.status, ok.text).toBe(201);
    }
    const files = await storedFiles();
    const refused = await upload(app, `/api/cars/${car.id}/photos`, [photoPart(image)], bearer(car.token));
    expect([refused.status, refused.body.error]).toEqual([429, 'rate_limited']);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await photoRows(car.id)).toBe(2);
    expect(await storedFiles()).toBe(files);
  });

  it('a client that hangs up halfway through the file leaves no row and no stored object', async () => {
    const car = await listedCar('HU202');
    const files = await storedFiles();
    const image = await jpegWithGps(1600, 1200);
    const boundary = 'kaggi-hang-up-boundary';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="photo"; filename="car.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
    );
    const url = new URL(`${app.url}/api/cars/${car.id}/photos`);
    await new Promise<void>((resolve) => {
      const req = request({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          ...bearer(car.token),
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': String(head.length + image.length + 64),
        },
      });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.write(head);
      req.write(image.subarray(0, Math.floor(image.length / 2)), () => setTimeout(() => req.destroy(), 200));
    });
    // The server sees the hang-up, stops, and removes whatever it had written.
    await eventually(async () => (await photoRows(car.id)) === 0 && (await storedFiles()) === files, 5_000, 'nothing left behind');
    // And it still serves: the same car takes a whole upload afterwards.
    const ok = await upload(app, `/api/cars/${car.id}/photos`, [photoPart(await jpegWithGps(320, 240))], bearer(car.token));
    expect(ok.status, ok.text).toBe(201);
  });
});
