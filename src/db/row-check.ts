import { z, type ZodTypeAny } from 'zod';

/**
 * A fast path for checking rows against their `sql.type(...)` zod schema.
 *
 * zod 3 parses a row by building a fresh object through several context and
 * status objects per field: ~5 KB of garbage and ~4 µs per row, which made
 * row checking (and the collections it caused) the largest cost of a list
 * answer. Rows from PostgreSQL are almost always already exactly what the
 * schema says, so for the schemas we use — objects of strings, numbers,
 * booleans, enums, nullables, arrays, records — a check compiled once per
 * schema answers "valid, and zod would return the same value" with a few
 * `typeof`s and no allocation.
 *
 * It is only a fast path: whatever it does not know for certain (another
 * schema kind, a refinement, a coercion, a row with extra columns that zod
 * would strip, a failing value) goes to zod itself, so the result and the
 * error are always zod's. It is one-sided on purpose: it may send a valid
 * row to zod, never let through a row zod would reject or change.
 * (zod 3 is frozen; its schema classes and `_def` layout no longer change.)
 */
export type RowCheck = (value: unknown) => boolean;

/**
 * zod 3's uuid pattern, `^[0-9a-f]{8}\b-[0-9a-f]{4}\b-…{12}$/i`, read character by
 * character: the regular expression cost more than the rest of a row's check.
 */
function isUuid(v: unknown): boolean {
  if (typeof v !== 'string' || v.length !== 36) return false;
  for (let i = 0; i < 36; i += 1) {
    const c = v.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false; // '-'
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70))) {
      return false; // not 0-9, a-f, A-F
    }
  }
  return true;
}

// What pg and JSON.parse make; zod's copy of anything else would differ (its prototype, at least).
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

const any: RowCheck = () => true;

/** A check for `schema`, or null when it is not one the fast path knows exactly. */
export function compileRowCheck(schema: ZodTypeAny): RowCheck | null {
  if (schema instanceof z.ZodString) {
    const def = schema._def;
    if (def.coerce) return null;
    if (def.checks.length === 0) return (v) => typeof v === 'string';
    if (def.checks.length === 1 && def.checks[0].kind === 'uuid') return isUuid;
    return null;
  }
  if (schema instanceof z.ZodNumber) {
    const def = schema._def;
    if (def.coerce) return null;
    if (def.checks.length === 0) return (v) => typeof v === 'number' && !Number.isNaN(v);
    if (def.checks.length === 1 && def.checks[0].kind === 'int') return (v) => Number.isInteger(v);
    return null;
  }
  if (schema instanceof z.ZodBoolean) return schema._def.coerce ? null : (v) => typeof v === 'boolean';
  if (schema instanceof z.ZodEnum) {
    const options = new Set<unknown>(schema.options as string[]);
    return (v) => typeof v === 'string' && options.has(v);
  }
  if (schema instanceof z.ZodLiteral) {
    const value: unknown = schema.value;
    return (v) => v === value;
  }
  if (schema instanceof z.ZodUnknown || schema instanceof z.ZodAny) return any;
  if (schema instanceof z.ZodNullable) {
    const inner = compileRowCheck(schema.unwrap() as ZodTypeAny);
    return inner && ((v) => v === null || inner(v));
  }
  if (schema instanceof z.ZodOptional) {
    const inner = compileRowCheck(schema.unwrap() as ZodTypeAny);
    return inner && ((v) => v === undefined || inner(v));
  }
  if (schema instanceof z.ZodArray) {
    const def = schema._def;
    if (def.minLength || def.maxLength || def.exactLength) return null;
    const element = compileRowCheck(schema.element as ZodTypeAny);
    return (
      element &&
      ((v) => {
        // zod copies into a new plain array, holes as undefined: anything else goes to zod
        if (!Array.isArray(v) || Object.getPrototypeOf(v) !== Array.prototype) return false;
        for (let i = 0; i < v.length; i += 1) if (!(i in v) || !element(v[i])) return false;
        return true;
      })
    );
  }
  if (schema instanceof z.ZodRecord) {
    if (!(schema.keySchema instanceof z.ZodString) || schema.keySchema._def.checks.length > 0 || schema.keySchema._def.coerce) return null;
    const value = compileRowCheck(schema.valueSchema as ZodTypeAny);
    return (
      value &&
      ((v) => {
        if (!isPlainObject(v)) return false;
        // zod's copy leaves out `__proto__` and undefined values: such a record goes to zod.
        for (const key in v) if (key === '__proto__' || v[key] === undefined || !value(v[key])) return false;
        return true;
      })
    );
  }
  if (schema instanceof z.ZodObject) return compileObject(schema as z.AnyZodObject);
  return null;
}

function compileObject(schema: z.AnyZodObject): RowCheck | null {
  // Only the default object: unknown keys stripped, no catch-all.
  if (schema._def.unknownKeys !== 'strip' || !(schema._def.catchall instanceof z.ZodNever)) return null;
  const fields: Array<[string, RowCheck]> = [];
  for (const [key, field] of Object.entries(schema.shape as Record<string, ZodTypeAny>)) {
    const check = compileRowCheck(field);
    if (!check) return null;
    fields.push([key, check]);
  }
  const size = fields.length;
  return (v) => {
    if (!isPlainObject(v)) return false;
    // Exactly the schema's keys: an extra one zod would strip, an absent optional one
    // zod would leave out; either way zod's answer differs from the row, so zod decides.
    let keys = 0;
    for (const key in v) if (Object.hasOwn(v, key)) keys += 1;
    if (keys !== size) return false;
    for (let i = 0; i < size; i += 1) {
      const [key, check] = fields[i];
      if (!Object.hasOwn(v, key) || !check(v[key])) return false;
    }
    return true;
  };
}

// Keyed by the schema object: a schema written inline in a function (`sql.type(z.object(…))`)
// would be built and compiled again on every call, so row schemas are module constants.
const compiled = new WeakMap<ZodTypeAny, RowCheck | null>();

/** The schema's compiled check, built on first use. */
export function rowCheckOf(schema: ZodTypeAny): RowCheck | null {
  let check = compiled.get(schema);
  if (check === undefined) {
    check = compileRowCheck(schema);
    compiled.set(schema, check);
  }
  return check;
}
