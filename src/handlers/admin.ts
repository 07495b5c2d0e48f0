import { sql } from 'slonik';
import { z } from 'zod';
import { conflict, notFound } from '../errors.js';
import { carRow, selectCars } from '../db/cars.js';
import { approvedHolder, dealerColumns, dealerRow, lockKennitala } from '../db/dealers.js';
import { inspectionColumns, inspectionRow } from '../db/inspections.js';
import { changeStatus, lockCar } from '../db/car-status.js';
import { enqueueEmail } from '../auctions/outbox.js';
import { sellerVisibility } from '../api/principal.js';
import { decodeCursor, pageOf } from '../db/keyset.js';
import type { Handler } from '../api/types.js';
import { mediaBase } from '../storage/index.js';
import { checkInspectionPhotos, showInspection } from '../usecases/inspection-photos.js';

/** Dealers newest first, optionally one status (the approval queue: `?status=pending`), keyset-paginated. */
/** Several registrations may share a kennitala while pending: the list says how many. */
const listedDealer = dealerRow.extend({ kennitala_registrations: z.number().int() });

const listAdminDealers: Handler<'listAdminDealers'> = async ({ query, deps }) => {
  const limit = query.limit ?? 100;
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  const conditions = [
    query.status ? sql.fragment`status = ${query.status}` : null,
    after ? sql.fragment`(created_at, id) < (SELECT created_at, id FROM dealers WHERE id = ${after})` : null,
  ].filter((c) => c !== null);
  const where = conditions.length ? sql.fragment`WHERE ${sql.join(conditions, sql.fragment` AND `)}` : sql.fragment``;
  const rows = await deps.db.any(sql.type(listedDealer)`
    SELECT ${dealerColumns},
           (SELECT count(*)::int FROM dealers o WHERE o.organization_number = dealers.organization_number) AS kennitala_registrations
    FROM dealers ${where}
    ORDER BY created_at DESC, id DESC
    LIMIT ${limit + 1}`);
  const page = pageOf(rows, limit);
  return { status: 200, body: { success: true, dealers: page.items, count: page.items.length, next_cursor: page.next_cursor } };
};

/**
 * Approves, suspends or resets a dealer. The dealer is told by e-mail (outbox,
 * same transaction) when approved or suspended. Setting the status a dealer
 * already has changes nothing and sends nothing.
 */
const updateDealerStatus: Handler<'updateDealerStatus'> = async ({ params, body, deps, log }) => {
  const reason = body.reason?.trim() || null;
  const result = await deps.db.transaction(async (tx) => {
    const current = await tx.maybeOne(sql.type(dealerRow)`
      SELECT ${dealerColumns} FROM dealers WHERE id = ${params.dealer_id} FOR UPDATE`);
    if (!current) throw notFound('Dealer');
    if (current.status === body.status) return { dealer: current, changed: false };
    if (body.status === 'approved') {
      await tx.one(lockKennitala(current.organization_number));
      if (await tx.maybeOne(approvedHolder(current.organization_number, current.id))) {
        throw conflict('kennitala_taken', `Another dealer with organization number ${current.organization_number} is already approved`);
      }
    }
    const dealer = await tx.one(sql.type(dealerRow)`
      UPDATE dealers SET status = ${body.status}, status_changed_at = now(), status_reason = ${reason}
      WHERE id = ${params.dealer_id}
      RETURNING ${dealerColumns}`);
    if (dealer.email && (dealer.status === 'approved' || dealer.status === 'suspended')) {
      await enqueueEmail(tx, {
        kind: dealer.status === 'approved' ? 'dealer_approved' : 'dealer_suspended',
        dedupeKey: `dealer_status:${dealer.id}:${dealer.status}:${dealer.status_changed_at}`,
        carId: null,
        toEmail: dealer.email,
        toName: dealer.dealer_name,
        params: { dealer_name: dealer.dealer_name, status: dealer.status, reason },
      });
    }
    return { dealer, changed: true };
  });
  log.info('dealer status', { dealer_id: result.dealer.id, status: result.dealer.status, changed: result.changed });
  return {
    status: 200,
    body: {
      success: true,
      message: result.changed ? `Dealer is now ${result.dealer.status}` : `Dealer was already ${result.dealer.status}`,
      dealer: result.dealer,
    },
  };
};

/**
 * Records a car's inspection report, replacing any earlier one. With
 * `open_auction` a `pending` or `closed` car opens its bidding round now (an
 * `active` one keeps its round; a `sold` one → 409, and nothing is written).
 */
const putCarInspection: Handler<'putCarInspection'> = async ({ params, body, req, deps, log }) => {
  const carId = params.car_id;
  const inspection = await deps.db.transaction(async (tx) => {
    // The car's row lock orders two reports for one car, and a report against a status change.
    const car = await lockCar(tx, carId);
    if (!car) throw notFound('Car');
    await checkInspectionPhotos(tx, carId, body);
    if (body.open_auction && car.status !== 'active') {
      await changeStatus(tx, carId, 'active', { by: 'inspection', settings: deps.config, reason: 'inspection' });
    }
    // A damage's resolved `photos` are the answer's, never stored.
    const damages = (body.damages ?? []).map(({ photos: _shown, ...damage }) => damage);
    const row = await tx.one(sql.type(inspectionRow)`
      INSERT INTO car_inspections (car_id, inspector, inspected_at, odometer_km, overall_grade, grades, damages, remarks, photos,
                                   items, next_inspection_due)
      VALUES (${carId}, ${body.inspector.trim()}, ${body.inspected_at}, ${body.odometer_km}, ${body.overall_grade},
              ${sql.jsonb(body.grades ?? {})}, ${sql.jsonb(damages)}, ${body.remarks?.trim() || null},
              ${sql.jsonb(body.photos ?? [])}, ${sql.jsonb(body.items ?? [])}, ${body.next_inspection_due ?? null}::date)
      ON CONFLICT (car_id) DO UPDATE
      SET id = gen_random_uuid(), inspector = EXCLUDED.inspector, inspected_at = EXCLUDED.inspected_at,
          odometer_km = EXCLUDED.odometer_km, overall_grade = EXCLUDED.overall_grade, grades = EXCLUDED.grades,
          damages = EXCLUDED.damages, remarks = EXCLUDED.remarks, photos = EXCLUDED.photos, items = EXCLUDED.items,
          next_inspection_due = EXCLUDED.next_inspection_due, recorded_at = now()
      RETURNING ${inspectionColumns}`);
    return showInspection(tx, mediaBase(deps), row);
  });
  const car = await deps.db.one(sql.type(carRow)`${selectCars(sellerVisibility(req), mediaBase(deps))} WHERE c.id = ${carId}`);
  log.info('inspection recorded', {
    car_id: carId,
    inspection_id: inspection.id,
    open_auction: Boolean(body.open_auction),
    status: car.status,
  });
  return { status: 200, body: { success: true, inspection, car } };
};

export const adminHandlers = { listAdminDealers, updateDealerStatus, putCarInspection };
