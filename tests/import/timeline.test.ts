import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import Postgrator from 'postgrator';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../helpers/app.js';
import { runImport } from '../../src/import/importer.js';
import { MIGRATIONS_DIR, SCHEMA_TABLE } from '../../src/db/migrate.js';
import { CAR_A, EXPORT_DIR, copyOfExport } from './helpers.js';

/**
 * Every car has a timeline from its first moment: imported cars get their first status
 * entry from the INSERT trigger of migration 006, and cars that were already there when
 * 006 ran get one from its backfill.
 */

const dbs: Array<{ drop: () => Promise<void> }> = [];
afterAll(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
});

describe('the first timeline entry', () => {
  it('is written for every car the MongoDB importer inserts, once, however often it runs', async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    await runImport({ dir: EXPORT_DIR, databaseUrl: db.url, batchSize: 4 });
    const check = async () =>
      (
        await db.sql.query(`
          SELECT c.id, c.status, c.created_at, count(e.id)::int AS n, min(e.data->>'status') AS first, min(e.at) AS at
          FROM "Bílar" c LEFT JOIN car_events e ON e.car_id = c.id AND e.kind = 'status'
          GROUP BY c.id ORDER BY c.id`)
      ).rows;
    const cars = await check();
    expect(cars.length).toBeGreaterThanOrEqual(5);
    for (const car of cars) {
      expect(car.n, car.id).toBe(1);
      expect(car.first).toBe(car.status);
      expect(car.at).toEqual(car.created_at);
    }
    await runImport({ dir: EXPORT_DIR, databaseUrl: db.url, batchSize: 3 });
    expect(await check()).toEqual(cars);
  });

  it('records a status the importer (or anyone outside changeStatus) overwrites, once', async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    await runImport({ dir: EXPORT_DIR, databaseUrl: db.url, batchSize: 4 });
    const dir = copyOfExport();
    try {
      const file = path.join(dir, 'Bílar.json');
      const { rows: before } = await db.sql.query(`SELECT status FROM "Bílar" WHERE id = $1`, [CAR_A]);
      const text = readFileSync(file, 'utf8');
      const line = text.split('\n').find((l) => l.includes(CAR_A))!;
      const target = before[0].status === 'sold' ? 'pending' : 'sold';
      writeFileSync(file, text.replace(line, line.replace(/"status":"[a-z]+"/, `"status":"${target}"`)));
      await runImport({ dir, databaseUrl: db.url });
      const { rows } = await db.sql.query(
        `SELECT data->>'status' AS status, data->>'from' AS from, data->>'by' AS by FROM car_events WHERE car_id = $1 AND kind = 'status' ORDER BY id`,
        [CAR_A],
      );
      expect(rows).toEqual([
        { status: before[0].status, from: null, by: 'registration' },
        { status: target, from: before[0].status, by: 'direct' },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is backfilled by migration 006 for the cars that were already there', async () => {
    // a database of its own, migrated to 005 first, as production was before this change
    const name = `${inject('runPrefix')}_backfill`;
    const admin = new pg.Client({ connectionString: inject('adminUrl') });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    const url = new URL(inject('adminUrl'));
    url.pathname = `/${name}`;
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    dbs.push({
      drop: async () => {
        await client.end();
        const c = new pg.Client({ connectionString: inject('adminUrl') });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await c.end();
      },
    });
    const postgrator = new Postgrator({
      migrationPattern: path.join(MIGRATIONS_DIR, '*.sql'),
      driver: 'pg',
      schemaTable: SCHEMA_TABLE,
      execQuery: (query) => client.query(query),
    });
    await postgrator.migrate('005');
    await client.query(`
      INSERT INTO "Bílar" (seller_name, email, car_make, car_model, car_plate, year, mileage, status, created_at, updated_at, closed_at)
      VALUES ('Anna', 'anna@example.is', 'Kia', 'Ceed', 'OLD1', 2020, 1, 'active', '2025-01-01T00:00:00Z', '2025-01-02T00:00:00Z', NULL),
             ('Björn', 'bjorn@example.is', 'Kia', 'Rio', 'OLD2', 2019, 1, 'sold', '2025-01-01T00:00:00Z', '2025-02-02T00:00:00Z', '2025-02-01T00:00:00Z')`);
    await postgrator.migrate('006');
    const { rows } = await client.query(`
      SELECT c.car_plate, e.data->>'status' AS status, e.at FROM car_events e JOIN "Bílar" c ON c.id = e.car_id ORDER BY c.car_plate`);
    expect(rows).toEqual([
      { car_plate: 'OLD1', status: 'active', at: new Date('2025-01-01T00:00:00Z') },
      { car_plate: 'OLD2', status: 'sold', at: new Date('2025-02-01T00:00:00Z') },
    ]);
  });
});
