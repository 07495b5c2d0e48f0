import { sql, type CommonQueryMethods, type DatabasePool, type FragmentSqlToken as SqlFragment } from 'slonik';
import { z } from 'zod';
import { queryWords, REGION_POSTAL_CODES, REGIONS, WORD_SIMILARITY, type SearchFilters, type Sort } from '../domain/search.js';
import type { SearchPosition } from '../domain/search-cursor.js';
import { carRow, listedCar, selectCars, type CarRow, type CarView } from './cars.js';
import type { MediaBase } from './photos.js';

/**
 * The SQL of a search over `"Bílar" c` (GET /api/cars and its facets): one condition per
 * filter, one key per sort. Every selective condition and every key has its index (migration
 * 015); `npm run bench` prints the plans.
 */

const threeDigits = sql.fragment`c.postal_code ~ '^[0-9]{3}$'`;

/** `c`'s postal code, known to be three digits, is in one of `region`'s ranges. */
function inRanges(region: keyof typeof REGION_POSTAL_CODES): SqlFragment {
  const ranges = REGION_POSTAL_CODES[region].map(([from, to]) => sql.fragment`c.postal_code BETWEEN ${from} AND ${to}`);
  return sql.fragment`(${sql.join(ranges, sql.fragment` OR `)})`;
}

/** `c`'s postal code is in `region` (src/domain/search.ts's ranges). */
const inRegion = (region: keyof typeof REGION_POSTAL_CODES) => sql.fragment`(${threeDigits} AND ${inRanges(region)})`;

/** The region of `c`, for the facets; null where the postal code is in none. The pattern is tested once, not per region. */
const regionOfCar = sql.fragment`CASE WHEN ${threeDigits} THEN CASE ${sql.join(
  REGIONS.map((region) => sql.fragment`WHEN ${inRanges(region)} THEN ${region}`),
  sql.fragment` `,
)} END END`;

const lowered = (values: readonly string[]) =>
  sql.array(
    values.map((v) => v.toLowerCase()),
    'text',
  );

/** The dimensions the facets count by: each one's counts leave its own filters out. */
export const FACETS = ['make', 'fuel', 'year', 'region', 'status'] as const;
type Facet = (typeof FACETS)[number];

/**
 * The condition of each filter, under the facet it belongs to (if any). With `sort`, a price
 * bound is written on that sort's index expression when it has one (price_asc's puts a car
 * without bids last, price_desc's first: the same cars match either way), so the index walk
 * starts at the bound instead of filtering its way there.
 */
function conditions(filters: SearchFilters, sort?: Sort): { facet: Facet | null; condition: SqlFragment }[] {
  const out: { facet: Facet | null; condition: SqlFragment }[] = [];
  const add = (facet: Facet | null, condition: SqlFragment) => out.push({ facet, condition });
  const f = filters;
  if (f.status) add('status', sql.fragment`c.status = ${f.status}`);
  if (f.make?.length) add('make', sql.fragment`lower(c.car_make) = ANY (${lowered(f.make)})`);
  if (f.model) add(null, sql.fragment`lower(c.car_model) = ${f.model.toLowerCase()}`);
  if (f.year_min !== undefined) add('year', sql.fragment`c.year >= ${f.year_min}`);
  if (f.year_max !== undefined) add('year', sql.fragment`c.year <= ${f.year_max}`);
  if (f.mileage_min !== undefined) add(null, sql.fragment`c.mileage >= ${f.mileage_min}`);
  if (f.mileage_max !== undefined) add(null, sql.fragment`c.mileage <= ${f.mileage_max}`);
  // Written on the price sorts' index expressions; a car without bids matches neither bound.
  if (sort === 'price_asc') {
    if (f.price_min !== undefined) add(null, sql.fragment`coalesce(c.top_bid, 2147483647) >= ${f.price_min} AND c.top_bid IS NOT NULL`);
    if (f.price_max !== undefined) add(null, sql.fragment`coalesce(c.top_bid, 2147483647) <= ${f.price_max} AND c.top_bid IS NOT NULL`);
  } else {
    // -1 for a car without bids: below every bound
    if (f.price_min !== undefined) add(null, sql.fragment`coalesce(c.top_bid, -1) >= ${f.price_min}`);
    if (f.price_max !== undefined) add(null, sql.fragment`coalesce(c.top_bid, -1) BETWEEN 0 AND ${f.price_max}`);
  }
  if (f.fuel?.length) add('fuel', sql.fragment`lower(c.fuel) = ANY (${lowered(f.fuel)})`);
  if (f.transmission) add(null, sql.fragment`c.transmission = ${f.transmission}`);
  if (f.region) add('region', inRegion(f.region));
  if (f.has_inspection !== undefined) {
    add(
      null,
      sql.fragment`${f.has_inspection ? sql.fragment`` : sql.fragment`NOT`} EXISTS (SELECT 1 FROM car_inspections i WHERE i.car_id = c.id)`,
    );
  }
  if (f.has_photos !== undefined) {
    add(null, sql.fragment`${f.has_photos ? sql.fragment`` : sql.fragment`NOT`} EXISTS (SELECT 1 FROM car_photos p WHERE p.car_id = c.id)`);
  }
  if (f.ending_within_hours !== undefined) {
    add(
      null,
      sql.fragment`c.status = 'active' AND c.auction_ends_at > now()
        AND c.auction_ends_at <= now() + make_interval(hours => ${f.ending_within_hours})`,
    );
  }
  if (f.q) for (const word of queryWords(f.q)) add(null, sql.fragment`${word} <% c.search_text`);
  return out;
}

const thresholdRow = z.object({ set_config: z.string() });

/**
 * Runs `work` with `q`'s words matched at WORD_SIMILARITY: `<%` (which the trigram index
 * serves) reads its threshold from a setting, so a search with `q` sets it for its own
 * transaction only; one without runs as it is.
 */
function withTextSearch<T>(db: DatabasePool, filters: SearchFilters, work: (q: CommonQueryMethods) => Promise<T>): Promise<T> {
  if (!filters.q) return work(db);
  return db.transaction(async (tx) => {
    await tx.one(sql.type(thresholdRow)`SELECT set_config('pg_trgm.word_similarity_threshold', ${String(WORD_SIMILARITY)}, true)`);
    return work(tx);
  });
}

const all = (parts: readonly SqlFragment[]) => (parts.length ? sql.join(parts, sql.fragment` AND `) : sql.fragment`true`);

/** The key of each sort, in index order, and which way it runs (the id breaks ties). */
const SORT_KEYS: Record<Sort, { key: SqlFragment[]; casts: SqlFragment[]; descending: boolean }> = {
  newest: { key: [sql.fragment`c.created_at`], casts: [sql.fragment`timestamptz`], descending: true },
  ending_soon: {
    key: [sql.fragment`(c.status <> 'active')`, sql.fragment`coalesce(c.auction_ends_at, 'infinity')`],
    casts: [sql.fragment`boolean`, sql.fragment`timestamptz`],
    descending: false,
  },
  price_asc: { key: [sql.fragment`coalesce(c.top_bid, 2147483647)`], casts: [sql.fragment`integer`], descending: false },
  price_desc: { key: [sql.fragment`coalesce(c.top_bid, -1)`], casts: [sql.fragment`integer`], descending: true },
  mileage_asc: { key: [sql.fragment`c.mileage`], casts: [sql.fragment`integer`], descending: false },
  year_desc: { key: [sql.fragment`c.year`], casts: [sql.fragment`integer`], descending: true },
};

function ordering(sort: Sort) {
  const { key, casts, descending } = SORT_KEYS[sort];
  const direction = descending ? sql.fragment`DESC` : sql.fragment`ASC`;
  return {
    orderBy: sql.join(
      [...key, sql.fragment`c.id`].map((k) => sql.fragment`${k} ${direction}`),
      sql.fragment`, `,
    ),
    /** The key as text, for the next cursor. */
    keyText: sql.fragment`ARRAY[${sql.join(
      key.map((k) => sql.fragment`(${k})::text`),
      sql.fragment`, `,
    )}]`,
    /** Rows after `position` in this order; one row comparison, which the sort's index serves. */
    after: (position: SearchPosition) =>
      sql.fragment`(${sql.join([...key, sql.fragment`c.id`], sql.fragment`, `)}) ${descending ? sql.fragment`<` : sql.fragment`>`} (${sql.join(
        [...position.key.map((value, n) => sql.fragment`${value}::${casts[n]}`), sql.fragment`${position.id}::uuid`],
        sql.fragment`, `,
      )})`,
  };
}

const pageRow = carRow.extend({ sort_key: z.array(z.string()) });

export type SearchPage = { cars: CarRow[]; last: SearchPosition | null };

/**
 * One page of a search, `limit + 1` rows (the extra one tells whether another page exists).
 * The page's ids are chosen first on the car table alone, and only those cars are made into
 * car objects (bids, photos, `my_bid`), so a search costs its index walk and at most
 * `limit + 1` car objects however many cars match.
 */
export async function searchCars(
  db: DatabasePool,
  search: { filters: SearchFilters; sort: Sort; after: SearchPosition | null; limit: number },
  view: CarView,
  media: MediaBase,
): Promise<SearchPage> {
  const order = ordering(search.sort);
  const where = all([
    ...(view.unlisted ? [] : [listedCar]),
    ...conditions(search.filters, search.sort).map((c) => c.condition),
    ...(search.after ? [order.after(search.after)] : []),
  ]);
  const rows = await withTextSearch(db, search.filters, (q) =>
    q.any(sql.type(pageRow)`
    WITH page AS MATERIALIZED (
      SELECT c.id, row_number() OVER (ORDER BY ${order.orderBy}) AS n, ${order.keyText} AS sort_key
      FROM "Bílar" c
      WHERE ${where}
      ORDER BY ${order.orderBy}
      LIMIT ${search.limit + 1}
    )
    SELECT cars.*, page.sort_key FROM page
    JOIN LATERAL (${selectCars({ visible: view.seller, declarations: view.declarations, bidder: view.bidder }, media)} WHERE c.id = page.id) cars ON true
    ORDER BY page.n`),
  );
  const cars = rows.map(({ sort_key: _key, ...car }) => car);
  const last = rows.length > search.limit ? rows[search.limit - 1] : null;
  return { cars, last: last ? { key: last.sort_key, id: last.id } : null };
}

const facetRow = z.object({ facet: z.enum([...FACETS, 'total']), value: z.string().nullable(), count: z.number().int() });

/**
 * The counts of a search by make, fuel, year, region and status, over the cars that match
 * every filter outside those five (or their counts per combination): each dimension's count
 * takes the other four's filters, never its own (FILTER), and GROUPING SETS gives each
 * dimension its own groups.
 */
export async function searchFacets(
  db: DatabasePool,
  filters: SearchFilters,
  view: Pick<CarView, 'unlisted'>,
): Promise<{ total: number; counts: Record<Facet, { value: string; count: number }[]> }> {
  const carParts = conditions(filters);
  // Filtered by its own dimensions alone, a panel is counted from car_facet_counts (migration
  // 017: a row per combination of the five, kept by triggers) instead of every listed car.
  const fromCounts = carParts.every((p) => p.facet !== null);
  const counter = (p: (typeof carParts)[number]) => {
    if (p.facet === 'region') return { facet: p.facet, condition: sql.fragment`c.region = ${filters.region ?? null}` };
    if (p.facet === 'make') return { facet: p.facet, condition: sql.fragment`c.make_key = ANY (${lowered(filters.make ?? [])})` };
    if (p.facet === 'fuel') return { facet: p.facet, condition: sql.fragment`c.fuel_key = ANY (${lowered(filters.fuel ?? [])})` };
    return p;
  };
  const parts = fromCounts ? carParts.map(counter) : carParts;
  const source = fromCounts
    ? {
        table: sql.fragment`car_facet_counts c`,
        keys: sql.fragment`c.make_key, c.fuel_key, c.region`,
        cars: sql.fragment`c.n`,
        present: [sql.fragment`c.n > 0`],
      }
    : {
        table: sql.fragment`"Bílar" c`,
        keys: sql.fragment`lower(c.car_make) AS make_key, lower(c.fuel) AS fuel_key, ${regionOfCar} AS region`,
        cars: sql.fragment`1`,
        present: [],
      };
  const where = all([
    ...source.present,
    ...(view.unlisted ? [] : [listedCar]),
    ...parts.filter((p) => p.facet === null).map((p) => p.condition),
  ]);
  const holds = (facet: Facet) => sql.identifier([`ok_${facet}`]);
  const others = (facet: Facet | null) => all(FACETS.filter((f) => f !== facet).map((f) => sql.fragment`${holds(f)}`));
  const flags = FACETS.map(
    (facet) => sql.fragment`${all(parts.filter((p) => p.facet === facet).map((p) => p.condition))} AS ${holds(facet)}`,
  );
  const counted = (facet: Facet | null) => sql.fragment`coalesce(sum(cars) FILTER (WHERE ${others(facet)}), 0)::int`;
  const rows = await withTextSearch(db, filters, (q) =>
    q.any(sql.type(facetRow)`
    WITH matching AS (
      SELECT ${source.keys}, c.car_make, c.fuel, c.year, c.status, ${source.cars} AS cars, ${sql.join(flags, sql.fragment`, `)}
      FROM ${source.table}
      WHERE ${where}
    ), counted AS (
      SELECT GROUPING(make_key) = 0 AS by_make, GROUPING(fuel_key) = 0 AS by_fuel, GROUPING(year) = 0 AS by_year,
             GROUPING(region) = 0 AS by_region, GROUPING(status) = 0 AS by_status,
             make_key, min(car_make) AS make, fuel_key, min(fuel) AS fuel, year, region, status,
             ${counted('make')} AS n_make, ${counted('fuel')} AS n_fuel, ${counted('year')} AS n_year,
             ${counted('region')} AS n_region, ${counted('status')} AS n_status, ${counted(null)} AS n_total
      FROM matching
      GROUP BY GROUPING SETS ((make_key), (fuel_key), (year), (region), (status), ())
    )
    SELECT 'make' AS facet, make AS value, n_make AS count FROM counted WHERE by_make AND n_make > 0
    UNION ALL SELECT 'fuel', fuel, n_fuel FROM counted WHERE by_fuel AND fuel_key IS NOT NULL AND n_fuel > 0
    UNION ALL SELECT 'year', year::text, n_year FROM counted WHERE by_year AND n_year > 0
    UNION ALL SELECT 'region', region, n_region FROM counted WHERE by_region AND region IS NOT NULL AND n_region > 0
    UNION ALL SELECT 'status', status, n_status FROM counted WHERE by_status AND n_status > 0
    UNION ALL SELECT 'total', NULL, n_total FROM counted
      WHERE NOT (by_make OR by_fuel OR by_year OR by_region OR by_status)`),
  );
  const counts = Object.fromEntries(FACETS.map((f) => [f, [] as { value: string; count: number }[]])) as Record<
    Facet,
    { value: string; count: number }[]
  >;
  let total = 0;
  for (const row of rows) {
    if (row.facet === 'total') total = row.count;
    else if (row.value !== null) counts[row.facet].push({ value: row.value, count: row.count });
  }
  for (const facet of FACETS) counts[facet].sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
  return { total, counts };
}

const matchRow = z.object({
  search_id: z.string(),
  dealer_id: z.string(),
  name: z.string(),
  alert: z.enum(['instant', 'daily']),
  /** Where the alert goes: the dealer's e-mail and the name the e-mails greet. */
  dealer_email: z.string(),
  dealer_name: z.string(),
});
export type SearchMatch = z.infer<typeof matchRow>;

/**
 * The saved searches (that alert, of approved dealers still on file) that car `carId`
 * matches, for the alerts (src/auctions/alerts.ts). Each line is the condition of the same
 * filter in `conditions` above, read from the stored filters instead of the request: the
 * car's side is worked out once, then every search is one pass of comparisons over it, so an
 * opening costs one statement however many searches there are (`npm run bench -- --only
 * alerts`). tests/alerts/matcher.test.ts holds the two to the same answers. Runs in the
 * caller's transaction, whose `q` threshold it sets as `withTextSearch` does.
 */
export async function matchingSearches(tx: CommonQueryMethods, carId: string): Promise<readonly SearchMatch[]> {
  await tx.one(sql.type(thresholdRow)`SELECT set_config('pg_trgm.word_similarity_threshold', ${String(WORD_SIMILARITY)}, true)`);
  const f = sql.fragment`s.filters`;
  const has = (name: string) => sql.fragment`${f}->${name} IS NULL`;
  const int = (name: string) => sql.fragment`(${f}->>${name})::int`;
  return tx.any(sql.type(matchRow)`
    WITH car AS MATERIALIZED (
      SELECT c.status, lower(c.car_make) AS make, lower(c.car_model) AS model, c.year, c.mileage,
             coalesce(c.top_bid, -1) AS price, lower(c.fuel) AS fuel, c.transmission, ${regionOfCar} AS region,
             EXISTS (SELECT 1 FROM car_inspections i WHERE i.car_id = c.id) AS has_inspection,
             EXISTS (SELECT 1 FROM car_photos p WHERE p.car_id = c.id) AS has_photos,
             c.auction_ends_at, c.search_text
      FROM "Bílar" c
      WHERE c.id = ${carId} AND ${listedCar}
    ), candidates AS (
      -- make: any of the search's makes (make_keys, lower-cased: migration 016), through its index
      SELECT s.* FROM car, saved_searches s WHERE s.alert <> 'off' AND s.make_keys @> ARRAY[car.make]
      UNION ALL
      SELECT s.* FROM saved_searches s WHERE s.alert <> 'off' AND s.make_keys IS NULL
    )
    SELECT s.id AS search_id, s.dealer_id, s.name, s.alert, d.email AS dealer_email,
           coalesce(nullif(d.company_name, ''), d.dealer_name) AS dealer_name
    FROM car
    CROSS JOIN candidates s
    JOIN dealers d ON d.id = s.dealer_id AND d.status = 'approved' AND d.erased_at IS NULL AND d.email IS NOT NULL
    WHERE (${has('status')} OR car.status = ${f}->>'status')
      AND (${has('model')} OR car.model = lower(${f}->>'model'))
      AND (${has('year_min')} OR car.year >= ${int('year_min')})
      AND (${has('year_max')} OR car.year <= ${int('year_max')})
      AND (${has('mileage_min')} OR car.mileage >= ${int('mileage_min')})
      AND (${has('mileage_max')} OR car.mileage <= ${int('mileage_max')})
      AND (${has('price_min')} OR car.price >= ${int('price_min')})
      AND (${has('price_max')} OR car.price BETWEEN 0 AND ${int('price_max')})
      AND (s.fuel_keys IS NULL OR s.fuel_keys @> ARRAY[car.fuel])
      AND (${has('transmission')} OR car.transmission = ${f}->>'transmission')
      AND (${has('region')} OR car.region = ${f}->>'region')
      AND (${has('has_inspection')} OR car.has_inspection = (${f}->>'has_inspection')::boolean)
      AND (${has('has_photos')} OR car.has_photos = (${f}->>'has_photos')::boolean)
      AND (${has('ending_within_hours')} OR (car.status = 'active' AND car.auction_ends_at > now()
           AND car.auction_ends_at <= now() + make_interval(hours => ${int('ending_within_hours')})))
      AND (cardinality(s.q_words) = 0 OR NOT EXISTS (SELECT 1 FROM unnest(s.q_words) w WHERE NOT (w <% car.search_text)))
    ORDER BY s.dealer_id, s.created_at, s.id`);
}
