import type { Db } from '../db/pool.js';
import type { CreditinfoClient } from '../integrations/index.js';
import type { Logger } from '../logger.js';
import { registryFacts } from '../usecases/cars.js';
import { retryLookupLater, storeRegistryFacts, takeDueLookups } from '../db/vehicle-lookups.js';

/**
 * Fills in the registry's specification of cars that registered while the registry was down
 * (src/usecases/cars.ts queued them). Each due lookup is leased first (its `due_at` moved on in
 * the same statement that takes it, SKIP LOCKED), so any number of workers ask the registry
 * once per lookup; a failure waits twice as long as the one before, from a minute up to six
 * hours, and it keeps trying: the registry's facts are never guessed.
 */

const BATCH = 20;
const LEASE_SECONDS = 120;
const FIRST_RETRY_SECONDS = 60;
const LONGEST_WAIT_SECONDS = 6 * 3600;

export const retryDelaySeconds = (attempts: number) => Math.min(LONGEST_WAIT_SECONDS, FIRST_RETRY_SECONDS * 2 ** Math.min(attempts, 20));

export async function fillVehicleSpecs(deps: {
  db: Db;
  creditinfo: CreditinfoClient;
  logger: Logger;
}): Promise<{ filled: number; retrying: number }> {
  if (deps.creditinfo.mode === 'disabled') return { filled: 0, retrying: 0 };
  const due = await takeDueLookups(deps.db, BATCH, LEASE_SECONDS);
  let filled = 0;
  for (const lookup of due) {
    const facts = await registryFacts(deps.creditinfo, lookup.car_plate, deps.logger);
    if (facts) {
      await deps.db.transaction((tx) => storeRegistryFacts(tx, lookup.car_id, facts));
      filled += 1;
    } else {
      await retryLookupLater(deps.db, lookup.car_id, retryDelaySeconds(lookup.attempts), 'registry unavailable');
      deps.logger.info('vehicle lookup deferred', { car_id: lookup.car_id, attempts: lookup.attempts + 1 });
    }
  }
  return { filled, retrying: due.length - filled };
}
