-- Car photos. The row is the truth: it is written only once every variant is stored (under
-- the object names of src/domain/image-limits.ts, made from the photo's id), and an object
-- no row names is removed by the orphan sweep. A car's rows go with the car; its objects
-- then follow by the sweep.
CREATE TABLE car_photos (
  id uuid PRIMARY KEY,
  car_id uuid NOT NULL REFERENCES "Bílar" (id) ON DELETE CASCADE,
  -- 1, 2, …: the first is the cover. Deferred so that a reorder can swap positions in one statement.
  position integer NOT NULL CHECK (position >= 1),
  kind text NOT NULL CHECK (kind IN ('exterior', 'interior', 'damage', 'document')),
  caption text CHECK (char_length(caption) <= 500),
  width integer NOT NULL CHECK (width > 0),
  height integer NOT NULL CHECK (height > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT car_photos_position_key UNIQUE (car_id, position) DEFERRABLE INITIALLY DEFERRED
);

-- The condition report's checklist and next due date; damages and photos stay jsonb.
ALTER TABLE car_inspections ADD COLUMN items jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(items) = 'array');
ALTER TABLE car_inspections ADD COLUMN next_inspection_due date;
