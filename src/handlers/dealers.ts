import { sql } from 'slonik';
import { z } from 'zod';
import { ApiError, conflict, validationFailed, type FieldError } from '../errors.js';
import {
  kennitalaChecksumHolds,
  kennitalaDigits,
  maxVehicleYear,
  normaliseEmail,
  normalisePlate,
  toE164,
  toInteger,
} from '../domain/normalise.js';
import type { Handler } from '../api/types.js';
import { approvedHolder, dealerColumns, dealerRow, lockKennitala } from '../db/dealers.js';
import { holdsPlate } from '../db/cars.js';

const carIdRow = z.object({ id: z.string().uuid() });

const registerDealer: Handler<'registerDealer'> = async ({ body, deps, log }) => {
  const errors: FieldError[] = [];
  const kennitala = kennitalaDigits(body.organizationNumber);
  if (!kennitala || !kennitalaChecksumHolds(kennitala)) {
    throw new ApiError(422, 'invalid_kennitala', 'organizationNumber is not a valid kennitala (check digit)', {
      errors: [{ path: 'body.organizationNumber', message: 'body.organizationNumber fails the kennitala check digit' }],
    });
  }
  const mobile = toE164(body.mobileNumber);
  if (!mobile) errors.push({ path: 'body.mobileNumber', message: 'body.mobileNumber is not a valid phone number' });
  const vehicleYear = body.vehicle ? toInteger(body.vehicle.year) : undefined;
  if (vehicleYear !== undefined && vehicleYear > maxVehicleYear()) {
    errors.push({ path: 'body.vehicle.year', message: `body.vehicle.year must be at most ${maxVehicleYear()}` });
  }
  if (errors.length) throw validationFailed(errors);

  // The registry is asked before anything is written, so a failed check leaves no rows.
  const company = await deps.services.rsk.lookup(kennitala);
  if (!company) {
    throw new ApiError(422, 'company_not_found', '❌ Kennitala fannst ekki í fyrirtækjaskrá.', {
      errors: [{ path: 'body.organizationNumber', message: 'body.organizationNumber is not in the company registry' }],
    });
  }

  const email = body.email ? normaliseEmail(body.email) : null;
  const firstName = body.firstName.trim();
  const surname = body.surname.trim();
  const result = await deps.db.transaction(async (tx) => {
    // Only an approved dealer holds a kennitala: a pending one (anyone can type any
    // company's number) must not lock the company out.
    await tx.one(lockKennitala(kennitala));
    if (await tx.maybeOne(approvedHolder(kennitala))) {
      throw conflict('dealer_already_registered', 'An approved dealer already holds this organization number');
    }
    const dealer = await tx.maybeOne(sql.type(dealerRow)`
      INSERT INTO dealers (first_name, surname, organization_number, dealer_name, company_name, mobile_number,
                           street_address, postal_code, city, email)
      VALUES (${firstName}, ${surname}, ${kennitala}, ${body.dealerName.trim()}, ${company.name}, ${mobile},
              ${body.streetAddress.trim()}, ${body.postalCode}, ${body.city.trim()}, ${email})
      ON CONFLICT DO NOTHING
      RETURNING ${dealerColumns}`);
    if (!dealer) throw conflict('dealer_already_registered', 'A dealer with this e-mail is already registered');
    if (!body.vehicle) return { dealer };
    const v = body.vehicle;
    const plate = normalisePlate(v.registrationNumber);
    // The dealer's own car waits as `pending`; its e-mail is the dealer's or none, never made up.
    const carId = await tx.maybeOneFirst(sql.type(carIdRow)`
      INSERT INTO "Bílar" (seller_name, email, phone, postal_code, car_make, car_model, car_plate, year, mileage, status)
      VALUES (${`${firstName} ${surname}`}, ${email}, ${mobile}, ${body.postalCode}, ${v.make.trim()}, ${v.model.trim()},
              ${plate}, ${vehicleYear!}, ${toInteger(v.mileage)}, 'pending')
      ON CONFLICT (car_plate) WHERE ${holdsPlate} DO NOTHING
      RETURNING id`);
    if (!carId) throw conflict('plate_already_registered', `A car with plate ${plate} is already registered`);
    return { dealer, car_id: carId };
  });
  log.info('dealer registered', { dealer_id: result.dealer.id, with_vehicle: Boolean(result.car_id) });
  return { status: 201, body: { success: true, message: 'Dealer registered successfully', data: result } };
};

export const dealerHandlers = { registerDealer };
