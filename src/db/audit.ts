import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { noRows } from './no-rows.js';

/** The audit log of back-office actions on personal data (migration 013: append-only). */

export type AuditAction = 'data_export' | 'erasure' | 'dealer_status_change' | 'sale_details_read';

export function insertAudit(
  q: CommonQueryMethods,
  entry: { actor: string; action: AuditAction; subjects: string[]; detail: Record<string, string | number | boolean | null> },
) {
  return q.query(sql.type(noRows)`
    INSERT INTO audit_log (actor, action, subjects, detail)
    VALUES (${entry.actor}, ${entry.action}, ${sql.array(entry.subjects, 'text')}, ${sql.jsonb(entry.detail)})`);
}

export const auditRow = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.string(),
  action: z.enum(['data_export', 'erasure', 'dealer_status_change', 'sale_details_read']),
  subjects: z.array(z.string()),
  detail: z.record(z.union([z.string(), z.number(), z.boolean(), z.null()])),
});
export type AuditRow = z.infer<typeof auditRow>;

/** Newest first, after the entry `before` (exclusive), one row more than `limit`. */
export function auditPage(q: CommonQueryMethods, filter: { before: bigint | null; action?: AuditAction; limit: number }) {
  const conditions = [
    filter.before !== null ? sql.fragment`id < ${filter.before.toString()}::bigint` : null,
    filter.action ? sql.fragment`action = ${filter.action}` : null,
  ].filter((c) => c !== null);
  const where = conditions.length ? sql.fragment`WHERE ${sql.join(conditions, sql.fragment` AND `)}` : sql.fragment``;
  return q.any(sql.type(auditRow)`
    SELECT id::text AS id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, actor, action, subjects, detail
    FROM audit_log ${where}
    ORDER BY id DESC
    LIMIT ${filter.limit + 1}`);
}
