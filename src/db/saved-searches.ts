import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { ALERTS, type Alert } from '../domain/alerts.js';
import type { SearchFilters } from '../domain/search.js';

/**
 * A dealer's saved searches (saved_searches, migration 016). The count limit is the use
 * case's, under the dealer's row lock (src/usecases/saved-searches.ts); here only the rows.
 */

const savedSearchRow = z.object({
  id: z.string(),
  name: z.string(),
  filters: z.record(z.unknown()),
  alert: z.enum(ALERTS),
  created_at: z.string(),
});
export type SavedSearchRow = Omit<z.infer<typeof savedSearchRow>, 'filters'> & { filters: SearchFilters };

const columns = sql.fragment`id, name, filters, alert, created_at`;

export async function listSavedSearches(q: CommonQueryMethods, dealerId: string): Promise<SavedSearchRow[]> {
  const rows = await q.any(sql.type(savedSearchRow)`
    SELECT ${columns} FROM saved_searches WHERE dealer_id = ${dealerId} ORDER BY created_at, id`);
  return rows as SavedSearchRow[];
}

const countRow = z.object({ n: z.number().int() });

export function countSavedSearches(q: CommonQueryMethods, dealerId: string): Promise<number> {
  return q.oneFirst(sql.type(countRow)`SELECT count(*)::int AS n FROM saved_searches WHERE dealer_id = ${dealerId}`);
}

export async function insertSavedSearch(
  q: CommonQueryMethods,
  search: { dealerId: string; name: string; filters: SearchFilters; qWords: string[]; alert: Alert },
): Promise<SavedSearchRow> {
  const row = await q.one(sql.type(savedSearchRow)`
    INSERT INTO saved_searches (dealer_id, name, filters, q_words, alert)
    VALUES (${search.dealerId}, ${search.name}, ${sql.jsonb(search.filters as Parameters<typeof sql.jsonb>[0])},
            ${sql.array(search.qWords, 'text')}, ${search.alert})
    RETURNING ${columns}`);
  return row;
}

const idRow = z.object({ id: z.string() });

/** Deletes the dealer's search; false when the dealer has none with this id (another's included). */
export async function deleteSavedSearch(q: CommonQueryMethods, dealerId: string, searchId: string): Promise<boolean> {
  const id = await q.maybeOneFirst(sql.type(idRow)`
    DELETE FROM saved_searches WHERE id = ${searchId} AND dealer_id = ${dealerId} RETURNING id`);
  return id !== null;
}
