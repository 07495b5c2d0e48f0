import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { PHOTO_KINDS } from '../domain/image-limits.js';
import { noRows } from './no-rows.js';

/**
 * Car photos (table car_photos, migration 010). A photo's objects are named after its id
 * (src/domain/image-limits.ts `objectKey`), so the URLs are built here from the id and the
 * store's public base: the same SQL serves a car's gallery and the cover of every car in a list.
 */

/** What the store puts in front of an object name (src/storage `publicBase`). */
export type MediaBase = { base: string };

const url = (base: string, column: string, file: string) =>
  sql.fragment`${base}::text || 'photos/' || ${sql.identifier(column.split('.'))}::text || ${`/${file}`}`;

export const photoRow = z.object({
  id: z.string().uuid(),
  position: z.number().int(),
  kind: z.enum(PHOTO_KINDS),
  caption: z.string().nullable(),
  width: z.number().int(),
  height: z.number().int(),
  urls: z.object({ thumb: z.string(), card: z.string(), full: z.string(), card_jpeg: z.string() }),
  created_at: z.string(),
});
export type PhotoRow = z.infer<typeof photoRow>;

const photoColumns = ({ base }: MediaBase) => sql.fragment`
  p.id, p.position, p.kind, p.caption, p.width, p.height,
  json_build_object('thumb', ${url(base, 'p.id', 'thumb.webp')}, 'card', ${url(base, 'p.id', 'card.webp')},
                    'full', ${url(base, 'p.id', 'full.webp')}, 'card_jpeg', ${url(base, 'p.id', 'card_jpeg.jpg')}) AS urls,
  p.created_at`;

/**
 * For the car object (src/db/cars.ts `selectCars`): how many photos the car has and the
 * cover's small URLs (the first photo), or null.
 */
export const carPhotoColumns = ({ base }: MediaBase) => sql.fragment`
  (SELECT count(*)::int FROM car_photos p WHERE p.car_id = c.id) AS photo_count,
  (SELECT json_build_object('thumb', ${url(base, 'p.id', 'thumb.webp')}, 'card', ${url(base, 'p.id', 'card.webp')})
     FROM car_photos p WHERE p.car_id = c.id ORDER BY p.position LIMIT 1) AS cover_photo`;

export const coverPhoto = z.object({ thumb: z.string(), card: z.string() }).nullable();

/** A car's photos, cover first. */
export function listPhotos(q: CommonQueryMethods, media: MediaBase, carId: string) {
  return q.any(sql.type(photoRow)`
    SELECT ${photoColumns(media)} FROM car_photos p WHERE p.car_id = ${carId} ORDER BY p.position`);
}

const tally = z.object({ count: z.number().int(), last: z.number().int() });

/** How many photos a car has and its last position (0 for none); read under the car's row lock. */
export function photoTally(q: CommonQueryMethods, carId: string) {
  return q.one(sql.type(tally)`
    SELECT count(*)::int AS count, coalesce(max(position), 0)::int AS last FROM car_photos WHERE car_id = ${carId}`);
}

export type NewPhoto = { id: string; carId: string; position: number; kind: string; caption: string | null; width: number; height: number };

export function insertPhoto(q: CommonQueryMethods, media: MediaBase, photo: NewPhoto) {
  return q.one(sql.type(photoRow)`
    WITH p AS (
      INSERT INTO car_photos (id, car_id, position, kind, caption, width, height)
      VALUES (${photo.id}, ${photo.carId}, ${photo.position}, ${photo.kind}, ${photo.caption}, ${photo.width}, ${photo.height})
      RETURNING *
    )
    SELECT ${photoColumns(media)} FROM p`);
}

/** Changes caption and/or kind; null when the car has no such photo. */
export function updatePhoto(
  q: CommonQueryMethods,
  media: MediaBase,
  carId: string,
  photoId: string,
  change: { caption?: string | null; kind?: string },
) {
  const sets = [
    change.caption !== undefined ? sql.fragment`caption = ${change.caption}` : null,
    change.kind !== undefined ? sql.fragment`kind = ${change.kind}` : null,
  ].filter((s) => s !== null);
  if (sets.length === 0) {
    return q.maybeOne(sql.type(photoRow)`
      SELECT ${photoColumns(media)} FROM car_photos p WHERE p.car_id = ${carId} AND p.id = ${photoId}`);
  }
  return q.maybeOne(sql.type(photoRow)`
    WITH p AS (
      UPDATE car_photos SET ${sql.join(sets, sql.fragment`, `)} WHERE car_id = ${carId} AND id = ${photoId} RETURNING *
    )
    SELECT ${photoColumns(media)} FROM p`);
}

const idRow = z.object({ id: z.string().uuid() });

/** Deletes the photo and closes the gap in the positions; false when the car has no such photo. */
export async function deletePhoto(q: CommonQueryMethods, carId: string, photoId: string): Promise<boolean> {
  const gone = await q.maybeOne(sql.type(idRow)`
    DELETE FROM car_photos WHERE car_id = ${carId} AND id = ${photoId} RETURNING id`);
  if (!gone) return false;
  await renumber(q, carId);
  return true;
}

async function renumber(q: CommonQueryMethods, carId: string): Promise<void> {
  await q.query(sql.type(noRows)`
    UPDATE car_photos p SET position = o.n
    FROM (SELECT id, row_number() OVER (ORDER BY position)::int AS n FROM car_photos WHERE car_id = ${carId}) o
    WHERE p.id = o.id AND p.position <> o.n`);
}

/** The car's photo ids in their order. */
export function photoIds(q: CommonQueryMethods, carId: string) {
  return q.anyFirst(sql.type(idRow)`SELECT id FROM car_photos WHERE car_id = ${carId} ORDER BY position`);
}

/** Puts the car's photos in the order of `ids` (exactly the car's photos, checked by the caller). */
export async function reorderPhotos(q: CommonQueryMethods, carId: string, ids: readonly string[]): Promise<void> {
  await q.query(sql.type(noRows)`
    UPDATE car_photos p SET position = o.n
    FROM unnest(${sql.array([...ids], 'uuid')}::uuid[]) WITH ORDINALITY AS o(id, n)
    WHERE p.car_id = ${carId} AND p.id = o.id`);
}

const kindRow = z.object({ id: z.string().uuid(), kind: z.enum(PHOTO_KINDS) });

/** Of `ids`, those that are photos of the car, with their kind. */
export function photoKinds(q: CommonQueryMethods, carId: string, ids: readonly string[]) {
  return q.any(sql.type(kindRow)`
    SELECT id, kind FROM car_photos WHERE car_id = ${carId} AND id = ANY(${sql.array([...ids], 'uuid')})`);
}

/** Of `ids`, those a photo row has (the orphan sweep keeps their objects). */
export function existingPhotoIds(q: CommonQueryMethods, ids: readonly string[]) {
  return q.anyFirst(sql.type(idRow)`SELECT id FROM car_photos WHERE id = ANY(${sql.array([...ids], 'uuid')})`);
}

/** Photo id → its URLs, for the inspection report's photo ids. */
export function photosByIds(q: CommonQueryMethods, media: MediaBase, ids: readonly string[]) {
  return q.any(sql.type(photoRow)`
    SELECT ${photoColumns(media)} FROM car_photos p WHERE p.id = ANY(${sql.array([...ids], 'uuid')})`);
}
