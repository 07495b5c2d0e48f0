/**
 * Photos: the time per 12-megapixel JPEG (upload, decode, three sizes and a JPEG card,
 * storing, the row), photos per second with 4 uploads at once, and the server's peak
 * resident memory while 10 uploads of 12 megapixels arrive at once (target < 250 MB, the
 * container `npm start` is sized for). Its own database and server (as `npm start`, disk
 * store in a temporary directory, MALLOC_ARENA_MAX=2 as the start script sets it), so nothing
 * else shares the memory figure.
 *
 *   tsx bench/photos.ts [--project-dir DIR] [--sequential N] [--parallel N]
 *   (part of `npm run bench`; `--only photos` runs only this there)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { createBenchDatabase, DEFAULT_ADMIN_URL, type Migrate } from './lib/db.js';
import { startChild } from './lib/processes.js';
import { projectArgs, projectEnv, projectStartEnv, UNREACHED_LIMIT_PER_MINUTE } from './lib/servers.js';

const ADMIN_KEY = 'bench-admin-key-not-secret-0123456789';
export const PEAK_RSS_TARGET_MB = 250;

export type PhotosBench = {
  image: { width: number; height: number; megapixels: number; bytes: number };
  sequential: { photos: number; p50_ms: number; p99_ms: number };
  four_at_once: { photos: number; photos_per_second: number };
  ten_at_once: { photos: number; ok: number; peak_rss_mb: number; vmhwm_mb: number; target_mb: number; pass: boolean };
  rss_after_start_mb: number;
};

const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** A camera-like 12 MP JPEG: a gradient under fine noise (so it compresses as a photo does, to a few MB), with EXIF. */
async function twelveMegapixels(): Promise<Buffer> {
  const width = 4000;
  const height = 3000;
  const noise = await sharp({
    create: { width, height, channels: 3, background: '#000000', noise: { type: 'gaussian', mean: 120, sigma: 18 } },
  })
    .blur(0.6)
    .png({ compressionLevel: 1 })
    .toBuffer();
  return sharp(noise)
    .jpeg({ quality: 88 })
    .withMetadata({ orientation: 6 })
    .withExifMerge({ IFD0: { Make: 'BenchCam' } })
    .toBuffer();
}

async function uploadOnce(url: string, carId: string, jpeg: Buffer): Promise<{ ms: number; status: number }> {
  const form = new FormData();
  form.append('photo', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), 'photo.jpg');
  const started = performance.now();
  const res = await fetch(`${url}/api/cars/${carId}/photos`, { method: 'POST', body: form, headers: { 'X-Admin-Key': ADMIN_KEY } });
  await res.arrayBuffer();
  return { ms: performance.now() - started, status: res.status };
}

export async function benchPhotos(options: {
  adminUrl: string;
  projectDir: string;
  log: (msg: string) => void;
  sequential?: number;
  parallel?: number;
}): Promise<PhotosBench> {
  const { log } = options;
  const sequentialN = options.sequential ?? 20;
  const parallelN = options.parallel ?? 20;
  const { migrate } = (await import(pathToFileURL(path.join(options.projectDir, 'src/db/migrate.ts')).href)) as { migrate: Migrate };
  const db = await createBenchDatabase(options.adminUrl, migrate);
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'kaggi-bench-photos-'));
  const mediaDir = path.join(logDir, 'media');
  const jpeg = await twelveMegapixels();
  const meta = await sharp(jpeg).metadata();
  log(`photos: a ${meta.width} × ${meta.height} JPEG of ${(jpeg.length / 2 ** 20).toFixed(1)} MB; database ${db.name}`);
  const server = await startChild({
    name: 'project-photos',
    cwd: options.projectDir,
    args: projectArgs(options.projectDir),
    env: {
      ...projectStartEnv(options.projectDir),
      ...projectEnv(db.url, 10),
      ADMIN_API_KEY: ADMIN_KEY,
      MEDIA_DIR: mediaDir,
      PHOTO_MAX_PER_CAR: '1000',
      RATE_LIMIT_PHOTO_UPLOADS_PER_IP_PER_HOUR: UNREACHED_LIMIT_PER_MINUTE,
      RATE_LIMIT_PHOTO_UPLOADS_PER_TOKEN_PER_HOUR: UNREACHED_LIMIT_PER_MINUTE,
      LISTING_REQUIRES_PHONE: 'false',
      // npm start sets MALLOC_ARENA_MAX=2 (projectStartEnv); MALLOC_ARENA_MAX in the bench's own
      // environment overrides it, to measure another value
      ...(process.env.MALLOC_ARENA_MAX ? { MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX } : {}),
    },
    logDir,
  });
  try {
    const { rows } = await db.pool.query<{ id: string }>(
      `INSERT INTO "Bílar" (seller_name, email, phone, postal_code, car_make, car_model, car_plate, year, mileage, status, bid_increment)
       VALUES ('Bench', 'bench@bench.is', '+3547777777', '101', 'Toyota', 'Yaris', 'PH00001', 2018, 1000, 'active', 12000) RETURNING id`,
    );
    const carId = rows[0].id;
    const expectCreated = (r: { status: number }) => {
      if (r.status !== 201) throw new Error(`photos: upload answered ${r.status}`);
    };
    // warm-up: sharp and libvips load on the first upload
    expectCreated(await uploadOnce(server.url, carId, jpeg));

    const times: number[] = [];
    for (let i = 0; i < sequentialN; i++) {
      const r = await uploadOnce(server.url, carId, jpeg);
      expectCreated(r);
      times.push(r.ms);
    }
    times.sort((a, b) => a - b);
    const sequential = { photos: sequentialN, p50_ms: Math.round(percentile(times, 50)), p99_ms: Math.round(percentile(times, 99)) };
    log(`  one at a time: p50 ${sequential.p50_ms} ms, p99 ${sequential.p99_ms} ms per photo`);

    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < parallelN) {
          next += 1;
          expectCreated(await uploadOnce(server.url, carId, jpeg));
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const four = { photos: parallelN, photos_per_second: Math.round((parallelN / seconds) * 100) / 100 };
    log(`  4 at once: ${four.photos_per_second} photos/s`);

    server.resetWindowPeak();
    const sampler = setInterval(() => server.sample(), 10);
    const ten = await Promise.all(Array.from({ length: 10 }, () => uploadOnce(server.url, carId, jpeg)));
    clearInterval(sampler);
    server.sample();
    const peak = mb(server.windowPeak());
    const hwm = mb(server.hwm());
    const tenAtOnce = {
      photos: 10,
      ok: ten.filter((r) => r.status === 201).length,
      peak_rss_mb: peak,
      vmhwm_mb: hwm,
      target_mb: PEAK_RSS_TARGET_MB,
      pass: hwm < PEAK_RSS_TARGET_MB,
    };
    log(`  10 at once: ${tenAtOnce.ok}/10 stored, peak RSS ${peak} MB, VmHWM ${hwm} MB (target < ${PEAK_RSS_TARGET_MB} MB)`);
    return {
      image: {
        width: meta.width,
        height: meta.height,
        megapixels: Math.round((meta.width * meta.height) / 1e5) / 10,
        bytes: jpeg.length,
      },
      sequential,
      four_at_once: four,
      ten_at_once: tenAtOnce,
      rss_after_start_mb: mb(server.rssAfterStart),
    };
  } finally {
    await server.stop();
    await db.drop();
    rmSync(logDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: { 'project-dir': { type: 'string' }, sequential: { type: 'string' }, parallel: { type: 'string' } },
  });
  const result = await benchPhotos({
    adminUrl: process.env.BENCH_DATABASE_URL || DEFAULT_ADMIN_URL,
    projectDir: path.resolve(values['project-dir'] ?? '.'),
    log: (msg) => console.log(msg),
    sequential: values.sequential ? Number(values.sequential) : undefined,
    parallel: values.parallel ? Number(values.parallel) : undefined,
  });
  console.log(JSON.stringify(result, null, 2));
}
