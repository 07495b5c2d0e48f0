import sharp from 'sharp';
import type { ApiResponse, TestApp } from '../helpers/app.js';
import { assertMatchesSpec } from '../helpers/contract.js';

/** A JPEG of `width × height` (landscape pixels) with EXIF orientation 6, a GPS position and a camera serial. */
export async function jpegWithGps(width = 1200, height = 800): Promise<Buffer> {
  const jpeg = await exifJpeg(width, height);
  const meta = await sharp(jpeg).metadata();
  // the fixture itself must carry what the variants must not
  if (meta.orientation !== 6 || !meta.exif || !jpeg.includes(Buffer.from('SN-0123456789'))) throw new Error('fixture has no EXIF');
  return jpeg;
}

async function exifJpeg(width: number, height: number): Promise<Buffer> {
  // Left half red, right half blue: after orientation 6 (rotate 90° clockwise) red is on top.
  const left = await sharp({ create: { width: width / 2, height, channels: 3, background: '#ff0000' } })
    .png()
    .toBuffer();
  return sharp({ create: { width, height, channels: 3, background: '#0000ff' } })
    .composite([{ input: left, left: 0, top: 0 }])
    .jpeg({ quality: 90 })
    .withMetadata({ orientation: 6 })
    .withExifMerge({
      IFD0: { Make: 'TestCam', Model: 'X100' },
      IFD2: { BodySerialNumber: 'SN-0123456789' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '64/1 8/1 0/1', GPSLongitudeRef: 'W', GPSLongitude: '21/1 56/1 0/1' },
    })
    .toBuffer();
}

export const png = (width = 640, height = 480) =>
  sharp({ create: { width, height, channels: 4, background: { r: 0, g: 128, b: 0, alpha: 0.5 } } })
    .png()
    .toBuffer();

export const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="100" height="100"/></svg>');

/** A small PNG whose header says 20000 × 20000 pixels (400 megapixels when decoded). */
export const bomb = () =>
  sharp({ create: { width: 20000, height: 20000, channels: 3, background: '#000000' }, limitInputPixels: false })
    .png({ compressionLevel: 9 })
    .toBuffer();

export type Part = { name: string; value: string | Buffer; filename?: string; type?: string };

/** POSTs a multipart form; the answer is checked against openapi.yaml like every other. */
export async function upload(app: TestApp, path: string, parts: Part[], headers: Record<string, string> = {}): Promise<ApiResponse> {
  const form = new FormData();
  for (const p of parts) {
    if (typeof p.value === 'string') form.append(p.name, p.value);
    else form.append(p.name, new Blob([new Uint8Array(p.value)], { type: p.type ?? 'image/jpeg' }), p.filename ?? 'photo.jpg');
  }
  const res = await fetch(`${app.url}${path}`, { method: 'POST', body: form, headers });
  const text = await res.text();
  const contentType = res.headers.get('content-type');
  const body = contentType?.includes('json') && text ? JSON.parse(text) : text;
  await assertMatchesSpec('POST', path, res.status, contentType, body);
  return { status: res.status, body, headers: res.headers, text };
}

export const photoPart = (value: Buffer, filename = 'photo.jpg'): Part => ({ name: 'photo', value, filename });
