import sharp from 'sharp';
import { expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import type { Storage } from '../../src/storage/index.js';
import { objectKey, VARIANT_NAMES } from '../../src/domain/image-limits.js';
import { sweepOrphanObjects } from '../../src/auctions/media-sweep.js';
import { bomb, jpegWithGps, png, photoPart, svg, upload } from './helpers.js';

export const ADMIN_KEY = 'admin-key-for-photo-tests-0123456789';
export const SELLER_SECRET = 'seller-secret-for-photo-tests-0123456789';
export const admin = { 'X-Admin-Key': ADMIN_KEY };
export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function bytesOf(storage: Storage, key: string): Promise<Buffer | null> {
  const stream = await storage.getStream(key);
  if (!stream) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function allKeys(storage: Storage): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of storage.list('photos/')) keys.push(o.key);
  return keys.sort();
}

/** Registers a car and returns it with the seller token of the registration answer. */
async function listedCar(app: TestApp): Promise<{ id: string; token: string }> {
  const res = await app.request('POST', '/api/cars/register', {
    body: {
      firstName: 'Jón',
      lastName: 'Jónsson',
      email: 'jon@example.is',
      phone: '777-7777',
      postalCode: '101',
      carMake: 'Toyota',
      carModel: 'Yaris',
      carPlate: `P${Math.floor(Math.random() * 1e6)}`.slice(0, 7),
      year: 2018,
      mileage: 84000,
    },
  });
  expect(res.status, res.text).toBe(201);
  expect(res.body.seller_token).toEqual(expect.any(String));
  return { id: res.body.car.id, token: res.body.seller_token };
}

/** The behaviour every driver must show; `app()` is started with the driver's environment. */
export function photoSuite(get: () => { app: TestApp; storage: Storage }) {
  it('a seller uploads from the registration token: rotated, no metadata, three sizes, shown on the car and in the list', async () => {
    const { app, storage } = get();
    const car = await listedCar(app);
    const res = await upload(
      app,
      `/api/cars/${car.id}/photos`,
      [photoPart(await jpegWithGps(1200, 800)), { name: 'caption', value: 'Front' }],
      bearer(car.token),
    );
    expect(res.status, res.text).toBe(201);
    const photo = res.body.photo;
    // orientation 6: the 1200 × 800 landscape stands upright, 800 × 1200
    expect(photo).toMatchObject({ position: 1, kind: 'exterior', caption: 'Front', width: 800, height: 1200 });
    for (const variant of VARIANT_NAMES) {
      const bytes = await bytesOf(storage, objectKey(photo.id, variant));
      expect(bytes, variant).not.toBeNull();
      const meta = await sharp(bytes!).metadata();
      expect(meta.exif, `${variant} has EXIF`).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
      expect(meta.iptc).toBeUndefined();
      expect(meta.icc).toBeUndefined();
      expect(meta.orientation).toBeUndefined();
      expect(bytes!.includes(Buffer.from('SN-0123456789'))).toBe(false);
      expect(bytes!.includes(Buffer.from('TestCam'))).toBe(false);
      const edge = { thumb: 320, card: 800, full: 1920, card_jpeg: 800 }[variant];
      expect(Math.max(meta.width, meta.height)).toBe(Math.min(edge, 1200));
      expect(meta.height > meta.width).toBe(true);
      expect(meta.format).toBe(variant === 'card_jpeg' ? 'jpeg' : 'webp');
    }
    // upright: the red half (left before rotation) is now on top
    const { data } = await sharp((await bytesOf(storage, objectKey(photo.id, 'card')))!)
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(data[0]).toBeGreaterThan(200);
    expect(data[2]).toBeLessThan(60);

    const shown = await app.request('GET', `/api/cars/${car.id}`);
    expect(shown.body.car).toMatchObject({ photo_count: 1, cover_photo: { thumb: photo.urls.thumb, card: photo.urls.card } });
    expect(shown.body.photos).toEqual([photo]);
    const list = await app.request('GET', '/api/cars');
    expect(list.body.cars.find((c: { id: string }) => c.id === car.id).cover_photo.thumb).toBe(photo.urls.thumb);
    const seller = await app.request('GET', '/api/seller/car', { headers: bearer(car.token) });
    expect(seller.status).toBe(200);
    expect(seller.body.photos).toEqual([photo]);
  });

  it('a PNG is taken; an SVG named .jpg, a truncated JPEG and a bomb are refused with nothing stored', async () => {
    const { app, storage } = get();
    const car = await listedCar(app);
    const path = `/api/cars/${car.id}/photos`;
    const ok = await upload(app, path, [photoPart(await png(), 'x.png'), { name: 'kind', value: 'interior' }], admin);
    expect(ok.status, ok.text).toBe(201);
    expect(ok.body.photo).toMatchObject({ kind: 'interior', width: 640, height: 480 });
    const before = await allKeys(storage);

    const asSvg = await upload(app, path, [photoPart(svg, 'car.jpg')], admin);
    expect(asSvg.status).toBe(415);
    expect(asSvg.body.error).toBe('unsupported_image');
    const jpeg = await jpegWithGps();
    const truncated = await upload(app, path, [photoPart(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)))], admin);
    expect(truncated.status).toBe(415);
    expect(truncated.body.error).toBe('unsupported_image');
    const bombed = await upload(app, path, [photoPart(await bomb(), 'bomb.png')], admin);
    expect(bombed.status).toBe(422);
    expect(bombed.body.error).toBe('image_too_large');
    const kind = await upload(app, path, [photoPart(jpeg), { name: 'kind', value: 'selfie' }], admin);
    expect(kind.status).toBe(422);
    expect(await allKeys(storage)).toEqual(before);
    const { rows } = await app.sql.query('SELECT count(*)::int AS n FROM car_photos WHERE car_id = $1', [car.id]);
    expect(rows[0].n).toBe(1);
  });

  it('over PHOTO_MAX_BYTES → 413 photo_too_large, nothing stored', async () => {
    const { app, storage } = get();
    const car = await listedCar(app);
    const before = await allKeys(storage);
    const big = Buffer.concat([await jpegWithGps(), Buffer.alloc(app.config.PHOTO_MAX_BYTES)]);
    const res = await upload(app, `/api/cars/${car.id}/photos`, [photoPart(big)], admin);
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('photo_too_large');
    expect(await allKeys(storage)).toEqual(before);
  });

  it('authorization: none → 401, another car’s token → 403, a sold car → 409 for the seller, the admin at any status', async () => {
    const { app } = get();
    const car = await listedCar(app);
    const other = await listedCar(app);
    const jpeg = await jpegWithGps(400, 300);
    const path = `/api/cars/${car.id}/photos`;
    expect((await upload(app, path, [photoPart(jpeg)])).status).toBe(401);
    expect((await upload(app, path, [photoPart(jpeg)], bearer(other.token))).status).toBe(403);
    await app.sql.query(`UPDATE "Bílar" SET status = 'sold' WHERE id = $1`, [car.id]);
    const refused = await upload(app, path, [photoPart(jpeg)], bearer(car.token));
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('car_not_editable');
    expect((await upload(app, path, [photoPart(jpeg)], admin)).status).toBe(201);
    const json = await app.request('POST', path, { body: { photo: 'x' }, headers: admin });
    expect(json.status).toBe(415);
  });

  it('parallel uploads get distinct positions and the per-car limit holds (409 too_many_photos)', async () => {
    const { app, storage } = get();
    const car = await listedCar(app);
    const jpeg = await jpegWithGps(400, 300);
    const max = app.config.PHOTO_MAX_PER_CAR;
    const results = await Promise.all(
      Array.from({ length: max + 3 }, () => upload(app, `/api/cars/${car.id}/photos`, [photoPart(jpeg)], admin)),
    );
    const created = results.filter((r) => r.status === 201);
    expect(created).toHaveLength(max);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.error === 'too_many_photos')).toBe(true);
    expect(results.filter((r) => r.status !== 201)).toHaveLength(3);
    expect(created.map((r) => r.body.photo.position).sort((a, b) => a - b)).toEqual(Array.from({ length: max }, (_, i) => i + 1));
    // the refused uploads left no objects
    const keys = await allKeys(storage);
    const ids = new Set(created.map((r) => r.body.photo.id as string));
    const mine = keys.filter((k) => [...ids].some((id) => k.includes(id)));
    expect(mine).toHaveLength(max * VARIANT_NAMES.length);
  });

  it('reorder, patch and delete: the first is the cover, a deleted photo’s objects are gone', async () => {
    const { app, storage } = get();
    const car = await listedCar(app);
    const jpeg = await jpegWithGps(400, 300);
    const a = (await upload(app, `/api/cars/${car.id}/photos`, [photoPart(jpeg)], bearer(car.token))).body.photo;
    const b = (await upload(app, `/api/cars/${car.id}/photos`, [photoPart(jpeg)], bearer(car.token))).body.photo;
    const bad = await app.request('PUT', `/api/cars/${car.id}/photos/order`, { body: { photo_ids: [b.id] }, headers: bearer(car.token) });
    expect(bad.status).toBe(422);
    const reordered = await app.request('PUT', `/api/cars/${car.id}/photos/order`, {
      body: { photo_ids: [b.id, a.id] },
      headers: bearer(car.token),
    });
    expect(reordered.status, reordered.text).toBe(200);
    expect(reordered.body.photos.map((p: { id: string; position: number }) => [p.id, p.position])).toEqual([
      [b.id, 1],
      [a.id, 2],
    ]);
    expect((await app.request('GET', `/api/cars/${car.id}`)).body.car.cover_photo.thumb).toBe(b.urls.thumb);
    const patched = await app.request('PATCH', `/api/cars/${car.id}/photos/${a.id}`, {
      body: { caption: 'Dent', kind: 'damage' },
      headers: bearer(car.token),
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.photo).toMatchObject({ caption: 'Dent', kind: 'damage' });
    const gone = await app.request('DELETE', `/api/cars/${car.id}/photos/${b.id}`, { headers: bearer(car.token) });
    expect(gone.status).toBe(204);
    for (const v of VARIANT_NAMES) expect(await storage.getStream(objectKey(b.id, v))).toBeNull();
    const left = await app.request('GET', `/api/cars/${car.id}/photos`);
    expect(left.body.photos.map((p: { id: string; position: number }) => [p.id, p.position])).toEqual([[a.id, 1]]);
    expect((await app.request('DELETE', `/api/cars/${car.id}/photos/${b.id}`, { headers: bearer(car.token) })).status).toBe(404);
  });

  it('the inspection report points at damage photos and resolves photo ids to URLs', async () => {
    const { app } = get();
    const car = await listedCar(app);
    const jpeg = await jpegWithGps(400, 300);
    const damage = (await upload(app, `/api/cars/${car.id}/photos`, [photoPart(jpeg), { name: 'kind', value: 'damage' }], admin)).body
      .photo;
    const outside = (await upload(app, `/api/cars/${car.id}/photos`, [photoPart(jpeg)], admin)).body.photo;
    const other = await listedCar(app);
    const foreign = (await upload(app, `/api/cars/${other.id}/photos`, [photoPart(jpeg), { name: 'kind', value: 'damage' }], admin)).body
      .photo;
    const report = (damageIds: string[], photos: string[] = []) => ({
      inspector: 'NAF Reykjavík',
      inspected_at: '2025-11-24T10:00:00Z',
      odometer_km: 84210,
      overall_grade: 4,
      damages: [{ area: 'Rear bumper', description: 'Scratch', severity: 'minor', location: 'rear, left', photo_ids: damageIds }],
      items: [{ section: 'tyres', name: 'Tread depth front left', result: 'pass', measurement: { value: 6.5, unit: 'mm' } }],
      next_inspection_due: '2026-05-01',
      photos,
    });
    const put = (body: unknown) => app.request('PUT', `/api/admin/cars/${car.id}/inspection`, { body, headers: admin });
    expect((await put(report([foreign.id]))).status).toBe(422);
    expect((await put(report([outside.id]))).status).toBe(422);
    expect((await put(report([damage.id], [foreign.id]))).status).toBe(422);
    const ok = await put(report([damage.id], [outside.id, 'https://images.kaggi.is/x.jpg']));
    expect(ok.status, ok.text).toBe(200);
    const shown = await app.request('GET', `/api/cars/${car.id}/inspection`);
    expect(shown.body.inspection).toMatchObject({
      photos: [outside.urls.full, 'https://images.kaggi.is/x.jpg'],
      next_inspection_due: '2026-05-01',
      items: [{ section: 'tyres', result: 'pass', measurement: { value: 6.5, unit: 'mm' } }],
      damages: [{ location: 'rear, left', photo_ids: [damage.id], photos: [{ id: damage.id, thumb: damage.urls.thumb }] }],
    });
  });

  it('the orphan sweep removes old objects no row names and keeps the rest', async () => {
    const { app, storage } = get();
    const car = await listedCar(app);
    const kept = (await upload(app, `/api/cars/${car.id}/photos`, [photoPart(await jpegWithGps(400, 300))], admin)).body.photo;
    const orphan = '0a0b0c0d-0e0f-4a1b-8c2d-3e4f5a6b7c8d';
    await storage.put(objectKey(orphan, 'thumb'), Buffer.from('left by a crash'), 'image/webp');
    // young objects stay (an upload may be about to record its row)
    await sweepOrphanObjects(app.db, storage);
    expect(await storage.getStream(objectKey(orphan, 'thumb'))).not.toBeNull();
    const swept = await sweepOrphanObjects(app.db, storage, -60_000);
    expect(swept.removed).toBeGreaterThanOrEqual(1);
    expect(await storage.getStream(objectKey(orphan, 'thumb'))).toBeNull();
    for (const v of VARIANT_NAMES) expect(await storage.getStream(objectKey(kept.id, v))).not.toBeNull();
  });
}
