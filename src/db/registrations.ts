import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { CONFIRMATION_HOURS } from '../domain/lifecycle.js';
import { holdsPlate } from './cars.js';

/** The queries behind confirming registrations by phone (src/usecases/registration.ts). */

const waitingRow = z.object({ id: z.string().uuid(), car_plate: z.string() });
const lockedRow = z.object({ locked: z.string() });
const oneRow = z.object({ one: z.number() });
const idRow = z.object({ id: z.string().uuid() });

/** Registrations waiting on `phone` (`unconfirmed`, younger than CONFIRMATION_HOURS), by plate, newest first. */
export function waitingOnPhone(tx: CommonQueryMethods, phone: string) {
  return tx.any(sql.type(waitingRow)`
    SELECT id, car_plate FROM "Bílar"
    WHERE phone = ${phone} AND status = 'unconfirmed'
      AND created_at > now() - make_interval(hours => ${CONFIRMATION_HOURS})
    ORDER BY car_plate, created_at DESC, id`);
}

/** The plate's advisory lock, for the rest of the transaction. */
export async function lockPlate(tx: CommonQueryMethods, plate: string): Promise<void> {
  await tx.one(sql.type(lockedRow)`SELECT pg_advisory_xact_lock(hashtext(${`plate:${plate}`}))::text AS locked`);
}

/** Whether a car holds the plate (every status but the unproved ones). */
export function plateHeld(tx: CommonQueryMethods, plate: string): Promise<boolean> {
  return tx.exists(sql.type(oneRow)`SELECT 1 AS one FROM "Bílar" WHERE car_plate = ${plate} AND ${holdsPlate}`);
}

/** The other registrations of the plate still waiting, whoever's phone they name. */
export function otherWaiting(tx: CommonQueryMethods, plate: string, exceptId: string) {
  return tx.anyFirst(sql.type(idRow)`
    SELECT id FROM "Bílar" WHERE car_plate = ${plate} AND status = 'unconfirmed' AND id <> ${exceptId} ORDER BY id`);
}
