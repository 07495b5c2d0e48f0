import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { VehicleSpec } from './cars.js';
import { noRows } from './no-rows.js';

/** Registry lookups that failed at registration, retried by the worker (migration 011). */

export async function queueVehicleLookup(q: CommonQueryMethods, carId: string): Promise<void> {
  await q.query(sql.type(noRows)`INSERT INTO vehicle_lookups (car_id) VALUES (${carId}) ON CONFLICT (car_id) DO NOTHING`);
}

const dueRow = z.object({ car_id: z.string().uuid(), car_plate: z.string(), attempts: z.number().int() });

/**
 * Takes up to `limit` due lookups and moves each one's `due_at` on by `leaseSeconds` at once
 * (SKIP LOCKED: a second worker takes other rows), so a worker that dies mid-lookup leaves
 * the row to come due again.
 */
export function takeDueLookups(q: CommonQueryMethods, limit: number, leaseSeconds: number) {
  return q.any(sql.type(dueRow)`
    UPDATE vehicle_lookups l SET due_at = now() + make_interval(secs => ${leaseSeconds})
    FROM "Bílar" c
    WHERE c.id = l.car_id AND l.car_id IN (
      SELECT car_id FROM vehicle_lookups WHERE due_at <= now() ORDER BY due_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
    RETURNING l.car_id, c.car_plate, l.attempts`);
}

/** The registry answered: its facts go on the car (the seller's own fields stay) and the lookup is done. */
export async function storeRegistryFacts(
  q: CommonQueryMethods,
  carId: string,
  r: Pick<VehicleSpec, 'vin' | 'fuel' | 'engine_size' | 'color' | 'first_registration'>,
): Promise<void> {
  await q.query(sql.type(noRows)`
    UPDATE "Bílar" SET vin = ${r.vin}, fuel = ${r.fuel}, engine_size = ${r.engine_size}, color = ${r.color},
           first_registration = ${r.first_registration}::date, vehicle_checked_at = now(), updated_at = now()
    WHERE id = ${carId} AND vehicle_checked_at IS NULL`);
  await q.query(sql.type(noRows)`DELETE FROM vehicle_lookups WHERE car_id = ${carId}`);
}

/** Another failure: try again after `delaySeconds`. */
export async function retryLookupLater(q: CommonQueryMethods, carId: string, delaySeconds: number, error: string): Promise<void> {
  await q.query(sql.type(noRows)`
    UPDATE vehicle_lookups SET attempts = attempts + 1, due_at = now() + make_interval(secs => ${delaySeconds}),
           last_error = ${error.slice(0, 200)}
    WHERE car_id = ${carId}`);
}
