import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type ApiResponse, type TestApp } from '../helpers/app.js';
import { nextPlate, registerCar } from '../helpers/fixtures.js';
import { seedMarket } from './helpers.js';
import { regionOf, SORTS, type Sort } from '../../src/domain/search.js';

/**
 * GET /api/cars as a search, and its facets: each filter and each sort against rows computed
 * here from what the database holds, keyset pages without gap or repeat, cursors bound to
 * their search, and the 422s.
 */

const ADMIN_ENV = { ADMIN_API_KEY: 'admin-key-for-search-tests-0123456789' };
const ADMIN = { 'X-Admin-Key': ADMIN_ENV.ADMIN_API_KEY };
let app: TestApp;

type Car = {
  id: string;
  make: string;
  model: string;
  plate: string;
  year: number;
  mileage: number;
  fuel: string | null;
  transmission: string | null;
  postal_code: string;
  status: string;
  ends: number | null;
  created: string;
  top: number | null;
  photos: boolean;
  inspection: boolean;
};

async function carsInDatabase(): Promise<Car[]> {
  const { rows } = await app.sql.query(`
    SELECT c.id, c.car_make AS make, c.car_model AS model, c.car_plate AS plate, c.year, c.mileage, c.fuel, c.transmission,
           c.postal_code, c.status, extract(epoch FROM c.auction_ends_at) * 1000 AS ends, to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS created,
           (SELECT max(bid_amount) FROM "uppboð" u WHERE u.car_id = c.id AND NOT u.set_aside) AS top,
           EXISTS (SELECT 1 FROM car_photos p WHERE p.car_id = c.id) AS photos,
           EXISTS (SELECT 1 FROM car_inspections i WHERE i.car_id = c.id) AS inspection
    FROM "Bílar" c`);
  return rows.map((r) => ({ ...r, ends: r.ends === null ? null : Number(r.ends) }));
}

const listed = (c: Car) => !['unconfirmed', 'lapsed'].includes(c.status);

/** The filters as this test understands them, one predicate each. */
const FILTER_CASES: { query: string; keep: (c: Car) => boolean }[] = [
  { query: 'status=active', keep: (c) => c.status === 'active' },
  { query: 'make=toyota', keep: (c) => c.make === 'Toyota' },
  { query: 'make=Kia&make=TESLA', keep: (c) => c.make === 'Kia' || c.make === 'Tesla' },
  { query: 'model=rav4', keep: (c) => c.model === 'RAV4' },
  { query: 'year_min=2015', keep: (c) => c.year >= 2015 },
  { query: 'year_max=2010', keep: (c) => c.year <= 2010 },
  { query: 'year_min=2008&year_max=2012', keep: (c) => c.year >= 2008 && c.year <= 2012 },
  { query: 'mileage_min=150000', keep: (c) => c.mileage >= 150_000 },
  { query: 'mileage_max=90000', keep: (c) => c.mileage <= 90_000 },
  { query: 'price_min=600000', keep: (c) => c.top !== null && c.top >= 600_000 },
  { query: 'price_max=700000', keep: (c) => c.top !== null && c.top <= 700_000 },
  { query: 'fuel=Rafmagn', keep: (c) => c.fuel === 'Rafmagn' },
  { query: 'fuel=bensín&fuel=Dísil', keep: (c) => c.fuel === 'Bensín' || c.fuel === 'Dísil' },
  { query: 'transmission=manual', keep: (c) => c.transmission === 'manual' },
  { query: 'region=capital', keep: (c) => ['101', '200'].includes(c.postal_code) },
  { query: 'region=westfjords', keep: (c) => ['400', '380'].includes(c.postal_code) },
  { query: 'region=south', keep: (c) => c.postal_code === '800' },
  { query: 'has_inspection=true', keep: (c) => c.inspection },
  { query: 'has_inspection=false', keep: (c) => !c.inspection },
  { query: 'has_photos=true', keep: (c) => c.photos },
  { query: 'has_photos=false', keep: (c) => !c.photos },
  {
    query: 'ending_within_hours=24',
    keep: (c) => c.status === 'active' && c.ends !== null && c.ends > Date.now() && c.ends <= Date.now() + 24 * 3600_000,
  },
  { query: 'q=Toyta', keep: (c) => c.make === 'Toyota' },
  { query: 'q=skoda%20octavia', keep: (c) => c.make === 'Skoda' },
  {
    query: 'make=Toyota&fuel=Rafmagn&region=capital',
    keep: (c) => c.make === 'Toyota' && c.fuel === 'Rafmagn' && ['101', '200'].includes(c.postal_code),
  },
];

const cmp = (a: string | number | boolean, b: string | number | boolean) => (a < b ? -1 : a > b ? 1 : 0);
const byKey = (key: (c: Car) => (string | number | boolean)[], descending: boolean) => (a: Car, b: Car) => {
  const ka = [...key(a), a.id];
  const kb = [...key(b), b.id];
  for (let i = 0; i < ka.length; i++) {
    const d = cmp(ka[i], kb[i]);
    if (d) return descending ? -d : d;
  }
  return 0;
};
const ORDERS: Record<Sort, (a: Car, b: Car) => number> = {
  newest: byKey((c) => [c.created], true),
  ending_soon: byKey((c) => [c.status !== 'active', c.ends ?? Infinity], false),
  price_asc: byKey((c) => [c.top ?? 2147483647], false),
  price_desc: byKey((c) => [c.top ?? -1], true),
  mileage_asc: byKey((c) => [c.mileage], false),
  year_desc: byKey((c) => [c.year], true),
};

/** Every page of a search, with `limit` per page. */
async function everyPage(query: string, limit: number, headers: Record<string, string> = {}, between?: () => Promise<void>) {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res: ApiResponse = await app.request('GET', `/api/cars?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, { headers });
    expect(res.status, `${query}: ${res.text}`).toBe(200);
    expect(res.body.count).toBe(res.body.cars.length);
    ids.push(...res.body.cars.map((c: { id: string }) => c.id));
    cursor = res.body.next_cursor;
    pages += 1;
    if (between) await between();
  } while (cursor && pages < 100);
  return ids;
}

beforeAll(async () => {
  app = await startTestApp(ADMIN_ENV);
  await seedMarket(app, 48, 'Q');
}, 60_000);
afterAll(async () => {
  await app?.close();
});

describe('search filters and sorts', () => {
  it('every filter alone and with each sort lists exactly the matching cars, in order, over pages', async () => {
    const cars = await carsInDatabase();
    for (const { query, keep } of FILTER_CASES) {
      const matching = cars.filter((c) => listed(c) && keep(c));
      expect(matching.length, `${query} should match some cars`).toBeGreaterThan(0);
      for (const sort of SORTS) {
        const ids = await everyPage(`${query}&sort=${sort}`, 7);
        expect(ids, `${query}&sort=${sort}`).toEqual([...matching].sort(ORDERS[sort]).map((c) => c.id));
      }
    }
  }, 120_000);

  it('a typo-free and a typo query find the same make; nonsense finds nothing; a plate fragment finds its car', async () => {
    const cars = await carsInDatabase();
    const kia = (await everyPage('q=kia', 50)).sort();
    expect(kia).toEqual(
      cars
        .filter((c) => listed(c) && c.make === 'Kia')
        .map((c) => c.id)
        .sort(),
    );
    expect((await everyPage('q=teslla', 50)).sort()).toEqual(
      cars
        .filter((c) => listed(c) && c.make === 'Tesla')
        .map((c) => c.id)
        .sort(),
    );
    expect(await everyPage('q=zzqxw', 50)).toEqual([]);
    const one = cars.find((c) => listed(c))!;
    expect(await everyPage(`q=${one.plate.toLowerCase()}`, 50)).toContain(one.id);
  });

  it('never shows unlisted cars to anyone but an admin', async () => {
    const cars = await carsInDatabase();
    expect(cars.some((c) => c.status === 'unconfirmed' && c.make === 'Toyota')).toBe(true);
    expect(await everyPage('status=unconfirmed&make=Toyota', 50)).toEqual([]);
  });

  it('pages have no gap and no repeat while cars are being registered', async () => {
    const before = (await carsInDatabase()).filter((c) => listed(c) && c.make === 'Volvo');
    for (const sort of SORTS) {
      const seen = await everyPage(`make=Volvo&sort=${sort}`, 3, {}, async () => {
        await registerCar(app, { carMake: 'Volvo', carModel: 'V70', carPlate: nextPlate('N'), year: 2012, mileage: 100_000 });
      });
      expect(new Set(seen).size, sort).toBe(seen.length);
      for (const car of before) expect(seen, `${sort}: ${car.id}`).toContain(car.id);
    }
  }, 60_000);

  it('a default list keeps its answer and its cursor of old', async () => {
    const res = await app.request('GET', '/api/cars?limit=2');
    expect(res.status).toBe(200);
    expect(Buffer.from(res.body.next_cursor, 'base64url').toString('utf8')).toBe(res.body.cars[1].id);
    const filtered = await app.request('GET', '/api/cars?limit=2&sort=newest&status=active');
    expect(Buffer.from(filtered.body.next_cursor, 'base64url').toString('utf8')).toBe(filtered.body.cars[1].id);
  });
});

describe('search refusals', () => {
  async function refused(path: string, field: string) {
    const res = await app.request('GET', path);
    expect(res.status, `${path}: ${res.text}`).toBe(422);
    expect(res.body.error).toBe('validation_failed');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(field);
  }

  it('refuses undeclared and malformed parameters', async () => {
    await refused('/api/cars?colour=red', 'query.colour');
    await refused('/api/cars/facets?maker=Kia', 'query.maker');
    await refused('/api/cars?year_min=soon', 'query.year_min');
    await refused('/api/cars?sort=cheapest', 'query.sort');
    await refused('/api/cars?region=mars', 'query.region');
    await refused('/api/cars?has_photos=maybe', 'query.has_photos');
    await refused('/api/cars?year_min=2020&year_max=2010', 'query.year_min');
    await refused('/api/cars/facets?price_min=9&price_max=1', 'query.price_min');
    await refused(`/api/cars?q=${'x'.repeat(101)}`, 'query.q');
  });

  it('refuses a cursor of another sort, of other filters, and one not issued here', async () => {
    const first = await app.request('GET', '/api/cars?make=Toyota&sort=price_asc&limit=2');
    const cursor = first.body.next_cursor as string;
    expect(cursor).toBeTruthy();
    expect((await app.request('GET', `/api/cars?make=Toyota&sort=price_asc&limit=2&cursor=${cursor}`)).status).toBe(200);
    // the same filters written otherwise are the same search
    const other = await app.request('GET', `/api/cars?make=toyota&sort=price_asc&limit=2&cursor=${cursor}`);
    expect(other.status, other.text).toBe(200);
    await refused(`/api/cars?make=Toyota&sort=price_desc&cursor=${cursor}`, 'query.cursor');
    await refused(`/api/cars?make=Kia&sort=price_asc&cursor=${cursor}`, 'query.cursor');
    await refused(`/api/cars?make=Toyota&cursor=${cursor}`, 'query.cursor');
    const legacy = (await app.request('GET', '/api/cars?limit=1')).body.next_cursor;
    await refused(`/api/cars?make=Toyota&cursor=${legacy}`, 'query.cursor');
    const forged = (k: unknown) =>
      Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(cursor, 'base64url').toString()), k })).toString('base64url');
    await refused(`/api/cars?make=Toyota&sort=price_asc&cursor=${forged(["1'; DROP TABLE x"])}`, 'query.cursor');
    await refused(`/api/cars?make=Toyota&sort=price_asc&cursor=${forged(['99999999999'])}`, 'query.cursor');
    await refused(`/api/cars?make=Toyota&sort=price_asc&cursor=${forged([])}`, 'query.cursor');
    await refused('/api/cars?make=Toyota&cursor=bm9wZQ', 'query.cursor');
  });
});

describe('facets', () => {
  type Counts = Record<string, number>;
  const tally = (cars: Car[], key: (c: Car) => string | null): Counts => {
    const out: Counts = {};
    for (const c of cars) {
      const k = key(c);
      if (k !== null) out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  };
  const asCounts = (list: { value: string | number; count: number }[]) => Object.fromEntries(list.map((e) => [String(e.value), e.count]));

  // With a filter outside the five dimensions the cars are counted; with only theirs, the
  // counts per combination (car_facet_counts) are.
  it.each([
    { extra: '&has_photos=false', other: (c: Car) => !c.photos },
    { extra: '', other: () => true },
  ])('counts each dimension over the cars matching every other filter ($extra)', async ({ extra, other }) => {
    const cars = (await carsInDatabase()).filter(listed);
    const query = `make=Toyota&fuel=Bensín&year_min=2010&region=capital${extra}`;
    const res = await app.request('GET', `/api/cars/facets?${query}`);
    expect(res.status, res.text).toBe(200);
    const base = cars.filter(other);
    const make = (c: Car) => c.make === 'Toyota';
    const fuel = (c: Car) => c.fuel === 'Bensín';
    const year = (c: Car) => c.year >= 2010;
    const region = (c: Car) => regionOf(c.postal_code) === 'capital';
    expect(res.body.total).toBe(base.filter((c) => make(c) && fuel(c) && year(c) && region(c)).length);
    expect(asCounts(res.body.facets.make)).toEqual(
      tally(
        base.filter((c) => fuel(c) && year(c) && region(c)),
        (c) => c.make,
      ),
    );
    expect(asCounts(res.body.facets.fuel)).toEqual(
      tally(
        base.filter((c) => make(c) && year(c) && region(c)),
        (c) => c.fuel,
      ),
    );
    expect(asCounts(res.body.facets.year)).toEqual(
      tally(
        base.filter((c) => make(c) && fuel(c) && region(c)),
        (c) => String(c.year),
      ),
    );
    expect(asCounts(res.body.facets.region)).toEqual(
      tally(
        base.filter((c) => make(c) && fuel(c) && year(c)),
        (c) => regionOf(c.postal_code),
      ),
    );
    expect(asCounts(res.body.facets.status)).toEqual(
      tally(
        base.filter((c) => make(c) && fuel(c) && year(c) && region(c)),
        (c) => c.status,
      ),
    );
    const counts = res.body.facets.make.map((e: { count: number }) => e.count);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
  });

  it('without filters counts every listed car', async () => {
    const cars = await carsInDatabase();
    const res = await app.request('GET', '/api/cars/facets');
    expect(res.status, res.text).toBe(200);
    expect(res.body.total).toBe(cars.filter(listed).length);
    expect(asCounts(res.body.facets.status)).toEqual(tally(cars.filter(listed), (c) => c.status));
    const empty = await app.request('GET', '/api/cars/facets?q=zzqxw');
    expect(empty.body).toMatchObject({ total: 0, facets: { make: [], fuel: [], year: [], region: [], status: [] } });
  });
});

describe('an admin in AUTH_MODE=jwt', () => {
  let jwtApp: TestApp;
  beforeAll(async () => {
    jwtApp = await startTestApp({ AUTH_MODE: 'jwt', SUPABASE_JWT_SECRET: 'supabase-secret-for-search-tests-0123456789', ...ADMIN_ENV });
  });
  afterAll(async () => {
    await jwtApp?.close();
  });

  it('finds and counts unlisted cars, which nobody else sees', async () => {
    const ids: string[] = [];
    for (const status of ['unconfirmed', 'active', 'unconfirmed']) {
      const car = await registerCar(jwtApp, { carMake: 'Lada', carModel: 'Niva', carPlate: nextPlate('L') });
      await jwtApp.sql.query(`UPDATE "Bílar" SET status = $2 WHERE id = $1`, [car.id, status]);
      if (status === 'unconfirmed') ids.push(car.id);
    }
    const asAdmin = await jwtApp.request('GET', '/api/cars?make=Lada&status=unconfirmed&sort=year_desc', { headers: ADMIN });
    expect(asAdmin.status, asAdmin.text).toBe(200);
    expect(asAdmin.body.cars.map((c: { id: string }) => c.id).sort()).toEqual(ids.sort());
    const anonymous = await jwtApp.request('GET', '/api/cars?make=Lada&status=unconfirmed&sort=year_desc');
    expect(anonymous.body.cars).toEqual([]);
    const facets = await jwtApp.request('GET', '/api/cars/facets?make=Lada', { headers: ADMIN });
    expect(facets.body.total).toBe(3);
    expect((await jwtApp.request('GET', '/api/cars/facets?make=Lada')).body.total).toBe(1);
  });
});
