import type { CommonQueryMethods } from 'slonik';
import { validationFailed, type FieldError } from '../errors.js';
import { photoKinds, photosByIds, type MediaBase } from '../db/photos.js';
import type { InspectionRow } from '../db/inspections.js';

/**
 * The condition report points at the car's own photos: a damage at photos of kind `damage`,
 * the report's `photos` at any of the car's photos (besides outside `https` URLs). The ids
 * are kept as given and turned into URLs when the report is shown, so a photo deleted later
 * simply drops out of the report.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isId = (value: string) => UUID.test(value);

type ReportPhotos = { photos?: string[]; damages?: { photo_ids?: string[] }[] };

/** 422 unless every photo id of the report is a photo of this car (damage photos: of kind `damage`). */
export async function checkInspectionPhotos(q: CommonQueryMethods, carId: string, report: ReportPhotos): Promise<void> {
  const reportIds = (report.photos ?? []).filter(isId);
  const damageIds = (report.damages ?? []).flatMap((d) => d.photo_ids ?? []);
  const all = [...new Set([...reportIds, ...damageIds].map((id) => id.toLowerCase()))];
  if (all.length === 0) return;
  const kinds = new Map((await photoKinds(q, carId, all)).map((p) => [p.id, p.kind]));
  const errors: FieldError[] = [];
  (report.photos ?? []).forEach((value, i) => {
    if (isId(value) && !kinds.has(value.toLowerCase())) {
      errors.push({ path: `body.photos.${i}`, message: `body.photos.${i} is not a photo of this car` });
    }
  });
  (report.damages ?? []).forEach((damage, i) =>
    (damage.photo_ids ?? []).forEach((id, j) => {
      const path = `body.damages.${i}.photo_ids.${j}`;
      const kind = kinds.get(id.toLowerCase());
      if (!kind) errors.push({ path, message: `${path} is not a photo of this car` });
      else if (kind !== 'damage') errors.push({ path, message: `${path} is a photo of kind ${kind}, not damage` });
    }),
  );
  if (errors.length) throw validationFailed(errors);
}

/** The report as the API shows it: photo ids resolved to URLs. */
export async function showInspection(q: CommonQueryMethods, media: MediaBase, row: InspectionRow) {
  const ids = [...new Set([...row.photos.filter(isId), ...row.damages.flatMap((d) => d.photo_ids ?? [])].map((id) => id.toLowerCase()))];
  const photos = new Map(ids.length ? (await photosByIds(q, media, ids)).map((p) => [p.id, p]) : []);
  return {
    ...row,
    photos: row.photos.flatMap((value) =>
      isId(value) ? (photos.has(value.toLowerCase()) ? [photos.get(value.toLowerCase())!.urls.full] : []) : [value],
    ),
    damages: row.damages.map((damage) =>
      damage.photo_ids === undefined
        ? damage
        : {
            ...damage,
            photos: damage.photo_ids.flatMap((id) => {
              const p = photos.get(id.toLowerCase());
              return p ? [{ id: p.id, thumb: p.urls.thumb, card: p.urls.card, full: p.urls.full }] : [];
            }),
          },
    ),
  };
}
