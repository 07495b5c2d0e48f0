import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/app.js';
import { idFromMongoId } from '../../src/import/ids.js';
import { ImportFailed, exitCodeFor, runImport } from '../../src/import/importer.js';
import type { ImportReport } from '../../src/import/report.js';
import { CAR_A, CAR_B, CAR_D_OID, EXPORT_DIR, FIRST_RUN, copyOfExport, rowCount, snapshot, statsByCollection } from './helpers.js';

type TestDb = Awaited<ReturnType<typeof createTestDatabase>>;
const dbs: TestDb[] = [];
async function freshDb(): Promise<TestDb> {
  const db = await createTestDatabase();
  dbs.push(db);
  return db;
}
const tmp = mkdtempSync(path.join(tmpdir(), 'kaggi-import-test-'));
afterAll(async () => {
  await Promise.all(dbs.map((d) => d.drop()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('importing the fixture export', () => {
  let db: TestDb;
  let first: ImportReport;
  beforeAll(async () => {
    db = await freshDb();
    first = await runImport({ dir: EXPORT_DIR, databaseUrl: db.url, batchSize: 4 });
  });

  it('reports read / inserted / updated / unchanged / rejected per collection', () => {
    expect(statsByCollection(first)).toEqual(FIRST_RUN);
    expect(first.totals).toEqual({ read: 54, inserted: 26, updated: 0, unchanged: 5, duplicates: 5, rejected: 23 });
    expect(first.collections.find((c) => c.collection === 'fyrir_bílasala')?.files).toEqual([
      { file: 'fyrir_bílasala.json', format: 'array' },
    ]);
    expect(first.collections.find((c) => c.collection === 'favorites')?.files).toEqual([{ file: 'favorites.json', format: 'array' }]);
    expect(first.collections.find((c) => c.collection === 'Bílar')?.unmapped_fields).toEqual({ images: 1 });
    expect(first.collections.find((c) => c.collection === 'list_additions')?.defaults).toEqual({ 'list_id=3': 1 });
  });

  it('checks the row counts in PostgreSQL against what was accepted', async () => {
    expect(first.row_counts_ok).toBe(true);
    const cars = first.row_counts.find((r) => r.table === 'Bílar')!;
    expect(cars).toEqual({ table: 'Bílar', before: 0, after: 5, inserted: 5, expected_after: 5, accepted: 5, present: 5, ok: true });
    // two bid collections, one table; the favourite repeated under another id is one row
    expect(first.row_counts.find((r) => r.table === 'uppboð')).toMatchObject({ after: 6, accepted: 6, present: 6 });
    expect(first.row_counts.find((r) => r.table === 'favorites')).toMatchObject({ after: 3, accepted: 3, present: 3 });
    expect(await rowCount(db.sql, 'Bílar')).toBe(5);
  });

  it('lists every reject with collection, source id, position and reason; orphans as car not found', () => {
    expect(first.rejects_total).toBe(23);
    expect(first.rejects).toHaveLength(23);
    const brief = first.rejects.map((r) => `${r.collection} ${r.source_id ?? '-'} ${r.rule}`);
    expect(brief).toEqual(
      expect.arrayContaining([
        'Bílar - malformed',
        'Bílar 3f6b1c2e-5a3f-4d6e-9a1b-0c4d5e6f7a07 invalid_email',
        'Bílar 3f6b1c2e-5a3f-4d6e-9a1b-0c4d5e6f7a08 out_of_range',
        'Bílar 3f6b1c2e-5a3f-4d6e-9a1b-0c4d5e6f7a09 duplicate_key',
        'Bílar 3f6b1c2e-5a3f-4d6e-9a1b-0c4d5e6f7a10 out_of_range',
        'Bílar 3f6b1c2e-5a3f-4d6e-9a1b-0c4d5e6f7a11 invalid_field',
        'Bílar car-17 invalid_id',
        'uppboð 7c1e0d9a-2b3c-4d5e-8f90-a1b2c3d4e505 car_not_found',
        // a bid on a car that was itself rejected is an orphan too
        'uppboð 7c1e0d9a-2b3c-4d5e-8f90-a1b2c3d4e511 car_not_found',
        'uppboð 7c1e0d9a-2b3c-4d5e-8f90-a1b2c3d4e506 out_of_range',
        'uppboð 7c1e0d9a-2b3c-4d5e-8f90-a1b2c3d4e507 out_of_range',
        'uppboð 7c1e0d9a-2b3c-4d5e-8f90-a1b2c3d4e508 invalid_field',
        'uppboð 7c1e0d9a-2b3c-4d5e-8f90-a1b2c3d4e512 invalid_email',
        'uppboð - malformed',
        'fyrir_bílasala 7c1e0d9a-2b3c-4d5e-8f90-a1b2c3d4e503 conflicting_duplicate',
        'fyrir_bílasala 7c1e0d9a-2b3c-4d5e-8f90-a1b2c3d4e514 car_not_found',
        'favorites a8b7c6d5-1111-4222-8333-944455566604 car_not_found',
        'favorites - malformed',
        'status_checks 5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c04 missing_field',
        'vehicle_verifications 6b5c4d3e-2f10-4b0c-9d8e-7f6a5b4c3d04 missing_field',
        'email_logs 7c6d5e4f-3a21-4c1d-8e9f-8a7b6c5d4e03 invalid_email',
        'list_additions 8d7e6f50-4b32-4d2e-9fa0-9b8c7d6e5f02 invalid_phone',
        'company_validations 9e8f7061-5c43-4e3f-8ab1-ac9d8e7f6003 invalid_field',
      ]),
    );
    const orphan = first.rejects.find((r) => r.source_id === '7c1e0d9a-2b3c-4d5e-8f90-a1b2c3d4e505')!;
    expect(orphan).toMatchObject({ file: 'uppboð.json', line: 5, field: 'car_id' });
    expect(orphan.reason).toMatch(/car 9d9d9d9d-0000-4000-8000-000000000404 not found/);
    const broken = first.rejects.find((r) => r.collection === 'favorites' && r.rule === 'malformed')!;
    expect(broken).toMatchObject({ element: 5 });
    expect(first.skipped).toEqual([
      { file: 'dealers.json', collection: 'dealers', documents: 2, reason: 'no table for collection dealers in the PostgreSQL schema' },
    ]);
    expect(exitCodeFor(first, false)).toBe(1);
    expect(exitCodeFor(first, true)).toBe(0);
  });

  it('stores rows normalised as the API stores them', async () => {
    const { rows: cars } = await db.sql.query(
      `SELECT id, email, phone, car_plate, year, mileage, status, created_at FROM "Bílar" ORDER BY car_plate`,
    );
    expect(cars.map((c) => c.car_plate)).toEqual(['AB123', 'DAK71', 'XY-987', 'ÆÐI99', 'ÞÓR12']);
    const a = cars.find((c) => c.id === CAR_A);
    expect(a).toMatchObject({ email: 'gudrun@example.is', phone: '+3547777777', year: 2018, mileage: 84000, status: 'active' });
    const d = cars.find((c) => c.car_plate === 'DAK71');
    expect(d.id).toBe(idFromMongoId(CAR_D_OID));
    expect(d.status).toBe('active');
    expect(d.created_at.toISOString()).toBe('2024-03-01T09:29:36.000Z'); // the ObjectId's time
    expect(cars.find((c) => c.id === CAR_B)).toMatchObject({ status: 'sold', mileage: 120000, phone: '+3548888888' });

    const { rows: bids } = await db.sql.query(`SELECT car_id, dealer_email, bid_amount FROM "uppboð" ORDER BY bid_amount DESC`);
    expect(bids.map((b) => [b.car_id === CAR_A ? 'A' : b.car_id === CAR_B ? 'B' : b.car_id === d.id ? 'D' : 'C', b.bid_amount])).toEqual([
      ['D', 3_200_000], // referenced by ObjectId in the export
      ['C', 2_100_000], // only in fyrir_bílasala, camelCase, no id
      ['A', 1_750_000],
      ['A', 1_600_000], // the first of two conflicting copies is kept
      ['A', 1_500_000],
      ['B', 900_000],
    ]);
    expect(bids.find((b) => b.bid_amount === 1_750_000).dealer_email).toBe('sala@hekla.is');

    const { rows: favs } = await db.sql.query(`SELECT car_id, dealer_email FROM favorites ORDER BY created_at`);
    expect(favs.map((f) => f.dealer_email)).toEqual(['sala@bilaland.is', 'sala@hekla.is', 'brimborg@example.is']);

    const { rows: checks } = await db.sql.query(`SELECT client_name, details, "timestamp" FROM status_checks ORDER BY "timestamp"`);
    expect(checks.map((c) => c.client_name)).toEqual(['monitor', 'Þjónustuvöktun', 'deploy']);
    expect(checks[2].details).toEqual({ version: 42, at: { $date: '2024-05-02T00:00:00Z' }, ok: true });

    const { rows: verifications } = await db.sql.query(`SELECT plate, outcome, mileage FROM vehicle_verifications ORDER BY created_at`);
    expect(verifications).toEqual([
      { plate: 'AB123', outcome: 'found', mileage: 84000 },
      { plate: 'ZZ999', outcome: 'not_found', mileage: null },
      { plate: 'HVF23', outcome: 'error', mileage: 12000 },
    ]);
    const { rows: companies } = await db.sql.query(`SELECT kennitala, valid FROM company_validations ORDER BY created_at`);
    expect(companies).toEqual([
      { kennitala: '6501192070', valid: true },
      { kennitala: '4102153060', valid: false },
    ]);
  });

  it('changes nothing on a second run: every accepted document is unchanged', async () => {
    const before = await snapshot(db.sql);
    const second = await runImport({ dir: EXPORT_DIR, databaseUrl: db.url, batchSize: 3 });
    expect(second.totals).toEqual({ read: 54, inserted: 0, updated: 0, unchanged: 31, duplicates: 5, rejected: 23 });
    for (const c of second.collections) {
      expect(c.unchanged, c.collection).toBe(FIRST_RUN[c.collection].inserted + FIRST_RUN[c.collection].unchanged);
    }
    expect(second.row_counts_ok).toBe(true);
    expect(second.row_counts.every((r) => r.after === r.before)).toBe(true);
    expect(await snapshot(db.sql)).toEqual(before);
  });

  it('updates a row whose document changed, and only that row', async () => {
    const dir = copyOfExport();
    try {
      const file = path.join(dir, 'Bílar.json');
      writeFileSync(file, readFileSync(file, 'utf8').replace('"mileage":{"$numberLong":"120000"}', '"mileage":{"$numberLong":"121500"}'));
      const run = await runImport({ dir, databaseUrl: db.url });
      expect(statsByCollection(run).Bílar).toEqual({ read: 13, inserted: 0, updated: 1, unchanged: 5, duplicates: 1, rejected: 7 });
      expect(run.totals.updated).toBe(1);
      const { rows } = await db.sql.query(`SELECT mileage FROM "Bílar" WHERE id = $1`, [CAR_B]);
      expect(rows[0].mileage).toBe(121500);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes the full report as JSON with every reject', async () => {
    const reportPath = path.join(tmp, 'report.json');
    const run = await runImport({ dir: EXPORT_DIR, databaseUrl: db.url, dryRun: true, reportPath });
    const written = JSON.parse(readFileSync(reportPath, 'utf8'));
    expect(written.rejects).toHaveLength(23);
    expect(written.rejects[0]).toMatchObject({ collection: 'Bílar', file: 'Bílar.json', line: 6, rule: 'malformed' });
    expect(written.totals).toEqual(run.totals);
    expect(written.collections).toEqual(JSON.parse(JSON.stringify(run.collections)));
    expect(written.database).not.toMatch(/postgres:\/\//);
  });
});

describe('--dry-run', () => {
  it('writes nothing and predicts exactly what a real run then does', async () => {
    const db = await freshDb();
    const dry = await runImport({ dir: EXPORT_DIR, databaseUrl: db.url, dryRun: true, batchSize: 2 });
    expect(dry.dry_run).toBe(true);
    for (const t of Object.values(await snapshot(db.sql))) expect(t).toEqual([]);
    expect(dry.row_counts_ok).toBe(true);
    expect(dry.row_counts.find((r) => r.table === 'Bílar')).toMatchObject({ before: 0, after: 0, expected_after: 5, present: null });

    const real = await runImport({ dir: EXPORT_DIR, databaseUrl: db.url, batchSize: 5 });
    expect(statsByCollection(dry)).toEqual(statsByCollection(real));
    expect(dry.rejects.map((r) => [r.collection, r.source_id, r.rule]).sort()).toEqual(
      real.rejects.map((r) => [r.collection, r.source_id, r.rule]).sort(),
    );

    const after = await snapshot(db.sql);
    const again = await runImport({ dir: EXPORT_DIR, databaseUrl: db.url, dryRun: true });
    expect(again.totals.inserted + again.totals.updated).toBe(0);
    expect(await snapshot(db.sql)).toEqual(after);
  });
});

describe('a crash between batches', () => {
  let clean: Record<string, unknown[]>;
  beforeAll(async () => {
    const db = await freshDb();
    await runImport({ dir: EXPORT_DIR, databaseUrl: db.url });
    clean = await snapshot(db.sql);
  });

  it('keeps whole batches; a re-run completes the job and ends as a clean run does', async () => {
    const db = await freshDb();
    const crash = await runImport({ dir: EXPORT_DIR, databaseUrl: db.url, batchSize: 2, failAfterBatches: 3 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(crash).toBeInstanceOf(ImportFailed);
    const partial = (crash as ImportFailed).report;
    expect(partial.error).toBe('injected failure after batch 3');
    expect(partial.batches).toBe(3);
    expect(exitCodeFor(partial, true)).toBe(2);
    // exactly the rows of the three committed batches (all cars: Bílar comes first)
    expect(partial.totals.inserted).toBeGreaterThan(0);
    expect(await rowCount(db.sql, 'Bílar')).toBe(partial.collections[0].inserted);
    expect(await rowCount(db.sql, 'uppboð')).toBe(0);

    const rerun = await runImport({ dir: EXPORT_DIR, databaseUrl: db.url, batchSize: 2 });
    expect(rerun.error).toBeNull();
    expect(rerun.row_counts_ok).toBe(true);
    expect(rerun.totals.inserted).toBe(26 - partial.totals.inserted);
    expect(rerun.totals.inserted + rerun.totals.unchanged).toBe(26 + 5);
    expect(await snapshot(db.sql)).toEqual(clean);
  });

  it('leaves nothing of a batch that fails before its COMMIT', async () => {
    const db = await freshDb();
    const crash = await runImport({ dir: EXPORT_DIR, databaseUrl: db.url, batchSize: 2, failBeforeCommitOfBatch: 2 }).catch(
      (e: ImportFailed) => e,
    );
    expect(crash).toBeInstanceOf(ImportFailed);
    const partial = (crash as ImportFailed).report;
    expect(partial.batches).toBe(1);
    expect(await rowCount(db.sql, 'Bílar')).toBe(partial.totals.inserted);
    expect(partial.totals.inserted).toBe(2);

    await runImport({ dir: EXPORT_DIR, databaseUrl: db.url });
    expect(await snapshot(db.sql)).toEqual(clean);
  });
});

describe('npm run import:mongo', () => {
  const run = promisify(execFile);
  const cli = async (args: string[], env: Record<string, string | undefined>) => {
    const result = await run(path.resolve('node_modules/.bin/tsx'), ['src/cli/import-mongo.ts', ...args], {
      env: { ...process.env, DATABASE_URL: undefined, KAGGI_IMPORT_FAIL_AFTER_BATCHES: undefined, ...env },
      maxBuffer: 10 * 1024 * 1024,
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
    return result;
  };

  it('exits 2 without a target database or directory', async () => {
    const noDb = await cli([EXPORT_DIR], {});
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toMatch(/DATABASE_URL/);
    const db = await freshDb();
    const noDir = await cli([path.join(tmp, 'missing')], { DATABASE_URL: db.url });
    expect(noDir.code).toBe(2);
  }, 60_000);

  it('crashes between batches (env hook), then a re-run completes; exit 1 for rejects, 0 with --allow-rejects', async () => {
    const db = await freshDb();
    const crashed = await cli([EXPORT_DIR, '--batch-size', '2'], { DATABASE_URL: db.url, KAGGI_IMPORT_FAIL_AFTER_BATCHES: '2' });
    expect(crashed.code).toBe(2);
    expect(crashed.stdout).toMatch(/STOPPED: injected failure after batch 2/);
    expect(await rowCount(db.sql, 'Bílar')).toBe(4);

    const reportPath = path.join(tmp, 'cli-report.json');
    const rerun = await cli([EXPORT_DIR, '--report', reportPath], { DATABASE_URL: db.url });
    expect(rerun.code).toBe(1);
    expect(rerun.stdout).toMatch(/^Bílar\s+"Bílar"\s+13\s+1\s+0\s+5\s+7/m);
    expect(rerun.stdout).toMatch(/exit 1: 23 rejected, 1 skipped/);
    const report = JSON.parse(readFileSync(reportPath, 'utf8'));
    expect(report.rejects).toHaveLength(23);
    expect(report.row_counts_ok).toBe(true);

    const allowed = await cli([EXPORT_DIR, '--allow-rejects'], { DATABASE_URL: db.url });
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/^total\s+54\s+0\s+0\s+31\s+23/m);
  }, 120_000);
});
