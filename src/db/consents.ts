import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { noRows } from './no-rows.js';

/** Consent rows (migration 013): one per change, never updated. */

export type NewConsent = {
  subject_kind: 'seller' | 'dealer' | 'contact';
  car_id: string | null;
  dealer_id: string | null;
  email: string | null;
  terms_version: string | null;
  newsletter: boolean;
  source: 'car_registration' | 'dealer_registration' | 'brevo_list' | 'change';
};

export function insertConsent(q: CommonQueryMethods, c: NewConsent) {
  return q.query(sql.type(noRows)`
    INSERT INTO consents (subject_kind, car_id, dealer_id, email, terms_version, newsletter, source)
    VALUES (${c.subject_kind}, ${c.car_id}, ${c.dealer_id}, ${c.email}, ${c.terms_version}, ${c.newsletter}, ${c.source})`);
}

const latestRow = z.object({ terms_version: z.string().nullable(), newsletter: z.boolean() });

/** The consent that holds now for a car's seller or a dealer: the newest row. */
export function latestConsent(q: CommonQueryMethods, by: { carId?: string; dealerId?: string }) {
  const where = by.carId ? sql.fragment`car_id = ${by.carId}` : sql.fragment`dealer_id = ${by.dealerId ?? null}`;
  return q.maybeOne(sql.type(latestRow)`
    SELECT terms_version, newsletter FROM consents WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT 1`);
}
