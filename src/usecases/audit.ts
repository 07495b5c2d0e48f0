import { validationFailed } from '../errors.js';
import { auditPage, type AuditAction } from '../db/audit.js';
import type { Deps } from '../deps.js';

/** The audit log, newest first; a cursor is the id of the last entry of the page before. */
export async function auditLogPage(deps: Pick<Deps, 'db'>, filter: { cursor: string | null; action?: AuditAction; limit: number }) {
  let before: bigint | null = null;
  if (filter.cursor) {
    const id = Buffer.from(filter.cursor, 'base64url').toString('utf8');
    if (!/^[1-9][0-9]{0,18}$/.test(id))
      throw validationFailed([{ path: 'query.cursor', message: 'query.cursor is not a cursor this API issued' }]);
    before = BigInt(id);
  }
  const rows = await auditPage(deps.db, { before, action: filter.action, limit: filter.limit });
  const entries = rows.slice(0, filter.limit);
  const next = rows.length > filter.limit ? Buffer.from(entries[entries.length - 1].id).toString('base64url') : null;
  return { entries, next_cursor: next };
}
