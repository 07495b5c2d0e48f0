import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { EJSON, Int32, ObjectId } from 'bson';

/**
 * Writes a synthetic mongoexport directory of N documents in the old
 * backend's shape (every collection, bids copied to fyrir_bílasala as the old
 * backend did), streaming, so that N = 1,000,000 needs no more memory than N = 10.
 * Every document is valid: importing the directory accepts all of them, with
 * the fyrir_bílasala copies counted as unchanged repeats.
 *
 *   npx tsx bench/import/generate.ts <dir> <documents> [--array] [--canonical]
 */

export type GenerateOptions = {
  dir: string;
  docs: number;
  /** `lines` (mongoexport's default) or `array` (--jsonArray). */
  format?: 'lines' | 'array';
  /** Relaxed (mongoexport's default) or canonical Extended JSON. */
  relaxed?: boolean;
};

export type GeneratedExport = { dir: string; docs: number; collections: Record<string, number> };

const BASE_TIME = Date.UTC(2024, 0, 1);
const MAKES = [
  ['Toyota', 'Yaris'],
  ['Volkswagen', 'Golf'],
  ['Škoda', 'Octavia'],
  ['Hyundai', 'Tucson'],
  ['Kia', 'Sportage'],
  ['Dacia', 'Duster'],
] as const;
const NAMES = ['Guðrún Þórðardóttir', 'Jón Ævarsson', 'Ásdís Ólafsdóttir', 'Björn Eiðsson', 'Sigríður Ýr Hákonardóttir'];

const uuid = (tag: string, i: number) => `${tag.padEnd(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const oid = (tag: number, i: number) => new ObjectId(`${tag.toString(16).padStart(2, '0')}${i.toString(16).padStart(22, '0')}`);
const at = (seconds: number) => new Date(BASE_TIME + seconds * 1000);
/** Unique, valid plates: G + base-36 index (2–10 characters). */
const plate = (i: number) => `G${i.toString(36).toUpperCase().padStart(4, '0')}`;

/** How N documents are spread over the collections (cars first: everything else points at them). */
export function plan(docs: number): Record<string, number> {
  const cars = Math.max(1, Math.floor(docs * 0.15));
  const copies = Math.floor(docs * 0.05);
  const favorites = Math.floor(docs * 0.1);
  const log = Math.floor(docs * 0.03);
  const bids = Math.max(0, docs - cars - copies - favorites - 5 * log);
  return {
    Bílar: Math.min(cars, docs),
    uppboð: bids,
    fyrir_bílasala: Math.min(copies, bids),
    favorites,
    status_checks: log,
    vehicle_verifications: log,
    email_logs: log,
    list_additions: log,
    company_validations: log,
  };
}

function carDoc(i: number) {
  const [make, model] = MAKES[i % MAKES.length];
  return {
    _id: oid(1, i),
    id: uuid('ca', i),
    seller_name: NAMES[i % NAMES.length],
    email: `seljandi${i}@example.is`,
    phone: `+35477${String(i % 100_000).padStart(5, '0')}`,
    postal_code: String(101 + (i % 800)),
    car_make: make,
    car_model: model,
    car_plate: plate(i),
    year: new Int32(2000 + (i % 25)),
    mileage: new Int32((i * 7919) % 400_000),
    status: i % 10 === 0 ? 'sold' : 'active',
    created_at: at(i),
    updated_at: at(i + 60),
  };
}

function bidDoc(j: number, cars: number) {
  return {
    _id: oid(2, j),
    id: uuid('b1', j),
    car_id: uuid('ca', (j * 7919) % cars),
    dealer_name: 'Bílaland ehf.',
    dealer_email: `dealer${j % 50}@example.is`,
    bid_amount: new Int32(100_000 + (j % 5000) * 1000),
    created_at: at(10_000_000 + j),
  };
}

const generators: Record<string, (i: number, cars: number) => object> = {
  Bílar: (i) => carDoc(i),
  uppboð: (j, cars) => bidDoc(j, cars),
  // the old backend wrote each bid to both collections
  fyrir_bílasala: (j, cars) => bidDoc(j, cars),
  favorites: (f, cars) => ({
    _id: oid(3, f),
    id: uuid('fa', f),
    car_id: uuid('ca', f % cars),
    dealer_email: `dealer${Math.floor(f / cars)}@example.is`,
    created_at: at(20_000_000 + f),
  }),
  status_checks: (i) => ({ _id: oid(4, i), id: uuid('5c', i), client_name: `monitor-${i % 3}`, timestamp: at(i) }),
  vehicle_verifications: (i, cars) => ({
    _id: oid(5, i),
    id: uuid('77', i),
    plate: plate(i % cars),
    mileage: new Int32(i % 300_000),
    found: i % 7 !== 0,
    source: 'creditinfo',
    client_ip: `10.0.${(i >> 8) & 255}.${i & 255}`,
    timestamp: at(i),
  }),
  email_logs: (i) => ({
    _id: oid(6, i),
    id: uuid('e1', i),
    email: `seljandi${i}@example.is`,
    name: NAMES[i % NAMES.length],
    template_id: new Int32(1),
    message_id: `<${i}@smtp-relay.brevo.com>`,
    status: 'sent',
    timestamp: at(i),
  }),
  list_additions: (i) => ({
    _id: oid(7, i),
    id: uuid('1a', i),
    email: `seljandi${i}@example.is`,
    name: NAMES[i % NAMES.length],
    list_id: new Int32(3),
    already_on_list: i % 5 === 0,
    status: 'added',
    created_at: at(i),
  }),
  company_validations: (i) => ({
    _id: oid(8, i),
    id: uuid('c0', i),
    kennitala: '6501192070',
    valid: true,
    company_name: 'Kaggi ehf.',
    created_at: at(i),
  }),
};

async function writeCollection(file: string, count: number, make: (i: number) => object, options: GenerateOptions): Promise<void> {
  const out: WriteStream = createWriteStream(file);
  const array = options.format === 'array';
  const relaxed = options.relaxed ?? true;
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  if (array) await write('[');
  let chunk = '';
  for (let i = 0; i < count; i += 1) {
    const text = EJSON.stringify(make(i), { relaxed });
    chunk += array ? (i === 0 ? text : `,${text}`) : `${text}\n`;
    if (chunk.length > 64 * 1024) {
      await write(chunk);
      chunk = '';
    }
  }
  if (chunk) await write(chunk);
  if (array) await write(']\n');
  out.end();
  await once(out, 'close');
}

/** Writes the directory; returns how many documents went to each collection. */
export async function generateExport(options: GenerateOptions): Promise<GeneratedExport> {
  if (!Number.isInteger(options.docs) || options.docs < 1) throw new Error('docs must be a positive whole number');
  mkdirSync(options.dir, { recursive: true });
  const counts = plan(options.docs);
  const cars = counts.Bílar;
  for (const [collection, count] of Object.entries(counts)) {
    await writeCollection(path.join(options.dir, `${collection}.json`), count, (i) => generators[collection](i, cars), options);
  }
  return { dir: options.dir, docs: Object.values(counts).reduce((a, b) => a + b, 0), collections: counts };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [dir, n] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  if (!dir || !n) {
    process.stderr.write('usage: tsx bench/import/generate.ts <dir> <documents> [--array] [--canonical]\n');
    process.exit(2);
  }
  const result = await generateExport({
    dir,
    docs: Number(n),
    format: process.argv.includes('--array') ? 'array' : 'lines',
    relaxed: !process.argv.includes('--canonical'),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
