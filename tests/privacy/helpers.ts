import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestApp } from '../helpers/app.js';
import { REGISTER } from '../../src/domain/personal-data.js';

/** Every table of the database, from PostgreSQL's catalogue (a new table is searched without editing a test). */
export async function allTables(app: Pick<TestApp, 'sql'>): Promise<{ schema: string; table: string }[]> {
  const { rows } = await app.sql.query<{ schema: string; table: string }>(`
    SELECT n.nspname AS schema, c.relname AS table
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
    ORDER BY 1, 2`);
  return rows;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

export type Hit = { table: string; row: string; held: boolean };

/**
 * Every row of every table whose text mentions one of `needles` (case-insensitive), each
 * marked `held` when the register puts it under legal hold. Returns the tables searched too.
 */
export async function searchEverywhere(app: Pick<TestApp, 'sql'>, needles: string[]): Promise<{ searched: string[]; hits: Hit[] }> {
  const tables = await allTables(app);
  const hits: Hit[] = [];
  const lowered = needles.map((n) => `%${n.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  for (const { schema, table } of tables) {
    const held = schema === 'public' ? REGISTER.find((e) => e.table === table)?.heldWhile : undefined;
    const heldExpr = held ? `coalesce(t.${quote(held)} > now(), false)` : 'false';
    const { rows } = await app.sql.query<{ row: string; held: boolean }>(
      `SELECT to_jsonb(t)::text AS row, ${heldExpr} AS held FROM ${quote(schema)}.${quote(table)} t
       WHERE lower(to_jsonb(t)::text) LIKE ANY ($1::text[])`,
      [lowered],
    );
    for (const r of rows) hits.push({ table: `${schema}.${table}`, row: r.row, held: r.held });
  }
  return { searched: tables.map((t) => `${t.schema}.${t.table}`), hits };
}

/**
 * Every object of the disk store, found by walking MEDIA_DIR itself at every depth (not
 * through the driver's listing, so a file the driver would not name is found too), and the
 * objects whose bytes mention one of `needles`.
 */
export async function searchStoredObjects(dir: string, needles: string[]): Promise<{ keys: string[]; hits: string[] }> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const keys = entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
  const hits: string[] = [];
  for (const key of keys) {
    const bytes = await readFile(path.join(dir, key));
    if (needles.some((n) => bytes.includes(Buffer.from(n)) || bytes.toString('latin1').toLowerCase().includes(n.toLowerCase())))
      hits.push(key);
  }
  return { keys, hits };
}
