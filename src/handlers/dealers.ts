import { ApiError, validationFailed, type FieldError } from '../errors.js';
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
import { registerDealer as register } from '../usecases/dealer-registration.js';
import { readConsent } from '../usecases/consent.js';

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
  const consent = readConsent(deps, body.consent, 'body.consent');

  const v = body.vehicle;
  const result = await register(
    deps,
    {
      first_name: body.firstName.trim(),
      surname: body.surname.trim(),
      organization_number: kennitala,
      dealer_name: body.dealerName.trim(),
      mobile_number: mobile!,
      street_address: body.streetAddress.trim(),
      postal_code: body.postalCode,
      city: body.city.trim(),
      email: body.email ? normaliseEmail(body.email) : null,
      vehicle: v && {
        car_make: v.make.trim(),
        car_model: v.model.trim(),
        car_plate: normalisePlate(v.registrationNumber),
        year: vehicleYear!,
        mileage: toInteger(v.mileage),
      },
    },
    consent,
  );
  log.info('dealer registered', { dealer_id: result.dealer.id, with_vehicle: Boolean(result.car_id) });
  return { status: 201, body: { success: true, message: 'Dealer registered successfully', data: result } };
};

export const dealerHandlers = { registerDealer };
