import type { StorageSettings, Storage } from './types.js';
import { withSlash } from './types.js';

export { StorageUnavailable, withSlash, type Storage, type StorageSettings, type StoredObject } from './types.js';

/**
 * The configured store. The S3 driver and its SDK are loaded only when STORAGE_DRIVER=s3:
 * an instance on disk never pays for them.
 */
export async function createStorage(settings: StorageSettings): Promise<Storage> {
  if (settings.STORAGE_DRIVER === 's3') {
    const { createS3Storage } = await import('./s3.js');
    return createS3Storage(settings);
  }
  const { createDiskStorage } = await import('./disk.js');
  return createDiskStorage({
    dir: settings.MEDIA_DIR,
    publicBase: withSlash(settings.MEDIA_PUBLIC_BASE_URL ?? `http://localhost:${settings.PORT}/media`),
  });
}

/** The store's public base as the car and photo SQL takes it (src/db/photos.ts). */
export const mediaBase = (deps: { storage: Pick<Storage, 'publicBase'> }): { base: string } => ({ base: deps.storage.publicBase });
