import { sql } from 'slonik';
import { z } from 'zod';
import { conflict, notFound, validationFailed, type FieldError } from '../errors.js';
import { carRow, selectCars } from '../db/cars.js';
import { maxVehicleYear, normaliseEmail, normalisePlate, toE164, toInteger } from '../domain/normalise.js';
import type { Handler, HandlerContext } from '../api/types.js';

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
};

/** The frontend sends camelCase, older clients snake_case; both mean the same car. */
function readRegistration(body: RegisterBody): NewCar {
  const camel = typeof body.carPlate === 'string';
  const raw = typeof body.carPlate === 'string'
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
  };
}

const registerCar: Handler<'registerCar'> = async ({ body, deps, log }) => {
  const car = readRegistration(body);
  // ON CONFLICT instead of catching the unique violation: no aborted statement, no race.
  const created = await deps.db.maybeOne(sql.type(carRow)`
    WITH inserted AS (
      INSERT INTO "Bílar" (seller_name, email, phone, postal_code, car_make, car_model, car_plate, year, mileage, status)
      VALUES (${car.seller_name}, ${car.email}, ${car.phone}, ${car.postal_code}, ${car.car_make}, ${car.car_model},
              ${car.car_plate}, ${car.year}, ${car.mileage}, 'active')
      ON CONFLICT (car_plate) DO NOTHING
      RETURNING *
    )
    SELECT c.id, c.seller_name, c.email, c.postal_code, c.car_make, c.car_model, c.car_plate, c.year, c.mileage,
           c.status, NULL::int AS highest_bid, 0 AS bid_count, c.created_at, c.updated_at
    FROM inserted c`);
  if (!created) throw conflict('plate_already_registered', `A car with plate ${car.car_plate} is already registered`);
  log.info('car registered', { car_id: created.id });
  return {
    status: 201,
    body: { success: true, message: 'Car registered successfully', car_id: created.id, car: created },
  };
};

/** Cursors are opaque to clients; inside they are the last car's id. */
const encodeCursor = (id: string) => Buffer.from(id).toString('base64url');
function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!z.string().uuid().safeParse(id).success) {
    throw validationFailed([{ path: 'query.cursor', message: 'query.cursor is not a cursor this API issued' }]);
  }
  return id;
}

const listCars: Handler<'listCars'> = async ({ query, deps }) => {
  const limit = query.limit ?? 100;
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  const conditions = [
    query.status ? sql.fragment`c.status = ${query.status}` : null,
    after
      ? sql.fragment`(c.created_at, c.id) < (SELECT created_at, id FROM "Bílar" WHERE id = ${after})`
      : null,
  ].filter((c) => c !== null);
  const where = conditions.length ? sql.fragment`WHERE ${sql.join(conditions, sql.fragment` AND `)}` : sql.fragment``;
  // one extra row tells whether another page exists
  const rows = await deps.db.any(sql.type(carRow)`
    ${selectCars} ${where}
    ORDER BY c.created_at DESC, c.id DESC
    LIMIT ${limit + 1}`);
  const cars = rows.slice(0, limit);
  return {
    status: 200,
    body: {
      success: true,
      cars: [...cars],
      count: cars.length,
      next_cursor: rows.length > limit ? encodeCursor(cars[cars.length - 1].id) : null,
      timestamp: new Date().toISOString(),
    },
  };
};

const getCar: Handler<'getCar'> = async ({ params, deps }) => {
  const car = await deps.db.maybeOne(sql.type(carRow)`${selectCars} WHERE c.id = ${params.car_id}`);
  if (!car) throw notFound('Car');
  return { status: 200, body: { success: true, car } };
};

const updateCarStatus: Handler<'updateCarStatus'> = async ({ params, query, body, deps }) => {
  const status = body?.status ?? query.status;
  if (!status) throw validationFailed([{ path: 'body.status', message: 'body.status is required' }]);
  // `sold` is final: the guard sits in the UPDATE so a concurrent sale cannot be undone.
  const updated = await deps.db.maybeOne(sql.type(z.object({ id: z.string() }))`
    UPDATE "Bílar" SET status = ${status}, updated_at = now()
    WHERE id = ${params.car_id} AND (status <> 'sold' OR ${status} = 'sold')
    RETURNING id`);
  const car = await deps.db.maybeOne(sql.type(carRow)`${selectCars} WHERE c.id = ${params.car_id}`);
  if (!car) throw notFound('Car');
  if (!updated) throw conflict('invalid_status_transition', `A sold car cannot become ${status}`);
  return { status: 200, body: { success: true, message: `Car status updated to ${status}`, car } };
};

export const carHandlers = { registerCar, listCars, getCar, updateCarStatus };
