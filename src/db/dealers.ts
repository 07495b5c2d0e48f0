import { sql } from 'slonik';
import { z } from 'zod';

export const dealerStatus = z.enum(['pending', 'approved', 'suspended']);

/** The dealer object of the API (registration answer, the admin's list and status change). */
export const dealerRow = z.object({
  id: z.string().uuid(),
  first_name: z.string(),
  surname: z.string(),
  organization_number: z.string(),
  dealer_name: z.string(),
  company_name: z.string().nullable(),
  mobile_number: z.string(),
  street_address: z.string(),
  postal_code: z.string(),
  city: z.string(),
  email: z.string().nullable(),
  status: dealerStatus,
  status_changed_at: z.string(),
  status_reason: z.string().nullable(),
  created_at: z.string(),
});
export type DealerRow = z.infer<typeof dealerRow>;

export const dealerColumns = sql.fragment`id, first_name, surname, organization_number, dealer_name, company_name, mobile_number,
  street_address, postal_code, city, email, status, status_changed_at, status_reason, created_at`;

/**
 * Serialises everything that decides who holds a kennitala (a registration's check, an
 * approval) for the rest of the transaction, so the check and the write see the same state.
 */
export const lockKennitala = (kennitala: string) =>
  sql.type(z.object({ locked: z.string() }))`SELECT pg_advisory_xact_lock(hashtext(${`kennitala:${kennitala}`}))::text AS locked`;

/** Whether an approved dealer holds the kennitala (the partial unique index of migration 009). */
export const approvedHolder = (kennitala: string, except: string | null = null) =>
  sql.type(z.object({ id: z.string().uuid() }))`
    SELECT id FROM dealers WHERE organization_number = ${kennitala} AND status = 'approved'
      AND id IS DISTINCT FROM ${except}::uuid`;
