import type { CommonQueryMethods } from 'slonik';
import { ApiError, conflict } from '../errors.js';
import { lockCar, type LockedCar } from '../db/car-status.js';
import { statusTimeline } from '../db/car-events.js';
import { carExists } from '../db/cars.js';
import { estimatePrice } from '../db/estimates.js';
import { findInspection } from '../db/inspections.js';
import { bidsForSeller, decisionDeadline, readOnlySnapshot, readSellerCar } from '../db/sellers.js';
import { listPhotos } from '../db/photos.js';
import { mediaBase } from '../storage/index.js';
import type { Deps } from '../deps.js';
import { showInspection } from './inspection-photos.js';
import { changeStatus, sellToBestBid } from './lifecycle.js';

/**
 * The seller's page and decisions: follow the auction, then accept or decline the highest
 * bid, or withdraw the car. Every decision goes through the one lifecycle (changeStatus)
 * under the car's row lock.
 */

type SellerDeps = Pick<Deps, 'db' | 'config' | 'storage'>;

/** The token's car no longer exists: the session is over. */
const gone = () => new ApiError(401, 'unauthorized', 'This seller session is no longer valid; sign in again');

/** The car, its bids, its timeline, its report, its photos and its estimate, from one snapshot (they agree with each other). */
export function sellerPage(deps: Pick<Deps, 'db' | 'storage'>, carId: string) {
  return deps.db.transaction(async (tx) => {
    await readOnlySnapshot(tx);
    if (!(await carExists(tx, carId, { unlisted: true }))) throw gone();
    const car = await readSellerCar(tx, carId, mediaBase(deps));
    const bids = await bidsForSeller(tx, carId);
    const timeline = await statusTimeline(tx, carId);
    const report = await findInspection(tx, carId);
    const inspection = report ? await showInspection(tx, mediaBase(deps), report) : null;
    const photos = await listPhotos(tx, mediaBase(deps), carId);
    // What the frontend promises: "see what we estimate your car could get in a bidding round".
    const estimate = await estimatePrice(tx, { make: car.car_make, model: car.car_model, year: car.year, mileage: car.mileage });
    return { car, bids: [...bids], timeline: [...timeline], inspection, estimate, photos: [...photos] };
  });
}

/** Locks the seller's car for a decision; 401 when it is gone. */
async function lockOwnCar(tx: CommonQueryMethods, carId: string): Promise<LockedCar> {
  const car = await lockCar(tx, carId);
  if (!car) throw gone();
  return car;
}

const notClosed = (car: LockedCar) =>
  conflict('car_not_closed', `Only a closed auction waits for your decision; this car is ${car.status}`);

/**
 * A closed car waits for the seller only until `decision_due_at`: past it the decision is
 * the expiry sweep's, whether or not the sweep has run yet.
 */
async function lockUndecided(tx: CommonQueryMethods, carId: string): Promise<void> {
  const locked = await lockOwnCar(tx, carId);
  if (locked.status !== 'closed') throw notClosed(locked);
  const due = await decisionDeadline(tx, carId);
  if (due.passed) {
    throw conflict(
      'decision_deadline_passed',
      `The time to decide ended at ${due.decision_due_at}; the car is no longer waiting for your decision`,
    );
  }
}

export function acceptHighestBid(deps: SellerDeps, carId: string) {
  return deps.db.transaction(async (tx) => {
    await lockUndecided(tx, carId);
    const sale = await sellToBestBid(tx, carId, { by: 'seller', settings: deps.config, conflictCode: 'car_not_closed' });
    return { bid: sale.bid, car: await readSellerCar(tx, carId, mediaBase(deps)) };
  });
}

export function declineBids(deps: SellerDeps, carId: string) {
  return deps.db.transaction(async (tx) => {
    await lockUndecided(tx, carId);
    await changeStatus(tx, carId, 'declined', { by: 'seller', settings: deps.config, conflictCode: 'car_not_closed' });
    return readSellerCar(tx, carId, mediaBase(deps));
  });
}

export function withdrawCar(deps: SellerDeps, carId: string, reason: string | null) {
  return deps.db.transaction(async (tx) => {
    const locked = await lockOwnCar(tx, carId);
    if (locked.status !== 'pending' && locked.status !== 'active') {
      throw conflict('car_not_withdrawable', `Only a car that is pending or in auction can be withdrawn; this car is ${locked.status}`);
    }
    await changeStatus(tx, carId, 'withdrawn', {
      by: 'seller',
      settings: deps.config,
      conflictCode: 'car_not_withdrawable',
      withdrawReason: reason,
    });
    return readSellerCar(tx, carId, mediaBase(deps));
  });
}
