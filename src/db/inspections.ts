import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';

const grade = z.number().int().min(1).max(5);

/** A car's inspection report, as the API shows it. */
export const inspectionRow = z.object({
  id: z.string().uuid(),
  car_id: z.string().uuid(),
  inspector: z.string(),
  inspected_at: z.string(),
  odometer_km: z.number().int(),
  overall_grade: grade,
  grades: z
    .object({
      body: grade,
      interior: grade,
      engine: grade,
      transmission: grade,
      brakes: grade,
      tyres: grade,
      electrics: grade,
    })
    .partial(),
  damages: z.array(
    z.object({
      area: z.string(),
      description: z.string(),
      severity: z.enum(['minor', 'moderate', 'major']),
      location: z.string().optional(),
      photo_ids: z.array(z.string()).optional(),
    }),
  ),
  remarks: z.string().nullable(),
  /** `https` URLs, and ids of the car's own photos (resolved to URLs when shown). */
  photos: z.array(z.string()),
  items: z.array(
    z.object({
      section: z.enum(['exterior', 'interior', 'tyres', 'brakes', 'engine', 'electrics', 'underbody', 'test_drive']),
      name: z.string(),
      result: z.enum(['pass', 'remark', 'fail']),
      measurement: z.object({ value: z.number(), unit: z.string() }).optional(),
      note: z.string().optional(),
    }),
  ),
  next_inspection_due: z.string().nullable(),
  recorded_at: z.string(),
});
export type InspectionRow = z.infer<typeof inspectionRow>;

export const inspectionColumns = sql.fragment`id, car_id, inspector, inspected_at, odometer_km, overall_grade::int AS overall_grade,
  grades, damages, remarks, photos, items, to_char(next_inspection_due, 'YYYY-MM-DD') AS next_inspection_due, recorded_at`;

/** A car's report, or null when it has none. */
export function findInspection(q: CommonQueryMethods, carId: string): Promise<InspectionRow | null> {
  return q.maybeOne(sql.type(inspectionRow)`SELECT ${inspectionColumns} FROM car_inspections WHERE car_id = ${carId}`);
}

export type NewInspection = Omit<InspectionRow, 'id' | 'car_id' | 'recorded_at'>;

/** Records the car's report, replacing any earlier one (a new id, recorded now). */
export function upsertInspection(q: CommonQueryMethods, carId: string, report: NewInspection): Promise<InspectionRow> {
  return q.one(sql.type(inspectionRow)`
    INSERT INTO car_inspections (car_id, inspector, inspected_at, odometer_km, overall_grade, grades, damages, remarks, photos,
                                 items, next_inspection_due)
    VALUES (${carId}, ${report.inspector}, ${report.inspected_at}, ${report.odometer_km}, ${report.overall_grade},
            ${sql.jsonb(report.grades)}, ${sql.jsonb(report.damages)}, ${report.remarks}, ${sql.jsonb(report.photos)},
            ${sql.jsonb(report.items)}, ${report.next_inspection_due}::date)
    ON CONFLICT (car_id) DO UPDATE
    SET id = gen_random_uuid(), inspector = EXCLUDED.inspector, inspected_at = EXCLUDED.inspected_at,
        odometer_km = EXCLUDED.odometer_km, overall_grade = EXCLUDED.overall_grade, grades = EXCLUDED.grades,
        damages = EXCLUDED.damages, remarks = EXCLUDED.remarks, photos = EXCLUDED.photos, items = EXCLUDED.items,
        next_inspection_due = EXCLUDED.next_inspection_due, recorded_at = now()
    RETURNING ${inspectionColumns}`);
}
