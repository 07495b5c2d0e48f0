/**
 * The price estimate at scale: `benchEstimate` brings the bench database to
 * SOLD_CARS sold cars (each with a winning bid, seeded with generate_series),
 * then times GET /api/price-estimate on the running project server, one
 * request at a time (latency, not throughput: the estimate is a per-seller
 * page load), and prints p50 / p99. Called by bench/run.ts after the other
 * scenarios, because the sales it adds would change their data.
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';

const SOLD_CARS = 100_000;
const REQUESTS = 400;
const MAKES = ['Toyota', 'Kia', 'Hyundai', 'Skoda', 'Volkswagen', 'Tesla', 'Nissan', 'Subaru', 'Suzuki', 'Dacia'];
const MODELS_PER_MAKE = 5;

export type EstimateBench = {
  sold_cars: number;
  seeded_in_s: number;
  requests: number;
  p50_ms: number;
  p99_ms: number;
  with_estimate: number;
  insufficient_data: number;
  non_200: number;
};

/** Adds sold cars until there are `target` (makes × models × 20 years × 0–300,000 km, prices falling with age and mileage). */
export async function seedSales(pool: pg.Pool, target: number): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "Bílar" WHERE status = 'sold'`);
  const add = Math.max(0, target - rows[0].n);
  if (add === 0) return 0;
  await pool.query(
    `INSERT INTO "Bílar" (seller_name, email, phone, postal_code, car_make, car_model, car_plate, year, mileage, status, created_at, updated_at)
     SELECT 'Seljandi ' || g, 'seller' || g || '@bench.is', '+3546' || lpad((g % 1000000)::text, 6, '0'), '101',
            ($2::text[])[1 + g % $3], 'Model ' || (g / $3 % $4), 'ES' || lpad(g::text, 7, '0'),
            2005 + (g * 7) % 20, (g * 7919) % 300000, 'sold', now() - interval '1 year', now() - interval '1 year'
     FROM generate_series(1, $1) g`,
    [add, MAKES, MAKES.length, MODELS_PER_MAKE],
  );
  await pool.query(
    `INSERT INTO "uppboð" (car_id, dealer_name, dealer_email, bid_amount, created_at, updated_at)
     SELECT c.id, 'Bench', 'dealer0@bench.is',
            greatest(150000, 6500000 - (2025 - c.year) * 240000 - c.mileage * 9 + (hashtext(c.car_plate) % 400000)),
            c.created_at, c.created_at
     FROM "Bílar" c WHERE c.car_plate LIKE 'ES%' AND c.winning_bid_id IS NULL`,
  );
  await pool.query(
    `UPDATE "Bílar" c SET winning_bid_id = b.id
     FROM "uppboð" b WHERE b.car_id = c.id AND c.car_plate LIKE 'ES%' AND c.winning_bid_id IS NULL`,
  );
  await pool.query('ANALYZE "Bílar"; ANALYZE "uppboð"');
  return add;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

export async function benchEstimate(pool: pg.Pool, serverUrl: string, log: (msg: string) => void): Promise<EstimateBench> {
  const started = performance.now();
  const added = await seedSales(pool, SOLD_CARS);
  const seededIn = Math.round((performance.now() - started) / 100) / 10;
  log(`price estimate: ${added} sold cars added (${SOLD_CARS} sold in all) in ${seededIn} s; ${REQUESTS} sequential requests`);
  const latencies: number[] = [];
  const outcome = { with_estimate: 0, insufficient_data: 0, non_200: 0 };
  for (let i = 0; i < REQUESTS + 20; i++) {
    // every make and model, years and mileages across the seeded range (some with thin data: 1990s cars)
    const make = MAKES[i % MAKES.length].toLowerCase();
    const model = `Model ${Math.floor(i / MAKES.length) % MODELS_PER_MAKE}`;
    const year = i % 25 === 0 ? 1995 : 2005 + ((i * 3) % 20);
    const mileage = (i * 15_485) % 300_000;
    const t0 = performance.now();
    const res = await fetch(
      `${serverUrl}/api/price-estimate?make=${encodeURIComponent(make)}&model=${encodeURIComponent(model)}&year=${year}&mileage=${mileage}`,
    );
    const body = (await res.json()) as { estimate?: unknown };
    const ms = performance.now() - t0;
    if (i < 20) continue; // warm-up
    latencies.push(ms);
    if (res.status !== 200) outcome.non_200 += 1;
    else if (body.estimate) outcome.with_estimate += 1;
    else outcome.insufficient_data += 1;
  }
  latencies.sort((a, b) => a - b);
  const result: EstimateBench = {
    sold_cars: SOLD_CARS,
    seeded_in_s: seededIn,
    requests: REQUESTS,
    p50_ms: Math.round(percentile(latencies, 0.5) * 100) / 100,
    p99_ms: Math.round(percentile(latencies, 0.99) * 100) / 100,
    ...outcome,
  };
  log(
    `  GET /api/price-estimate at ${SOLD_CARS} sold cars: p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms ` +
      `(${outcome.with_estimate} estimates, ${outcome.insufficient_data} insufficient_data, ${outcome.non_200} non-200)`,
  );
  return result;
}
