import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../../src/logger.js';

export type Migrate = (url: string, logger: Logger) => Promise<number>;

export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Seed shape: per car so many bids and favourites; a fixed set of dealers. */
export type SeedShape = {
  bidsPerCar: number;
  favouritesPerCar: number;
  dealers: number;
};

export const DEFAULT_SHAPE: SeedShape = { bidsPerCar: 10, favouritesPerCar: 2, dealers: 500 };

export const dealerEmail = (n: number) => `dealer${n}@bench.is`;
/** Car number g (1-based, in creation order) has this plate; plates sort like g. */
export const plateOf = (g: number) => `BN${String(g).padStart(7, '0')}`;

/** A migration logger that says nothing (migrate() only calls info). */
const quietLogger = { info: () => undefined } as unknown as Logger;

export type BenchDatabase = {
  name: string;
  url: string;
  pool: pg.Pool;
  drop: () => Promise<void>;
};

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * A database of its own, `kaggi_bench_<random>` (BENCH_DATABASE_PREFIX replaces `kaggi_bench`
 * where only some names may be used), migrated by `migrate` — the migrate() of the project
 * tree under test, so its schema is the one that server expects.
 */
export async function createBenchDatabase(adminUrl: string, migrate: Migrate): Promise<BenchDatabase> {
  const prefix = process.env.BENCH_DATABASE_PREFIX || 'kaggi_bench';
  if (!/^[a-z_][a-z0-9_]*$/.test(prefix)) throw new Error('BENCH_DATABASE_PREFIX must be a lower-case SQL identifier');
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // a session ended by DROP DATABASE … WITH (FORCE) is expected, not a crash
  pool.on('error', () => undefined);
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    // FORCE first: it ends the bench's own sessions too, even one busy seeding
    // (pool.end() would wait for that query to finish)
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await c.end();
    }
    await pool.end().catch(() => undefined);
  };
  try {
    await migrate(url, quietLogger);
  } catch (error) {
    await drop();
    throw error;
  }
  return { name, url, pool, drop };
}

/**
 * Grows the data set from `from` to `to` cars with set-based SQL
 * (generate_series) in one transaction, then VACUUM ANALYZE so the planner and
 * the visibility map are what a database in steady state has. Car g is created
 * g minutes after 2024-01-01, so the newest cars are always the last ones
 * seeded; 70 % active, 15 % pending, 15 % sold. Each car gets `bidsPerCar` bids
 * of rising amounts from a spread of dealers, and `favouritesPerCar`
 * favourites. For speed, when allowed (superuser) the foreign-key triggers are
 * skipped — the rows reference existing cars by construction — and for a large
 * step the secondary indexes of the two child tables are dropped and rebuilt
 * from their own definitions (whatever the migrations made them).
 */
export async function growTo(pool: pg.Pool, from: number, to: number, shape: SeedShape): Promise<number> {
  if (to <= from) return 0;
  const started = performance.now();
  const lo = plateOf(from);
  const hi = plateOf(to);
  const client = await pool.connect();
  client.on('error', () => undefined); // e.g. the database dropped under it on Ctrl-C; the query rejects anyway
  try {
    await client.query('BEGIN');
    await client.query('SAVEPOINT replica');
    try {
      await client.query('SET LOCAL session_replication_role = replica');
    } catch {
      await client.query('ROLLBACK TO SAVEPOINT replica');
    }
    const rebuild: string[] = [];
    if (to - from >= 20_000) {
      const { rows } = await client.query<{ name: string; def: string }>(
        `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
         FROM pg_index i
         WHERE i.indrelid IN ('"uppboð"'::regclass, 'favorites'::regclass)
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)`,
      );
      for (const r of rows) {
        await client.query(`DROP INDEX ${r.name}`);
        rebuild.push(r.def);
      }
    }
    await client.query(
      `INSERT INTO "Bílar" (seller_name, email, phone, postal_code, car_make, car_model, car_plate, year, mileage,
                            status, created_at, updated_at)
       SELECT 'Seller ' || g, 'seller' || g || '@example.is', '+3546' || lpad((g % 1000000)::text, 6, '0'),
              (100 + g % 900)::text,
              (ARRAY['Toyota','Kia','Hyundai','Skoda','Volvo','Tesla','Ford','Nissan'])[1 + g % 8],
              'Model ' || (g % 20), 'BN' || lpad(g::text, 7, '0'), 2005 + g % 20, (g * 7919) % 300000,
              CASE WHEN g % 20 < 14 THEN 'active' WHEN g % 20 < 17 THEN 'pending' ELSE 'sold' END,
              timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute',
              timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute'
       FROM generate_series($1::int + 1, $2::int) g`,
      [from, to],
    );
    // Schemas with timed auctions (migration 004): an active car's auction runs for two more days.
    const { rowCount: timed } = await client.query(
      `SELECT 1 FROM information_schema.columns WHERE table_name = 'Bílar' AND column_name = 'auction_ends_at'`,
    );
    if (timed) {
      await client.query(
        `UPDATE "Bílar" SET auction_ends_at = now() + interval '48 hours'
         WHERE status = 'active' AND car_plate > $1 AND car_plate <= $2`,
        [lo, hi],
      );
    }
    await client.query(
      `INSERT INTO "uppboð" (car_id, dealer_name, dealer_email, bid_amount, created_at, updated_at)
       SELECT c.id, 'Dealer ' || d.n, 'dealer' || d.n || '@bench.is', 100000 + k * 5000,
              c.created_at + k * interval '1 second', c.created_at + k * interval '1 second'
       FROM "Bílar" c
       CROSS JOIN generate_series(1, $3::int) k
       CROSS JOIN LATERAL (SELECT (substr(c.car_plate, 3)::int * 31 + k * 17) % $4::int AS n) d
       WHERE c.car_plate > $1 AND c.car_plate <= $2`,
      [lo, hi, shape.bidsPerCar, shape.dealers],
    );
    await client.query(
      `INSERT INTO favorites (car_id, dealer_email, created_at)
       SELECT c.id, 'dealer' || ((substr(c.car_plate, 3)::int * 13 + k * ($4::int / $3::int)) % $4::int) || '@bench.is',
              c.created_at + k * interval '1 second'
       FROM "Bílar" c
       CROSS JOIN generate_series(1, $3::int) k
       WHERE c.car_plate > $1 AND c.car_plate <= $2`,
      [lo, hi, shape.favouritesPerCar, shape.dealers],
    );
    if (rebuild.length) await client.query(`SET LOCAL maintenance_work_mem = '256MB'`);
    for (const def of rebuild) await client.query(def);
    // Schemas that record the sale (migration 004): a sold car's winning bid is its best-ranked one
    // (after the indexes are back: it looks each car's best bid up).
    const { rowCount: recorded } = await client.query(
      `SELECT 1 FROM information_schema.columns WHERE table_name = 'Bílar' AND column_name = 'winning_bid_id'`,
    );
    if (recorded) {
      await client.query(
        `UPDATE "Bílar" c SET closed_at = c.updated_at,
                winning_bid_id = (SELECT b.id FROM "uppboð" b WHERE b.car_id = c.id
                                  ORDER BY b.bid_amount DESC, b.created_at, b.seq LIMIT 1)
         WHERE c.status = 'sold' AND c.car_plate > $1 AND c.car_plate <= $2`,
        [lo, hi],
      );
    }
    await recountFacets(client);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  await pool.query('VACUUM ANALYZE "Bílar", "uppboð", favorites');
  return performance.now() - started;
}

/** Ids of `n` cars spread evenly over the table (every status, old and new). */
export async function sampleCarIds(pool: pg.Pool, n: number): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT id FROM (SELECT id, row_number() OVER (ORDER BY car_plate) AS r, count(*) OVER () AS total FROM "Bílar") x
     WHERE r % greatest(total / $1, 1) = 0 LIMIT $1`,
    [n],
  );
  return rows.map((r) => r.id);
}

export type BidCar = { id: string; highest: number; increment: number };

/** An active car by number, for the bid scenario, with the step a new bid must clear (bid_increment where the schema has one). */
export async function activeCarId(pool: pg.Pool, near: number): Promise<BidCar> {
  const { rows } = await pool.query<BidCar>(
    `SELECT c.id, coalesce((SELECT max(bid_amount) FROM "uppboð" WHERE car_id = c.id), 0)::int AS highest,
            greatest(coalesce((to_jsonb(c) ->> 'bid_increment')::int, 1), 1000) AS increment
     FROM "Bílar" c WHERE c.status = 'active' AND c.car_plate >= $1 ORDER BY c.car_plate LIMIT 1`,
    [plateOf(near)],
  );
  if (!rows[0]) throw new Error(`no active car at or after #${near}`);
  return rows[0];
}

export async function tableCounts(pool: pg.Pool): Promise<{ cars: number; bids: number; favourites: number }> {
  const { rows } = await pool.query<{ cars: number; bids: number; favourites: number }>(
    `SELECT (SELECT count(*) FROM "Bílar")::int AS cars, (SELECT count(*) FROM "uppboð")::int AS bids,
            (SELECT count(*) FROM favorites)::int AS favourites`,
  );
  return rows[0];
}

/**
 * What car_facet_counts' triggers (migration 017) would have written, for a load that bypassed
 * them (session_replication_role = replica); nothing on a tree without the table.
 */
export async function recountFacets(client: pg.ClientBase): Promise<void> {
  const { rows } = await client.query<{ present: boolean }>(`SELECT to_regclass('car_facet_counts') IS NOT NULL AS present`);
  if (!rows[0]?.present) return;
  await client.query('DELETE FROM car_facet_counts');
  await client.query(
    `INSERT INTO car_facet_counts (car_make, fuel, year, region, status, n)
     SELECT car_make, fuel, year, postal_region(postal_code), status, count(*) FROM "Bílar" GROUP BY 1, 2, 3, 4, 5`,
  );
}
