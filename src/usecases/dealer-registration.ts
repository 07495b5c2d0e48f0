import { ApiError, conflict } from '../errors.js';
import { approvedHolder, insertDealer, lockKennitala, type DealerRow, type NewDealer } from '../db/dealers.js';
import { insertPendingCar, type NewCar } from '../db/cars.js';
import type { Deps } from '../deps.js';
import { recordRegistrationConsent, type Consent } from './consent.js';

export type DealerApplication = Omit<NewDealer, 'company_name'> & {
  /** The dealer's own car, listed as `pending` with the dealer as seller. */
  vehicle?: Pick<NewCar, 'car_make' | 'car_model' | 'car_plate' | 'year' | 'mileage'>;
};

/**
 * A dealer registers (status `pending` until an admin approves). The company registry is asked
 * before anything is written, so a failed check leaves no rows; the company's registered name
 * is stored, never the free text.
 */
export async function registerDealer(
  deps: Pick<Deps, 'db' | 'services'>,
  application: DealerApplication,
  consent: Consent | null = null,
): Promise<{ dealer: DealerRow; car_id?: string }> {
  const company = await deps.services.rsk.lookup(application.organization_number);
  if (!company) {
    throw new ApiError(422, 'company_not_found', '❌ Kennitala fannst ekki í fyrirtækjaskrá.', {
      errors: [{ path: 'body.organizationNumber', message: 'body.organizationNumber is not in the company registry' }],
    });
  }
  const { vehicle, ...dealerFields } = application;
  return deps.db.transaction(async (tx) => {
    // Only an approved dealer holds a kennitala: a pending one (anyone can type any
    // company's number) must not lock the company out.
    await tx.one(lockKennitala(application.organization_number));
    if (await tx.maybeOne(approvedHolder(application.organization_number))) {
      throw conflict('dealer_already_registered', 'An approved dealer already holds this organization number');
    }
    const dealer = await insertDealer(tx, { ...dealerFields, company_name: company.name });
    if (!dealer) throw conflict('dealer_already_registered', 'A dealer with this e-mail is already registered');
    if (consent) {
      await recordRegistrationConsent(tx, { dealerId: dealer.id }, consent, {
        email: dealer.email,
        name: `${dealer.first_name} ${dealer.surname}`,
      });
    }
    if (!vehicle) return { dealer };
    // The dealer's own car waits as `pending`; its e-mail is the dealer's or none, never made up.
    const carId = await insertPendingCar(tx, {
      ...vehicle,
      seller_name: `${application.first_name} ${application.surname}`,
      email: application.email,
      phone: application.mobile_number,
      postal_code: application.postal_code,
    });
    if (!carId) throw conflict('plate_already_registered', `A car with plate ${vehicle.car_plate} is already registered`);
    return { dealer, car_id: carId };
  });
}
