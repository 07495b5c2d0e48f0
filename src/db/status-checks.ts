import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';

/** Status checks: small client-submitted records, kept to test connectivity end to end. */

const statusRow = z.object({
  id: z.string().uuid(),
  client_name: z.string().nullable(),
  message: z.string().nullable(),
  details: z.unknown(),
  timestamp: z.string(),
});

export function insertStatusCheck(q: CommonQueryMethods, check: { client_name: string | null; message: string | null; details: unknown }) {
  const details = check.details === undefined ? null : sql.jsonb(check.details as Parameters<typeof sql.jsonb>[0]);
  return q.one(sql.type(statusRow)`
    INSERT INTO status_checks (client_name, message, details)
    VALUES (${check.client_name}, ${check.message}, ${details})
    RETURNING id, client_name, message, details, "timestamp"`);
}

export function latestStatusChecks(q: CommonQueryMethods, limit: number) {
  return q.any(sql.type(statusRow)`
    SELECT id, client_name, message, details, "timestamp" FROM status_checks
    ORDER BY "timestamp" DESC, id DESC LIMIT ${limit}`);
}
