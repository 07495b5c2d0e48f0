import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { insertDealer } from '../helpers/fixtures.js';
import { seedMarket } from '../dealer/helpers.js';
import { matchingSearches } from '../../src/db/car-search.js';
import { saveSearch } from '../../src/usecases/saved-searches.js';
import { MAX_SAVED_SEARCHES } from '../../src/domain/alerts.js';
import type { SearchFilters } from '../../src/domain/search.js';

/**
 * The alerts' matcher and the list are one meaning of the filters: for a set of cars and
 * saved searches, the searches the matcher says each car matches are exactly those whose
 * `GET /api/cars?<filters>` lists it.
 */

let app: TestApp;

/** Each filter alone, both ways where it has two, a few together, and none. */
const SEARCHES: SearchFilters[] = [
  {},
  { status: 'active' },
  { make: ['toyota'] },
  { make: ['Kia', 'TESLA'] },
  { model: 'rav4' },
  { year_min: 2015 },
  { year_max: 2010 },
  { year_min: 2008, year_max: 2012 },
  { mileage_min: 150_000 },
  { mileage_max: 90_000 },
  { price_min: 600_000 },
  { price_max: 700_000 },
  { price_min: 100_000, price_max: 650_000 },
  { fuel: ['Rafmagn'] },
  { fuel: ['bensín', 'Dísil'] },
  { transmission: 'manual' },
  { transmission: 'automatic' },
  { region: 'capital' },
  { region: 'westfjords' },
  { region: 'south' },
  { has_inspection: true },
  { has_inspection: false },
  { has_photos: true },
  { has_photos: false },
  { ending_within_hours: 24 },
  { q: 'Toyta' },
  { q: 'toyota rav4' },
  { q: 'skod octavia' },
  { make: ['Toyota'], year_min: 2012, fuel: ['Bensín'], region: 'capital' },
  { status: 'active', has_photos: true, mileage_max: 200_000 },
  { make: ['Skoda'], q: 'octavia', has_inspection: false },
];

/** The filters as GET /api/cars's query (a list as its repeated parameter). */
function queryOf(filters: SearchFilters): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) {
    for (const v of Array.isArray(value) ? value : [value]) params.append(name, String(v));
  }
  return params.toString();
}

async function listed(filters: SearchFilters): Promise<Set<string>> {
  const ids = new Set<string>();
  let cursor: string | null = null;
  do {
    const q = queryOf(filters);
    const res: { status: number; text: string; body: { cars: { id: string }[]; next_cursor: string | null } } = await app.request(
      'GET',
      `/api/cars?${q}${q ? '&' : ''}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(res.status, res.text).toBe(200);
    for (const car of res.body.cars as { id: string }[]) ids.add(car.id);
    cursor = res.body.next_cursor;
  } while (cursor);
  return ids;
}

beforeAll(async () => {
  app = await startTestApp({ AUTH_MODE: 'off' });
  await seedMarket(app, 49, 'M');
});
afterAll(async () => {
  await app?.close();
});

describe('the alerts matcher', () => {
  it('matches a car to exactly the saved searches whose list shows it', async () => {
    const searchIds: string[] = [];
    for (let i = 0; i < SEARCHES.length; i++) {
      // a dealer per MAX_SAVED_SEARCHES searches, every search alerting
      const dealer =
        i % MAX_SAVED_SEARCHES === 0
          ? await insertDealer(app, `matcher${i}@bilar.is`)
          : (await app.sql.query(`SELECT id FROM dealers WHERE email = $1`, [`matcher${i - (i % MAX_SAVED_SEARCHES)}@bilar.is`])).rows[0]
              .id;
      const saved = await saveSearch({ db: app.db }, dealer, {
        name: `Leit ${i}`,
        filters: SEARCHES[i],
        alert: i % 2 ? 'daily' : 'instant',
      });
      searchIds.push(saved.id);
    }
    const { rows: cars } = await app.sql.query<{ id: string }>(`SELECT id FROM "Bílar" ORDER BY created_at`);
    const byMatcher = new Map<string, Set<string>>(searchIds.map((id) => [id, new Set<string>()]));
    for (const car of cars) {
      const matches = await app.db.transaction((tx) => matchingSearches(tx, car.id));
      for (const m of matches) byMatcher.get(m.search_id)!.add(car.id);
    }
    let compared = 0;
    for (let i = 0; i < SEARCHES.length; i++) {
      const fromList = await listed(SEARCHES[i]);
      expect([...byMatcher.get(searchIds[i])!].sort(), JSON.stringify(SEARCHES[i])).toEqual([...fromList].sort());
      compared += fromList.size;
    }
    // the comparison has teeth: searches that keep some cars and drop others
    expect(compared).toBeGreaterThan(SEARCHES.length * 5);
    expect(new Set(SEARCHES.map((_, i) => byMatcher.get(searchIds[i])!.size)).size).toBeGreaterThan(10);
  });

  it("a pending, suspended or erased dealer's searches, and searches with alert off, match nothing", async () => {
    const [car] = (await app.sql.query<{ id: string }>(`SELECT id FROM "Bílar" WHERE status = 'active' LIMIT 1`)).rows;
    const before = (await app.db.transaction((tx) => matchingSearches(tx, car.id))).length;
    for (const [email, status] of [
      ['pending-m@bilar.is', 'pending'],
      ['suspended-m@bilar.is', 'suspended'],
      ['erased-m@bilar.is', 'approved'],
    ] as const) {
      const id = await insertDealer(app, email, status);
      await saveSearch({ db: app.db }, id, { name: 'Allt', filters: {}, alert: 'instant' });
    }
    await app.sql.query(`UPDATE dealers SET erased_at = now() WHERE email = 'erased-m@bilar.is'`);
    const quiet = await insertDealer(app, 'off-m@bilar.is');
    await saveSearch({ db: app.db }, quiet, { name: 'Allt', filters: {}, alert: 'off' });
    expect((await app.db.transaction((tx) => matchingSearches(tx, car.id))).length).toBe(before);
  });
});
