import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { UNLISTED_STATUSES } from '../domain/lifecycle.js';
import { carRow, selectCars } from './cars.js';
import type { MediaBase } from './photos.js';
import { noRows } from './no-rows.js';

/** The seller's side of a car: finding it by plate and e-mail, its sessions, the seller's page. */

const sellerOf = z.object({ id: z.string().uuid(), phone: z.string().nullable(), seller_name: z.string(), car_plate: z.string() });
export type SellersCar = z.infer<typeof sellerOf>;

/**
 * The car registered with this plate and e-mail (both already normalised as at registration).
 * A registration nobody has confirmed (or one that lapsed) signs nobody in.
 */
export function findSellersCar(q: CommonQueryMethods, plate: string, email: string): Promise<SellersCar | null> {
  return q.maybeOne(sql.type(sellerOf)`
    SELECT id, phone, seller_name, car_plate FROM "Bílar"
    WHERE car_plate = ${plate} AND email = ${email}
      AND status <> ALL(${sql.array([...UNLISTED_STATUSES], 'text')})`);
}

const sessionRow = z.object({ seller_session: z.number().int() });

/** Starts a new session generation: every token of an older one stops working. Null when the car is gone. */
export function bumpSellerSession(q: CommonQueryMethods, carId: string): Promise<number | null> {
  return q.maybeOneFirst(sql.type(sessionRow)`
    UPDATE "Bílar" SET seller_session = seller_session + 1 WHERE id = ${carId} RETURNING seller_session`);
}

const carSessionRow = z.object({ car_id: z.string().uuid(), session: z.number().int() });

/** The current session generation of each of the cars (the one a new seller token carries). */
export function sellerSessions(q: CommonQueryMethods, carIds: readonly string[]) {
  return q.any(sql.type(carSessionRow)`
    SELECT id AS car_id, seller_session AS session FROM "Bílar" WHERE id = ANY(${sql.array([...carIds], 'uuid')}) ORDER BY id`);
}

// The seller always sees their own name: the car object's seller fields are never hidden here.
const sellerCarRow = carRow.omit({ my_bid: true }).extend({ seller_name: z.string(), decision_due_at: z.string().nullable() });

export function readSellerCar(q: CommonQueryMethods, carId: string, media: MediaBase) {
  return q.one(sql.type(sellerCarRow)`
    SELECT x.*, (SELECT decision_due_at FROM "Bílar" WHERE id = x.id) AS decision_due_at
    FROM (${selectCars({ visible: true }, media)} WHERE c.id = ${carId}) x`);
}

const sellerBid = z.object({ amount: z.number().int(), created_at: z.string() });

/** Amounts and times only: the seller never learns who bid. The bids of a buyer who backed out are not offers any more. */
export function bidsForSeller(q: CommonQueryMethods, carId: string) {
  return q.any(sql.type(sellerBid)`
    SELECT bid_amount AS amount, created_at FROM "uppboð" WHERE car_id = ${carId} AND NOT set_aside
    ORDER BY bid_amount DESC, created_at ASC, seq ASC`);
}

/** The rest of the transaction reads one snapshot and writes nothing. */
export async function readOnlySnapshot(tx: CommonQueryMethods): Promise<void> {
  await tx.query(sql.type(noRows)`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`);
}

const deadlineRow = z.object({ passed: z.boolean(), decision_due_at: z.string().nullable() });

/** Whether the seller's time to decide has passed, at the moment the row lock was won (clock_timestamp). */
export function decisionDeadline(tx: CommonQueryMethods, carId: string) {
  return tx.one(sql.type(deadlineRow)`
    SELECT coalesce(decision_due_at <= clock_timestamp(), false) AS passed, decision_due_at FROM "Bílar" WHERE id = ${carId}`);
}
