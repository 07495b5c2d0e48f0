import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'slonik';
import { z, type ZodTypeAny } from 'zod';
import { createDb, type Db } from '../../src/db/pool.js';
import { carRow, bidRow } from '../../src/db/cars.js';
import { compileRowCheck } from '../../src/db/row-check.js';
import { loadConfig } from '../../src/config.js';
import { createTestDatabase } from '../helpers/app.js';

const UUID = '0b6f6f3e-8d3a-4d7e-9a51-2f1c1b7f4a10';

/** Values of every kind the checks must tell apart. */
const SAMPLES: unknown[] = [
  undefined,
  null,
  '',
  'text',
  UUID,
  UUID.toUpperCase(),
  `${UUID}x`,
  '0b6f6f3e8d3a4d7e9a512f1c1b7f4a10',
  0,
  1,
  -7,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 53,
  true,
  false,
  [],
  [1, 2],
  ['a'],
  {},
  { a: 1 },
  new Date(0),
  Object.create(null) as object,
  new Map(),
  10n,
  'minor',
  'major',
];

const SCHEMAS: Record<string, ZodTypeAny> = {
  string: z.string(),
  uuid: z.string().uuid(),
  number: z.number(),
  int: z.number().int(),
  boolean: z.boolean(),
  enum: z.enum(['minor', 'moderate', 'major']),
  literal: z.literal(1),
  nullableInt: z.number().int().nullable(),
  optionalString: z.string().optional(),
  strings: z.array(z.string()),
  numbersOrNull: z.array(z.number()).nullable(),
  record: z.record(z.unknown()),
  unknown: z.unknown(),
};

/** The check may only say yes where zod says yes and returns the very same value. */
function expectOneSided(schema: ZodTypeAny, value: unknown): boolean {
  const check = compileRowCheck(schema);
  expect(check).not.toBeNull();
  const fast = check!(value);
  if (fast) {
    const parsed = schema.safeParse(value);
    expect(parsed.success).toBe(true);
    expect(parsed.data).toStrictEqual(value);
  }
  return fast;
}

describe('compiled row checks (the fast path before zod)', () => {
  it('never accepts a value zod refuses or would change, for every kind of field', () => {
    let accepted = 0;
    for (const schema of Object.values(SCHEMAS)) {
      for (const value of SAMPLES) if (expectOneSided(schema, value)) accepted += 1;
    }
    // and it does take the fast path for the values zod accepts unchanged
    expect(accepted).toBeGreaterThan(30);
  });

  it('uuids: the same answer as zod’s pattern, one character changed at every position', () => {
    const uuid = z.string().uuid();
    const check = compileRowCheck(uuid)!;
    let accepted = 0;
    for (let i = 0; i < UUID.length; i += 1) {
      for (const c of ['0', '9', 'a', 'f', 'A', 'F', 'g', 'G', '-', ' ', '/', ':', '@', '`', '{', 'é']) {
        const value = UUID.slice(0, i) + c + UUID.slice(i + 1);
        expect(check(value), value).toBe(uuid.safeParse(value).success);
        if (check(value)) accepted += 1;
      }
    }
    expect(accepted).toBeGreaterThan(100);
  });

  it('objects: exactly the schema’s keys, each value checked; extra or missing keys go to zod', () => {
    const schema = z.object({ id: z.string().uuid(), n: z.number().int(), note: z.string().nullable(), tags: z.array(z.string()) });
    const row = { id: UUID, n: 3, note: null, tags: ['a'] };
    expect(expectOneSided(schema, row)).toBe(true);
    for (const key of Object.keys(row)) {
      for (const value of SAMPLES) expectOneSided(schema, { ...row, [key]: value });
      const { [key as keyof typeof row]: _, ...missing } = row;
      expect(expectOneSided(schema, missing)).toBe(false);
    }
    // an extra column: zod strips it, so the row itself is not zod's answer
    expect(expectOneSided(schema, { ...row, extra: 1 })).toBe(false);
    expect(schema.parse({ ...row, extra: 1 })).toStrictEqual(row);
    expect(expectOneSided(schema, Object.assign(Object.create({ inherited: 1 }) as object, row))).toBe(false);
  });

  it('arrays: a sparse array or an array subclass goes to zod', () => {
    const strings = z.array(z.string());
    // eslint-disable-next-line no-sparse-arrays
    expect(expectOneSided(strings, [, 'a'])).toBe(false);
    // eslint-disable-next-line no-sparse-arrays -- a hole is exactly the case under test
    expect(expectOneSided(z.array(z.unknown()), [, 'a'])).toBe(false);
    class Tags extends Array<string> {}
    expect(expectOneSided(strings, Tags.from(['a']))).toBe(false);
    expect(expectOneSided(strings, ['a', 'b'])).toBe(true);
  });

  it('records: zod leaves out __proto__ and undefined values, so those go to zod', () => {
    const schema = z.record(z.unknown());
    expect(expectOneSided(schema, JSON.parse('{"a":1,"b":{"c":[1]}}'))).toBe(true);
    expect(expectOneSided(schema, JSON.parse('{"__proto__":{"x":1}}'))).toBe(false);
    expect(expectOneSided(schema, { a: undefined })).toBe(false);
  });

  it('leaves to zod what it does not know: coercion, refinements, other checks, strict objects', () => {
    for (const schema of [
      z.coerce.number(),
      z.string().email(),
      z.string().min(1),
      z.number().int().positive(),
      z.string().transform((s) => s.trim()),
      z.object({ a: z.string() }).strict(),
      z.object({ a: z.string() }).passthrough(),
      z.array(z.string()).min(1),
      z.date(),
    ]) {
      expect(compileRowCheck(schema)).toBeNull();
    }
  });

  it('compiles the schemas of the hot reads (cars and bids)', () => {
    expect(compileRowCheck(carRow)).not.toBeNull();
    expect(compileRowCheck(bidRow)).not.toBeNull();
  });
});

describe('typed queries on PostgreSQL', () => {
  let db: Db;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const database = await createTestDatabase();
    drop = database.drop;
    db = await createDb(database.url, loadConfig({ ...process.env, NODE_ENV: 'test' }));
  });
  afterAll(async () => {
    await db?.end();
    await drop?.();
  });

  it('returns checked rows, strips a column the schema does not name, and refuses a wrong type', async () => {
    const schema = z.object({ id: z.string().uuid(), n: z.number().int(), at: z.string() });
    const rows = await db.any(sql.type(schema)`SELECT gen_random_uuid() AS id, 2 AS n, now() AS at FROM generate_series(1, 3)`);
    expect(rows).toHaveLength(3);
    expect(rows[0].at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const stripped = await db.one(sql.type(schema)`SELECT gen_random_uuid() AS id, 2 AS n, now() AS at, 'x' AS extra`);
    expect(Object.keys(stripped).sort()).toEqual(['at', 'id', 'n']);
    await expect(db.one(sql.type(schema)`SELECT gen_random_uuid() AS id, 2.5::float8 AS n, now() AS at`)).rejects.toThrow(
      /Query returned rows that do not conform/,
    );
    await expect(db.one(sql.type(schema)`SELECT 'not-a-uuid' AS id, 2 AS n, now() AS at`)).rejects.toThrow(
      /Query returned rows that do not conform/,
    );
  });
});
