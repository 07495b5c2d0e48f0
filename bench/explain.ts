/**
 * EXPLAIN ANALYZE of every hot query, on a bench database seeded like
 * `npm run bench` does (default 100,000 cars, 1,000,000 bids, 200,000
 * favourites), with the project's migrations (including any index migration).
 *
 *   npx tsx bench/explain.ts [--cars 100000] [--project-dir DIR] [--only listCars,getCar]
 *
 * Prints each plan (warm: the query runs twice first) and the median execution
 * time of five runs, and flags sequential scans of the big tables.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  activeCarId,
  createBenchDatabase,
  dealerEmail,
  DEFAULT_ADMIN_URL,
  DEFAULT_SHAPE,
  growTo,
  sampleCarIds,
  type Migrate,
} from './lib/db.js';
import { sql, type QueryName } from './lib/queries.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    cars: { type: 'string', default: '100000' },
    'project-dir': { type: 'string' },
    only: { type: 'string' },
  },
});

async function main(): Promise<void> {
  const cars = Number(args.cars);
  const projectDir = path.resolve(args['project-dir'] ?? ROOT);
  const { migrate } = (await import(pathToFileURL(path.join(projectDir, 'src/db/migrate.ts')).href)) as { migrate: Migrate };
  const db = await createBenchDatabase(process.env.BENCH_DATABASE_URL || DEFAULT_ADMIN_URL, migrate);
  try {
    const ms = await growTo(db.pool, 0, cars, DEFAULT_SHAPE);
    console.log(
      `# ${db.name}: ${cars} cars, ${cars * DEFAULT_SHAPE.bidsPerCar} bids, ${cars * DEFAULT_SHAPE.favouritesPerCar} favourites seeded in ${(ms / 1000).toFixed(1)} s`,
    );
    const { rows: idx } = await db.pool.query<{ indexdef: string }>(
      `SELECT indexdef FROM pg_indexes WHERE tablename IN ('Bílar', 'uppboð', 'favorites') ORDER BY tablename, indexname`,
    );
    console.log(`# indexes:\n${idx.map((r) => `#   ${r.indexdef}`).join('\n')}\n`);

    const [car] = await sampleCarIds(db.pool, 1);
    const hot = await activeCarId(db.pool, Math.ceil(cars / 2));
    const dealer = dealerEmail(17);
    const params: Partial<Record<QueryName, unknown[]>> = {
      listCars: [51],
      getCar: [car],
      listCarBids: [car],
      carExists: [car],
      listDealerBids: [dealer],
      listFavorites: [dealer],
      dashboardStats: [dealer, dealer, dealer],
      bidLockCar: [hot.id],
      bidHighest: [hot.id],
    };
    const only = args.only ? new Set(args.only.split(',')) : null;
    const client = await db.pool.connect();
    try {
      for (const [name, values] of Object.entries(params) as [QueryName, unknown[]][]) {
        if (only && !only.has(name)) continue;
        const text = sql[name];
        // createBid's statements run inside its transaction; FOR UPDATE needs one too
        await client.query('BEGIN');
        for (let i = 0; i < 2; i++) await client.query(text, values);
        const times: number[] = [];
        let plan = '';
        for (let i = 0; i < 5; i++) {
          const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values);
          plan = rows.map((r) => r['QUERY PLAN']).join('\n');
          times.push(Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? NaN));
        }
        await client.query('ROLLBACK');
        times.sort((a, b) => a - b);
        const seqScans = [...plan.matchAll(/Seq Scan on "?([^\s"]+)"?/g)].map((m) => m[1]);
        console.log(
          `## ${name}  (median execution ${times[2].toFixed(3)} ms${seqScans.length ? `; SEQ SCAN on ${seqScans.join(', ')}` : ''})`,
        );
        console.log(plan.replace(/^/gm, '    '));
        console.log('');
      }
    } finally {
      client.release();
    }
  } finally {
    await db.drop();
  }
}

main().catch((error: unknown) => {
  console.error('explain failed:', error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
