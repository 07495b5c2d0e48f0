import type { Db } from '../db/pool.js';
import { existingPhotoIds } from '../db/photos.js';
import { parseObjectKey } from '../domain/image-limits.js';
import type { Storage } from '../storage/index.js';

/**
 * Stored photo objects that no photo row names: left by a crash between storing and
 * recording (an upload removes its own objects on every failure it sees), by a car's
 * deletion (its rows go with it, its objects stay), or by a delete whose object removal
 * failed. Only objects older than `minAgeMs` are looked at: a younger one may belong to an
 * upload whose row is about to be committed.
 */
export const ORPHAN_MIN_AGE_MS = 60 * 60 * 1000;
const BATCH = 500;

export type MediaSweepResult = { examined: number; removed: number };

export async function sweepOrphanObjects(db: Db, storage: Storage, minAgeMs = ORPHAN_MIN_AGE_MS): Promise<MediaSweepResult> {
  const before = Date.now() - minAgeMs;
  const result: MediaSweepResult = { examined: 0, removed: 0 };
  let batch: { key: string; photoId: string | null }[] = [];
  const flush = async () => {
    const ids = [...new Set(batch.map((o) => o.photoId).filter((id) => id !== null))];
    const kept = new Set(ids.length ? await existingPhotoIds(db, ids) : []);
    for (const o of batch) {
      if (o.photoId !== null && kept.has(o.photoId)) continue;
      await storage.delete(o.key);
      result.removed += 1;
    }
    batch = [];
  };
  for await (const object of storage.list('photos/')) {
    if (object.lastModified.getTime() > before) continue;
    result.examined += 1;
    // A name not of the application's form (a crashed write's temporary file) belongs to no row.
    batch.push({ key: object.key, photoId: parseObjectKey(object.key)?.photoId ?? null });
    if (batch.length >= BATCH) await flush();
  }
  if (batch.length) await flush();
  return result;
}
