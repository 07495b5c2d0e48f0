import { sql, type CommonQueryMethods } from 'slonik';
import { noRows } from './no-rows.js';

/** The logs of registry lookups: companies (RSK) and vehicles (Creditinfo), each with the client's address. */

export async function logCompanyValidation(
  q: CommonQueryMethods,
  row: { kennitala: string; valid: boolean; company_name: string | null; reason: string | null; client_ip: string | null },
): Promise<void> {
  await q.query(sql.type(noRows)`
    INSERT INTO company_validations (kennitala, valid, company_name, reason, client_ip)
    VALUES (${row.kennitala}, ${row.valid}, ${row.company_name}, ${row.reason}, ${row.client_ip})`);
}

export async function logVehicleVerification(
  q: CommonQueryMethods,
  row: {
    plate: string;
    mileage: number;
    outcome: 'found' | 'not_found' | 'error';
    reason: string | null;
    source: string | null;
    client_ip: string | null;
  },
): Promise<void> {
  await q.query(sql.type(noRows)`
    INSERT INTO vehicle_verifications (plate, mileage, outcome, reason, source, client_ip)
    VALUES (${row.plate}, ${row.mileage}, ${row.outcome}, ${row.reason}, ${row.source}, ${row.client_ip})`);
}
