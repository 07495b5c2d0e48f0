import { recordingFailure } from '../errors.js';
import { kennitalaChecksumHolds } from '../domain/normalise.js';
import { logCompanyValidation, logVehicleVerification } from '../db/lookups.js';
import type { Deps } from '../deps.js';

/**
 * Registry lookups anyone may make while filling in a form: a company by kennitala (RSK), a
 * vehicle by plate (Creditinfo). Every lookup is logged, failed ones too: the log is how
 * support answers "it said unavailable".
 */

type LookupDeps = Pick<Deps, 'db' | 'services'>;

export type CompanyCheck = { valid: boolean; reason: 'check_digit' | 'not_found' | null; companyName: string | null };

export async function checkCompany(deps: LookupDeps, kennitala: string, clientIp: string | null): Promise<CompanyCheck> {
  const record = (valid: boolean, companyName: string | null, reason: string | null) =>
    logCompanyValidation(deps.db, { kennitala, valid, company_name: companyName, reason, client_ip: clientIp });
  // A failing check digit is answered here; the registry is never asked about it.
  if (!kennitalaChecksumHolds(kennitala)) {
    await record(false, null, 'check_digit');
    return { valid: false, reason: 'check_digit', companyName: null };
  }
  const company = await recordingFailure(
    () => deps.services.rsk.lookup(kennitala),
    (code) => record(false, null, code),
  );
  if (!company) {
    await record(false, null, 'not_found');
    return { valid: false, reason: 'not_found', companyName: null };
  }
  await record(true, company.name, null);
  return { valid: true, reason: null, companyName: company.name };
}

export const companyRegistryStatus = (deps: Pick<Deps, 'services'>) => deps.services.rsk.status();

export async function lookUpVehicle(deps: LookupDeps, plate: string, mileage: number, clientIp: string | null) {
  const record = (o: { outcome: 'found' | 'not_found' | 'error'; reason: string | null; source: string | null }) =>
    logVehicleVerification(deps.db, { plate, mileage, ...o, client_ip: clientIp });
  const vehicle = await recordingFailure(
    () => deps.services.creditinfo.lookup(plate),
    (code) => record({ outcome: 'error', reason: code, source: null }),
  );
  if (!vehicle) {
    await record({
      outcome: 'not_found',
      reason: 'no vehicle with this plate',
      source: deps.services.creditinfo.mode === 'sandbox' ? 'sandbox' : 'creditinfo',
    });
    return null;
  }
  await record({ outcome: 'found', reason: null, source: vehicle.source });
  return vehicle;
}
