-- Marketplace tables. Names and columns follow the old Supabase tables so that
-- existing data (and the MongoDB import) map one to one.

CREATE TABLE "Bílar" (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  seller_name text NOT NULL CHECK (length(seller_name) BETWEEN 1 AND 200),
  -- null only for a car that came in through dealer registration
  email       text CHECK (email IS NULL OR email = lower(btrim(email))),
  phone       text CHECK (phone IS NULL OR phone ~ '^\+[1-9][0-9]{6,14}$'),
  postal_code text,
  car_make    text NOT NULL,
  car_model   text NOT NULL,
  car_plate   text NOT NULL UNIQUE CHECK (car_plate = upper(car_plate) AND car_plate !~ '\s'),
  year        integer NOT NULL CHECK (year BETWEEN 1900 AND 2100),
  mileage     integer NOT NULL CHECK (mileage BETWEEN 0 AND 9999999),
  status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'pending', 'sold')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
-- keyset pagination: newest first, optionally per status
CREATE INDEX "Bílar_created_at_id_idx" ON "Bílar" (created_at DESC, id DESC);
CREATE INDEX "Bílar_status_created_at_id_idx" ON "Bílar" (status, created_at DESC, id DESC);

CREATE TABLE "uppboð" (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  car_id       uuid NOT NULL REFERENCES "Bílar" (id) ON DELETE CASCADE,
  dealer_name  text NOT NULL CHECK (length(dealer_name) BETWEEN 1 AND 200),
  dealer_email text NOT NULL CHECK (dealer_email = lower(btrim(dealer_email))),
  bid_amount   integer NOT NULL CHECK (bid_amount > 0),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
-- highest bid per car, and a car's bids highest first
CREATE INDEX "uppboð_car_amount_idx" ON "uppboð" (car_id, bid_amount DESC, created_at);
CREATE INDEX "uppboð_dealer_created_idx" ON "uppboð" (dealer_email, created_at DESC);

CREATE TABLE favorites (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  car_id       uuid NOT NULL REFERENCES "Bílar" (id) ON DELETE CASCADE,
  dealer_email text NOT NULL CHECK (dealer_email = lower(btrim(dealer_email))),
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (car_id, dealer_email)
);
CREATE INDEX favorites_dealer_created_idx ON favorites (dealer_email, created_at DESC);

CREATE TABLE status_checks (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  client_name text,
  message     text,
  details     jsonb,
  "timestamp" timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX status_checks_timestamp_idx ON status_checks ("timestamp" DESC, id DESC);

CREATE TABLE dealers (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  first_name          text NOT NULL,
  surname             text NOT NULL,
  organization_number text NOT NULL UNIQUE CHECK (organization_number ~ '^[0-9]{10}$'),
  dealer_name         text NOT NULL,
  company_name        text,
  mobile_number       text NOT NULL CHECK (mobile_number ~ '^\+[1-9][0-9]{6,14}$'),
  street_address      text NOT NULL,
  postal_code         text NOT NULL,
  city                text NOT NULL,
  email               text UNIQUE CHECK (email IS NULL OR email = lower(btrim(email))),
  created_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE vehicle_verifications (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  plate       text NOT NULL,
  mileage     integer,
  outcome     text NOT NULL CHECK (outcome IN ('found', 'not_found', 'error')),
  reason      text,
  source      text,
  client_ip   text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vehicle_verifications_created_idx ON vehicle_verifications (created_at DESC);
