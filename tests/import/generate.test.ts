import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/app.js';
import { benchImport } from '../../bench/import/bench.js';
import { generateExport, plan } from '../../bench/import/generate.js';
import { runImport } from '../../src/import/importer.js';
import { rowCount } from './helpers.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'kaggi-generate-'));
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(drops.map((d) => d()));
  rmSync(tmp, { recursive: true, force: true });
});

describe('the synthetic export generator', () => {
  it('spreads N documents over every collection', () => {
    const counts = plan(1_000_000);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1_000_000);
    expect(counts).toMatchObject({ Bílar: 150_000, uppboð: 550_000, fyrir_bílasala: 50_000, favorites: 100_000, email_logs: 30_000 });
  });

  it.each([
    ['lines', true],
    ['array', false],
  ] as const)('writes %s files (relaxed: %s) that import without a single reject', async (format, relaxed) => {
    const dir = path.join(tmp, `${format}-${relaxed}`);
    const generated = await generateExport({ dir, docs: 3000, format, relaxed });
    expect(generated.docs).toBe(3000);
    const head = readFileSync(path.join(dir, 'Bílar.json'), 'utf8').slice(0, 1000);
    expect(head.startsWith('[')).toBe(format === 'array');
    expect(head.includes('$numberInt')).toBe(!relaxed);

    const db = await createTestDatabase();
    drops.push(db.drop);
    const report = await runImport({ dir, databaseUrl: db.url, batchSize: 500 });
    const copies = generated.collections.fyrir_bílasala;
    expect(report.rejects).toEqual([]);
    expect(report.totals).toEqual({ read: 3000, inserted: 3000 - copies, updated: 0, unchanged: copies, duplicates: copies, rejected: 0 });
    expect(report.row_counts_ok).toBe(true);
    expect(await rowCount(db.sql, 'uppboð')).toBe(generated.collections.uppboð);
  });
});

describe('benchImport', () => {
  it('measures documents per second and peak memory of an import', async () => {
    const db = await createTestDatabase();
    drops.push(db.drop);
    const result = await benchImport({ docs: 2000, databaseUrl: db.url });
    expect(result.docs).toBe(2000);
    expect(result.docsPerSecond).toBeGreaterThan(0);
    expect(result.peakRssMb).toBeGreaterThanOrEqual(result.startRssMb);
    expect(result.totals.rejected).toBe(0);
    expect(result.rowCountsOk).toBe(true);
  });
});
