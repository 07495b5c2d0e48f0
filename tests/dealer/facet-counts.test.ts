import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { nextPlate, registerCar } from '../helpers/fixtures.js';
import { regionOf } from '../../src/domain/search.js';

/**
 * car_facet_counts (migration 017), which answers a facets panel filtered by its own
 * dimensions alone: its SQL region of a postal code is the domain's, and whatever is written to
 * the cars, its counts stay those of a GROUP BY over them.
 */

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.close();
});

/** The counts as the cars give them, and as the table holds them (zero rows left out). */
async function bothCounts(): Promise<{ fromCars: string[]; fromTable: string[] }> {
  const line = `coalesce(car_make, '-') || '|' || coalesce(fuel, '-') || '|' || year || '|' || coalesce(region, '-') || '|' || status || '|' || n`;
  const fromCars = await app.sql.query(
    `SELECT ${line} AS line FROM (SELECT car_make, fuel, year, postal_region(postal_code) AS region, status, count(*) AS n
       FROM "Bílar" GROUP BY 1, 2, 3, 4, 5) x ORDER BY 1`,
  );
  const fromTable = await app.sql.query(`SELECT ${line} AS line FROM car_facet_counts WHERE n <> 0 ORDER BY 1`);
  return { fromCars: fromCars.rows.map((r) => r.line as string), fromTable: fromTable.rows.map((r) => r.line as string) };
}

describe('postal_region', () => {
  it('gives every three-digit code the region src/domain/search.ts gives it, and null to anything else', async () => {
    const codes = [...Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0')), '10', '1010', 'abc', '', '1 1'];
    const { rows } = await app.sql.query(`SELECT code, postal_region(code) AS region FROM unnest($1::text[]) AS code`, [codes]);
    const sqlRegion = new Map(rows.map((r) => [r.code as string, r.region as string | null]));
    const mismatches = codes.filter((code) => sqlRegion.get(code) !== regionOf(code));
    expect(mismatches).toEqual([]);
    expect(sqlRegion.get('380')).toBe('westfjords');
    expect(sqlRegion.get('781')).toBe('south');
  });
});

describe('car_facet_counts', () => {
  it('follows registrations, status and field changes, statements over many cars, and deletions', async () => {
    const cars = [];
    for (let i = 0; i < 6; i++) {
      cars.push(
        await registerCar(app, {
          carMake: i % 2 ? 'Kia' : 'Toyota',
          carModel: i % 2 ? 'Niro' : 'Yaris',
          carPlate: nextPlate('F'),
          year: 2010 + (i % 3),
          mileage: 1000 * i,
          postalCode: ['101', '400', '800'][i % 3],
        }),
      );
    }
    let counts = await bothCounts();
    expect(counts.fromTable).toEqual(counts.fromCars);
    expect(counts.fromTable.length).toBeGreaterThan(0);

    const ids = cars.map((c) => c.id);
    await app.sql.query(`UPDATE "Bílar" SET status = 'active', fuel = 'Bensín' WHERE id = ANY ($1::uuid[])`, [ids]);
    await app.sql.query(`UPDATE "Bílar" SET status = 'sold' WHERE id = $1`, [ids[0]]);
    await app.sql.query(`UPDATE "Bílar" SET car_make = 'Kia', postal_code = '999', year = 2020 WHERE id = $1`, [ids[1]]);
    await app.sql.query(`UPDATE "Bílar" SET postal_code = NULL, fuel = NULL WHERE id = $1`, [ids[2]]);
    // a change that moves no car between combinations writes nothing
    const before = await app.sql.query(`SELECT sum(n)::int AS n, count(*)::int AS rows FROM car_facet_counts`);
    await app.sql.query(`UPDATE "Bílar" SET mileage = mileage + 1 WHERE id = ANY ($1::uuid[])`, [ids]);
    const after = await app.sql.query(`SELECT sum(n)::int AS n, count(*)::int AS rows FROM car_facet_counts`);
    expect(after.rows[0]).toEqual(before.rows[0]);
    counts = await bothCounts();
    expect(counts.fromTable).toEqual(counts.fromCars);
    expect(counts.fromTable.some((line) => line.startsWith('Kia|Bensín|2020|south|active|'))).toBe(true);
    expect(counts.fromTable.some((line) => line.includes('|-|2012|-|active|'))).toBe(true);

    await app.sql.query(`DELETE FROM "Bílar" WHERE id = ANY ($1::uuid[])`, [ids.slice(3)]);
    counts = await bothCounts();
    expect(counts.fromTable).toEqual(counts.fromCars);
    const negative = await app.sql.query(`SELECT count(*)::int AS n FROM car_facet_counts WHERE n < 0`);
    expect(negative.rows[0].n).toBe(0);
  });

  it('stays exact under concurrent changes to cars of the same combination', async () => {
    const cars = [];
    for (let i = 0; i < 8; i++) {
      cars.push(
        await registerCar(app, {
          carMake: 'Volvo',
          carModel: 'XC60',
          carPlate: nextPlate('G'),
          year: 2018,
          mileage: 5000,
          postalCode: '600',
        }),
      );
    }
    await Promise.all(
      cars.map((car, i) => app.sql.query(`UPDATE "Bílar" SET status = $2 WHERE id = $1`, [car.id, i % 2 ? 'active' : 'closed'])),
    );
    const counts = await bothCounts();
    expect(counts.fromTable).toEqual(counts.fromCars);
    const { rows } = await app.sql.query(
      `SELECT status, n FROM car_facet_counts WHERE car_make = 'Volvo' AND year = 2018 AND region = 'northeast' AND n > 0 ORDER BY status`,
    );
    expect(rows).toEqual([
      { status: 'active', n: 4 },
      { status: 'closed', n: 4 },
    ]);
  });
});
