import { sql } from 'slonik';
import { ApiError, notFound } from '../errors.js';
import { findInspection } from '../db/inspections.js';
import type { Handler } from '../api/types.js';
import { showInspection } from '../usecases/inspection-photos.js';
import { mediaBase } from '../storage/index.js';

/** Public like the car itself: a report holds no personal data. */
const getCarInspection: Handler<'getCarInspection'> = async ({ params, deps }) => {
  const inspection = await findInspection(deps.db, params.car_id);
  if (inspection) return { status: 200, body: { success: true, inspection: await showInspection(deps.db, mediaBase(deps), inspection) } };
  // Only a miss needs telling apart: no report yet, or no such car.
  if (!(await deps.db.exists(sql.unsafe`SELECT 1 FROM "Bílar" WHERE id = ${params.car_id}`))) throw notFound('Car');
  throw new ApiError(404, 'inspection_not_found', 'This car has no inspection report yet');
};

export const inspectionHandlers = { getCarInspection };
