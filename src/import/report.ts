import { createReadStream, createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { FileFormat } from './reader.js';

export type Reject = {
  collection: string;
  file: string;
  line: number;
  /** Position in an array (or pretty) file. */
  element?: number;
  /** The document's `id`, else its `_id` (ObjectId hex); null when the text could not be read. */
  source_id: string | null;
  field?: string;
  rule: string;
  reason: string;
};

export type CollectionStats = {
  collection: string;
  table: string;
  files: { file: string; format: FileFormat }[];
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  /** Of `unchanged`: repeats of a document already imported in this run (same id or same natural key). */
  duplicates: number;
  rejected: number;
  /** Fields of accepted documents that have no column, with how many documents had them. */
  unmapped_fields: Record<string, number>;
  /** Values filled in because the document lacked them (e.g. `status=active`, `created_at from _id`). */
  defaults: Record<string, number>;
};

export type Skipped = { file: string; collection: string | null; documents: number | null; reason: string };

export type RowCount = {
  table: string;
  before: number;
  after: number;
  inserted: number;
  /** before + inserted: what a real run leaves (in a dry run: would leave). */
  expected_after: number;
  /** Distinct rows the documents accepted in this run stand for. */
  accepted: number;
  /** How many of those PostgreSQL holds (null in a dry run). */
  present: number | null;
  ok: boolean;
};

export type Totals = Pick<CollectionStats, 'read' | 'inserted' | 'updated' | 'unchanged' | 'duplicates' | 'rejected'>;

export type ImportReport = {
  source: string;
  database: string;
  dry_run: boolean;
  started_at: string;
  finished_at: string | null;
  seconds: number | null;
  batch_size: number;
  batches: number;
  collections: CollectionStats[];
  skipped: Skipped[];
  totals: Totals;
  row_counts: RowCount[];
  row_counts_ok: boolean | null;
  rejects_total: number;
  rejects_by_rule: { collection: string; rule: string; count: number }[];
  /** The first rejects (all of them in the --report file). */
  rejects: Reject[];
  rejects_truncated: boolean;
  /** Set when the run stopped early; committed batches stay. */
  error: string | null;
};

export const REJECTS_KEPT_IN_MEMORY = 10_000;
const UNMAPPED_NAMES_KEPT = 100;

/**
 * All rejects go to a temporary JSON-lines file as they happen (memory stays
 * flat however many there are); the first ones are also kept for the summary.
 */
export class RejectLog {
  readonly kept: Reject[] = [];
  total = 0;
  private readonly byRule = new Map<string, { collection: string; rule: string; count: number }>();
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'kaggi-import-'));
  readonly file = path.join(this.dir, 'rejects.jsonl');
  private readonly out: WriteStream = createWriteStream(this.file);

  async add(reject: Reject): Promise<void> {
    this.total += 1;
    if (this.kept.length < REJECTS_KEPT_IN_MEMORY) this.kept.push(reject);
    const key = `${reject.collection}\u0000${reject.rule}`;
    const entry = this.byRule.get(key) ?? { collection: reject.collection, rule: reject.rule, count: 0 };
    entry.count += 1;
    this.byRule.set(key, entry);
    if (!this.out.write(`${JSON.stringify(reject)}\n`)) await once(this.out, 'drain');
  }

  summary(): { collection: string; rule: string; count: number }[] {
    return [...this.byRule.values()];
  }

  async close(): Promise<void> {
    if (!this.out.closed) {
      this.out.end();
      await once(this.out, 'close');
    }
  }

  async dispose(): Promise<void> {
    await this.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function newStats(collection: string, table: string): CollectionStats {
  return {
    collection,
    table,
    files: [],
    read: 0,
    inserted: 0,
    updated: 0,
    unchanged: 0,
    duplicates: 0,
    rejected: 0,
    unmapped_fields: {},
    defaults: {},
  };
}

export function countName(into: Record<string, number>, name: string): void {
  if (into[name] === undefined && Object.keys(into).length >= UNMAPPED_NAMES_KEPT) name = '(other fields)';
  into[name] = (into[name] ?? 0) + 1;
}

export function totalsOf(stats: CollectionStats[]): Totals {
  const t: Totals = { read: 0, inserted: 0, updated: 0, unchanged: 0, duplicates: 0, rejected: 0 };
  for (const s of stats) {
    t.read += s.read;
    t.inserted += s.inserted;
    t.updated += s.updated;
    t.unchanged += s.unchanged;
    t.duplicates += s.duplicates;
    t.rejected += s.rejected;
  }
  return t;
}

/**
 * The report file: the summary, then every reject streamed from the
 * temporary file. Written next to the target and renamed into place, so a
 * half-written report never looks like a finished one.
 */
export async function writeReportFile(target: string, report: ImportReport, rejectsFile: string | null): Promise<void> {
  const { rejects: _kept, ...summary } = report;
  const partial = `${target}.partial`;
  const out = createWriteStream(partial);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  const head = JSON.stringify(summary, null, 2);
  await write(`${head.slice(0, head.lastIndexOf('}')).trimEnd()},\n  "rejects": [`);
  let first = true;
  if (rejectsFile) {
    const lines = createInterface({ input: createReadStream(rejectsFile, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line) continue;
      await write(`${first ? '\n' : ',\n'}    ${line}`);
      first = false;
    }
  }
  await write(first ? ']\n}\n' : '\n  ]\n}\n');
  out.end();
  await once(out, 'close');
  await rename(partial, target);
}

const pad = (v: string | number, n: number) => String(v).padStart(n);
const padEnd = (v: string, n: number) => v.padEnd(n);

/** The human summary printed by the command. */
export function formatReport(report: ImportReport): string {
  const lines: string[] = [];
  const title = report.dry_run ? 'DRY RUN — nothing was written; counts say what a real run would do' : 'Import';
  lines.push(`${title}: ${report.source} → ${report.database}`);
  lines.push('');
  const w = Math.max(22, ...report.collections.map((c) => c.collection.length + 2));
  const tw = Math.max(22, ...report.collections.map((c) => c.table.length + 4));
  lines.push(
    `${padEnd('collection', w)}${padEnd('table', tw)}${pad('read', 9)}${pad('inserted', 10)}${pad('updated', 9)}${pad('unchanged', 11)}${pad('rejected', 10)}`,
  );
  for (const c of report.collections) {
    const files = c.files.length ? '' : '   (no file)';
    const dup = c.duplicates ? `   (${c.duplicates} repeated)` : '';
    lines.push(
      `${padEnd(c.collection, w)}${padEnd(`"${c.table}"`, tw)}${pad(c.read, 9)}${pad(c.inserted, 10)}${pad(c.updated, 9)}${pad(c.unchanged, 11)}${pad(c.rejected, 10)}${files}${dup}`,
    );
  }
  const t = report.totals;
  lines.push(
    `${padEnd('total', w)}${padEnd('', tw)}${pad(t.read, 9)}${pad(t.inserted, 10)}${pad(t.updated, 9)}${pad(t.unchanged, 11)}${pad(t.rejected, 10)}`,
  );
  for (const s of report.skipped) {
    lines.push(`skipped ${s.file}: ${s.reason}${s.documents !== null ? ` (${s.documents} documents)` : ''}`);
  }
  const notes = report.collections.flatMap((c) => [
    ...Object.entries(c.defaults).map(([k, n]) => `  ${c.collection}: ${n} × default ${k}`),
    ...Object.entries(c.unmapped_fields).map(([k, n]) => `  ${c.collection}: ${n} × field "${k}" has no column (not imported)`),
  ]);
  if (notes.length) {
    lines.push('', 'notes:', ...notes);
  }
  if (report.row_counts.length) {
    lines.push(
      '',
      report.dry_run ? 'row counts in PostgreSQL (unchanged by a dry run; "expected" = after a real run)' : 'row counts in PostgreSQL',
    );
    lines.push(
      `${padEnd('table', tw)}${pad('before', 10)}${pad('after', 10)}${pad('expected', 10)}${pad('accepted', 10)}${pad('present', 10)}  check`,
    );
    for (const r of report.row_counts) {
      lines.push(
        `${padEnd(`"${r.table}"`, tw)}${pad(r.before, 10)}${pad(r.after, 10)}${pad(r.expected_after, 10)}${pad(r.accepted, 10)}${pad(r.present ?? '-', 10)}  ${r.ok ? 'ok' : 'MISMATCH'}`,
      );
    }
  }
  if (report.rejects_total) {
    lines.push('', `rejected: ${report.rejects_total}`);
    for (const r of report.rejects_by_rule) lines.push(`  ${r.collection}: ${r.count} × ${r.rule}`);
    const shown = report.rejects.slice(0, 20);
    for (const r of shown) {
      const where = r.element !== undefined ? `${r.file} element ${r.element} (line ${r.line})` : `${r.file}:${r.line}`;
      lines.push(`  ${where} [${r.source_id ?? 'no id'}] ${r.reason}`);
    }
    if (report.rejects_total > shown.length) lines.push(`  … ${report.rejects_total - shown.length} more: see the --report file`);
  }
  if (report.error) lines.push('', `STOPPED: ${report.error}`, 'Committed batches are kept; run the same command again to finish.');
  lines.push('', `${report.batches} batches of up to ${report.batch_size} in ${report.seconds?.toFixed(1) ?? '?'} s`);
  return lines.join('\n');
}
