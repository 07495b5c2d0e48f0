import { ApiError, notFound } from '../errors.js';
import type { Principal } from '../domain/access.js';
import { lockCar } from '../db/car-status.js';
import { carExists, readCar } from '../db/cars.js';
import { findInspection, upsertInspection, type NewInspection } from '../db/inspections.js';
import { mediaBase } from '../storage/index.js';
import type { Deps } from '../deps.js';
import { checkInspectionPhotos, showInspection } from './inspection-photos.js';
import { carView } from './cars.js';
import { changeStatus } from './lifecycle.js';

export type { NewInspection } from '../db/inspections.js';

/** A car's report, its photo ids resolved to URLs; 404 `inspection_not_found` when it has none yet, 404 for no such car. */
export async function carInspection(deps: Pick<Deps, 'db' | 'storage'>, carId: string) {
  const inspection = await findInspection(deps.db, carId);
  if (inspection) return showInspection(deps.db, mediaBase(deps), inspection);
  // Only a miss needs telling apart: no report yet, or no such car.
  if (!(await carExists(deps.db, carId, { unlisted: true }))) throw notFound('Car');
  throw new ApiError(404, 'inspection_not_found', 'This car has no inspection report yet');
}

/**
 * Records a car's inspection report, replacing any earlier one; its photo ids must be the
 * car's own photos (damage photos of kind `damage`), else 422 and nothing is written. With `openAuction` a
 * `pending` or `closed` car opens its bidding round now (an `active` one keeps its round; a
 * `sold` one → 409, and nothing is written).
 */
export async function recordInspection(
  deps: Pick<Deps, 'db' | 'config' | 'storage'>,
  carId: string,
  report: NewInspection,
  openAuction: boolean,
  viewer: Principal,
) {
  const inspection = await deps.db.transaction(async (tx) => {
    // The car's row lock orders two reports for one car, and a report against a status change.
    const car = await lockCar(tx, carId);
    if (!car) throw notFound('Car');
    await checkInspectionPhotos(tx, carId, report);
    if (openAuction && car.status !== 'active') {
      await changeStatus(tx, carId, 'active', { by: 'inspection', settings: deps.config, reason: 'inspection' });
    }
    return showInspection(tx, mediaBase(deps), await upsertInspection(tx, carId, report));
  });
  return { inspection, car: await readCar(deps.db, carId, carView(viewer), mediaBase(deps)) };
}
