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
