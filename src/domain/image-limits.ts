/**
 * What a car photo may be, and what is made of it: pure rules, no I/O.
 *
 * The type of an upload is read from its first bytes, never from its name or
 * Content-Type: a file that does not start like a JPEG, PNG, WebP or AVIF never
 * reaches a decoder (an SVG renamed `.jpg` would otherwise reach librsvg).
 */

export const PHOTO_KINDS = ['exterior', 'interior', 'damage', 'document'] as const;
export type PhotoKind = (typeof PHOTO_KINDS)[number];
export const DEFAULT_PHOTO_KIND: PhotoKind = 'exterior';

export const CAPTION_MAX_LENGTH = 500;

/** The stored variants: the long edge in pixels (never upscaled) and the encoding. */
export const VARIANTS = {
  thumb: { edge: 320, format: 'webp' },
  card: { edge: 800, format: 'webp' },
  full: { edge: 1920, format: 'webp' },
  /** `card` again as JPEG, for e-mail clients that show no WebP. */
  card_jpeg: { edge: 800, format: 'jpeg' },
} as const;
export type Variant = keyof typeof VARIANTS;
export const VARIANT_NAMES = Object.keys(VARIANTS) as Variant[];

export const CONTENT_TYPES = { webp: 'image/webp', jpeg: 'image/jpeg' } as const;
const EXTENSIONS = { webp: 'webp', jpeg: 'jpg' } as const;

export type ImageType = 'jpeg' | 'png' | 'webp' | 'avif';

/** How many bytes `sniffImageType` needs to decide. */
export const SNIFF_BYTES = 32;

/** The image type the bytes say, or null for anything else (SVG, GIF, PDF, HEIC, text, …). */
export function sniffImageType(head: Uint8Array): ImageType | null {
  const at = (offset: number, bytes: number[]) => bytes.every((b, i) => head[offset + i] === b);
  const ascii = (offset: number, text: string) =>
    at(
      offset,
      [...text].map((c) => c.charCodeAt(0)),
    );
  if (at(0, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (at(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
  // ISO-BMFF: a `ftyp` box whose major brand is AVIF (HEIC's `heic`/`mif1` are not accepted).
  if (ascii(4, 'ftyp') && (ascii(8, 'avif') || ascii(8, 'avis'))) return 'avif';
  return null;
}

/** Width and height scaled so the long edge is at most `edge`, never larger than the original. */
export function fitInside(width: number, height: number, edge: number): { width: number; height: number } {
  const scale = Math.min(1, edge / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Whether decoding `width × height` stays within the pixel limit (decompression bombs). */
export const withinPixelLimit = (width: number, height: number, maxPixels: number): boolean => width * height <= maxPixels;

/**
 * The object name of one variant of one photo: the photo's random id and the variant,
 * nothing a caller sent. `parseObjectKey` is its inverse (the orphan sweep reads names back).
 */
export function objectKey(photoId: string, variant: Variant): string {
  return `photos/${photoId}/${variant}.${EXTENSIONS[VARIANTS[variant].format]}`;
}

const KEY = /^photos\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/(thumb|card|full|card_jpeg)\.(webp|jpg)$/;

export function parseObjectKey(key: string): { photoId: string; variant: Variant } | null {
  const m = KEY.exec(key);
  if (!m) return null;
  const variant = m[2] as Variant;
  if (objectKey(m[1], variant) !== key) return null;
  return { photoId: m[1], variant };
}

export const contentTypeOfKey = (key: string): string | null => {
  const parsed = parseObjectKey(key);
  return parsed ? CONTENT_TYPES[VARIANTS[parsed.variant].format] : null;
};
