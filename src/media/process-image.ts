import { open } from 'node:fs/promises';
import type { Sharp, SharpOptions } from 'sharp';
import { ApiError } from '../errors.js';
import {
  SNIFF_BYTES,
  VARIANT_NAMES,
  VARIANTS,
  sniffImageType,
  withinPixelLimit,
  type ImageType,
  type Variant,
} from '../domain/image-limits.js';

/**
 * A photo file → its stored variants, with sharp (libvips). What comes out carries no
 * metadata at all: sharp writes EXIF, XMP, IPTC and ICC only when asked (`withMetadata`,
 * `keepExif`, …), and nothing here asks; orientation is applied to the pixels first
 * (`rotate()`), colour converted to sRGB. The file is decoded once, to the largest variant's
 * size (JPEG shrinks on load), and the smaller variants are made from those pixels, so one
 * photo holds at most one 1920-pixel image in memory however large the original.
 */

type SharpModule = (typeof import('sharp'))['default'];
let loaded: Promise<SharpModule> | undefined;

/**
 * sharp is loaded on the first upload: an instance that never takes a photo never maps
 * libvips. Its own thread pool and operation cache are bounded here, for the 256 MB
 * container (the upload slots bound how many photos are processed at once).
 */
export function loadSharp(): Promise<SharpModule> {
  loaded ??= import('sharp').then(
    ({ default: sharp }) => {
      sharp.concurrency(1);
      sharp.cache({ memory: 16, files: 0, items: 20 });
      return sharp;
    },
    (error: unknown) => {
      // sharp's prebuilt libvips is an optional dependency: an install without optional
      // packages has none. That is this instance's outage, not the upload's fault.
      loaded = undefined;
      throw new ApiError(503, 'image_processing_unavailable', 'Photos cannot be processed on this server right now', {
        cause: error,
        headers: { 'Retry-After': '60' },
      });
    },
  );
  return loaded;
}

export type ProcessedImage = {
  type: ImageType;
  /** The `full` variant's size, after orientation. */
  width: number;
  height: number;
  variants: Record<Variant, Buffer>;
};

export const unsupportedImage = (message: string) => new ApiError(415, 'unsupported_image', message);

async function readHead(file: string): Promise<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    const head = new Uint8Array(SNIFF_BYTES);
    const { bytesRead } = await handle.read(head, 0, SNIFF_BYTES, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export async function processImage(file: string, limits: { maxPixels: number }): Promise<ProcessedImage> {
  const type = sniffImageType(await readHead(file));
  if (!type) throw unsupportedImage('The file is not a JPEG, PNG, WebP or AVIF image (read from its bytes)');
  const sharp = await loadSharp();
  // 'warning': a truncated or corrupt file is refused, not filled in with grey.
  const input: SharpOptions = { failOn: 'warning', limitInputPixels: limits.maxPixels, sequentialRead: true };

  let meta;
  try {
    meta = await sharp(file, { ...input, limitInputPixels: false }).metadata();
  } catch {
    throw unsupportedImage('The image could not be read (corrupt or not an image)');
  }
  if (!meta.width || !meta.height) throw unsupportedImage('The image has no size');
  if (!withinPixelLimit(meta.width, meta.height, limits.maxPixels)) {
    throw new ApiError(
      422,
      'image_too_large',
      `The image is ${meta.width} × ${meta.height} pixels; at most ${limits.maxPixels} pixels are accepted`,
    );
  }

  let decoded;
  try {
    decoded = await sharp(file, input)
      .rotate()
      .resize({ width: VARIANTS.full.edge, height: VARIANTS.full.edge, fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    if (error instanceof Error && /pixel limit/i.test(error.message)) {
      throw new ApiError(422, 'image_too_large', `The image decodes to more than ${limits.maxPixels} pixels`);
    }
    throw unsupportedImage('The image could not be decoded (truncated or corrupt)');
  }
  const { data, info } = decoded;
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
  const variant = (name: Variant): Sharp => {
    const { edge, format } = VARIANTS[name];
    const image = sharp(data, raw).resize({ width: edge, height: edge, fit: 'inside', withoutEnlargement: true });
    return format === 'jpeg'
      ? image.flatten({ background: '#ffffff' }).jpeg({ quality: 82, mozjpeg: true })
      : image.webp({ quality: name === 'thumb' ? 70 : 80, effort: 2 });
  };
  const variants = {} as Record<Variant, Buffer>;
  for (const name of VARIANT_NAMES) variants[name] = await variant(name).toBuffer();
  return { type, width: info.width, height: info.height, variants };
}
