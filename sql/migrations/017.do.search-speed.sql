-- Search at 100,000 cars (bench/dealer-search.ts): sort indexes that carry the filters' columns,
-- and the facets' counts kept as they change.

-- Each sort's index also carries the columns of the other filters and the status (every list
-- leaves unlisted cars out), so walking it under any filter but q and the photo and inspection
-- ones is an index-only scan: the filters are checked in the index, not on the car's row. That
-- matters where a filter goes with the order (old cars are cheap and far-driven, a Jimny is
-- cheap): under `year_max=2004&sort=price_desc` or `model=jimny&sort=price_desc` the walk passes
-- some 15,000 cars before its first page is full, 30-65 ms reading rows, 5-12 ms in the index.
-- The newest order gets such an index beside migration 001's plain one.
DROP INDEX "Bílar_ending_soon_idx", "Bílar_price_asc_idx", "Bílar_price_desc_idx", "Bílar_mileage_idx", "Bílar_year_idx";
CREATE INDEX "Bílar_newest_idx" ON "Bílar" (created_at DESC, id DESC)
  INCLUDE (status, year, mileage, top_bid, car_make, car_model, fuel, transmission, postal_code, auction_ends_at);
CREATE INDEX "Bílar_ending_soon_idx" ON "Bílar" ((status <> 'active'), (coalesce(auction_ends_at, 'infinity')), id)
  INCLUDE (status, year, mileage, top_bid, car_make, car_model, fuel, transmission, postal_code, auction_ends_at);
CREATE INDEX "Bílar_price_asc_idx" ON "Bílar" ((coalesce(top_bid, 2147483647)), id)
  INCLUDE (status, year, mileage, top_bid, car_make, car_model, fuel, transmission, postal_code, auction_ends_at);
CREATE INDEX "Bílar_price_desc_idx" ON "Bílar" ((coalesce(top_bid, -1)), id)
  INCLUDE (status, year, mileage, top_bid, car_make, car_model, fuel, transmission, postal_code, auction_ends_at);
CREATE INDEX "Bílar_mileage_idx" ON "Bílar" (mileage, id)
  INCLUDE (status, year, top_bid, car_make, car_model, fuel, transmission, postal_code, auction_ends_at);
CREATE INDEX "Bílar_year_idx" ON "Bílar" (year, id)
  INCLUDE (status, mileage, top_bid, car_make, car_model, fuel, transmission, postal_code, auction_ends_at);

-- The facets' counts. A facets panel filtered by nothing but its own dimensions (make, fuel,
-- year, region, status) would otherwise read every listed car per request (300-400 ms at
-- 100,000 cars); these counts per combination of the five (some 27,000 rows there) answer it in
-- one pass over them. Statement triggers keep them in the car's own transaction, so a count is
-- never ahead of or behind a committed car; a panel with any other filter counts the cars.

-- The region of a postal code: src/domain/search.ts's REGION_POSTAL_CODES, which stays the
-- source (the filters are written from it); tests/dealer/facet-counts.test.ts holds the two
-- together for every three-digit code.
CREATE FUNCTION postal_region(postal_code text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN postal_code ~ '^[0-9]{3}$' THEN CASE
    WHEN postal_code BETWEEN '101' AND '189' OR postal_code BETWEEN '200' AND '229' OR postal_code BETWEEN '270' AND '279' THEN 'capital'
    WHEN postal_code BETWEEN '190' AND '199' OR postal_code BETWEEN '230' AND '269' THEN 'southern_peninsula'
    WHEN postal_code BETWEEN '300' AND '379' OR postal_code BETWEEN '381' AND '399' THEN 'west'
    WHEN postal_code = '380' OR postal_code BETWEEN '400' AND '500' OR postal_code BETWEEN '510' AND '529' THEN 'westfjords'
    WHEN postal_code BETWEEN '501' AND '509' OR postal_code BETWEEN '530' AND '579' THEN 'northwest'
    WHEN postal_code BETWEEN '580' AND '689' THEN 'northeast'
    WHEN postal_code BETWEEN '690' AND '779' THEN 'east'
    WHEN postal_code BETWEEN '780' AND '999' THEN 'south'
  END END
$$;

CREATE TABLE car_facet_counts (
  car_make text NOT NULL,
  fuel     text,
  year     integer NOT NULL,
  region   text,
  status   text NOT NULL,
  -- No CHECK (n >= 0): a speculative insert of a -1 is checked before its conflict is found.
  n        integer NOT NULL,
  -- the facets' keys, lower-cased once here rather than per row and request
  make_key text GENERATED ALWAYS AS (lower(car_make)) STORED,
  fuel_key text GENERATED ALWAYS AS (lower(fuel)) STORED,
  UNIQUE NULLS NOT DISTINCT (car_make, fuel, year, region, status)
);

INSERT INTO car_facet_counts (car_make, fuel, year, region, status, n)
SELECT car_make, fuel, year, postal_region(postal_code), status, count(*)
FROM "Bílar" GROUP BY 1, 2, 3, 4, 5;

-- Adds each change's +1/-1 per combination, in the key's order (two statements touching the
-- same combinations lock their rows in the same order, so they wait, never deadlock); a
-- change that moves no car between combinations (a bid's top_bid) writes nothing.
CREATE FUNCTION add_facet_counts(delta jsonb) RETURNS void LANGUAGE sql AS $$
  INSERT INTO car_facet_counts AS f (car_make, fuel, year, region, status, n)
  SELECT d.car_make, d.fuel, d.year, d.region, d.status, d.n
  FROM jsonb_to_recordset(delta) AS d(car_make text, fuel text, year integer, region text, status text, n integer)
  WHERE d.n <> 0
  ORDER BY d.car_make, d.fuel, d.year, d.region, d.status
  ON CONFLICT (car_make, fuel, year, region, status) DO UPDATE SET n = f.n + excluded.n
$$;

CREATE FUNCTION facet_counts_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM add_facet_counts((SELECT jsonb_agg(d) FROM (
    SELECT car_make, fuel, year, postal_region(postal_code) AS region, status, count(*) AS n
    FROM new_cars GROUP BY 1, 2, 3, 4, 5) d));
  RETURN NULL;
END $$;
CREATE TRIGGER facet_counts_after_insert AFTER INSERT ON "Bílar"
  REFERENCING NEW TABLE AS new_cars FOR EACH STATEMENT EXECUTE FUNCTION facet_counts_after_insert();

CREATE FUNCTION facet_counts_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM add_facet_counts((SELECT jsonb_agg(d) FROM (
    SELECT car_make, fuel, year, region, status, sum(n) AS n FROM (
      SELECT car_make, fuel, year, postal_region(postal_code) AS region, status, 1 AS n FROM new_cars
      UNION ALL
      SELECT car_make, fuel, year, postal_region(postal_code), status, -1 FROM old_cars) changes
    GROUP BY 1, 2, 3, 4, 5) d));
  RETURN NULL;
END $$;
CREATE TRIGGER facet_counts_after_update AFTER UPDATE ON "Bílar"
  REFERENCING OLD TABLE AS old_cars NEW TABLE AS new_cars FOR EACH STATEMENT EXECUTE FUNCTION facet_counts_after_update();

CREATE FUNCTION facet_counts_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM add_facet_counts((SELECT jsonb_agg(d) FROM (
    SELECT car_make, fuel, year, postal_region(postal_code) AS region, status, -count(*) AS n
    FROM old_cars GROUP BY 1, 2, 3, 4, 5) d));
  RETURN NULL;
END $$;
CREATE TRIGGER facet_counts_after_delete AFTER DELETE ON "Bílar"
  REFERENCING OLD TABLE AS old_cars FOR EACH STATEMENT EXECUTE FUNCTION facet_counts_after_delete();

CREATE FUNCTION facet_counts_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM car_facet_counts;
  RETURN NULL;
END $$;
CREATE TRIGGER facet_counts_after_truncate AFTER TRUNCATE ON "Bílar"
  FOR EACH STATEMENT EXECUTE FUNCTION facet_counts_after_truncate();
