import { randomUUID } from 'node:crypto';
import { ApiError, conflict, notFound, validationFailed } from '../errors.js';
import { lockCar } from '../db/car-status.js';
import { carExists, carStatusOf } from '../db/cars.js';
import { deletePhoto, insertPhoto, listPhotos, photoIds, photoTally, reorderPhotos, updatePhoto, type PhotoRow } from '../db/photos.js';
import {
  CAPTION_MAX_LENGTH,
  CONTENT_TYPES,
  DEFAULT_PHOTO_KIND,
  PHOTO_KINDS,
  VARIANT_NAMES,
  VARIANTS,
  objectKey,
  type PhotoKind,
} from '../domain/image-limits.js';
import { mayEditPhotos, seesUnlisted, type PhotoEditor, type Principal } from '../domain/access.js';
import { processImage } from '../media/process-image.js';
import { mediaBase, StorageUnavailable, type Storage } from '../storage/index.js';
import type { Deps } from '../deps.js';
import type { Logger } from '../logger.js';

/**
 * A car's photos, each operation one story: an upload is checked, processed, stored and only
 * then recorded; the row is inserted in a transaction that holds the car's row lock, so the
 * per-car limit and the positions hold however many uploads run at once. Whatever fails
 * after the first object was written removes what was written: no row ever names a missing
 * object, and an object no row names is gone at once (or, after a crash, by the sweep).
 */

type PhotoDeps = Pick<Deps, 'config' | 'db' | 'storage' | 'photoSlots'>;

const storageUnavailable = (cause: unknown) =>
  new ApiError(503, 'storage_unavailable', 'The photo store is unavailable; try again shortly', {
    cause,
    headers: { 'Retry-After': '10' },
  });

const notEditable = (status: string) =>
  conflict('car_not_editable', `A seller may change photos only while the car is pending or active; this car is ${status}`);

/** 404 for no such car, 409 for a seller whose car is past the editable statuses. */
function checkEditable(status: string | null, editor: PhotoEditor): void {
  if (status === null) throw notFound('Car');
  if (!mayEditPhotos(editor, status)) throw notEditable(status);
}

/** Before the body is read: a car that cannot take photos costs no upload. */
export async function assertMayEdit(deps: Pick<Deps, 'db'>, carId: string, editor: PhotoEditor): Promise<void> {
  checkEditable(await carStatusOf(deps.db, carId), editor);
}

function readKind(value: string | undefined): PhotoKind {
  if (value === undefined || value === '') return DEFAULT_PHOTO_KIND;
  if (!(PHOTO_KINDS as readonly string[]).includes(value)) {
    throw validationFailed([{ path: 'body.kind', message: `body.kind must be one of ${PHOTO_KINDS.join(', ')}` }]);
  }
  return value as PhotoKind;
}

function readCaption(value: string | null | undefined): string | null | undefined {
  if (value === undefined) return undefined;
  const caption = value?.trim() ?? '';
  if (caption.length > CAPTION_MAX_LENGTH) {
    throw validationFailed([{ path: 'body.caption', message: `body.caption must be at most ${CAPTION_MAX_LENGTH} characters` }]);
  }
  return caption === '' ? null : caption;
}

async function removeObjects(storage: Storage, keys: string[], log: Logger): Promise<void> {
  const results = await Promise.allSettled(keys.map((key) => storage.delete(key)));
  // What could not be removed now is the orphan sweep's.
  const failed = results.filter((r) => r.status === 'rejected').length;
  if (failed) log.warn('photo objects left for the sweep', { count: failed });
}

export type UploadInput = {
  carId: string;
  editor: PhotoEditor;
  file: string;
  fields: Record<string, string>;
  /** True once the client has gone: nothing is recorded for it. */
  abandoned: () => boolean;
};

export async function uploadPhoto(deps: PhotoDeps, log: Logger, input: UploadInput): Promise<PhotoRow> {
  const { config, db, storage } = deps;
  const kind = readKind(input.fields.kind);
  const caption = readCaption(input.fields.caption) ?? null;
  const image = await deps.photoSlots.run(() => processImage(input.file, { maxPixels: config.PHOTO_MAX_PIXELS }));

  const id = randomUUID();
  const written: string[] = [];
  try {
    await Promise.all(
      VARIANT_NAMES.map(async (variant) => {
        const key = objectKey(id, variant);
        await storage.put(key, image.variants[variant], CONTENT_TYPES[VARIANTS[variant].format]);
        written.push(key);
      }),
    );
  } catch (error) {
    await removeObjects(storage, written, log);
    if (error instanceof StorageUnavailable) throw storageUnavailable(error);
    throw error;
  }

  try {
    if (input.abandoned()) throw new ApiError(400, 'request_aborted', 'The client went away before the photo was recorded');
    const photo = await db.transaction(async (tx) => {
      const car = await lockCar(tx, input.carId);
      checkEditable(car?.status ?? null, input.editor);
      const { count, last } = await photoTally(tx, input.carId);
      if (count >= config.PHOTO_MAX_PER_CAR) {
        throw conflict('too_many_photos', `A car may have at most ${config.PHOTO_MAX_PER_CAR} photos; delete one first`);
      }
      return insertPhoto(tx, mediaBase(deps), {
        id,
        carId: input.carId,
        position: last + 1,
        kind,
        caption,
        width: image.width,
        height: image.height,
      });
    });
    log.info('photo uploaded', { car_id: input.carId, photo_id: id, by: input.editor.kind, type: image.type });
    return photo;
  } catch (error) {
    await removeObjects(storage, written, log);
    throw error;
  }
}

export function carPhotos(deps: Pick<Deps, 'db' | 'storage'>, carId: string) {
  return listPhotos(deps.db, mediaBase(deps), carId);
}

/** The car's photos; 404 when there is no such car, or it is unlisted and `viewer` does not see those (a car without photos has an empty list). */
export async function getCarPhotos(deps: Pick<Deps, 'db' | 'storage'>, carId: string, viewer: Principal) {
  if (!(await carExists(deps.db, carId, { unlisted: seesUnlisted(viewer) }))) throw notFound('Car');
  return carPhotos(deps, carId);
}

/** `photoIds` must be exactly the car's photos, each once; the first becomes the cover. */
export async function reorderCarPhotos(deps: PhotoDeps, carId: string, editor: PhotoEditor, ids: readonly string[]) {
  return deps.db.transaction(async (tx) => {
    const car = await lockCar(tx, carId);
    checkEditable(car?.status ?? null, editor);
    const current = await photoIds(tx, carId);
    const given = new Set(ids);
    if (given.size !== ids.length || given.size !== current.length || current.some((id) => !given.has(id))) {
      throw validationFailed([{ path: 'body.photo_ids', message: "body.photo_ids must list each of the car's photos exactly once" }]);
    }
    await reorderPhotos(tx, carId, ids);
    return listPhotos(tx, mediaBase(deps), carId);
  });
}

export async function updateCarPhoto(
  deps: PhotoDeps,
  carId: string,
  photoId: string,
  editor: PhotoEditor,
  change: { caption?: string | null; kind?: string },
) {
  const caption = readCaption(change.caption);
  const kind = change.kind === undefined ? undefined : readKind(change.kind);
  return deps.db.transaction(async (tx) => {
    const car = await lockCar(tx, carId);
    checkEditable(car?.status ?? null, editor);
    const photo = await updatePhoto(tx, mediaBase(deps), carId, photoId, { caption, kind });
    if (!photo) throw notFound('Photo');
    return photo;
  });
}

/** The row first (in its transaction), then the objects once it is committed. */
export async function deleteCarPhoto(deps: PhotoDeps, log: Logger, carId: string, photoId: string, editor: PhotoEditor) {
  await deps.db.transaction(async (tx) => {
    const car = await lockCar(tx, carId);
    checkEditable(car?.status ?? null, editor);
    if (!(await deletePhoto(tx, carId, photoId))) throw notFound('Photo');
  });
  await removeObjects(
    deps.storage,
    VARIANT_NAMES.map((v) => objectKey(photoId, v)),
    log,
  );
  log.info('photo deleted', { car_id: carId, photo_id: photoId, by: editor.kind });
}
