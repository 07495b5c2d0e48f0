-- Privacy (issue 24): consent on record, erasure, an audit log of back-office looks at
-- personal data, and the retention job's running totals. What each column holds and how
-- it is erased is written once, in src/domain/personal-data.ts.

-- Consent as given, one row per change, never updated: the latest row per person is what holds.
-- A person is a car's seller (car_id), a dealer (dealer_id) or, for a list sign-up without
-- either, the e-mail alone.
CREATE TABLE consents (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  subject_kind  text NOT NULL CHECK (subject_kind IN ('seller', 'dealer', 'contact')),
  car_id        uuid REFERENCES "Bílar" (id) ON DELETE CASCADE,
  dealer_id     uuid REFERENCES dealers (id) ON DELETE CASCADE,
  email         text CHECK (email IS NULL OR email = lower(btrim(email))),
  terms_version text CHECK (terms_version IS NULL OR length(terms_version) BETWEEN 1 AND 64),
  newsletter    boolean NOT NULL,
  source        text NOT NULL CHECK (source IN ('car_registration', 'dealer_registration', 'brevo_list', 'change')),
  created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  CHECK (car_id IS NOT NULL OR dealer_id IS NOT NULL OR email IS NOT NULL)
);
CREATE INDEX consents_car_idx ON consents (car_id, created_at DESC) WHERE car_id IS NOT NULL;
CREATE INDEX consents_dealer_idx ON consents (dealer_id, created_at DESC) WHERE dealer_id IS NOT NULL;
CREATE INDEX consents_email_idx ON consents (email, created_at DESC) WHERE email IS NOT NULL;

CREATE FUNCTION consents_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Erasure deletes a person's rows; nothing ever rewrites one.
  RAISE EXCEPTION 'consents are append-only: insert a new row' USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER consents_append_only BEFORE UPDATE ON consents FOR EACH ROW EXECUTE FUNCTION consents_append_only();

-- A car's seller data erased: when, and until when the rest is kept for the bookkeeping law.
ALTER TABLE "Bílar"
  ADD COLUMN erased_at timestamptz,
  ADD COLUMN legal_hold_until timestamptz;
CREATE INDEX "Bílar_unsold_ended_idx" ON "Bílar" (updated_at)
  WHERE erased_at IS NULL AND status IN ('declined', 'withdrawn', 'expired', 'lapsed');
CREATE INDEX "Bílar_legal_hold_idx" ON "Bílar" (legal_hold_until) WHERE legal_hold_until IS NOT NULL;

-- A dealer's account closed by erasure: the company record stays, the person's data goes;
-- `pseudonym` stands in for the person on their bids, the same on every bid.
ALTER TABLE dealers
  ADD COLUMN erased_at timestamptz,
  ADD COLUMN pseudonym text UNIQUE;
ALTER TABLE dealers DROP CONSTRAINT dealers_mobile_number_check;
ALTER TABLE dealers ADD CONSTRAINT dealers_mobile_number_check
  CHECK (mobile_number ~ '^\+[1-9][0-9]{6,14}$' OR (erased_at IS NOT NULL AND mobile_number = '[erased]'));

-- Back-office actions that touch personal data. Append-only; `subjects` are pseudonymous
-- references (car:<id>, dealer:<id>), never an e-mail, phone or name.
CREATE TABLE audit_log (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor    text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
  action   text NOT NULL CHECK (action IN ('data_export', 'erasure', 'dealer_status_change', 'sale_details_read')),
  subjects text[] NOT NULL DEFAULT '{}',
  detail   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(detail) = 'object')
);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- What the retention job has erased, by category, over every run of every instance (for /metrics).
CREATE TABLE retention_totals (
  category    text PRIMARY KEY,
  total       bigint NOT NULL DEFAULT 0 CHECK (total >= 0),
  last_run_at timestamptz NOT NULL DEFAULT now()
);

-- Joining and leaving the newsletter list go through the outbox, as e-mails do.
ALTER TABLE email_outbox DROP CONSTRAINT email_outbox_kind_check;
ALTER TABLE email_outbox ADD CONSTRAINT email_outbox_kind_check
  CHECK (kind IN ('outbid', 'auction_closed', 'auction_won', 'sale_confirmed', 'auction_ended_unsold', 'decision_expired',
                  'dealer_approved', 'dealer_suspended', 'newsletter_signup', 'newsletter_removal'));
