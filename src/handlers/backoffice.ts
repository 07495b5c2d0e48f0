import { decodeCursor } from '../domain/keyset.js';
import { principalOf } from '../api/principal.js';
import { listDealers, setDealerStatus } from '../usecases/dealer-approval.js';
import { recordInspection } from '../usecases/inspections.js';
import type { Handler } from '../api/types.js';

/** Dealers newest first, optionally one status (the approval queue: `?status=pending`), keyset-paginated. */
const listAdminDealers: Handler<'listAdminDealers'> = async ({ query, deps }) => {
  const limit = query.limit ?? 100;
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  const page = await listDealers(deps, { status: query.status, after, limit });
  return { status: 200, body: { success: true, dealers: page.items, count: page.items.length, next_cursor: page.next_cursor } };
};

const updateDealerStatus: Handler<'updateDealerStatus'> = async ({ params, body, deps, log }) => {
  const result = await setDealerStatus(deps, params.dealer_id, body.status, body.reason?.trim() || null);
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

const putCarInspection: Handler<'putCarInspection'> = async ({ params, body, req, deps, log }) => {
  const report = {
    inspector: body.inspector.trim(),
    inspected_at: body.inspected_at,
    odometer_km: body.odometer_km,
    overall_grade: body.overall_grade,
    grades: body.grades ?? {},
    // A damage's resolved `photos` are the answer's, never stored.
    damages: (body.damages ?? []).map(({ photos: _shown, ...damage }) => damage),
    remarks: body.remarks?.trim() || null,
    photos: body.photos ?? [],
    items: body.items ?? [],
    next_inspection_due: body.next_inspection_due ?? null,
  };
  const { inspection, car } = await recordInspection(deps, params.car_id, report, Boolean(body.open_auction), principalOf(req));
  log.info('inspection recorded', {
    car_id: params.car_id,
    inspection_id: inspection.id,
    open_auction: Boolean(body.open_auction),
    status: car.status,
  });
  return { status: 200, body: { success: true, inspection, car } };
};

export const backofficeHandlers = { listAdminDealers, updateDealerStatus, putCarInspection };
