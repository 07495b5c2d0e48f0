-- The dealer's side: sign-in codes for dealers (same rules as the seller's codes of
-- migration 006: only a hash, 10 minutes, single use, 5 tries).
CREATE TABLE dealer_login_codes (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  dealer_id   uuid NOT NULL REFERENCES dealers (id) ON DELETE CASCADE,
  code_hash   text NOT NULL,
  attempts    integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  expires_at  timestamptz NOT NULL,
  consumed_at timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dealer_login_codes_dealer_idx ON dealer_login_codes (dealer_id, created_at DESC);

-- The vehicle's specification: what the registry (Creditinfo) says at registration, and what
-- the seller adds. `vehicle_checked_at` is when the registry answered (found or not): until
-- then the car's `vehicle` is unknown (null in the API) and a row in vehicle_lookups waits.
ALTER TABLE "Bílar"
  ADD COLUMN vin                text CHECK (vin IS NULL OR length(vin) <= 32),
  ADD COLUMN fuel               text CHECK (fuel IS NULL OR length(fuel) <= 60),
  ADD COLUMN engine_size        integer CHECK (engine_size IS NULL OR engine_size > 0),
  ADD COLUMN color              text CHECK (color IS NULL OR length(color) <= 60),
  ADD COLUMN first_registration date,
  ADD COLUMN transmission       text CHECK (transmission IN ('manual', 'automatic')),
  ADD COLUMN drivetrain         text CHECK (drivetrain IN ('fwd', 'rwd', 'awd')),
  ADD COLUMN equipment          text[] NOT NULL DEFAULT '{}' CHECK (cardinality(equipment) <= 50),
  ADD COLUMN vehicle_checked_at timestamptz,
  -- The seller's declarations (damage, repairs, ownership). Free text can hold personal facts
  -- (an estate names a death): shown only to those who see the seller's data.
  ADD COLUMN declarations       jsonb CHECK (declarations IS NULL OR jsonb_typeof(declarations) = 'object');

-- Registrations whose registry lookup failed: the worker retries each with backoff until the
-- registry answers. `due_at` is also the lease: a worker that takes a row moves it on first,
-- so a second worker does not take it too, and a crashed one's row comes due again.
CREATE TABLE vehicle_lookups (
  car_id     uuid PRIMARY KEY REFERENCES "Bílar" (id) ON DELETE CASCADE,
  attempts   integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  due_at     timestamptz NOT NULL DEFAULT now(),
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vehicle_lookups_due_idx ON vehicle_lookups (due_at);
