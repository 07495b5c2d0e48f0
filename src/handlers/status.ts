import { sql } from 'slonik';
import { z } from 'zod';
import type { Handler } from '../api/types.js';

const statusRow = z.object({
  id: z.string().uuid(),
  client_name: z.string().nullable(),
  message: z.string().nullable(),
  details: z.unknown(),
  timestamp: z.string(),
});

const createStatusCheck: Handler<'createStatusCheck'> = async ({ body, deps }) => {
  const details = body.details === undefined ? null : sql.jsonb(body.details);
  const row = await deps.db.one(sql.type(statusRow)`
    INSERT INTO status_checks (client_name, message, details)
    VALUES (${body.client_name ?? null}, ${body.message ?? null}, ${details})
    RETURNING id, client_name, message, details, "timestamp"`);
  return { status: 201, body: { success: true, ...row, details: row.details ?? null } };
};

const listStatusChecks: Handler<'listStatusChecks'> = async ({ query, deps }) => {
  const rows = await deps.db.any(sql.type(statusRow)`
    SELECT id, client_name, message, details, "timestamp" FROM status_checks
    ORDER BY "timestamp" DESC, id DESC LIMIT ${query.limit ?? 100}`);
  return { status: 200, body: rows.map((r) => ({ ...r, details: r.details ?? null })) };
};

export const statusHandlers = { createStatusCheck, listStatusChecks };
