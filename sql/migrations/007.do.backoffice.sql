-- Back office: dealer approval, inspection reports, price estimates from sales.

-- Dealers are vetted before they may act (AUTH_MODE=jwt). Dealers registered before this
-- migration start `pending` too: nobody was vetted yet, so an admin approves each one.
ALTER TABLE dealers
  ADD COLUMN status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'suspended')),
  ADD COLUMN status_changed_at timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN status_reason text CHECK (status_reason IS NULL OR length(status_reason) <= 500);
-- the admin list: newest first, optionally per status (keyset pagination like the car list)
CREATE INDEX dealers_created_at_id_idx ON dealers (created_at DESC, id DESC);
CREATE INDEX dealers_status_created_at_id_idx ON dealers (status, created_at DESC, id DESC);

-- E-mails to a dealer about their approval; they concern no car.
ALTER TABLE email_outbox DROP CONSTRAINT email_outbox_kind_check;
ALTER TABLE email_outbox ADD CONSTRAINT email_outbox_kind_check
  CHECK (kind IN ('outbid', 'auction_closed', 'auction_won', 'sale_confirmed', 'auction_ended_unsold', 'decision_expired',
                  'dealer_approved', 'dealer_suspended'));

-- One condition report per car (NAF or Viking Kontroll); a new report replaces the old one
-- and gets a new id, so a client can tell that it changed.
CREATE TABLE car_inspections (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  car_id        uuid NOT NULL UNIQUE REFERENCES "Bílar" (id) ON DELETE CASCADE,
  inspector     text NOT NULL CHECK (length(inspector) BETWEEN 1 AND 200),
  inspected_at  timestamptz NOT NULL,
  odometer_km   integer NOT NULL CHECK (odometer_km BETWEEN 0 AND 9999999),
  overall_grade smallint NOT NULL CHECK (overall_grade BETWEEN 1 AND 5),
  -- { body, interior, engine, transmission, brakes, tyres, electrics }: each 1–5, each optional
  grades        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(grades) = 'object'),
  -- [{ area, description, severity }]
  damages       jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(damages) = 'array'),
  remarks       text,
  photos        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(photos) = 'array'),
  recorded_at   timestamptz NOT NULL DEFAULT now()
);

-- Comparable sales for the price estimate: same make and model (case-insensitive, trimmed),
-- a year and mileage window, sold with a winning bid. The estimate's one statement is a
-- range scan on this index.
CREATE INDEX "Bílar_sold_comparables_idx"
  ON "Bílar" (lower(btrim(car_make)), lower(btrim(car_model)), year, mileage)
  INCLUDE (winning_bid_id)
  WHERE status = 'sold' AND winning_bid_id IS NOT NULL;
