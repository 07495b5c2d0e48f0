-- Saved searches and their alerts (issue 22, part 5; docs/alerts.md).

-- A dealer's saved searches: the filters of GET /api/cars in their canonical form
-- (src/domain/search.ts), and how the dealer wants to hear of new matches. At most
-- MAX_SAVED_SEARCHES per dealer, counted under the dealer's row lock (src/db/saved-searches.ts).
CREATE TABLE saved_searches (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  dealer_id  uuid NOT NULL REFERENCES dealers (id) ON DELETE CASCADE,
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  filters    jsonb NOT NULL CHECK (jsonb_typeof(filters) = 'object'),
  -- the words of `filters.q` as the list splits them (queryWords), so the matcher and the
  -- list compare the same words; empty without `q`
  q_words    text[] NOT NULL DEFAULT '{}',
  alert      text NOT NULL CHECK (alert IN ('instant', 'daily', 'off')),
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX saved_searches_dealer_idx ON saved_searches (dealer_id, created_at, id);

-- A list filter's values lower-cased (as the list compares them), or null without the filter.
-- A function so that a generated column can hold it; IMMUTABLE as lower() and the jsonb
-- functions it calls are.
CREATE FUNCTION saved_search_keys(filters jsonb, name text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN filters ? name THEN ARRAY(SELECT lower(v) FROM jsonb_array_elements_text(filters -> name) v) END
$$;
-- The matcher (src/db/car-search.ts matchingSearches) finds the searches of an opened car's
-- make through the GIN index, and those without a make through the partial one, instead of
-- reading every search: most searches name a make.
ALTER TABLE saved_searches
  ADD COLUMN make_keys text[] GENERATED ALWAYS AS (saved_search_keys(filters, 'make')) STORED,
  ADD COLUMN fuel_keys text[] GENERATED ALWAYS AS (saved_search_keys(filters, 'fuel')) STORED;
CREATE INDEX saved_searches_make_idx ON saved_searches USING gin (make_keys) WHERE alert <> 'off';
CREATE INDEX saved_searches_any_make_idx ON saved_searches (id) WHERE alert <> 'off' AND make_keys IS NULL;

-- How far the alert sweep has read car_events. Event ids rise in commit order (migration
-- 008), so every opening after the mark is still to come, and none before it is missed.
-- One row; the sweep holds its lock while it works, so two instances never read the same
-- openings (the outbox's dedupe keys make a repeat harmless anyway).
CREATE TABLE alert_progress (
  singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_event_id bigint NOT NULL
);
-- Openings before this migration are history, not news.
INSERT INTO alert_progress (last_event_id) SELECT coalesce(max(id), 0) FROM car_events;

-- Which search matched which opening, for the daily digest: one row per (search, opening).
-- Only the search is a foreign key: the dealer's rows go with the dealer's searches (their
-- cascade), a car's are read joined to the car and expire in days, and a check per key per
-- row would cost an opening with hundreds of matches more than matching them does.
CREATE TABLE saved_search_matches (
  search_id  uuid NOT NULL REFERENCES saved_searches (id) ON DELETE CASCADE,
  event_id   bigint NOT NULL,
  dealer_id  uuid NOT NULL,
  car_id     uuid NOT NULL,
  matched_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (search_id, event_id)
);
CREATE INDEX saved_search_matches_dealer_idx ON saved_search_matches (dealer_id, matched_at);

-- One daily digest per dealer and (UTC) day, whether it listed anything or not: the unique
-- key is what makes it once, however many instances run the sweep.
CREATE TABLE alert_digests (
  dealer_id uuid NOT NULL REFERENCES dealers (id) ON DELETE CASCADE,
  day       date NOT NULL,
  at        timestamptz NOT NULL DEFAULT clock_timestamp(),
  matches   integer NOT NULL CHECK (matches >= 0),
  PRIMARY KEY (dealer_id, day)
);

-- The new e-mails, with every kind allowed so far kept. 014's helper read the kinds as quoted
-- words of an `IN (...)` list; the constraint it wrote is `= ANY ('{a,b}'::text[])`, whose words
-- are not quoted one by one. This one reads either form.
CREATE FUNCTION pg_temp.allow_more_kinds(tbl text, con text, more text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  kinds text[];
BEGIN
  SELECT array_agg(DISTINCT m[1]) INTO kinds
  FROM pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '[''{,]([a-z_]+)(?=[''},])', 'g') m
  WHERE c.conname = con AND c.conrelid = tbl::regclass;
  IF coalesce(array_length(kinds, 1), 0) = 0 THEN
    RAISE EXCEPTION 'no kinds read from constraint %', con;
  END IF;
  kinds := ARRAY(SELECT DISTINCT unnest(kinds || more) ORDER BY 1);
  EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', tbl, con);
  EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (kind = ANY (%L::text[]))', tbl, con, kinds);
END $$;

SELECT pg_temp.allow_more_kinds('email_outbox', 'email_outbox_kind_check', ARRAY['search_alert', 'search_digest', 'auction_reminder']);
