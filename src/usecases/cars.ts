import { conflict, notFound } from '../errors.js';
import { dealerOf, seesDeclarations, seesSellerData, seesUnlisted, type Principal } from '../domain/access.js';
import type { CarStatus } from '../domain/lifecycle.js';
import { lockCar } from '../db/car-status.js';
import { findCar, insertCar, readCar, setReservePrice, type CarView, type NewCar } from '../db/cars.js';
import { queueVehicleLookup } from '../db/vehicle-lookups.js';
import type { Logger } from '../logger.js';
import type { CreditinfoClient } from '../integrations/index.js';
import { listPhotos } from '../db/photos.js';
import { sellerSessions } from '../db/sellers.js';
import { mediaBase } from '../storage/index.js';
import type { Deps } from '../deps.js';
import { changeStatus, sellToBestBid } from './lifecycle.js';
import { recordRegistrationConsent, type Consent } from './consent.js';

export type { NewCar } from '../db/cars.js';

type CarDeps = Pick<Deps, 'db' | 'config' | 'storage'>;

/** A registration as the seller sent it (normalised); the registry's part is looked up here. */
export type Registration = Omit<NewCar, 'registry'>;

/**
 * What the vehicle registry says of the plate: its fields (all null when it has no such plate),
 * or null when it could not be asked (down, timed out, not configured): then the worker asks
 * later (src/auctions/vehicle-lookups.ts). Nothing is filled in from elsewhere.
 */
export async function registryFacts(
  creditinfo: Pick<CreditinfoClient, 'lookup'>,
  plate: string,
  log?: Logger,
): Promise<NewCar['registry']> {
  try {
    const info = await creditinfo.lookup(plate);
    return {
      vin: info?.vin ?? null,
      fuel: info?.fuel ?? null,
      engine_size: info?.engineSize ?? null,
      color: info?.color ?? null,
      first_registration: info?.firstRegistration ?? null,
    };
  } catch (error) {
    log?.warn('vehicle registry not reached at registration', { error: error instanceof Error ? error.message : String(error) });
    return null;
  }
}

/** What `viewer` may see of cars. */
export const carView = (viewer: Principal): CarView => ({
  seller: seesSellerData(viewer),
  declarations: seesDeclarations(viewer),
  unlisted: seesUnlisted(viewer),
  bidder: dealerOf(viewer)?.email ?? null,
});

/**
 * With LISTING_REQUIRES_PHONE off a registered car starts active: its auction opens now.
 * With it on, the car waits `unconfirmed` until its phone is verified (POST /api/verify-code,
 * see confirmRegistrations): until then it holds no plate, so a stranger's registration of
 * someone else's plate blocks nobody; a car that does hold the plate still refuses it (409).
 */
/**
 * `session`: the seller session generation of a car listed at once, for a seller token in
 * the answer (so its seller can add photos right away); null for an unconfirmed one, whose
 * token comes with the phone's verification.
 */
export async function registerCar(
  deps: CarDeps & Pick<Deps, 'services'>,
  registration: Registration,
  consent: Consent | null = null,
  log?: Logger,
) {
  const car: NewCar = { ...registration, registry: await registryFacts(deps.services.creditinfo, registration.car_plate, log) };
  return deps.db.transaction(async (tx) => {
    const created = await insertCar(tx, car, deps.config.LISTING_REQUIRES_PHONE, deps.config);
    if (!created) throw conflict('plate_already_registered', `A car with plate ${car.car_plate} is already registered`);
    // the registry could not be asked: the worker asks later, unless it can never be asked here
    if (!car.registry && deps.services.creditinfo.mode !== 'disabled') await queueVehicleLookup(tx, created.id);
    // The consent given with the listing is on record with it, or neither is.
    if (consent) await recordRegistrationConsent(tx, { carId: created.id }, consent, { email: car.email, name: car.seller_name });
    if (created.status === 'unconfirmed') return { car: created, session: null };
    const [listed] = await sellerSessions(tx, [created.id]);
    return { car: created, session: listed?.session ?? null };
  });
}

/** The car and its photos, cover first; 404 for no car, and for an unlisted one to anyone but an admin. */
export async function getCar(deps: CarDeps, carId: string, viewer: Principal) {
  const car = await findCar(deps.db, carId, carView(viewer), mediaBase(deps));
  if (!car) throw notFound('Car');
  return { car, photos: [...(await listPhotos(deps.db, mediaBase(deps), carId))] };
}

/**
 * Changes a car's status (and, optionally, its reserve price), in one transaction under the
 * car's row lock, as the lifecycle allows an admin (src/domain/lifecycle.ts). A car that
 * becomes `active` (from `pending`, or re-listed) gets a new auction: a closing time of now +
 * AUCTION_DURATION_HOURS and the current increment; bids already placed stand. Setting the
 * status a car already has changes nothing (a running auction keeps its end).
 */
export async function setCarStatus(deps: CarDeps, carId: string, status: CarStatus, reserve: number | null | undefined, viewer: Principal) {
  await deps.db.transaction(async (tx) => {
    const current = await lockCar(tx, carId);
    if (!current) throw notFound('Car');
    if (current.status !== status) await changeStatus(tx, carId, status, { by: 'admin', settings: deps.config });
    if (reserve !== undefined) await setReservePrice(tx, carId, reserve);
  });
  return readCar(deps.db, carId, carView(viewer), mediaBase(deps));
}

/**
 * An admin takes the highest bid for the seller: the car becomes `sold` to it. A running
 * auction ends early; a `closed` one is settled. The reserve does not apply: accepting
 * below it is the seller's choice.
 */
export async function acceptBestBid(deps: CarDeps, carId: string, viewer: Principal) {
  const bid = await deps.db.transaction(async (tx) => {
    const current = await lockCar(tx, carId);
    if (!current) throw notFound('Car');
    if (current.status === 'sold') throw conflict('invalid_status_transition', 'This car is already sold');
    if (current.status === 'pending') throw conflict('car_not_active', 'This car has not been auctioned yet (it is pending)');
    return (await sellToBestBid(tx, carId, { by: 'admin', settings: deps.config })).bid;
  });
  return { bid, car: await readCar(deps.db, carId, carView(viewer), mediaBase(deps)) };
}
