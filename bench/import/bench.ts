import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateExport } from './generate.js';
import { runImport, type ImportOptions } from '../../src/import/importer.js';
import type { Totals } from '../../src/import/report.js';

export type BenchOptions = {
  /** Documents to generate and import (the figure is 1,000,000). */
  docs: number;
  /** Target database: give a freshly migrated, empty one — the run inserts every document. */
  databaseUrl: string;
  batchSize?: number;
  format?: 'lines' | 'array';
  /** Keep the generated directory (default: deleted afterwards). */
  keepFiles?: boolean;
  /** How often resident memory is sampled during the import (ms). */
  sampleEveryMs?: number;
};

export type BenchResult = {
  docs: number;
  docsPerSecond: number;
  /** Highest resident set size sampled while the import ran, MB. */
  peakRssMb: number;
  /** Resident set size just before the import started, MB. */
  startRssMb: number;
  importSeconds: number;
  generateSeconds: number;
  totals: Totals;
  rowCountsOk: boolean | null;
};

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/**
 * Generates `docs` synthetic documents into a temporary directory, imports
 * them, and measures the import alone: documents per second and the peak
 * resident memory of this process. Independent of the test suite, for the
 * benchmark script.
 */
export async function benchImport(options: BenchOptions): Promise<BenchResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kaggi-bench-import-'));
  try {
    const g0 = performance.now();
    const generated = await generateExport({ dir, docs: options.docs, format: options.format });
    const generateSeconds = (performance.now() - g0) / 1000;

    globalThis.gc?.();
    const startRss = process.memoryUsage.rss();
    let peak = startRss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, options.sampleEveryMs ?? 25);
    const importOptions: ImportOptions = { dir, databaseUrl: options.databaseUrl, batchSize: options.batchSize, migrate: false };
    const t0 = performance.now();
    let report;
    try {
      report = await runImport(importOptions);
    } finally {
      clearInterval(sampler);
    }
    const importSeconds = (performance.now() - t0) / 1000;
    peak = Math.max(peak, process.memoryUsage.rss());
    return {
      docs: generated.docs,
      docsPerSecond: Math.round(generated.docs / importSeconds),
      peakRssMb: mb(peak),
      startRssMb: mb(startRss),
      importSeconds: Math.round(importSeconds * 10) / 10,
      generateSeconds: Math.round(generateSeconds * 10) / 10,
      totals: report.totals,
      rowCountsOk: report.row_counts_ok,
    };
  } finally {
    if (!options.keepFiles) await rm(dir, { recursive: true, force: true });
  }
}
