-- The seller's side: one car lifecycle with three new final-ish statuses, a decision
-- deadline, one append-only event log per car, and sign-in codes for sellers.
-- The transitions themselves live in src/domain/lifecycle.ts; src/db/car-status.ts is
-- the only code that writes "Bílar".status.

-- `declined`: the seller turned the highest bid down; `withdrawn`: the seller took the car
-- off the market; `expired`: the decision deadline passed without a decision.
ALTER TABLE "Bílar" DROP CONSTRAINT "Bílar_status_check";
ALTER TABLE "Bílar" ADD CONSTRAINT "Bílar_status_check"
  CHECK (status IN ('active', 'pending', 'sold', 'closed', 'declined', 'withdrawn', 'expired'));

ALTER TABLE "Bílar"
  -- set when an auction closes (closing time + SELLER_DECISION_HOURS); the sweep expires
  -- the car once it has passed, reading the column each time, so a later change counts
  ADD COLUMN decision_due_at timestamptz,
  -- the seller's own words when withdrawing: kept for staff, never in an event a stream shows
  ADD COLUMN withdraw_reason text CHECK (withdraw_reason IS NULL OR length(withdraw_reason) <= 1000);

-- the expiry sweep looks for closed cars whose deadline has passed
CREATE INDEX "Bílar_decision_due_at_idx" ON "Bílar" (decision_due_at) WHERE status = 'closed';

-- What happened to a car, in order: every status change and every accepted bid, written in
-- the transaction that made it. `id` orders events per car (the car's row lock serialises
-- them) and is the id a live stream will hand out; `data` is what such a stream shows and
-- never names a dealer.
CREATE TABLE car_events (
  id     bigserial PRIMARY KEY,
  car_id uuid NOT NULL REFERENCES "Bílar" (id) ON DELETE CASCADE,
  kind   text NOT NULL CHECK (kind IN ('bid', 'status')),
  data   jsonb NOT NULL,
  at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX car_events_car_idx ON car_events (car_id, id);

-- Every car, however it arrives (registration, the MongoDB importer, demo data, a hand-written
-- INSERT), starts its timeline with the status it was created with. A trigger rather than an
-- INSERT in each path: the importer upserts in bulk and must not need to know about events.
CREATE FUNCTION car_events_first_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO car_events (car_id, kind, data, at)
  VALUES (NEW.id, 'status', jsonb_build_object('status', NEW.status, 'by', 'registration',
                                               'auction_ends_at', NEW.auction_ends_at), NEW.created_at);
  RETURN NULL;
END $$;
CREATE TRIGGER car_events_first_status AFTER INSERT ON "Bílar"
  FOR EACH ROW EXECUTE FUNCTION car_events_first_status();

-- The application changes a status only through changeStatus (src/db/car-status.ts), which
-- writes the event itself, with who and why, and says so with a transaction-local setting.
-- Anything else that changes a status (the importer's "export wins" upsert, a fix by hand in
-- psql) still leaves its entry, so the timeline never misses a change, whoever makes it.
CREATE FUNCTION car_events_direct_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('kaggi.lifecycle', true) IS DISTINCT FROM 'on' THEN
    INSERT INTO car_events (car_id, kind, data)
    VALUES (NEW.id, 'status', jsonb_build_object('status', NEW.status, 'from', OLD.status, 'by', 'direct',
                                                 'auction_ends_at', NEW.auction_ends_at, 'decision_due_at', NEW.decision_due_at));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER car_events_direct_status AFTER UPDATE OF status ON "Bílar"
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION car_events_direct_status();

-- Cars already here get that first entry from their current status (their history before
-- this migration is unknown): at registration for a car still open, else when it last changed.
INSERT INTO car_events (car_id, kind, data, at)
SELECT c.id, 'status',
       jsonb_build_object('status', c.status, 'by', 'migration', 'auction_ends_at', c.auction_ends_at),
       CASE WHEN c.status IN ('active', 'pending') THEN c.created_at ELSE coalesce(c.closed_at, c.updated_at) END
FROM "Bílar" c
ORDER BY c.created_at, c.id;

-- The lifecycle's e-mails.
ALTER TABLE email_outbox DROP CONSTRAINT email_outbox_kind_check;
ALTER TABLE email_outbox ADD CONSTRAINT email_outbox_kind_check CHECK (kind IN (
  'outbid', 'auction_closed',
  'auction_won',          -- the winning dealer, when the car is sold
  'sale_confirmed',       -- the seller, when the car is sold
  'auction_ended_unsold', -- each bidder, when the car is declined, withdrawn or expires
  'decision_expired'      -- the seller, when the decision deadline passed
));

-- Sign-in codes for sellers (plate + e-mail → a code by e-mail and SMS). Same rules as the
-- phone codes of migration 002: only a hash, 10 minutes, single use, 5 tries.
CREATE TABLE seller_login_codes (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  car_id      uuid NOT NULL REFERENCES "Bílar" (id) ON DELETE CASCADE,
  code_hash   text NOT NULL,
  attempts    integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  expires_at  timestamptz NOT NULL,
  consumed_at timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX seller_login_codes_car_idx ON seller_login_codes (car_id, created_at DESC);
