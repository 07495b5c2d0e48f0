import { sql, type CommonQueryMethods } from 'slonik';
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

/** Several registrations may share a kennitala while pending: the admin's list says how many. */
const listedDealer = dealerRow.extend({ kennitala_registrations: z.number().int() });

/** Dealers newest first, optionally one status, keyset after the dealer `after` (one row more than `limit`). */
export function listDealersNewestFirst(
  q: CommonQueryMethods,
  filter: { status?: DealerRow['status']; after: string | null; limit: number },
) {
  const conditions = [
    // A closed (erased) account is no dealer to approve: it keeps only the company record.
    sql.fragment`erased_at IS NULL`,
    filter.status ? sql.fragment`status = ${filter.status}` : null,
    filter.after ? sql.fragment`(created_at, id) < (SELECT created_at, id FROM dealers WHERE id = ${filter.after})` : null,
  ].filter((c) => c !== null);
  const where = conditions.length ? sql.fragment`WHERE ${sql.join(conditions, sql.fragment` AND `)}` : sql.fragment``;
  return q.any(sql.type(listedDealer)`
    SELECT ${dealerColumns},
           (SELECT count(*)::int FROM dealers o WHERE o.organization_number = dealers.organization_number) AS kennitala_registrations
    FROM dealers ${where}
    ORDER BY created_at DESC, id DESC
    LIMIT ${filter.limit + 1}`);
}

/** The dealer's row, locked for the rest of the transaction; null when there is none. */
export function lockDealer(tx: CommonQueryMethods, dealerId: string): Promise<DealerRow | null> {
  return tx.maybeOne(sql.type(dealerRow)`SELECT ${dealerColumns} FROM dealers WHERE id = ${dealerId} AND erased_at IS NULL FOR UPDATE`);
}

export function writeDealerStatus(tx: CommonQueryMethods, dealerId: string, status: DealerRow['status'], reason: string | null) {
  return tx.one(sql.type(dealerRow)`
    UPDATE dealers SET status = ${status}, status_changed_at = now(), status_reason = ${reason}
    WHERE id = ${dealerId}
    RETURNING ${dealerColumns}`);
}

export type NewDealer = {
  first_name: string;
  surname: string;
  organization_number: string;
  dealer_name: string;
  company_name: string;
  mobile_number: string;
  street_address: string;
  postal_code: string;
  city: string;
  email: string | null;
};

/** Null when a dealer with this e-mail exists. */
export function insertDealer(q: CommonQueryMethods, d: NewDealer): Promise<DealerRow | null> {
  return q.maybeOne(sql.type(dealerRow)`
    INSERT INTO dealers (first_name, surname, organization_number, dealer_name, company_name, mobile_number,
                         street_address, postal_code, city, email)
    VALUES (${d.first_name}, ${d.surname}, ${d.organization_number}, ${d.dealer_name}, ${d.company_name}, ${d.mobile_number},
            ${d.street_address}, ${d.postal_code}, ${d.city}, ${d.email})
    ON CONFLICT DO NOTHING
    RETURNING ${dealerColumns}`);
}

/** A dealer as their own session shows them (sign-in, GET /api/dealer/me). */
export const dealerAccountRow = z.object({
  id: z.string().uuid(),
  email: z.string(),
  company_name: z.string(),
  dealer_name: z.string(),
  status: dealerStatus,
});
export type DealerAccount = z.infer<typeof dealerAccountRow>;

const accountColumns = sql.fragment`id, email, coalesce(company_name, dealer_name) AS company_name, dealer_name, status`;

/** The dealer registered with this (normalised) e-mail; null when none is. */
export function findDealerAccountByEmail(q: CommonQueryMethods, email: string): Promise<DealerAccount | null> {
  return q.maybeOne(sql.type(dealerAccountRow)`SELECT ${accountColumns} FROM dealers WHERE email = ${email}`);
}

/** The dealer with this id, if they still have an e-mail to sign in with. */
export function findDealerAccount(q: CommonQueryMethods, dealerId: string): Promise<DealerAccount | null> {
  return q.maybeOne(sql.type(dealerAccountRow)`SELECT ${accountColumns} FROM dealers WHERE id = ${dealerId} AND email IS NOT NULL`);
}
