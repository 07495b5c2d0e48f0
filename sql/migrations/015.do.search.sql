-- Dealers search cars (GET /api/cars, its facets, saved searches). Every selective filter and
-- every sort has an index, so no search reads all cars; the queries are src/db/car-search.ts.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The free text a search's `q` is compared with (word similarity, pg_trgm). Generated, so an
-- erased or corrected make, model or plate can never leave an old word behind.
ALTER TABLE "Bílar"
  ADD COLUMN search_text text GENERATED ALWAYS AS (lower(car_make || ' ' || car_model || ' ' || car_plate)) STORED;
CREATE INDEX "Bílar_search_text_trgm_idx" ON "Bílar" USING gin (search_text gin_trgm_ops);

-- The highest bid that counts (set-aside bids do not), for filtering and sorting by price. The
-- car object still derives highest_bid from the bids themselves; this copy is kept by the
-- triggers below in the same transaction as the bid, so the two cannot disagree. Statement-level
-- triggers with transition tables, so a bulk import updates each car once, not once per bid.
ALTER TABLE "Bílar" ADD COLUMN top_bid integer;
UPDATE "Bílar" c SET top_bid = b.top
FROM (SELECT car_id, max(bid_amount) AS top FROM "uppboð" WHERE NOT set_aside GROUP BY car_id) b
WHERE b.car_id = c.id;

CREATE FUNCTION refresh_top_bids(car_ids uuid[]) RETURNS void LANGUAGE sql AS $$
  UPDATE "Bílar" c
  SET top_bid = (SELECT max(u.bid_amount) FROM "uppboð" u WHERE u.car_id = c.id AND NOT u.set_aside)
  WHERE c.id = ANY (car_ids)
    AND c.top_bid IS DISTINCT FROM (SELECT max(u.bid_amount) FROM "uppboð" u WHERE u.car_id = c.id AND NOT u.set_aside)
$$;

CREATE FUNCTION top_bid_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM refresh_top_bids(ARRAY(SELECT DISTINCT car_id FROM new_bids));
  RETURN NULL;
END $$;
CREATE TRIGGER top_bid_after_insert AFTER INSERT ON "uppboð"
  REFERENCING NEW TABLE AS new_bids FOR EACH STATEMENT EXECUTE FUNCTION top_bid_after_insert();

CREATE FUNCTION top_bid_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM refresh_top_bids(ARRAY(SELECT car_id FROM new_bids UNION SELECT car_id FROM old_bids));
  RETURN NULL;
END $$;
CREATE TRIGGER top_bid_after_update AFTER UPDATE ON "uppboð"
  REFERENCING OLD TABLE AS old_bids NEW TABLE AS new_bids FOR EACH STATEMENT EXECUTE FUNCTION top_bid_after_update();

CREATE FUNCTION top_bid_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM refresh_top_bids(ARRAY(SELECT DISTINCT car_id FROM old_bids));
  RETURN NULL;
END $$;
CREATE TRIGGER top_bid_after_delete AFTER DELETE ON "uppboð"
  REFERENCING OLD TABLE AS old_bids FOR EACH STATEMENT EXECUTE FUNCTION top_bid_after_delete();

-- Filters.
CREATE INDEX "Bílar_make_idx" ON "Bílar" (lower(car_make));
CREATE INDEX "Bílar_model_idx" ON "Bílar" (lower(car_model));
CREATE INDEX "Bílar_fuel_idx" ON "Bílar" (lower(fuel));
CREATE INDEX "Bílar_postal_code_idx" ON "Bílar" (postal_code);

-- Sorts (each also serves its column's range filter); the id makes every order total.
CREATE INDEX "Bílar_ending_soon_idx" ON "Bílar" ((status <> 'active'), (coalesce(auction_ends_at, 'infinity')), id);
CREATE INDEX "Bílar_price_asc_idx" ON "Bílar" ((coalesce(top_bid, 2147483647)), id);
CREATE INDEX "Bílar_price_desc_idx" ON "Bílar" ((coalesce(top_bid, -1)), id);
CREATE INDEX "Bílar_mileage_idx" ON "Bílar" (mileage, id);
CREATE INDEX "Bílar_year_idx" ON "Bílar" (year, id);
