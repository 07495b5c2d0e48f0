-- Rate-limit counters shared by every instance (RATE_LIMIT_STORE=postgres):
-- one row per limiter and client key, for the current fixed window.
CREATE TABLE rate_limit_hits (
  key      text PRIMARY KEY,
  hits     integer NOT NULL CHECK (hits >= 0),
  reset_at timestamptz NOT NULL
);
CREATE INDEX rate_limit_hits_reset_idx ON rate_limit_hits (reset_at);
