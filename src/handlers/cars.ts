import { sql } from 'slonik';
import { conflict, notFound, validationFailed, type FieldError } from '../errors.js';
import { carRow, holdsPlate, listedCar, selectCars } from '../db/cars.js';
import { CONFIRMATION_HOURS } from '../domain/lifecycle.js';
import { auctionEndsAt, changeStatus, lockCar, sellToBestBid } from '../db/car-status.js';
import { maxVehicleYear, normaliseEmail, normalisePlate, toE164, toInteger } from '../domain/normalise.js';
import { principalOf, sellerVisibility } from '../api/principal.js';
import { decodeCursor, pageOf } from '../db/keyset.js';
import type { Handler, HandlerContext } from '../api/types.js';
import { mediaBase } from '../storage/index.js';
import { listPhotos } from '../db/photos.js';
import { sellerSession } from '../usecases/seller-session.js';

type RegisterBody = HandlerContext<'registerCar'>['body'];

type NewCar = {
  seller_name: string;
  email: string;
  phone: string;
  postal_code: string;
  car_make: string;
  car_model: string;
  car_plate: string;
  year: number;
  mileage: number;
  reserve_price: number | null;
};

/** Whole ISK, at least 1; forms may send digit strings. */
const MAX_ISK = 2_000_000_000;
function readReservePrice(value: number | string | null | undefined, path: string, errors: FieldError[]): number | null {
  if (value === undefined || value === null || value === '') return null;
  const amount = toInteger(value);
  if (!Number.isSafeInteger(amount) || amount < 1 || amount > MAX_ISK) {
    errors.push({ path, message: `${path} must be a whole number of ISK between 1 and ${MAX_ISK}` });
    return null;
  }
  return amount;
}

/** The frontend sends camelCase, older clients snake_case; both mean the same car. */
function readRegistration(body: RegisterBody): NewCar {
  const camel = typeof body.carPlate === 'string';
  const raw =
    typeof body.carPlate === 'string'
      ? {
          seller_name: `${body.firstName.trim()} ${body.lastName.trim()}`,
          email: body.email,
          phone: body.phone,
          postal_code: body.postalCode,
          car_make: body.carMake,
          car_model: body.carModel,
          car_plate: body.carPlate,
          year: body.year,
          mileage: body.mileage,
          reserve_price: body.reservePrice,
        }
      : body;
  const phone = toE164(raw.phone);
  const year = toInteger(raw.year);
  const errors: FieldError[] = [];
  const field = (snake: string, camelName: string) => `body.${camel ? camelName : snake}`;
  if (!phone) errors.push({ path: field('phone', 'phone'), message: `${field('phone', 'phone')} is not a valid phone number` });
  if (year > maxVehicleYear()) {
    errors.push({ path: field('year', 'year'), message: `${field('year', 'year')} must be at most ${maxVehicleYear()}` });
  }
  const reservePrice = readReservePrice(raw.reserve_price, field('reserve_price', 'reservePrice'), errors);
  if (errors.length) throw validationFailed(errors);
  return {
    seller_name: raw.seller_name.trim(),
    email: normaliseEmail(raw.email),
    phone: phone!,
    postal_code: raw.postal_code,
    car_make: raw.car_make.trim(),
    car_model: raw.car_model.trim(),
    car_plate: normalisePlate(raw.car_plate),
    year,
    mileage: toInteger(raw.mileage),
    reserve_price: reservePrice,
  };
}

const registeredCar = sql.fragment`
    SELECT c.id, c.seller_name, c.email, c.postal_code, c.car_make, c.car_model, c.car_plate, c.year, c.mileage,
           c.status, NULL::int AS highest_bid, 0 AS bid_count, c.auction_ends_at, c.bid_increment AS min_next_bid,
           c.reserve_price IS NULL AS reserve_met, false AS has_inspection, 0 AS photo_count, NULL::json AS cover_photo,
           c.created_at, c.updated_at
    FROM inserted c`;

/**
 * With LISTING_REQUIRES_PHONE off a registered car starts active: its auction opens now.
 * With it on, the car waits `unconfirmed` until its phone is verified (POST /api/verify-code,
 * see confirmRegistrations): until then it holds no plate, so a stranger's registration of
 * someone else's plate blocks nobody; a car that does hold the plate still refuses it (409).
 */
const registerCar: Handler<'registerCar'> = async ({ body, deps, log }) => {
  const car = readRegistration(body);
  const unconfirmed = deps.config.LISTING_REQUIRES_PHONE;
  const created = unconfirmed
    ? await deps.db.maybeOne(sql.type(carRow)`
        WITH inserted AS (
          INSERT INTO "Bílar" (seller_name, email, phone, postal_code, car_make, car_model, car_plate, year, mileage, status,
                               bid_increment, reserve_price)
          SELECT ${car.seller_name}, ${car.email}, ${car.phone}, ${car.postal_code}, ${car.car_make}, ${car.car_model},
                 ${car.car_plate}, ${car.year}, ${car.mileage}, 'unconfirmed', ${deps.config.BID_INCREMENT_ISK}, ${car.reserve_price}
          WHERE NOT EXISTS (SELECT 1 FROM "Bílar" WHERE car_plate = ${car.car_plate} AND ${holdsPlate})
          RETURNING *
        )
        ${registeredCar}`)
    : // ON CONFLICT instead of catching the unique violation: no aborted statement, no race.
      await deps.db.maybeOne(sql.type(carRow)`
        WITH inserted AS (
          INSERT INTO "Bílar" (seller_name, email, phone, postal_code, car_make, car_model, car_plate, year, mileage, status,
                               auction_ends_at, bid_increment, reserve_price)
          VALUES (${car.seller_name}, ${car.email}, ${car.phone}, ${car.postal_code}, ${car.car_make}, ${car.car_model},
                  ${car.car_plate}, ${car.year}, ${car.mileage}, 'active', ${auctionEndsAt(deps.config)}, ${deps.config.BID_INCREMENT_ISK}, ${car.reserve_price})
          ON CONFLICT (car_plate) WHERE ${holdsPlate} DO NOTHING
          RETURNING *
        )
        ${registeredCar}`);
  if (!created) throw conflict('plate_already_registered', `A car with plate ${car.car_plate} is already registered`);
  log.info('car registered', { car_id: created.id, status: created.status });
  if (unconfirmed) {
    return {
      status: 201,
      body: {
        success: true,
        message: 'Car registered; verify the phone number with the SMS code to list it',
        car_id: created.id,
        car: created,
        confirm_by: new Date(Date.parse(created.created_at) + CONFIRMATION_HOURS * 3600_000).toISOString(),
      },
    };
  }
  const session = await sellerSession(deps, log, created.id);
  return {
    status: 201,
    body: {
      success: true,
      message: 'Car registered successfully',
      car_id: created.id,
      car: created,
      ...(session ? { seller_token: session.token, seller_token_expires_at: session.expires_at } : {}),
    },
  };
};

/** A registration nobody has confirmed is no listing: only the admin sees it (as 404 for everyone else). */
export const unlistedHidden = (req: Parameters<typeof principalOf>[0]) => (principalOf(req).kind === 'admin' ? null : listedCar);

const listCars: Handler<'listCars'> = async ({ query, req, deps }) => {
  const limit = query.limit ?? 100;
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  const conditions = [
    unlistedHidden(req),
    query.status ? sql.fragment`c.status = ${query.status}` : null,
    after ? sql.fragment`(c.created_at, c.id) < (SELECT created_at, id FROM "Bílar" WHERE id = ${after})` : null,
  ].filter((c) => c !== null);
  const where = conditions.length ? sql.fragment`WHERE ${sql.join(conditions, sql.fragment` AND `)}` : sql.fragment``;
  // one extra row tells whether another page exists
  const rows = await deps.db.any(sql.type(carRow)`
    ${selectCars(sellerVisibility(req), mediaBase(deps))} ${where}
    ORDER BY c.created_at DESC, c.id DESC
    LIMIT ${limit + 1}`);
  const page = pageOf(rows, limit);
  return {
    status: 200,
    body: { success: true, cars: page.items, count: page.items.length, next_cursor: page.next_cursor, timestamp: new Date().toISOString() },
  };
};

const getCar: Handler<'getCar'> = async ({ params, req, deps }) => {
  const hidden = unlistedHidden(req);
  const car = await deps.db.maybeOne(sql.type(carRow)`
    ${selectCars(sellerVisibility(req), mediaBase(deps))} WHERE c.id = ${params.car_id} ${hidden ? sql.fragment`AND ${hidden}` : sql.fragment``}`);
  if (!car) throw notFound('Car');
  const photos = await listPhotos(deps.db, mediaBase(deps), car.id);
  return { status: 200, body: { success: true, car, photos: [...photos] } };
};

/**
 * Changes a car's status (and, optionally, its reserve price), in one transaction under the
 * car's row lock, as the lifecycle allows an admin (src/domain/lifecycle.ts). A car that
 * becomes `active` (from `pending`, or re-listed) gets a new auction: a closing time of now +
 * AUCTION_DURATION_HOURS and the current increment; bids already placed stand. Setting the
 * status a car already has changes nothing (a running auction keeps its end).
 */
const updateCarStatus: Handler<'updateCarStatus'> = async ({ params, query, body, req, deps, log }) => {
  const status = body?.status ?? query.status;
  if (!status) throw validationFailed([{ path: 'body.status', message: 'body.status is required' }]);
  const errors: FieldError[] = [];
  const reserve = body && body.reserve_price !== undefined ? readReservePrice(body.reserve_price, 'body.reserve_price', errors) : undefined;
  if (errors.length) throw validationFailed(errors);
  const carId = params.car_id;

  await deps.db.transaction(async (tx) => {
    const current = await lockCar(tx, carId);
    if (!current) throw notFound('Car');
    if (current.status !== status) await changeStatus(tx, carId, status, { by: 'admin', settings: deps.config });
    if (reserve !== undefined) {
      await tx.query(sql.unsafe`UPDATE "Bílar" SET reserve_price = ${reserve}, updated_at = now() WHERE id = ${carId}`);
    }
  });
  const car = await deps.db.one(sql.type(carRow)`${selectCars(sellerVisibility(req), mediaBase(deps))} WHERE c.id = ${carId}`);
  log.info('car status changed', { car_id: carId, status, reserve_changed: reserve !== undefined });
  return { status: 200, body: { success: true, message: `Car status updated to ${status}`, car } };
};

/**
 * An admin takes the highest bid for the seller: the car becomes `sold` to it. A running
 * auction ends early; a `closed` one is settled. The reserve does not apply: accepting
 * below it is the seller's choice.
 */
const acceptBid: Handler<'acceptBid'> = async ({ params, req, deps, log }) => {
  const carId = params.car_id;
  const bid = await deps.db.transaction(async (tx) => {
    const current = await lockCar(tx, carId);
    if (!current) throw notFound('Car');
    if (current.status === 'sold') throw conflict('invalid_status_transition', 'This car is already sold');
    if (current.status === 'pending') throw conflict('car_not_active', 'This car has not been auctioned yet (it is pending)');
    return (await sellToBestBid(tx, carId, { by: 'admin', settings: deps.config })).bid;
  });
  const car = await deps.db.one(sql.type(carRow)`${selectCars(sellerVisibility(req), mediaBase(deps))} WHERE c.id = ${carId}`);
  log.info('bid accepted for the seller', { car_id: carId, bid_id: bid.id, amount: bid.bid_amount });
  return {
    status: 200,
    body: { success: true, message: `Car sold for ${bid.bid_amount} kr. to ${bid.dealer_name}`, car, bid },
  };
};

export const carHandlers = { registerCar, listCars, getCar, updateCarStatus, acceptBid };
