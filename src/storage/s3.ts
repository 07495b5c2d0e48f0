import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { StorageUnavailable, withSlash, type Storage, type StorageSettings, type StoredObject } from './types.js';

/**
 * Objects in an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO, Supabase Storage's S3
 * endpoint). URLs in answers are MEDIA_PUBLIC_BASE_URL + key (a CDN or the bucket's public
 * address); without it, the endpoint's path-style address of the bucket.
 */
export function createS3Storage(settings: StorageSettings): Storage {
  const bucket = settings.S3_BUCKET;
  if (!bucket) throw new Error('STORAGE_DRIVER=s3 needs S3_BUCKET');
  const client = new S3Client({
    region: settings.S3_REGION,
    ...(settings.S3_ENDPOINT ? { endpoint: settings.S3_ENDPOINT } : {}),
    forcePathStyle: settings.S3_FORCE_PATH_STYLE,
    ...(settings.S3_ACCESS_KEY_ID && settings.S3_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: settings.S3_ACCESS_KEY_ID, secretAccessKey: settings.S3_SECRET_ACCESS_KEY } }
      : {}),
    // An outage answers 503 within a few seconds instead of retrying for long.
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 2000, requestTimeout: 10_000 },
  });
  const fallbackBase = settings.S3_ENDPOINT
    ? `${withSlash(settings.S3_ENDPOINT)}${bucket}/`
    : `https://${bucket}.s3.${settings.S3_REGION}.amazonaws.com/`;
  const publicBase = withSlash(settings.MEDIA_PUBLIC_BASE_URL ?? fallbackBase);
  const unavailable = (error: unknown) =>
    new StorageUnavailable(`object store failed: ${error instanceof Error ? error.name : String(error)}`, { cause: error });
  const notFound = (error: unknown) =>
    error instanceof S3ServiceException && (error.$metadata.httpStatusCode === 404 || error.name === 'NoSuchKey');

  return {
    driver: 's3',
    publicBase,
    url: (key) => `${publicBase}${key}`,
    async put(key, body, contentType) {
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: contentType,
            CacheControl: 'public, max-age=31536000, immutable',
            ...(Buffer.isBuffer(body) ? { ContentLength: body.length } : {}),
          }),
        );
      } catch (error) {
        throw unavailable(error);
      }
    },
    async getStream(key) {
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return (answer.Body as Readable | undefined) ?? null;
      } catch (error) {
        if (notFound(error)) return null;
        throw unavailable(error);
      }
    },
    async delete(key) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (error) {
        if (notFound(error)) return;
        throw unavailable(error);
      }
    },
    async *list(prefix): AsyncGenerator<StoredObject> {
      let token: string | undefined;
      do {
        let page;
        try {
          page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        } catch (error) {
          throw unavailable(error);
        }
        for (const o of page.Contents ?? []) if (o.Key) yield { key: o.Key, lastModified: o.LastModified ?? new Date(0) };
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
    close() {
      client.destroy();
      return Promise.resolve();
    },
  };
}
