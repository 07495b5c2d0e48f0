import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { registerCar, placeBid } from '../helpers/fixtures.js';
import { NOT_PERSONAL, PERSONAL_NAME, REGISTER, registerEntry } from '../../src/domain/personal-data.js';
import { PRIVACY_DOCS_PATH, renderPrivacyDocs } from '../../scripts/privacy-docs.js';

/**
 * The register of personal data (src/domain/personal-data.ts) against the schema as
 * PostgreSQL's catalogue has it: a column whose name or content says it holds personal data
 * must be in the register, so a new table or column fails here until it is.
 */

type Column = { table: string; column: string; type: string };

let app: TestApp;
let columns: Column[];
beforeAll(async () => {
  app = await startTestApp();
  const { rows } = await app.sql.query<Column>(`
    SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY 1, a.attnum`);
  columns = rows;
});
afterAll(async () => app?.close());

const listed = (table: string, column: string) => {
  const entry = registerEntry(table);
  if (column in (NOT_PERSONAL[table] ?? {})) return true;
  return Boolean(entry && (column in entry.columns || column in (entry.notPersonal ?? {})));
};

describe('the register of personal data', () => {
  it('lists every column whose name says it holds personal data', () => {
    expect(columns.length).toBeGreaterThan(100);
    const missing = columns.filter((c) => PERSONAL_NAME.test(c.column) && !listed(c.table, c.column)).map((c) => `${c.table}.${c.column}`);
    expect(missing).toEqual([]);
  });

  it('lists every column whose content is an e-mail, a phone or a name, after a car, a bid and a dealer exist', async () => {
    const car = await registerCar(app, {
      firstName: 'Katrín',
      lastName: 'Innihald',
      email: 'katrin.content@example.is',
      phone: '612 3456',
    });
    expect((await placeBid(app, car.id, 500_000, 'content.dealer@example.is')).status).toBe(201);
    await app.request('POST', '/api/status', { body: { client_name: 'katrin.content@example.is' } });
    // A photo's caption is the seller's free text (the row straight in: no store is needed to hold a caption).
    await app.sql.query(
      `INSERT INTO car_photos (id, car_id, position, kind, caption, width, height) VALUES (gen_random_uuid(), $1, 1, 'exterior', $2, 10, 10)`,
      [car.id, 'Katrín Innihald, sími 612 3456'],
    );
    const needles = ['katrin.content@example.is', '+3546123456', 'Katrín Innihald', 'content.dealer@example.is'];
    const found: string[] = [];
    const listedHits: string[] = [];
    for (const c of columns.filter((col) => /text|json|char/.test(col.type))) {
      const { rows } = await app.sql.query(
        `SELECT 1 FROM "${c.table.replace(/"/g, '""')}" WHERE lower("${c.column.replace(/"/g, '""')}"::text) LIKE ANY ($1::text[]) LIMIT 1`,
        [needles.map((n) => `%${n.toLowerCase()}%`)],
      );
      if (rows.length) (listed(c.table, c.column) ? listedHits : found).push(`${c.table}.${c.column}`);
    }
    expect(found).toEqual([]);
    // The scan sees what it should: the car's and the bid's columns are among the hits.
    expect(listedHits).toEqual(
      expect.arrayContaining([
        'Bílar.email',
        'Bílar.seller_name',
        'uppboð.dealer_email',
        'status_checks.client_name',
        'car_photos.caption',
      ]),
    );
  });

  it('names only tables and columns that exist, each finder on a column of its table', () => {
    const exists = new Set(columns.map((c) => `${c.table}.${c.column}`));
    for (const entry of REGISTER) {
      for (const column of [...Object.keys(entry.columns), ...Object.keys(entry.notPersonal ?? {})]) {
        expect(exists.has(`${entry.table}.${column}`), `${entry.table}.${column}`).toBe(true);
      }
      for (const use of entry.uses) expect(exists.has(`${entry.table}.${use.find.column}`), `${entry.table}.${use.find.column}`).toBe(true);
      if (entry.heldWhile) expect(exists.has(`${entry.table}.${entry.heldWhile}`)).toBe(true);
    }
  });

  it('is what docs/privacy.md shows (npm run docs:privacy writes it)', () => {
    expect(readFileSync(PRIVACY_DOCS_PATH, 'utf8')).toBe(renderPrivacyDocs());
  });
});
