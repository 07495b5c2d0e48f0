import { z } from 'zod';
import { validationFailed } from '../errors.js';

/**
 * Keyset pagination, newest first (`ORDER BY created_at DESC, id DESC`), for
 * every list with a `cursor`: cursors are opaque to clients; inside they are
 * the id of the last row of the page before.
 */

export const encodeCursor = (id: string) => Buffer.from(id).toString('base64url');

/** The id inside a cursor; 422 for anything this API did not issue. */
export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!z.string().uuid().safeParse(id).success) {
    throw validationFailed([{ path: 'query.cursor', message: 'query.cursor is not a cursor this API issued' }]);
  }
  return id;
}

/** A page from `limit + 1` rows (the extra one tells whether another page exists), and the next cursor. */
export function pageOf<T extends { id: string }>(rows: readonly T[], limit: number): { items: T[]; next_cursor: string | null } {
  const items = rows.slice(0, limit);
  return { items, next_cursor: rows.length > limit ? encodeCursor(items[items.length - 1].id) : null };
}
