-- Idempotency-Key for writes the client may retry (car registration, bids):
-- the first answer is kept and replayed for the same key and body.
CREATE TABLE idempotency_keys (
  operation       text NOT NULL,
  key             text NOT NULL,
  request_hash    text NOT NULL,
  state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
  response_status integer,
  response_body   jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (operation, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
