import type { CommonQueryMethods } from 'slonik';
import { lockPlate, otherWaiting, plateHeld, waitingOnPhone } from '../db/registrations.js';
import { changeStatus, type LifecycleSettings } from './lifecycle.js';

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
  const waiting = await waitingOnPhone(tx, phone);
  const result: Confirmed = { confirmed: [], lapsed: [] };
  const lapse = async (id: string) => {
    if (await changeStatus(tx, id, 'lapsed', { by: 'confirmation', settings, reason: 'plate_confirmed', ifAllowed: true })) {
      result.lapsed.push(id);
    }
  };
  let plate: string | null = null;
  for (const car of waiting) {
    if (car.car_plate !== plate) {
      plate = car.car_plate;
      await lockPlate(tx, plate);
      if (!(await plateHeld(tx, plate))) {
        // The newest registration of the plate on this number is the one its owner means.
        const opened = await changeStatus(tx, car.id, 'active', { by: 'confirmation', settings, ifAllowed: true });
        if (opened) {
          result.confirmed.push(car.id);
          for (const id of await otherWaiting(tx, plate, car.id)) await lapse(id);
          continue;
        }
      }
    }
    await lapse(car.id);
  }
  return result;
}
