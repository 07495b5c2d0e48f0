import type { Handler } from '../api/types.js';
import { listStatusChecks as latest, recordStatusCheck } from '../usecases/status-checks.js';

const createStatusCheck: Handler<'createStatusCheck'> = async ({ body, deps }) => {
  const row = await recordStatusCheck(deps, {
    client_name: body.client_name ?? null,
    message: body.message ?? null,
    details: body.details,
  });
  return { status: 201, body: { success: true, ...row } };
};

const listStatusChecks: Handler<'listStatusChecks'> = async ({ query, deps }) => ({
  status: 200,
  body: await latest(deps, query.limit ?? 100),
});

export const statusHandlers = { createStatusCheck, listStatusChecks };
