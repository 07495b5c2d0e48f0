-- The sale after the hammer (issue 23): one sale per time a car becomes `sold`, its steps,
-- deadlines, the pick-up and the seller's details for the papers. The rules (the steps, their
-- order, the deadlines) live in src/domain/sale.ts; the story in src/usecases/sale.ts.

-- A buyer who backed out: their bids on the car no longer count (ranking, highest bid).
ALTER TABLE "uppboð" ADD COLUMN set_aside boolean NOT NULL DEFAULT false;

CREATE TABLE sales (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  car_id           uuid NOT NULL REFERENCES "Bílar" (id) ON DELETE CASCADE,
  bid_id           uuid REFERENCES "uppboð" (id) ON DELETE SET NULL,
  -- the buying dealer as the winning bid names them (the dealer record is joined by e-mail)
  dealer_email     text NOT NULL CHECK (dealer_email = lower(btrim(dealer_email))),
  dealer_name      text NOT NULL,
  price            integer NOT NULL CHECK (price > 0),
  -- open → completed, or cancelled; `overdue`: open and behind a deadline the sweep found missed
  state            text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'overdue', 'completed', 'cancelled')),
  sold_by          text NOT NULL CHECK (sold_by IN ('admin', 'seller')),
  payment_due_at   timestamptz NOT NULL,
  -- set when the buyer's payment is recorded
  pickup_due_at    timestamptz,
  -- set once each by the overdue sweep (its e-mails go once per deadline)
  payment_overdue_at timestamptz,
  pickup_overdue_at  timestamptz,
  -- the pick-up: the buyer proposes, the seller confirms or asks for another time
  pickup_at        timestamptz,
  pickup_note      text CHECK (length(pickup_note) <= 1000),
  pickup_state     text CHECK (pickup_state IN ('proposed', 'confirmed', 'declined')),
  pickup_answer    text CHECK (length(pickup_answer) <= 1000),
  -- the seller's details for the papers, each sealed by src/domain/sealed.ts (AES-256-GCM,
  -- `v1.<key id>.<iv>.<tag>.<ciphertext>`): never plain text in this table
  seller_kennitala text CHECK (seller_kennitala LIKE 'v1.%'),
  seller_address   text CHECK (seller_address LIKE 'v1.%'),
  seller_bank      text CHECK (seller_bank LIKE 'v1.%'),
  details_at       timestamptz,
  -- the car's VIN as the seller read it from the registration certificate (not personal data)
  vin              text CHECK (vin ~ '^[A-HJ-NPR-Z0-9]{11,17}$'),
  cancelled_at     timestamptz,
  cancel_reason    text CHECK (length(cancel_reason) <= 1000),
  completed_at     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CHECK ((state = 'cancelled') = (cancelled_at IS NOT NULL)),
  CHECK ((state = 'completed') = (completed_at IS NOT NULL))
);
-- A car has at most one sale that is not cancelled.
CREATE UNIQUE INDEX sales_car_live_idx ON sales (car_id) WHERE state <> 'cancelled';
CREATE INDEX sales_car_idx ON sales (car_id, created_at DESC);
-- the back office's worklist, newest first per state
CREATE INDEX sales_state_created_idx ON sales (state, created_at DESC, id DESC);
CREATE INDEX sales_created_idx ON sales (created_at DESC, id DESC);
CREATE INDEX sales_dealer_idx ON sales (dealer_email);
-- the overdue sweep
CREATE INDEX sales_payment_due_idx ON sales (payment_due_at) WHERE state IN ('open', 'overdue') AND payment_overdue_at IS NULL;
CREATE INDEX sales_pickup_due_idx ON sales (pickup_due_at) WHERE state IN ('open', 'overdue') AND pickup_overdue_at IS NULL;

-- Each step once per sale: who recorded it (a role, never a person's data) and when.
CREATE TABLE sale_steps (
  sale_id     uuid NOT NULL REFERENCES sales (id) ON DELETE CASCADE,
  step        text NOT NULL CHECK (step IN ('contract_signed', 'buyer_paid', 'picked_up', 'ownership_transferred', 'seller_paid', 'completed')),
  recorded_by text NOT NULL CHECK (recorded_by IN ('admin', 'system')),
  note        text CHECK (length(note) <= 1000),
  at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sale_id, step)
);

-- New kinds in lists other migrations may also extend: the kinds already allowed are read
-- from the constraint and kept, so the order in which those migrations run does not matter.
CREATE FUNCTION pg_temp.allow_more(tbl text, con text, more text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  kinds text[];
BEGIN
  SELECT array_agg(DISTINCT m[1]) INTO kinds
  FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') m
  WHERE c.conname = con AND c.conrelid = tbl::regclass;
  kinds := ARRAY(SELECT DISTINCT unnest(kinds || more) ORDER BY 1);
  EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', tbl, con);
  EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (kind = ANY (%L::text[]))', tbl, con, kinds);
END $$;

-- `sale`: a step recorded, the sale overdue or cancelled, the pick-up agreed (no personal data).
SELECT pg_temp.allow_more('car_events', 'car_events_kind_check', ARRAY['sale']);
SELECT pg_temp.allow_more('email_outbox', 'email_outbox_kind_check',
  ARRAY['sale_step', 'sale_overdue', 'sale_cancelled', 'pickup_proposed', 'pickup_answered']);

-- The standing every event carries (migration 008) leaves set-aside bids out, as the queries do.
CREATE OR REPLACE FUNCTION car_event_standing(car uuid, upto timestamptz, status text, ends timestamptz) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'status', status,
    'auction_ends_at', ends,
    'highest_bid', s.highest,
    'bid_count', s.n,
    'min_next_bid', coalesce(s.highest, 0) + c.bid_increment,
    'reserve_met', c.reserve_price IS NULL OR coalesce(s.highest >= c.reserve_price, false))
  FROM "Bílar" c,
       LATERAL (SELECT max(b.bid_amount)::int AS highest, count(*)::int AS n
                FROM "uppboð" b WHERE b.car_id = c.id AND NOT b.set_aside AND (upto IS NULL OR b.created_at <= upto)) s
  WHERE c.id = car
$$;
