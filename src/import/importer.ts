import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { migrateSchema } from '../schema.js';
import { createLogger } from '../logger.js';
import { COLLECTIONS, TARGET_TABLES, mapDocument, sourceIdOf, type CollectionSpec, type Mapped, type TableSpec } from './collections.js';
import { Rejection } from './fields.js';
import { readDocuments, type FileFormat, type ParsedItem, type ReadOptions } from './reader.js';
import {
  RejectLog,
  countName,
  newStats,
  totalsOf,
  writeReportFile,
  type CollectionStats,
  type ImportReport,
  type Reject,
  type RowCount,
  type Skipped,
} from './report.js';
import {
  acceptedAndPresent,
  classify,
  countRows,
  idKind,
  missingTables,
  naturalKind,
  prepareSession,
  remember,
  upsert,
  type Candidate,
  type SeenEntry,
} from './store.js';

export type ImportOptions = {
  /** Directory with one `<collection>.json` per collection, as mongoexport writes them. */
  dir: string;
  databaseUrl: string;
  dryRun?: boolean;
  /** Documents per transaction (default 5000). */
  batchSize?: number;
  /** Write the full JSON report (every reject) here. */
  reportPath?: string;
  /** Bring the schema up to date first (as `npm run migrate`); never in a dry run. */
  migrate?: boolean;
  /** Progress lines (the command prints them on stderr). */
  log?: (line: string) => void;
  read?: ReadOptions;
  /** Test hook: fail right after the n-th batch has committed (a crash between batches). */
  failAfterBatches?: number;
  /** Test hook: fail inside the n-th batch's transaction, just before COMMIT. */
  failBeforeCommitOfBatch?: number;
};

export const DEFAULT_BATCH_SIZE = 5000;

/** The run stopped early (database error, injected crash); `report` says how far it got. */
export class ImportFailed extends Error {
  constructor(
    message: string,
    readonly report: ImportReport,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ImportFailed';
  }
}

const JSON_FILE = /\.(json|jsonl|ndjson)$/i;

/** `postgres://user:secret@host:5432/db` → `host:5432/db`: the report never carries credentials. */
export function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return '(database)';
  }
}

type Plan = { byCollection: Map<string, string[]>; skipped: { file: string; collection: string | null; reason: string }[] };

/** Which file feeds which collection; everything else is listed as skipped, never ignored. */
async function planFiles(dir: string): Promise<Plan> {
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new Error(`${dir} is not a directory`);
  const known = new Map(COLLECTIONS.map((c) => [c.collection.normalize('NFC'), c.collection]));
  const byCollection = new Map<string, string[]>();
  const skipped: Plan['skipped'] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    if (!entry.isFile()) {
      skipped.push({
        file: entry.name,
        collection: null,
        reason: 'not a file (the importer reads the directory itself, not sub-directories)',
      });
      continue;
    }
    if (!JSON_FILE.test(entry.name)) {
      skipped.push({ file: entry.name, collection: null, reason: 'not a mongoexport .json file' });
      continue;
    }
    // macOS writes file names decomposed (í = i + ´); compare them composed.
    const collection = entry.name.replace(JSON_FILE, '').normalize('NFC');
    const target = known.get(collection);
    if (!target) {
      skipped.push({ file: entry.name, collection, reason: `no table for collection ${collection} in the PostgreSQL schema` });
      continue;
    }
    byCollection.set(target, [...(byCollection.get(target) ?? []), entry.name]);
  }
  return { byCollection, skipped };
}

async function countDocuments(file: string, read?: ReadOptions): Promise<number> {
  let n = 0;
  for await (const _ of readDocuments(file, read)) n += 1;
  return n;
}

type Pending = {
  spec: CollectionSpec;
  stats: CollectionStats;
  file: string;
  items: { mapped: Mapped; item: Extract<ParsedItem, { ok: true }>; nk: string | null }[];
  ids: Set<string>;
  nks: Set<string>;
};

/**
 * Imports a mongoexport directory. Each batch is one transaction; a batch that
 * fails leaves nothing behind, batches before it stay, and a re-run of the same
 * directory completes the job (rows already there count as unchanged).
 */
export async function runImport(options: ImportOptions): Promise<ImportReport> {
  const dryRun = options.dryRun ?? false;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error('batch size must be a positive whole number');
  const log = options.log ?? (() => undefined);
  const started = new Date();
  const dir = path.resolve(options.dir);
  const plan = await planFiles(dir);
  if (options.reportPath) {
    // find out now, not after an hour of importing, that the report cannot be written
    await access(path.dirname(path.resolve(options.reportPath)), constants.W_OK).catch(() => {
      throw new Error(`cannot write the report to ${options.reportPath}: its directory does not exist or is not writable`);
    });
  }

  const statsList = COLLECTIONS.map((c) => newStats(c.collection, c.table.name));
  const statsOf = new Map(COLLECTIONS.map((c, i) => [c, statsList[i]]));
  const rejects = new RejectLog();
  const skipped: Skipped[] = [];
  const rowCounts: RowCount[] = [];
  let batches = 0;
  let error: string | null = null;
  let rowCountsOk: boolean | null = null;

  const report = (): ImportReport => {
    const finished = new Date();
    return {
      source: dir,
      database: describeDatabase(options.databaseUrl),
      dry_run: dryRun,
      started_at: started.toISOString(),
      finished_at: finished.toISOString(),
      seconds: (finished.getTime() - started.getTime()) / 1000,
      batch_size: batchSize,
      batches,
      collections: statsList,
      skipped,
      totals: totalsOf(statsList),
      row_counts: rowCounts,
      row_counts_ok: rowCountsOk,
      rejects_total: rejects.total,
      rejects_by_rule: rejects.summary(),
      rejects: rejects.kept,
      rejects_truncated: rejects.total > rejects.kept.length,
      error,
    };
  };

  const reject = async (r: Reject, stats: CollectionStats) => {
    stats.rejected += 1;
    await rejects.add(r);
  };

  const client = new pg.Client({ connectionString: options.databaseUrl });
  // A dropped connection fails the running query; without a listener it would also crash the process.
  client.on('error', () => undefined);
  try {
    if (options.migrate && !dryRun) {
      await migrateSchema(options.databaseUrl, createLogger({ LOG_LEVEL: 'silent', NODE_ENV: 'production' }));
    }
    await client.connect();
  } catch (e) {
    await client.end().catch(() => undefined);
    await rejects.dispose();
    throw e;
  }
  let failure: unknown;
  let inflight: Promise<void> = Promise.resolve();
  try {
    const missing = await missingTables(client, TARGET_TABLES);
    if (missing.length) {
      throw new Error(`tables missing in the target database: ${missing.join(', ')} (run npm run migrate first)`);
    }
    await prepareSession(client, dryRun);
    const before = new Map<TableSpec, number>();
    for (const t of TARGET_TABLES) before.set(t, await countRows(client, t));

    for (const s of plan.skipped) {
      const documents = s.collection === null ? null : await countDocuments(path.join(dir, s.file), options.read);
      skipped.push({ ...s, documents });
    }

    /**
     * One batch, one transaction. Batches run one after another (each is judged
     * against what the previous ones committed), but the next batch is read and
     * validated while PostgreSQL works on this one: one batch in flight.
     */
    const flush = async (p: Pending) => {
      if (p.items.length === 0) return;
      const batch = { spec: p.spec, stats: p.stats, file: p.file, items: p.items };
      p.items = [];
      p.ids.clear();
      p.nks.clear();
      await inflight;
      inflight = runBatch(batch);
      inflight.catch(() => undefined); // surfaces at the next await
    };
    const drain = () => inflight;

    const runBatch = async (p: Omit<Pending, 'ids' | 'nks'>) => {
      const batchNo = batches + 1;
      const t = p.spec.table;
      const candidates: Candidate[] = p.items.map((x, i) => ({
        i,
        row: x.mapped.row,
        nk: x.nk,
        hash: x.mapped.hash,
        origin: `${p.file} ${where(x.item.pos)}`,
      }));
      const outcome = { inserted: 0, updated: 0, unchanged: 0, duplicates: 0 };
      const batchRejects: Reject[] = [];
      const writes: Candidate[] = [];
      const seen: SeenEntry[] = [];
      await client.query(dryRun ? 'BEGIN READ ONLY' : 'BEGIN');
      try {
        const verdicts = await classify(client, t, candidates);
        for (const v of verdicts) {
          const c = candidates[v.i];
          const { item, mapped } = p.items[v.i];
          const id = String(c.row.id);
          const rejectWith = (rule: string, reason: string, field?: string) =>
            batchRejects.push({
              collection: p.spec.collection,
              file: p.file,
              ...positionOf(item.pos),
              source_id: mapped.sourceId,
              ...(field ? { field } : {}),
              rule,
              reason,
            });
          if (v.seenHash !== null) {
            if (v.seenHash === c.hash) {
              outcome.unchanged += 1;
              outcome.duplicates += 1;
            } else {
              rejectWith(
                'conflicting_duplicate',
                `id ${id} was already imported in this run (${v.seenOrigin}) with different content; the first one is kept`,
                'id',
              );
            }
            continue;
          }
          if (!v.carFound) {
            rejectWith('car_not_found', `car ${String(c.row.car_id)} not found (neither in PostgreSQL nor accepted from Bílar)`, 'car_id');
            continue;
          }
          if (v.nkOwner !== null && t.naturalKey) {
            const key = t.naturalKey.columns.join(', ');
            if (t.naturalKey.onConflict === 'reject') {
              rejectWith('duplicate_key', `${key} ${c.nk} already belongs to ${v.nkOwner}`, t.naturalKey.columns[0]);
              continue;
            }
            // The same favourite under another id: already there, nothing to write.
            outcome.unchanged += 1;
            outcome.duplicates += 1;
            seen.push({ kind: idKind(t), key: id, target_id: v.nkOwner, hash: c.hash, origin: c.origin });
            continue;
          }
          if (!v.found) {
            outcome.inserted += 1;
            writes.push(c);
          } else if (!v.same) {
            outcome.updated += 1;
            writes.push(c);
          } else {
            outcome.unchanged += 1;
          }
          seen.push({ kind: idKind(t), key: id, target_id: id, hash: c.hash, origin: c.origin });
          if (c.nk !== null) seen.push({ kind: naturalKind(t), key: c.nk, target_id: id, hash: c.hash, origin: c.origin });
        }
        if (!dryRun)
          await upsert(
            client,
            t,
            writes.map((w) => w.row),
          );
        await remember(client, seen);
        if (options.failBeforeCommitOfBatch === batchNo) throw new Error(`injected failure inside batch ${batchNo}, before COMMIT`);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
      batches = batchNo;
      p.stats.inserted += outcome.inserted;
      p.stats.updated += outcome.updated;
      p.stats.unchanged += outcome.unchanged;
      p.stats.duplicates += outcome.duplicates;
      for (const r of batchRejects) await reject(r, p.stats);
      if (batches % 100 === 0) log(`… ${batches} batches (${p.spec.collection} ${p.stats.read} read)`);
      if (options.failAfterBatches === batches) throw new Error(`injected failure after batch ${batches}`);
    };

    for (const spec of COLLECTIONS) {
      const stats = statsOf.get(spec)!;
      const files = plan.byCollection.get(spec.collection) ?? [];
      for (const file of files) {
        const pending: Pending = { spec, stats, file, items: [], ids: new Set(), nks: new Set() };
        const fileEntry: { file: string; format: FileFormat } = { file, format: 'empty' };
        stats.files.push(fileEntry);
        for await (const item of readDocuments(path.join(dir, file), options.read, (f) => (fileEntry.format = f))) {
          stats.read += 1;
          if (!item.ok) {
            await reject(
              { collection: spec.collection, file, ...positionOf(item.pos), source_id: null, rule: item.rule, reason: item.error },
              stats,
            );
            continue;
          }
          let mapped: Mapped;
          try {
            mapped = mapDocument(spec, item.doc);
          } catch (e) {
            if (!(e instanceof Rejection)) throw e;
            await reject(
              {
                collection: spec.collection,
                file,
                ...positionOf(item.pos),
                source_id: (e as Rejection & { sourceId?: string | null }).sourceId ?? sourceIdOf(item.doc),
                ...(e.field ? { field: e.field } : {}),
                rule: e.rule,
                reason: e.message,
              },
              stats,
            );
            continue;
          }
          for (const name of mapped.unmapped) countName(stats.unmapped_fields, name);
          for (const d of mapped.defaults) countName(stats.defaults, d);
          const id = String(mapped.row.id);
          const nk = spec.table.naturalKey ? spec.table.naturalKey.key(mapped.row) : null;
          // A key twice in one batch: close the batch first, so the second copy is judged against the first.
          if (pending.ids.has(id) || (nk !== null && pending.nks.has(nk))) await flush(pending);
          pending.items.push({ mapped, item, nk });
          pending.ids.add(id);
          if (nk !== null) pending.nks.add(nk);
          if (pending.items.length >= batchSize) await flush(pending);
        }
        await flush(pending);
      }
      await drain();
      if (files.length) {
        log(
          `${spec.collection}: ${stats.read} read, ${stats.inserted} inserted, ${stats.updated} updated, ${stats.unchanged} unchanged, ${stats.rejected} rejected`,
        );
      }
    }

    for (const t of TARGET_TABLES) {
      const inserted = statsList.filter((s) => s.table === t.name).reduce((n, s) => n + s.inserted, 0);
      const b = before.get(t)!;
      const after = await countRows(client, t);
      const { accepted, present } = await acceptedAndPresent(client, t);
      rowCounts.push({
        table: t.name,
        before: b,
        after,
        inserted,
        expected_after: b + inserted,
        accepted,
        present: dryRun ? null : present,
        // a dry run must leave every table as it was; a real run must add exactly what it inserted and hold every accepted key
        ok: dryRun ? after === b : after === b + inserted && present === accepted,
      });
    }
    rowCountsOk = rowCounts.every((r) => r.ok);
  } catch (e) {
    failure = e;
    error = e instanceof Error ? e.message : String(e);
  } finally {
    await inflight.catch(() => undefined);
    await client.end().catch(() => undefined);
    await rejects.close();
  }
  const result = report();
  try {
    if (options.reportPath) await writeReportFile(options.reportPath, result, rejects.file);
  } finally {
    await rejects.dispose();
  }
  if (failure !== undefined) throw new ImportFailed(error ?? 'import failed', result, { cause: failure });
  return result;
}

function positionOf(pos: { line: number; element?: number }): { line: number; element?: number } {
  return pos.element !== undefined ? { line: pos.line, element: pos.element } : { line: pos.line };
}

function where(pos: { line: number; element?: number }): string {
  return pos.element !== undefined ? `element ${pos.element}` : `line ${pos.line}`;
}

/**
 * 0: complete; 1: documents rejected or files skipped (accepted rows are kept) unless
 * allowed; 2: the run failed (usage, database, crash); 3: row counts do not match.
 */
export function exitCodeFor(report: ImportReport, allowRejects: boolean): number {
  if (report.error) return 2;
  if (report.row_counts_ok === false) return 3;
  if (!allowRejects && (report.rejects_total > 0 || report.skipped.length > 0)) return 1;
  return 0;
}
