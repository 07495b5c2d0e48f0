import { validationFailed, type FieldError } from '../errors.js';
import { CONFIRMATION_HOURS } from '../domain/lifecycle.js';
import { maxVehicleYear, normaliseEmail, normalisePlate, toE164, toInteger } from '../domain/normalise.js';
import { principalOf } from '../api/principal.js';
import { listingToken } from '../api/seller-auth.js';
import { FILTER_NAMES, filterProblems, type SearchFilters } from '../domain/search.js';
import { acceptBestBid, getCar as findCar, registerCar as register, setCarStatus } from '../usecases/cars.js';
import { carFacets, listCars as carsPage } from '../usecases/car-search.js';
import type { Registration } from '../usecases/cars.js';
import { carInspection } from '../usecases/inspections.js';
import { readConsent } from '../usecases/consent.js';
import type { Handler, HandlerContext } from '../api/types.js';

type RegisterBody = HandlerContext<'registerCar'>['body'];

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
function readRegistration(body: RegisterBody): Registration {
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
    seller_vehicle: {
      transmission: body.vehicle?.transmission ?? null,
      drivetrain: body.vehicle?.drivetrain ?? null,
      // the same item twice, or blank, says nothing more
      equipment: [...new Set((body.vehicle?.equipment ?? []).map((e) => e.trim()).filter((e) => e !== ''))],
    },
    declarations: readDeclarations(body.declarations),
  };
}

const text = (value: string | null | undefined) => (value?.trim() ? value.trim() : null);

function readDeclarations(d: RegisterBody['declarations']): Registration['declarations'] {
  if (!d) return null;
  return {
    damage: text(d.damage),
    repairs: text(d.repairs),
    other: text(d.other),
    ownership: d.ownership,
    ownership_details: text(d.ownership_details),
  };
}

/** Registration (src/usecases/cars.ts: active now, or unconfirmed until the phone is proved). */
const registerCar: Handler<'registerCar'> = async ({ body, deps, log }) => {
  const consent = readConsent(deps, body.consent, 'body.consent');
  const { car: created, session } = await register(deps, readRegistration(body), consent, log);
  log.info('car registered', { car_id: created.id, status: created.status });
  if (created.status === 'unconfirmed') {
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
  const token = session === null ? null : await listingToken(deps.config, deps.logger, created.id, session);
  if (token) log.info('seller session issued with the listing', { car_id: created.id });
  return {
    status: 201,
    body: {
      success: true,
      message: 'Car registered successfully',
      car_id: created.id,
      car: created,
      ...(token ? { seller_token: token.token, seller_token_expires_at: token.expires_at } : {}),
    },
  };
};

/** The search filters among the validated query parameters (the spec declares each), 422 for bounds the wrong way round. */
function searchFiltersOf(query: Record<string, unknown>): SearchFilters {
  const filters = Object.fromEntries(
    FILTER_NAMES.filter((name) => query[name] !== undefined).map((name) => [name, query[name]]),
  ) as SearchFilters;
  const problems = filterProblems(filters, 'query');
  if (problems.length) throw validationFailed(problems);
  return filters;
}

const listCars: Handler<'listCars'> = async ({ query, req, deps }) => {
  const page = await carsPage(
    deps,
    { filters: searchFiltersOf(query), sort: query.sort ?? 'newest', cursor: query.cursor ?? null, limit: query.limit ?? 100 },
    principalOf(req),
  );
  return {
    status: 200,
    body: { success: true, cars: page.items, count: page.items.length, next_cursor: page.next_cursor, timestamp: new Date().toISOString() },
  };
};

const getCarFacets: Handler<'getCarFacets'> = async ({ query, req, deps }) => ({
  status: 200,
  body: { success: true, ...(await carFacets(deps, searchFiltersOf(query), principalOf(req))), timestamp: new Date().toISOString() },
});

const getCar: Handler<'getCar'> = async ({ params, req, deps }) => ({
  status: 200,
  body: { success: true, ...(await findCar(deps, params.car_id, principalOf(req))) },
});

/** A status change by an admin, optionally with a new reserve price (src/usecases/cars.ts). */
const updateCarStatus: Handler<'updateCarStatus'> = async ({ params, query, body, req, deps, log }) => {
  const status = body?.status ?? query.status;
  if (!status) throw validationFailed([{ path: 'body.status', message: 'body.status is required' }]);
  const errors: FieldError[] = [];
  const reserve = body && body.reserve_price !== undefined ? readReservePrice(body.reserve_price, 'body.reserve_price', errors) : undefined;
  if (errors.length) throw validationFailed(errors);
  const car = await setCarStatus(deps, params.car_id, status, reserve, principalOf(req));
  log.info('car status changed', { car_id: params.car_id, status, reserve_changed: reserve !== undefined });
  return { status: 200, body: { success: true, message: `Car status updated to ${status}`, car } };
};

/** An admin takes the highest bid for the seller. */
const acceptBid: Handler<'acceptBid'> = async ({ params, req, deps, log }) => {
  const { bid, car } = await acceptBestBid(deps, params.car_id, principalOf(req));
  log.info('bid accepted for the seller', { car_id: params.car_id, bid_id: bid.id, amount: bid.bid_amount });
  return {
    status: 200,
    body: { success: true, message: `Car sold for ${bid.bid_amount} kr. to ${bid.dealer_name}`, car, bid },
  };
};

/** Public like the car itself: a report holds no personal data. */
const getCarInspection: Handler<'getCarInspection'> = async ({ params, deps }) => ({
  status: 200,
  body: { success: true, inspection: await carInspection(deps, params.car_id) },
});

export const carHandlers = { registerCar, listCars, getCarFacets, getCar, updateCarStatus, acceptBid, getCarInspection };
