import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { CONFIRMATION_HOURS } from '../domain/lifecycle.js';
import { changeStatus, type LifecycleSettings } from './car-status.js';
import { holdsPlate } from './cars.js';

const waitingRow = z.object({ id: z.string().uuid(), car_plate: z.string() });
const lockedRow = z.object({ locked: z.string() });

export type Confirmed = { confirmed: string[]; lapsed: string[] };

/**
 * A phone number was just proved (its SMS code matched): each registration waiting on it
 * (`unconfirmed`, younger than CONFIRMATION_HOURS) becomes what registration makes a car
 * without the proof (`active`, its auction opens now), unless its plate is already held,
 * then it lapses. The first registration of a plate to be confirmed wins: every other one
 * waiting for that plate, whoever's phone it names, lapses. Call inside a transaction.
 *
 * One advisory lock per plate, taken in plate order, serialises confirmations of the same
 * plate (two numbers verified at once): the second sees the first's car and lapses.
 */
export async function confirmRegistrations(tx: CommonQueryMethods, phone: string, settings: LifecycleSettings): Promise<Confirmed> {
  const waiting = await tx.any(sql.type(waitingRow)`
    SELECT id, car_plate FROM "Bílar"
    WHERE phone = ${phone} AND status = 'unconfirmed'
      AND created_at > now() - make_interval(hours => ${CONFIRMATION_HOURS})
    ORDER BY car_plate, created_at DESC, id`);
  const result: Confirmed = { confirmed: [], lapsed: [] };
  let plate: string | null = null;
  for (const car of waiting) {
    if (car.car_plate !== plate) {
      plate = car.car_plate;
      await tx.one(sql.type(lockedRow)`SELECT pg_advisory_xact_lock(hashtext(${`plate:${plate}`}))::text AS locked`);
      const held = await tx.exists(sql.type(z.object({ one: z.number() }))`
        SELECT 1 AS one FROM "Bílar" WHERE car_plate = ${plate} AND ${holdsPlate}`);
      if (!held) {
        // The newest registration of the plate on this number is the one its owner means.
        const opened = await changeStatus(tx, car.id, 'active', { by: 'confirmation', settings, ifAllowed: true });
        if (opened) {
          result.confirmed.push(car.id);
          const others = await tx.anyFirst(sql.type(z.object({ id: z.string().uuid() }))`
            SELECT id FROM "Bílar" WHERE car_plate = ${plate} AND status = 'unconfirmed' AND id <> ${car.id} ORDER BY id`);
          for (const id of others) {
            if (await changeStatus(tx, id, 'lapsed', { by: 'confirmation', settings, reason: 'plate_confirmed', ifAllowed: true })) {
              result.lapsed.push(id);
            }
          }
          continue;
        }
      }
    }
    if (await changeStatus(tx, car.id, 'lapsed', { by: 'confirmation', settings, reason: 'plate_confirmed', ifAllowed: true })) {
      result.lapsed.push(car.id);
    }
  }
  return result;
}
