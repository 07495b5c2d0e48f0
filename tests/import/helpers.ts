import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { TARGET_TABLES } from '../../src/import/collections.js';
import type { CollectionStats, ImportReport } from '../../src/import/report.js';

export const EXPORT_DIR = path.resolve('tests/fixtures/mongo/export');

/** What the fixture export holds (see tests/fixtures/mongo/README.md), per collection, on a first import. */
export const FIRST_RUN: Record<string, Pick<CollectionStats, 'read' | 'inserted' | 'updated' | 'unchanged' | 'duplicates' | 'rejected'>> = {
  Bílar: { read: 13, inserted: 5, updated: 0, unchanged: 1, duplicates: 1, rejected: 7 },
  uppboð: { read: 12, inserted: 5, updated: 0, unchanged: 0, duplicates: 0, rejected: 7 },
  fyrir_bílasala: { read: 5, inserted: 1, updated: 0, unchanged: 2, duplicates: 2, rejected: 2 },
  favorites: { read: 7, inserted: 3, updated: 0, unchanged: 2, duplicates: 2, rejected: 2 },
  status_checks: { read: 4, inserted: 3, updated: 0, unchanged: 0, duplicates: 0, rejected: 1 },
  vehicle_verifications: { read: 4, inserted: 3, updated: 0, unchanged: 0, duplicates: 0, rejected: 1 },
  email_logs: { read: 3, inserted: 2, updated: 0, unchanged: 0, duplicates: 0, rejected: 1 },
  list_additions: { read: 3, inserted: 2, updated: 0, unchanged: 0, duplicates: 0, rejected: 1 },
  company_validations: { read: 3, inserted: 2, updated: 0, unchanged: 0, duplicates: 0, rejected: 1 },
};

export const CAR_A = '3f6b1c2e-5a3f-4d6e-9a1b-0c4d5e6f7a01';
export const CAR_B = '3f6b1c2e-5a3f-4d6e-9a1b-0c4d5e6f7a02';
export const CAR_C = '3f6b1c2e-5a3f-4d6e-9a1b-0c4d5e6f7a03';
/** Car D has no `id` in the export: its key comes from its ObjectId. */
export const CAR_D_OID = '65e1a0000000000000000004';

export function statsByCollection(report: ImportReport) {
  return Object.fromEntries(
    report.collections.map((c) => [
      c.collection,
      { read: c.read, inserted: c.inserted, updated: c.updated, unchanged: c.unchanged, duplicates: c.duplicates, rejected: c.rejected },
    ]),
  );
}

/**
 * Every imported table, with the imported columns only (other migrations may
 * add columns with defaults, e.g. identities, that differ between databases).
 */
export async function snapshot(sql: pg.Pool): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of TARGET_TABLES) {
    const cols = t.columns.map((c) => `"${c.name}"`).join(', ');
    const { rows } = await sql.query(`SELECT ${cols} FROM "${t.name}" ORDER BY id`);
    out[t.name] = rows;
  }
  return out;
}

export async function rowCount(sql: pg.Pool, table: string): Promise<number> {
  const { rows } = await sql.query(`SELECT count(*)::int AS n FROM "${table}"`);
  return rows[0].n;
}

/** A writable copy of the fixture export, for tests that edit documents. */
export function copyOfExport(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kaggi-export-'));
  cpSync(EXPORT_DIR, dir, { recursive: true });
  return dir;
}
