import type { Readable } from 'node:stream';
import type { Config } from '../config.js';

/**
 * Where photo bytes live. The row in PostgreSQL is the truth; a store only holds bytes
 * under names the application made up (src/domain/image-limits.ts `objectKey`), never a
 * caller's. Objects are written once and never changed, so their URLs may be cached for ever.
 */
export type StoredObject = { key: string; lastModified: Date };

export type Storage = {
  readonly driver: 'disk' | 's3';
  /** Stores `body` under `key`; rejects with a StorageUnavailable when the store cannot take it. */
  put(key: string, body: Buffer | Readable, contentType: string): Promise<void>;
  /** The object's bytes, or null when there is none. */
  getStream(key: string): Promise<Readable | null>;
  /** Removes the object; a missing one is no error. */
  delete(key: string): Promise<void>;
  /** The public URL of `key`: the base below followed by the key. */
  url(key: string): string;
  /** What `url` puts in front of a key (for SQL that builds URLs from keys). */
  readonly publicBase: string;
  /** Every object under `prefix`, for the orphan sweep. */
  list(prefix: string): AsyncIterable<StoredObject>;
  close(): Promise<void>;
};

/** The store failed (down, refused, full): the upload answers 503 `storage_unavailable`. */
export class StorageUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageUnavailable';
  }
}

export type StorageSettings = Pick<
  Config,
  | 'STORAGE_DRIVER'
  | 'MEDIA_DIR'
  | 'MEDIA_PUBLIC_BASE_URL'
  | 'PORT'
  | 'S3_ENDPOINT'
  | 'S3_REGION'
  | 'S3_BUCKET'
  | 'S3_ACCESS_KEY_ID'
  | 'S3_SECRET_ACCESS_KEY'
  | 'S3_FORCE_PATH_STYLE'
>;

/** `base` ending in one `/`, so a key can follow. */
export const withSlash = (base: string) => (base.endsWith('/') ? base : `${base}/`);
