import { ApiError, notFound } from '../errors.js';
import type { Principal } from '../domain/access.js';
import { lockCar } from '../db/car-status.js';
import { carExists, readCar } from '../db/cars.js';
import { findInspection, upsertInspection, type NewInspection } from '../db/inspections.js';
import type { Deps } from '../deps.js';
import { carView } from './cars.js';
import { changeStatus } from './lifecycle.js';

export type { NewInspection } from '../db/inspections.js';

/** A car's report; 404 `inspection_not_found` when it has none yet, 404 for no such car. */
export async function carInspection(deps: Pick<Deps, 'db'>, carId: string) {
  const inspection = await findInspection(deps.db, carId);
  if (inspection) return inspection;
  // Only a miss needs telling apart: no report yet, or no such car.
  if (!(await carExists(deps.db, carId, { unlisted: true }))) throw notFound('Car');
  throw new ApiError(404, 'inspection_not_found', 'This car has no inspection report yet');
}

/**
 * Records a car's inspection report, replacing any earlier one. With `openAuction` a
 * `pending` or `closed` car opens its bidding round now (an `active` one keeps its round; a
 * `sold` one → 409, and nothing is written).
 */
export async function recordInspection(
  deps: Pick<Deps, 'db' | 'config'>,
  carId: string,
  report: NewInspection,
  openAuction: boolean,
  viewer: Principal,
) {
  const inspection = await deps.db.transaction(async (tx) => {
    // The car's row lock orders two reports for one car, and a report against a status change.
    const car = await lockCar(tx, carId);
    if (!car) throw notFound('Car');
    if (openAuction && car.status !== 'active') {
      await changeStatus(tx, carId, 'active', { by: 'inspection', settings: deps.config, reason: 'inspection' });
    }
    return upsertInspection(tx, carId, report);
  });
  return { inspection, car: await readCar(deps.db, carId, carView(viewer)) };
}
