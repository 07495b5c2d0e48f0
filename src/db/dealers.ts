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
