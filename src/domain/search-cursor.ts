import { createHash } from 'node:crypto';
import { z } from 'zod';
import { validationFailed } from '../errors.js';
import { canonicalFilters, type SearchFilters, type Sort } from './search.js';

/**
 * The keyset cursor of a search: the sort key of the last car of a page (its values as
 * PostgreSQL printed them) and its id, bound to the sort and the filters it was issued for, so
 * that a page of another search can never be asked for with it. Opaque to clients; not secret
 * (anyone may forge one, and would get a page they could ask for anyway), so every value is
 * checked before it reaches SQL.
 */

/** What each value of a sort's key is, in order (the last car's id follows them). */
export const SORT_KEY_TYPES: Record<Sort, readonly KeyType[]> = {
  newest: ['timestamp'],
  ending_soon: ['boolean', 'timestamp'],
  price_asc: ['integer'],
  price_desc: ['integer'],
  mileage_asc: ['integer'],
  year_desc: ['integer'],
};
export type KeyType = 'timestamp' | 'boolean' | 'integer';

const KEY_VALUE: Record<KeyType, z.ZodType<string>> = {
  // PostgreSQL's own text form of a timestamptz (or `infinity`, the key of a car with no end)
  timestamp: z
    .string()
    .max(40)
    .refine((v) => v === 'infinity' || /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:\d{2})?|Z)$/.test(v)),
  boolean: z.enum(['true', 'false']),
  integer: z
    .string()
    .regex(/^-?\d{1,10}$/)
    .refine((v) => Math.abs(Number(v)) <= 2147483647),
};

const payload = z.object({ s: z.string(), f: z.string(), k: z.array(z.string()), i: z.string().uuid() });

export type SearchPosition = { key: string[]; id: string };

/**
 * Identifies the filters inside a cursor, without carrying them: their canonical form with every
 * text lower-cased, as every text filter compares case-insensitively (`make=kia` is `make=Kia`).
 */
export function filtersDigest(filters: SearchFilters): string {
  const lowered = Object.fromEntries(
    Object.entries(filters).map(([name, value]: [string, unknown]) => [
      name,
      typeof value === 'string' ? value.toLowerCase() : Array.isArray(value) ? value.map((v: string) => v.toLowerCase()) : value,
    ]),
  ) as SearchFilters;
  return createHash('sha256')
    .update(JSON.stringify(canonicalFilters(lowered)))
    .digest('base64url')
    .slice(0, 12);
}

export function encodeSearchCursor(sort: Sort, filters: SearchFilters, position: SearchPosition): string {
  return Buffer.from(JSON.stringify({ s: sort, f: filtersDigest(filters), k: position.key, i: position.id })).toString('base64url');
}

const refused = (message: string) => validationFailed([{ path: 'query.cursor', message }]);

/** The position inside a cursor; 422 for one this API did not issue, or issued for another search. */
export function decodeSearchCursor(cursor: string, sort: Sort, filters: SearchFilters): SearchPosition {
  let parsed: z.infer<typeof payload>;
  try {
    parsed = payload.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw refused('query.cursor is not a cursor this API issued');
  }
  if (parsed.s !== sort) throw refused(`query.cursor belongs to sort=${parsed.s}, not sort=${sort}`);
  if (parsed.f !== filtersDigest(filters)) throw refused('query.cursor belongs to a search with other filters');
  const types = SORT_KEY_TYPES[sort];
  if (parsed.k.length !== types.length || parsed.k.some((v, n) => !KEY_VALUE[types[n]].safeParse(v).success)) {
    throw refused('query.cursor is not a cursor this API issued');
  }
  return { key: parsed.k, id: parsed.i };
}
