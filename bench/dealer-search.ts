/**
 * Dealer search at scale (issue 22): GET /api/cars with every filter alone × every sort, a
 * second page through the cursor for some, the facets with and without filters, and `q`
 * (with a typo), at 100,000 cars and 1,000,000 bids. Its own database (created and migrated
 * by the tree's migrate()), loaded with set-based SQL; its own server as `npm start` runs it;
 * requests one at a time over HTTP after a warm-up, p50/p99 per case against the targets.
 * Then the plans: a second server behind a wire-protocol proxy (bench/lib/pgproxy.ts)
 * records the exact statements and parameters a representative set of requests sends, and
 * each is replayed under EXPLAIN (ANALYZE, BUFFERS); a sequential scan of the car table is
 * flagged, and called out where the filter is selective.
 *
 *   tsx bench/dealer-search.ts [--project-dir DIR] [--cars 100000] [--bids 1000000] [--requests 60] [--plans]
 *                              [--keep] [--load-only] [--database URL]
 *   --plans: every plan in full; --keep: leave the database; --database: measure one a kept run left
 *   (part of `npm run bench`; `--only dealer_search` runs only this there)
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createBenchDatabase, DEFAULT_ADMIN_URL, recountFacets, type BenchDatabase, type Migrate } from './lib/db.js';
import { startCountingProxy, type Statement } from './lib/pgproxy.js';
import { startChild, type Child } from './lib/processes.js';
import { pad } from './lib/report.js';
import { projectArgs, projectEnv, projectStartEnv } from './lib/servers.js';

/** Issue 22's targets, p99 over HTTP at 100,000 cars. */
export const TARGET_SEARCH_P99_MS = 25;
export const TARGET_FACETS_P99_MS = 50;
export const TARGET_Q_P99_MS = 50;
/** A filter matching at most this share of the listed cars is selective: it must not scan them all. */
const SELECTIVE_SHARE = 0.1;

const SORTS = ['newest', 'ending_soon', 'price_asc', 'price_desc', 'mileage_asc', 'year_desc'] as const;
const LIMIT = 50;

/**
 * Each filter alone, with values from selective to broad (the requests of a case rotate
 * through them); repeatable filters once with two values.
 */
const FILTERS: Record<string, string[]> = {
  none: [''],
  make: ['make=Toyota', 'make=Tesla', 'make=Skoda&make=Kia', 'make=dacia'],
  model: ['model=Yaris', 'model=Model Y', 'model=octavia', 'model=Jimny'],
  year_min: ['year_min=2024', 'year_min=2020', 'year_min=2012'],
  year_max: ['year_max=2004', 'year_max=2010', 'year_max=2016'],
  mileage_min: ['mileage_min=300000', 'mileage_min=200000', 'mileage_min=100000'],
  mileage_max: ['mileage_max=5000', 'mileage_max=30000', 'mileage_max=100000'],
  price_min: ['price_min=10000000', 'price_min=6000000', 'price_min=2000000'],
  price_max: ['price_max=300000', 'price_max=1000000', 'price_max=3000000'],
  fuel: ['fuel=Rafmagn', 'fuel=Metan', 'fuel=Dísil&fuel=Tengiltvinn', 'fuel=bensín'],
  transmission: ['transmission=manual', 'transmission=automatic'],
  region: ['region=westfjords', 'region=east', 'region=south', 'region=capital'],
  has_inspection: ['has_inspection=true', 'has_inspection=false'],
  has_photos: ['has_photos=true', 'has_photos=false'],
  ending_within_hours: ['ending_within_hours=6', 'ending_within_hours=24', 'ending_within_hours=72'],
  q: ['q=Toyta', 'q=land cruiser', 'q=tesla model', 'q=oktavia', 'q=AB123'],
};

/** Second pages (through the first page's next_cursor): the legacy list and a spread of searches. */
const SECOND_PAGES: [string, (typeof SORTS)[number]][] = [
  ['none', 'newest'],
  ['none', 'price_desc'],
  ['make', 'price_asc'],
  ['year_min', 'mileage_asc'],
  ['region', 'ending_soon'],
  ['fuel', 'year_desc'],
  ['q', 'newest'],
];

// ---------------------------------------------------------------------------------------------
// The data

/** make, model, weight (how common), new price in ISK, electric only. */
const MODELS: [string, string, number, number, boolean][] = [
  ['Toyota', 'Yaris', 6, 4_200_000, false],
  ['Toyota', 'Corolla', 6, 5_300_000, false],
  ['Toyota', 'RAV4', 8, 7_900_000, false],
  ['Toyota', 'Land Cruiser', 6, 14_500_000, false],
  ['Toyota', 'Hilux', 4, 9_800_000, false],
  ['Toyota', 'C-HR', 3, 6_200_000, false],
  ['Kia', 'Sportage', 4, 6_900_000, false],
  ['Kia', 'Ceed', 3, 4_600_000, false],
  ['Kia', 'Niro', 4, 6_400_000, false],
  ['Kia', 'EV6', 2, 8_900_000, true],
  ['Hyundai', 'Tucson', 4, 7_100_000, false],
  ['Hyundai', 'i30', 3, 4_500_000, false],
  ['Hyundai', 'Kona', 3, 5_900_000, false],
  ['Hyundai', 'Ioniq 5', 2, 8_500_000, true],
  ['Skoda', 'Octavia', 5, 5_600_000, false],
  ['Skoda', 'Kodiaq', 3, 8_200_000, false],
  ['Skoda', 'Enyaq', 2, 7_800_000, true],
  ['Skoda', 'Fabia', 2, 3_900_000, false],
  ['Volkswagen', 'Golf', 4, 5_200_000, false],
  ['Volkswagen', 'Polo', 2, 3_800_000, false],
  ['Volkswagen', 'Tiguan', 3, 7_600_000, false],
  ['Volkswagen', 'ID.4', 3, 7_900_000, true],
  ['Volkswagen', 'Passat', 2, 6_300_000, false],
  ['Tesla', 'Model 3', 3, 6_900_000, true],
  ['Tesla', 'Model Y', 4, 7_900_000, true],
  ['Nissan', 'Leaf', 3, 5_200_000, true],
  ['Nissan', 'Qashqai', 3, 5_900_000, false],
  ['Nissan', 'X-Trail', 2, 7_300_000, false],
  ['Subaru', 'Forester', 3, 7_200_000, false],
  ['Subaru', 'Outback', 2, 7_900_000, false],
  ['Suzuki', 'Vitara', 3, 5_400_000, false],
  ['Suzuki', 'Swift', 2, 3_600_000, false],
  ['Suzuki', 'Jimny', 2, 5_100_000, false],
  ['Dacia', 'Duster', 4, 4_700_000, false],
  ['Dacia', 'Sandero', 2, 3_200_000, false],
  ['Volvo', 'XC60', 3, 9_900_000, false],
  ['Volvo', 'XC90', 2, 13_900_000, false],
  ['Volvo', 'V60', 1, 7_900_000, false],
  ['Mitsubishi', 'Outlander', 3, 7_400_000, false],
  ['Mitsubishi', 'Pajero', 1, 8_600_000, false],
  ['Ford', 'Focus', 2, 4_800_000, false],
  ['Ford', 'Kuga', 2, 6_400_000, false],
  ['Ford', 'Ranger', 2, 9_100_000, false],
  ['BMW', 'X5', 1, 15_900_000, false],
  ['BMW', 'i3', 1, 5_900_000, true],
  ['Mercedes-Benz', 'GLC', 1, 11_900_000, false],
  ['Mercedes-Benz', 'EQA', 1, 8_900_000, true],
  ['Land Rover', 'Defender', 1, 16_900_000, false],
  ['Land Rover', 'Range Rover', 1, 24_900_000, false],
  ['Honda', 'CR-V', 1, 7_500_000, false],
  ['Honda', 'Jazz', 1, 4_100_000, false],
  ['Mazda', 'CX-5', 2, 6_900_000, false],
  ['Mazda', 'Mazda3', 1, 4_900_000, false],
  ['Renault', 'Clio', 1, 3_700_000, false],
  ['Renault', 'Zoe', 1, 4_400_000, true],
  ['Peugeot', '208', 1, 3_900_000, false],
  ['Peugeot', '3008', 1, 6_100_000, false],
];

/** Postal codes and how many sellers each has (about 62 % in the capital area, as the population). */
const POSTAL_CODES: [string, number][] = [
  ...['101', '103', '104', '105', '107', '108', '109', '110', '111', '112', '113', '116', '170'].map((c): [string, number] => [c, 6]),
  ...['200', '201', '203', '210', '220', '221', '225', '270', '271'].map((c): [string, number] => [c, 6]),
  ...['230', '240', '245', '250', '260'].map((c): [string, number] => [c, 4]),
  ...['300', '310', '340', '350', '355', '370'].map((c): [string, number] => [c, 3]),
  ...['400', '410', '415', '450', '460'].map((c): [string, number] => [c, 1]),
  ...['530', '540', '550', '560'].map((c): [string, number] => [c, 1]),
  ...['600', '603', '640', '650', '680'].map((c): [string, number] => [c, 5]),
  ...['700', '710', '730', '740', '750', '765'].map((c): [string, number] => [c, 1]),
  ...['780', '800', '810', '815', '820', '825', '850', '860', '870', '880', '900'].map((c): [string, number] => [c, 2]),
];

export type SearchData = {
  cars: number;
  listed: number;
  active: number;
  bids: number;
  inspections: number;
  photos: number;
  seconds: number;
};

/**
 * Loads `cars` cars and `bids` bids in one transaction with `insert … select generate_series`.
 * The triggers are bypassed (session_replication_role = replica: the foreign-key checks, the
 * first car event, the statement triggers that keep top_bid) and top_bid is then set for every
 * car in one UPDATE from its bids — what the triggers would have written; the bids' secondary
 * indexes are dropped for the load and rebuilt. The newest 6,000 cars are the live market
 * (about 60 % active, ending over the next 72 hours, some pending and unconfirmed); the rest are
 * mostly sold or closed, some expired, declined, withdrawn, lapsed. Then VACUUM ANALYZE.
 */
export async function loadSearchData(pool: pg.Pool, cars: number, bids: number): Promise<SearchData> {
  const started = performance.now();
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    await client.query(`SET LOCAL maintenance_work_mem = '256MB'`);
    await client.query('SELECT setseed(0.22)');
    await client.query(
      `CREATE TEMP TABLE bench_models ON COMMIT DROP AS
       SELECT row_number() OVER () AS n, m.make, m.model, m.price, m.ev
       FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::boolean[]) AS m(make, model, weight, price, ev)
       CROSS JOIN LATERAL generate_series(1, m.weight)`,
      [MODELS.map((m) => m[0]), MODELS.map((m) => m[1]), MODELS.map((m) => m[2]), MODELS.map((m) => m[3]), MODELS.map((m) => m[4])],
    );
    await client.query(
      `CREATE TEMP TABLE bench_postal_codes ON COMMIT DROP AS
       SELECT row_number() OVER () AS n, p.code
       FROM unnest($1::text[], $2::int[]) AS p(code, weight) CROSS JOIN LATERAL generate_series(1, p.weight)`,
      [POSTAL_CODES.map((p) => p[0]), POSTAL_CODES.map((p) => p[1])],
    );
    await client.query(
      `INSERT INTO "Bílar" (seller_name, email, phone, postal_code, car_make, car_model, car_plate, year, mileage, status,
                            created_at, updated_at, auction_ends_at, closed_at, fuel, transmission, vehicle_checked_at)
       SELECT 'Seljandi ' || x.g, 'seljandi' || x.g || '@bench.is', '+3546' || lpad((x.g % 1000000)::text, 6, '0'), p.code,
              m.make, m.model,
              chr(65 + x.g / 1000 / 26) || chr(65 + x.g / 1000 % 26) || lpad((x.g % 1000)::text, 3, '0'),
              x.year, x.mileage, x.status, x.created_at, x.created_at,
              CASE WHEN x.status = 'active' THEN now() + x.re * interval '72 hours' END,
              CASE WHEN x.status IN ('sold', 'closed', 'declined', 'expired') THEN x.created_at + interval '3 days' END,
              CASE WHEN m.ev THEN 'Rafmagn' WHEN x.rf < 0.5 THEN 'Bensín' WHEN x.rf < 0.78 THEN 'Dísil'
                   WHEN x.rf < 0.9 THEN 'Tengiltvinn' WHEN x.rf < 0.93 THEN 'Metan' END,
              CASE WHEN m.ev OR x.rt < 0.72 THEN 'automatic' WHEN x.rt < 0.95 THEN 'manual' END,
              x.created_at
       FROM (
         SELECT g, mn, pn, re, rf, rt, status, created_at,
                CASE WHEN ev THEN greatest(year, 2013) ELSE year END AS year,
                least(9999999, ((2026 - CASE WHEN ev THEN greatest(year, 2013) ELSE year END) * (4000 + rm * 18000) + rm * 3000)::int) AS mileage
         FROM (
           SELECT g, mn, pn, re, rf, rt, rm, (SELECT ev FROM bench_models WHERE n = mn) AS ev,
                  least(2025, 2000 + floor(power(ry, 0.6) * 26)::int) AS year,
                  CASE WHEN g > $1 - 6000 THEN
                         CASE WHEN rs < 0.6 THEN 'active' WHEN rs < 0.7 THEN 'pending' WHEN rs < 0.75 THEN 'unconfirmed'
                              WHEN rs < 0.9 THEN 'closed' ELSE 'sold' END
                       ELSE
                         CASE WHEN rs < 0.62 THEN 'sold' WHEN rs < 0.77 THEN 'closed' WHEN rs < 0.87 THEN 'expired'
                              WHEN rs < 0.92 THEN 'declined' WHEN rs < 0.97 THEN 'withdrawn' ELSE 'lapsed' END
                  END AS status,
                  CASE WHEN g > $1 - 6000 THEN now() - (($1 - g) / 6000.0) * interval '30 days'
                       ELSE now() - interval '30 days' - (($1 - 6000 - g)::float / $1) * interval '3 years' END AS created_at
           FROM (
             SELECT g, 1 + floor(random() * (SELECT count(*) FROM bench_models))::int AS mn,
                    1 + floor(random() * (SELECT count(*) FROM bench_postal_codes))::int AS pn,
                    random() AS ry, random() AS rm, random() AS rs, random() AS re, random() AS rf, random() AS rt
             FROM generate_series(1, $1::int) g OFFSET 0
           ) r
         ) s
       ) x
       JOIN bench_models m ON m.n = x.mn
       JOIN bench_postal_codes p ON p.n = x.pn`,
      [cars],
    );
    // Who got bids: every car that reached an auction's end with bidders, most live ones.
    await client.query(
      `CREATE TEMP TABLE bench_biddable ON COMMIT DROP AS
       SELECT row_number() OVER () AS n, c.id, c.created_at,
              greatest(150000, m.price * power(0.9, 2026 - c.year) - c.mileage * 6) AS value
       FROM "Bílar" c JOIN (SELECT DISTINCT make, model, price FROM bench_models) m ON m.make = c.car_make AND m.model = c.car_model
       WHERE c.status IN ('sold', 'closed', 'declined', 'pending')
          OR (c.status = 'active' AND random() < 0.75) OR (c.status = 'withdrawn' AND random() < 0.3)`,
    );
    await client.query('CREATE UNIQUE INDEX ON bench_biddable (n)');
    const { rows: secondary } = await client.query<{ name: string; def: string }>(
      `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i
       WHERE i.indrelid = '"uppboð"'::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)`,
    );
    for (const r of secondary) await client.query(`DROP INDEX ${r.name}`);
    await client.query(
      `INSERT INTO "uppboð" (car_id, dealer_name, dealer_email, bid_amount, created_at, updated_at)
       SELECT b.id, 'Dealer ' || x.d, 'dealer' || x.d || '@bench.is',
              (greatest(50000, round(b.value * (0.55 + x.r * 0.5) / 1000) * 1000))::int,
              least(now(), b.created_at + x.rt * interval '48 hours'), least(now(), b.created_at + x.rt * interval '48 hours')
       FROM (
         SELECT 1 + floor(random() * (SELECT count(*) FROM bench_biddable))::int AS n, floor(random() * 500)::int AS d,
                random() AS r, random() AS rt
         FROM generate_series(1, $1::int) OFFSET 0
       ) x JOIN bench_biddable b ON b.n = x.n`,
      [bids],
    );
    for (const r of secondary) await client.query(r.def);
    // What the top_bid triggers (migration 015) would have written, for every car at once; a
    // sold car's winning bid is its best-ranked one.
    await client.query(
      `UPDATE "Bílar" c SET top_bid = t.top, winning_bid_id = CASE WHEN c.status = 'sold' THEN t.best END
       FROM (SELECT DISTINCT ON (car_id) car_id, bid_amount AS top, id AS best FROM "uppboð" WHERE NOT set_aside
             ORDER BY car_id, bid_amount DESC, created_at, seq) t
       WHERE t.car_id = c.id`,
    );
    await recountFacets(client);
    await client.query(
      `INSERT INTO car_inspections (car_id, inspector, inspected_at, odometer_km, overall_grade)
       SELECT id, 'Skoðunarstöð', created_at, mileage, 1 + floor(random() * 5)::int FROM "Bílar"
       WHERE random() < CASE WHEN status IN ('active', 'pending') THEN 0.35 ELSE 0.06 END`,
    );
    await client.query(
      `INSERT INTO car_photos (id, car_id, position, kind, width, height, created_at)
       SELECT gen_random_uuid(), c.id, k, CASE WHEN k <= 4 THEN 'exterior' ELSE 'interior' END, 1600, 1200, c.created_at
       FROM (SELECT id, created_at, 1 + floor(random() * 8)::int AS photos FROM "Bílar"
             WHERE random() < CASE WHEN status IN ('active', 'pending') THEN 0.85 ELSE 0.4 END OFFSET 0) c
       CROSS JOIN LATERAL generate_series(1, c.photos) k`,
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  await pool.query('VACUUM ANALYZE "Bílar", "uppboð", car_inspections, car_photos');
  return dataCounts(pool, performance.now() - started);
}

function existingDatabase(url: string): BenchDatabase {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  return { name: new URL(url).pathname.slice(1), url, pool, drop: () => pool.end() };
}

async function dataCounts(pool: pg.Pool, ms: number): Promise<SearchData> {
  const { rows } = await pool.query<Omit<SearchData, 'seconds'>>(
    `SELECT (SELECT count(*) FROM "Bílar")::int AS cars,
            (SELECT count(*) FROM "Bílar" WHERE status NOT IN ('unconfirmed', 'lapsed'))::int AS listed,
            (SELECT count(*) FROM "Bílar" WHERE status = 'active')::int AS active,
            (SELECT count(*) FROM "uppboð")::int AS bids, (SELECT count(*) FROM car_inspections)::int AS inspections,
            (SELECT count(*) FROM car_photos)::int AS photos`,
  );
  return { ...rows[0], seconds: Math.round(ms / 100) / 10 };
}

// ---------------------------------------------------------------------------------------------
// Measuring

export type SearchCase = {
  kind: 'list' | 'second_page' | 'facets';
  filter: string;
  sort: string | null;
  label: string;
  target_ms: number;
  p50_ms: number;
  p99_ms: number;
  requests: number;
  non_200: number;
  pass: boolean;
};

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const round1 = (x: number) => Math.round(x * 10) / 10;

/** A query string as a browser sends it (spaces as +, the rest percent-encoded). */
const encodeQuery = (parts: string[]) =>
  parts
    .filter(Boolean)
    .join('&')
    .replace(/ /g, '+')
    .replace(/[^\x20-\x7e]/g, (ch) => encodeURIComponent(ch));

const listPath = (query: string, sort: string, cursor?: string) =>
  `/api/cars?${encodeQuery([query, sort === 'newest' ? '' : `sort=${sort}`, `limit=${LIMIT}`, cursor ? `cursor=${encodeURIComponent(cursor)}` : ''])}`;
const facetsPath = (query: string) => `/api/cars/facets${query ? `?${encodeQuery([query])}` : ''}`;

async function get(base: string, pathname: string): Promise<{ ms: number; status: number; body: string }> {
  const t0 = performance.now();
  const res = await fetch(`${base}${pathname}`);
  const body = await res.text();
  return { ms: performance.now() - t0, status: res.status, body };
}

/**
 * `paths` requested in turn, one at a time: `warmup` unmeasured, then `n` measured — or fewer
 * where a slow case would take more than BUDGET_MS (at least MIN_REQUESTS: the case says how
 * many it had).
 */
const BUDGET_MS = 2000;
const MIN_REQUESTS = 10;
async function timeCase(base: string, paths: string[], n: number, warmup: number) {
  for (let i = 0; i < warmup; i++) await get(base, paths[i % paths.length]);
  const times: number[] = [];
  let non200 = 0;
  const started = performance.now();
  for (let i = 0; i < n && (i < MIN_REQUESTS || performance.now() - started < BUDGET_MS); i++) {
    const r = await get(base, paths[i % paths.length]);
    if (r.status !== 200) non200 += 1;
    times.push(r.ms);
  }
  times.sort((a, b) => a - b);
  return { p50: round1(percentile(times, 50)), p99: round1(percentile(times, 99)), non200, requests: times.length };
}

async function firstCursor(base: string, query: string, sort: string): Promise<string | null> {
  const r = await get(base, listPath(query, sort));
  if (r.status !== 200) throw new Error(`dealer search: ${listPath(query, sort)} answered ${r.status}: ${r.body.slice(0, 300)}`);
  return (JSON.parse(r.body) as { next_cursor: string | null }).next_cursor;
}

async function measureCases(base: string, requests: number, log: (msg: string) => void): Promise<SearchCase[]> {
  const cases: SearchCase[] = [];
  const add = (c: Omit<SearchCase, 'pass'>) => {
    const row = { ...c, pass: c.p99_ms <= c.target_ms && c.non_200 === 0 };
    cases.push(row);
    if (!row.pass) log(`  ${row.label}: p50 ${row.p50_ms} ms, p99 ${row.p99_ms} ms (target ${row.target_ms}) MISSED`);
  };
  for (const [filter, values] of Object.entries(FILTERS)) {
    for (const sort of SORTS) {
      const t = await timeCase(
        base,
        values.map((v) => listPath(v, sort)),
        requests,
        Math.max(5, values.length * 2),
      );
      const target = filter === 'q' ? TARGET_Q_P99_MS : TARGET_SEARCH_P99_MS;
      add({
        kind: 'list',
        filter,
        sort,
        label: `${filter} · ${sort}`,
        target_ms: target,
        p50_ms: t.p50,
        p99_ms: t.p99,
        non_200: t.non200,
        requests: t.requests,
      });
    }
  }
  for (const [filter, sort] of SECOND_PAGES) {
    const paths: string[] = [];
    for (const v of FILTERS[filter]) {
      const cursor = await firstCursor(base, v, sort);
      if (cursor) paths.push(listPath(v, sort, cursor));
    }
    if (!paths.length) continue;
    const t = await timeCase(base, paths, requests, 5);
    const target = filter === 'q' ? TARGET_Q_P99_MS : TARGET_SEARCH_P99_MS;
    add({
      kind: 'second_page',
      filter,
      sort,
      label: `${filter} · ${sort}, page 2`,
      target_ms: target,
      p50_ms: t.p50,
      p99_ms: t.p99,
      non_200: t.non200,
      requests: t.requests,
    });
  }
  for (const [filter, values] of Object.entries(FILTERS)) {
    const t = await timeCase(
      base,
      values.map((v) => facetsPath(v)),
      requests,
      Math.max(5, values.length * 2),
    );
    add({
      kind: 'facets',
      filter,
      sort: null,
      label: `facets · ${filter}`,
      target_ms: TARGET_FACETS_P99_MS,
      p50_ms: t.p50,
      p99_ms: t.p99,
      non_200: t.non200,
      requests: t.requests,
    });
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------
// Plans

export type SearchPlan = {
  request: string;
  /** cars the filter matches (the facets' total), and their share of the listed cars */
  matches: number;
  share: number;
  execution_ms: number;
  seq_scan_of_cars: boolean;
  /** a sequential scan of the car table for a filter matching at most SELECTIVE_SHARE of the cars */
  flagged: boolean;
  plan: string;
};

const CONTROL = /^\s*(begin|start transaction|commit|rollback|discard all|savepoint|release savepoint)\b/i;

/**
 * The representative set: each filter's first value with each sort in turn (every sort
 * appears), the list itself, facets. With each, the filter whose share of the cars says whether
 * it is selective: the facets leave a dimension's own filter out of its counts, so for them
 * a make or region filter narrows nothing and they count all cars.
 */
function planRequests(): [request: string, filter: string][] {
  const out: [string, string][] = SORTS.map((s) => [listPath('', s), '']);
  Object.entries(FILTERS)
    .filter(([f]) => f !== 'none')
    .forEach(([, values], i) => {
      out.push([listPath(values[0], 'newest'), values[0]]);
      out.push([listPath(values[0], SORTS[1 + (i % (SORTS.length - 1))]), values[0]]);
    });
  out.push([facetsPath(''), ''], [facetsPath(FILTERS.make[0]), ''], [facetsPath(FILTERS.region[0]), '']);
  out.push([facetsPath(FILTERS.model[0]), FILTERS.model[0]], [facetsPath(FILTERS.q[0]), FILTERS.q[0]]);
  return out;
}

async function explainAll(db: BenchDatabase, projectDir: string, logDir: string, listed: number): Promise<SearchPlan[]> {
  const u = new URL(db.url);
  const proxy = await startCountingProxy(u.hostname, Number(u.port || 5432));
  const server = await startChild({
    name: 'project-search-plans',
    cwd: projectDir,
    args: projectArgs(projectDir),
    env: { ...projectStartEnv(projectDir), ...projectEnv(proxy.url(db.url), 2), AUCTION_WORKER_ENABLED: 'false' },
    logDir,
  });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const plans: SearchPlan[] = [];
  try {
    for (const [request, filter] of planRequests()) {
      const total = await get(server.url, facetsPath(filter));
      proxy.take();
      const r = await get(server.url, request);
      if (r.status !== 200) throw new Error(`dealer search plans: ${request} answered ${r.status}: ${r.body.slice(0, 300)}`);
      const statements = proxy.take().filter((s) => !CONTROL.test(s.text));
      const matches = (JSON.parse(total.body) as { total: number }).total;
      plans.push(await explainRequest(client, request, statements, matches, listed));
    }
  } finally {
    await client.end();
    await server.stop();
    await proxy.close();
  }
  return plans;
}

/** Replays a request's statements in a transaction of its own: settings as they are, the search under EXPLAIN. */
async function explainRequest(client: pg.Client, request: string, statements: Statement[], matches: number, listed: number) {
  await client.query('BEGIN');
  try {
    let text = '';
    for (const s of statements) {
      if (/^\s*select set_config\(/i.test(s.text)) {
        await client.query(s.text, s.values ?? []);
        continue;
      }
      // the search is the statement over the car table (or, for a facets panel of its own
      // dimensions alone, over car_facet_counts); a request sends one
      if (!/("Bílar"|car_facet_counts) c\b/.test(s.text)) continue;
      await client.query(s.text, s.values ?? []);
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${s.text}`, s.values ?? []);
      text = rows.map((row) => row['QUERY PLAN']).join('\n');
    }
    const seq = /Seq Scan on "Bílar"/.test(text);
    const share = listed ? matches / listed : 0;
    return {
      request,
      matches,
      share: Math.round(share * 1000) / 1000,
      execution_ms: Number(/Execution Time: ([\d.]+) ms/.exec(text)?.[1] ?? NaN),
      seq_scan_of_cars: seq,
      flagged: seq && share <= SELECTIVE_SHARE,
      plan: text,
    };
  } finally {
    await client.query('ROLLBACK');
  }
}

// ---------------------------------------------------------------------------------------------
// The scenario

export type DealerSearchBench = {
  data: SearchData;
  cases: SearchCase[];
  plans: Omit<SearchPlan, 'plan'>[];
  /** the machine's load average (1, 5, 15 min) before and after the measured requests: other work moves the p99s */
  load_average: { before: number[]; after: number[] };
  pass: boolean;
};
const loadAverage = () => os.loadavg().map((x) => Math.round(x * 100) / 100);

export async function benchDealerSearch(options: {
  adminUrl: string;
  projectDir: string;
  log: (msg: string) => void;
  cars?: number;
  bids?: number;
  requests?: number;
  /** print every plan in full (otherwise only the flagged ones and a line per plan) */
  plans?: boolean;
  /** leave the database behind (its URL is printed), to look at plans by hand */
  keep?: boolean;
  /** load the data and stop there (with keep) */
  loadOnly?: boolean;
  /** a database a kept run left (loaded and migrated): measured as it is, not dropped */
  database?: string;
}): Promise<DealerSearchBench> {
  const { log } = options;
  const cars = options.cars ?? 100_000;
  const bidCount = options.bids ?? 1_000_000;
  const requests = options.requests ?? 60;
  const { migrate } = (await import(pathToFileURL(path.join(options.projectDir, 'src/db/migrate.ts')).href)) as { migrate: Migrate };
  const db = options.database ? existingDatabase(options.database) : await createBenchDatabase(options.adminUrl, migrate);
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'kaggi-bench-search-'));
  let server: Child | null = null;
  try {
    log(`dealer search: database ${db.name}; ${options.database ? 'as loaded' : `loading ${cars} cars and ${bidCount} bids`}`);
    const data = options.database ? await dataCounts(db.pool, 0) : await loadSearchData(db.pool, cars, bidCount);
    log(
      `  loaded in ${data.seconds} s: ${data.cars} cars (${data.listed} listed, ${data.active} active), ${data.bids} bids, ` +
        `${data.inspections} inspections, ${data.photos} photos`,
    );
    if (options.loadOnly) return { data, cases: [], plans: [], load_average: { before: [], after: [] }, pass: true };
    // The auction worker is off: its sweeps are no part of a search, and it would change statuses under the measurement.
    server = await startChild({
      name: 'project-search',
      cwd: options.projectDir,
      args: projectArgs(options.projectDir),
      env: { ...projectStartEnv(options.projectDir), ...projectEnv(db.url, 10), AUCTION_WORKER_ENABLED: 'false' },
      logDir,
    });
    const listCases = Object.keys(FILTERS).length * SORTS.length;
    log(
      `  ${listCases} list cases (every filter alone × every sort), ${SECOND_PAGES.length} second pages, ${Object.keys(FILTERS).length} facets cases; ` +
        `${requests} sequential requests each after a warm-up, limit ${LIMIT}`,
    );
    const before = loadAverage();
    const cases = await measureCases(server.url, requests, log);
    const after = loadAverage();
    log(`  load average ${before.join(' ')} before the requests, ${after.join(' ')} after (${os.cpus().length} cores)`);
    await server.stop();
    server = null;
    log('  plans: the statements of a representative set of requests, recorded on the wire and replayed under EXPLAIN (ANALYZE, BUFFERS)');
    const plans = await explainAll(db, options.projectDir, logDir, data.listed);
    printPlans(plans, options.plans ?? false);
    printSearchTable(cases, data);
    const pass = cases.every((c) => c.pass) && plans.every((p) => !p.flagged);
    return { data, cases, plans: plans.map(({ plan: _plan, ...p }) => p), load_average: { before, after }, pass };
  } finally {
    if (server) await server.stop();
    if (options.keep || options.database) {
      log(`  kept ${db.url}`);
      await db.pool.end();
    } else await db.drop();
  }
}

function printPlans(plans: SearchPlan[], full: boolean): void {
  for (const p of plans) {
    const scan = p.seq_scan_of_cars
      ? p.flagged
        ? '  SEQ SCAN OF ALL CARS for a selective filter!'
        : '  (seq scan of the cars: broad filter)'
      : '';
    // how the cars are reached: the scans of the plan's first (the page's or the facets') part
    const paths = [...p.plan.matchAll(/(Index Only Scan|Index Scan|Bitmap Index Scan|Seq Scan)( Backward)? (?:using|on) ("[^"]+"|\S+)/g)]
      .map((m) => `${m[1]}${m[2] ?? ''} ${m[3].replace(/"/g, '')}`)
      .filter((x, i, all) => all.indexOf(x) === i)
      .slice(0, 2);
    console.log(
      `## ${p.request}  (${p.matches} cars match, ${(p.share * 100).toFixed(1)} %; execution ${p.execution_ms} ms; ${paths.join(', ')})${scan}`,
    );
    if (full || p.flagged) console.log(p.plan.replace(/^/gm, '    '));
  }
  console.log('');
}

export function printSearchTable(cases: SearchCase[], data: SearchData): void {
  console.log(
    `Dealer search at ${data.cars} cars (${data.listed} listed, ${data.active} active), ${data.bids} bids — p50/p99 ms over HTTP, limit ${LIMIT}`,
  );
  const head = `${pad('filter', 20, true)}${SORTS.map((s) => pad(s, 14)).join('')}  target`;
  console.log(head);
  console.log('-'.repeat(head.length + 10));
  const cell = (c: SearchCase | undefined) => pad(c ? `${c.p50_ms}/${c.p99_ms}${c.pass ? '' : '!'}` : '', 14);
  for (const filter of Object.keys(FILTERS)) {
    const row = cases.filter((c) => c.kind === 'list' && c.filter === filter);
    const target = row[0]?.target_ms ?? TARGET_SEARCH_P99_MS;
    console.log(
      `${pad(filter, 20, true)}${SORTS.map((s) => cell(row.find((c) => c.sort === s))).join('')}  p99 ≤ ${target}: ${row.every((c) => c.pass) ? 'ok' : 'MISSED'}`,
    );
  }
  console.log('');
  console.log(`${pad('second pages, facets', 34, true)}${pad('p50', 8)}${pad('p99', 8)}${pad('n', 6)}  target`);
  for (const c of cases.filter((x) => x.kind !== 'list')) {
    console.log(
      `${pad(c.label, 34, true)}${pad(c.p50_ms, 8)}${pad(c.p99_ms, 8)}${pad(c.requests, 6)}  p99 ≤ ${c.target_ms}: ${c.pass ? 'ok' : 'MISSED'}`,
    );
  }
  console.log(
    `(p50/p99: latency in ms of one request at a time, ${cases[0]?.requests ?? 0} requests per list case after a warm-up, fewer where a case ` +
      `would take over ${BUDGET_MS / 1000} s (n); '!' marks a case over its target or with a non-200 answer)`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      'project-dir': { type: 'string' },
      cars: { type: 'string' },
      bids: { type: 'string' },
      requests: { type: 'string' },
      plans: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'load-only': { type: 'boolean', default: false },
      database: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(`tsx bench/dealer-search.ts [options]   (npm run bench -- --only dealer_search runs it within the whole bench)
  --cars N          cars to load (default 100000)
  --bids N          bids to load (default 1000000)
  --requests N      measured requests per case (default 60; a case stops early after ${BUDGET_MS / 1000} s, with at least ${MIN_REQUESTS})
  --plans           print every plan in full (otherwise a line per plan, and the plan where a selective filter scans all cars)
  --keep            leave the database behind and print its URL
  --load-only       load the data and stop (with --keep: a database to study by hand)
  --database URL    measure a database a --keep run left, as it is (not dropped)
  --project-dir DIR the project tree to start (default: this checkout)
  BENCH_DATABASE_URL     PostgreSQL to create the database on (default ${DEFAULT_ADMIN_URL})
  BENCH_DATABASE_PREFIX  the database's name before _<random> (default kaggi_bench)`);
    process.exit(0);
  }
  const result = await benchDealerSearch({
    adminUrl: process.env.BENCH_DATABASE_URL || DEFAULT_ADMIN_URL,
    projectDir: path.resolve(values['project-dir'] ?? '.'),
    log: (msg) => console.log(msg),
    cars: values.cars ? Number(values.cars) : undefined,
    bids: values.bids ? Number(values.bids) : undefined,
    requests: values.requests ? Number(values.requests) : undefined,
    plans: values.plans,
    keep: values.keep,
    loadOnly: values['load-only'],
    database: values.database,
  });
  console.log(`dealer search targets: ${result.pass ? 'all met' : 'some MISSED'}`);
}
