import { ApiError } from '../errors.js';
import { appliedMigration, LATEST_MIGRATION } from '../db/migrate.js';
import type { Deps } from '../deps.js';

/** Ready: the database answers and its schema is the one this build needs (503 `migrations_pending` otherwise). */
export async function checkReadiness(deps: Pick<Deps, 'db'>): Promise<void> {
  const applied = await appliedMigration(deps.db);
  if (applied < LATEST_MIGRATION) {
    throw new ApiError(503, 'migrations_pending', `Database schema is at version ${applied}, this build needs ${LATEST_MIGRATION}`);
  }
}
