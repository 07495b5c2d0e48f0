import { insertStatusCheck, latestStatusChecks } from '../db/status-checks.js';
import type { Deps } from '../deps.js';

type StatusCheck = Awaited<ReturnType<typeof insertStatusCheck>>;

/** A missing `details` reads as null. */
const shown = (row: StatusCheck) => ({ ...row, details: row.details ?? null });

export async function recordStatusCheck(
  deps: Pick<Deps, 'db'>,
  check: { client_name: string | null; message: string | null; details: unknown },
) {
  return shown(await insertStatusCheck(deps.db, check));
}

export async function listStatusChecks(deps: Pick<Deps, 'db'>, limit: number) {
  return (await latestStatusChecks(deps.db, limit)).map(shown);
}
