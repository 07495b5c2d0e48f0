import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseObjectKey } from '../domain/image-limits.js';
import { StorageUnavailable, type Storage, type StoredObject } from './types.js';

/**
 * Objects as files under one directory (MEDIA_DIR), the embedded default as embedded
 * PostgreSQL is. Only keys of the application's own form are accepted (`parseObjectKey`),
 * so no name can leave the directory. A file is written under a temporary name and renamed,
 * so a reader never sees half an object.
 */
/** A file a crashed write left: an object's name with a `.<uuid>.partial` tail. */
const LEFTOVER = /^photos\/[0-9a-f-]{36}\/[a-z_]+\.(webp|jpg)\.[0-9a-f-]{36}\.partial$/;

export function createDiskStorage(options: { dir: string; publicBase: string }): Storage {
  const root = path.resolve(options.dir);
  // Writes take only the application's keys; deletes also the leftovers of a crashed write.
  const fileOf = (key: string, leftover = false): string => {
    if (!(parseObjectKey(key) || (leftover && LEFTOVER.test(key)))) throw new Error(`not an object key: ${key}`);
    return path.join(root, key);
  };
  const unavailable = (error: unknown) =>
    new StorageUnavailable(`disk storage failed: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });

  return {
    driver: 'disk',
    publicBase: options.publicBase,
    url: (key) => `${options.publicBase}${key}`,
    async put(key, body) {
      const file = fileOf(key);
      const partial = `${file}.${randomUUID()}.partial`;
      try {
        await mkdir(path.dirname(file), { recursive: true });
        if (Buffer.isBuffer(body)) {
          const handle = await open(partial, 'wx');
          try {
            await handle.writeFile(body);
          } finally {
            await handle.close();
          }
        } else {
          await pipeline(body, createWriteStream(partial, { flags: 'wx' }));
        }
        await rename(partial, file);
      } catch (error) {
        await rm(partial, { force: true }).catch(() => undefined);
        throw unavailable(error);
      }
    },
    async getStream(key) {
      if (!parseObjectKey(key)) return null;
      const file = path.join(root, key);
      try {
        const info = await stat(file);
        if (!info.isFile()) return null;
      } catch {
        return null;
      }
      return createReadStream(file);
    },
    async delete(key) {
      try {
        const file = fileOf(key, true);
        await rm(file, { force: true });
        // The photo's folder goes with its last file (rmdir refuses a folder that is not empty).
        await rmdir(path.dirname(file)).catch(() => undefined);
      } catch (error) {
        throw unavailable(error);
      }
    },
    list: (prefix) => walk(root, prefix),
    close: () => Promise.resolve(),
  };
}

async function* walk(root: string, prefix: string): AsyncGenerator<StoredObject> {
  const top = path.join(root, prefix);
  let dirs: string[];
  try {
    dirs = await readdir(top);
  } catch {
    return;
  }
  for (const dir of dirs) {
    let files: string[];
    try {
      files = await readdir(path.join(top, dir));
    } catch {
      continue;
    }
    for (const file of files) {
      const key = `${prefix}${dir}/${file}`;
      try {
        const info = await stat(path.join(root, key));
        if (info.isFile()) yield { key, lastModified: info.mtime };
      } catch {
        // gone meanwhile
      }
    }
  }
}
