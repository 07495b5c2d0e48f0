import type pg from 'pg';
import { TABLES, type ColumnType, type Row, type TableSpec } from './collections.js';

/**
 * The PostgreSQL side of the import: one connection, one transaction per batch.
 *
 * A session-local temporary table remembers every key accepted in this run
 * (the document's id, and natural keys: a car's plate, a favourite's car and
 * dealer). It lives in PostgreSQL, not in the process, so memory stays flat
 * however many documents pass, and it answers three questions per batch:
 * was this key already imported earlier in this run (a repeat or a conflict)?
 * did a car come in earlier in this run (in a dry run it is not in the table)?
 * does another document of this run hold this plate? Temporary tables may be
 * written in a read-only transaction, so a dry run still writes nothing.
 */

export const SEEN = 'pg_temp.kaggi_import_seen';

const PG_TYPE: Record<ColumnType, string> = {
  uuid: 'uuid',
  text: 'text',
  int: 'integer',
  bool: 'boolean',
  timestamptz: 'timestamptz',
  jsonb: 'jsonb',
};

export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

export const idKind = (t: TableSpec) => t.name;
export const naturalKind = (t: TableSpec) => `${t.name}.${t.naturalKey?.columns.join('+') ?? ''}`;

export async function prepareSession(client: pg.Client, dryRun: boolean): Promise<void> {
  await client.query(`SET application_name = 'kaggi-import-mongo'`);
  await client.query(`SET statement_timeout = 0`);
  await client.query(`
    CREATE TEMP TABLE IF NOT EXISTS kaggi_import_seen (
      kind      text NOT NULL,
      key       text NOT NULL,
      target_id uuid NOT NULL,
      hash      text NOT NULL,
      origin    text NOT NULL,
      PRIMARY KEY (kind, key)
    )`);
  await client.query(`TRUNCATE ${SEEN}`);
  // From here on PostgreSQL itself refuses any write to a real table.
  if (dryRun) await client.query('SET default_transaction_read_only = on');
}

export async function missingTables(client: pg.Client, tables: readonly TableSpec[]): Promise<string[]> {
  const { rows } = await client.query<{ name: string; found: string | null }>(
    `SELECT name, to_regclass(format('%I', name))::text AS found FROM unnest($1::text[]) AS name`,
    [tables.map((t) => t.name)],
  );
  return rows.filter((r) => r.found === null).map((r) => r.name);
}

export async function countRows(client: pg.Client, table: TableSpec): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${ident(table.name)}`);
  return Number(rows[0].n);
}

/**
 * Rows the documents accepted in this run stand for (distinct target ids: a
 * favourite repeated under another id counts once), and how many of them
 * PostgreSQL holds.
 */
export async function acceptedAndPresent(client: pg.Client, table: TableSpec): Promise<{ accepted: number; present: number }> {
  const { rows } = await client.query<{ accepted: string; present: string }>(
    `SELECT count(DISTINCT s.target_id) AS accepted, count(DISTINCT t.id) AS present
     FROM ${SEEN} s LEFT JOIN ${ident(table.name)} t ON t.id = s.target_id
     WHERE s.kind = $1`,
    [idKind(table)],
  );
  return { accepted: Number(rows[0].accepted), present: Number(rows[0].present) };
}

function recordDefinition(t: TableSpec): string {
  const cols = t.columns.map((c) => `${ident(c.name)} ${PG_TYPE[c.type]}`);
  return ['i integer', 'nk text', ...cols].join(', ');
}

const sqlCache = new Map<TableSpec, { classify: string; upsert: string }>();

function statements(t: TableSpec): { classify: string; upsert: string } {
  let cached = sqlCache.get(t);
  if (cached) return cached;
  const T = ident(t.name);
  const data = t.columns.slice(1).map((c) => ident(c.name));
  const all = t.columns.map((c) => ident(c.name));
  const same = data.length
    ? `(${data.map((c) => `t.${c}`).join(', ')}) IS NOT DISTINCT FROM (${data.map((c) => `x.${c}`).join(', ')})`
    : 'true';
  const select = [
    'x.i',
    't.id IS NOT NULL AS found',
    `(t.id IS NOT NULL AND ${same}) AS same`,
    's.hash AS seen_hash',
    's.origin AS seen_origin',
  ];
  let n = 2;
  const carKindParam = t.carRef ? `$${++n}` : '';
  const nkKindParam = t.naturalKey ? `$${n + 1}` : '';
  if (t.carRef) {
    select.push(
      `(EXISTS (SELECT 1 FROM ${ident(TABLES.cars.name)} c WHERE c.id = x.car_id)
        OR EXISTS (SELECT 1 FROM ${SEEN} sc WHERE sc.kind = ${carKindParam} AND sc.key = x.car_id::text)) AS car_found`,
    );
  } else {
    select.push('true AS car_found');
  }
  if (t.naturalKey) {
    const match = t.naturalKey.columns.map((c) => `o.${ident(c)} = x.${ident(c)}`).join(' AND ');
    select.push(
      `COALESCE(
         (SELECT o.id FROM ${T} o WHERE ${match} AND o.id <> x.id LIMIT 1),
         (SELECT sn.target_id FROM ${SEEN} sn WHERE sn.kind = ${nkKindParam} AND sn.key = x.nk AND sn.target_id <> x.id)
       )::text AS nk_owner`,
    );
  } else {
    select.push('NULL::text AS nk_owner');
  }
  const classify = `
    SELECT ${select.join(',\n           ')}
    FROM jsonb_to_recordset($1::jsonb) AS x(${recordDefinition(t)})
    LEFT JOIN ${T} t ON t.id = x.id
    LEFT JOIN ${SEEN} s ON s.kind = $2 AND s.key = x.id::text
    ORDER BY x.i`;
  const upsert = `
    INSERT INTO ${T} (${all.join(', ')})
    SELECT ${all.join(', ')} FROM jsonb_to_recordset($1::jsonb) AS x(${recordDefinition(t)})
    ON CONFLICT (id) DO UPDATE SET ${data.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`;
  cached = { classify, upsert };
  sqlCache.set(t, cached);
  return cached;
}

export type Candidate = { i: number; row: Row; nk: string | null; hash: string; origin: string };

export type Verdict = {
  i: number;
  found: boolean;
  same: boolean;
  seenHash: string | null;
  seenOrigin: string | null;
  carFound: boolean;
  nkOwner: string | null;
};

/** Where each candidate stands against PostgreSQL and against what this run accepted before. */
export async function classify(client: pg.Client, t: TableSpec, candidates: Candidate[]): Promise<Verdict[]> {
  const { classify: text } = statements(t);
  const payload = JSON.stringify(candidates.map((c) => ({ i: c.i, nk: c.nk, ...c.row })));
  const params: unknown[] = [payload, idKind(t)];
  if (t.carRef) params.push(idKind(TABLES.cars));
  if (t.naturalKey) params.push(naturalKind(t));
  const { rows } = await client.query<{
    i: number;
    found: boolean;
    same: boolean;
    seen_hash: string | null;
    seen_origin: string | null;
    car_found: boolean;
    nk_owner: string | null;
  }>(text, params);
  return rows.map((r) => ({
    i: r.i,
    found: r.found,
    same: r.same,
    seenHash: r.seen_hash,
    seenOrigin: r.seen_origin,
    carFound: r.car_found,
    nkOwner: r.nk_owner,
  }));
}

export async function upsert(client: pg.Client, t: TableSpec, rows: Row[]): Promise<void> {
  if (rows.length === 0) return;
  await client.query(statements(t).upsert, [JSON.stringify(rows.map((row, i) => ({ i, nk: null, ...row })))]);
}

export type SeenEntry = { kind: string; key: string; target_id: string; hash: string; origin: string };

export async function remember(client: pg.Client, entries: SeenEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await client.query(
    `INSERT INTO ${SEEN} (kind, key, target_id, hash, origin)
     SELECT kind, key, target_id, hash, origin
     FROM jsonb_to_recordset($1::jsonb) AS y(kind text, key text, target_id uuid, hash text, origin text)
     ON CONFLICT (kind, key) DO NOTHING`,
    [JSON.stringify(entries)],
  );
}
