-- Live auctions (issue 14): car_events become the stream of Server-Sent Events.

-- 1. Announce every event, committed only. NOTIFY inside the writing transaction is delivered
-- at COMMIT and dropped on ROLLBACK, so a refused or failed bid is never announced. A trigger,
-- not a call in each writer: events are also written by the triggers of migration 006. The
-- payload is just the ids; each instance's one listener reads the rows itself.
CREATE FUNCTION car_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('kaggi_car_events', NEW.id::text || ' ' || NEW.car_id::text);
  RETURN NULL;
END $$;
CREATE TRIGGER car_events_notify AFTER INSERT ON car_events
  FOR EACH ROW EXECUTE FUNCTION car_events_notify();

-- 2. A safe order for the stream of all cars. A sequence hands out ids in the order
-- transactions ask, not the order they commit: a reader that has seen id 101 may later see
-- 100 commit. Within one car the row lock makes the two orders the same; across cars the
-- reader needs to know when every id below a row is settled (committed or never to be).
--
-- `settled_after` is the first transaction id not yet handed out right after this row got its
-- id (pg_current_snapshot() is taken afresh by each PL/pgSQL statement in READ COMMITTED).
-- Any transaction that may still hold a smaller id had its own xid before that moment (the
-- trigger gives the writer its xid before taking the id), so it is below `settled_after`.
-- Once the oldest running transaction (pg_snapshot_xmin) is at or past `settled_after`, all of
-- them have ended, and this row and every id below it are final: the hub hands out rows in id
-- order up to the highest such row (src/events/hub.ts). Rows from before this migration are
-- settled (NULL).
ALTER TABLE car_events ADD COLUMN settled_after xid8;
CREATE FUNCTION car_events_position() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_current_xact_id();
  NEW.id := nextval(pg_get_serial_sequence('car_events', 'id'));
  NEW.settled_after := pg_snapshot_xmax(pg_current_snapshot());
  RETURN NEW;
END $$;
CREATE TRIGGER car_events_position BEFORE INSERT ON car_events
  FOR EACH ROW EXECUTE FUNCTION car_events_position();
-- The trigger takes the id; a column default would only burn a second number per row.
ALTER TABLE car_events ALTER COLUMN id DROP DEFAULT;

-- 3. Every event carries the whole picture a stream shows after it (status, highest bid,
-- bid count, next minimum, end, reserve met), so no reader needs a join. The writers in
-- src/ now write it; the safety-net triggers of migration 006 learn it here, and rows
-- written before are completed from the bids as they stood at the event's time.
CREATE FUNCTION car_event_standing(car uuid, upto timestamptz, status text, ends timestamptz) RETURNS jsonb
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
                FROM "uppboð" b WHERE b.car_id = c.id AND (upto IS NULL OR b.created_at <= upto)) s
  WHERE c.id = car
$$;

CREATE OR REPLACE FUNCTION car_events_first_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO car_events (car_id, kind, data, at)
  VALUES (NEW.id, 'status',
          car_event_standing(NEW.id, NULL, NEW.status, NEW.auction_ends_at)
            || jsonb_build_object('by', 'registration'),
          NEW.created_at);
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION car_events_direct_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('kaggi.lifecycle', true) IS DISTINCT FROM 'on' THEN
    INSERT INTO car_events (car_id, kind, data)
    VALUES (NEW.id, 'status',
            car_event_standing(NEW.id, NULL, NEW.status, NEW.auction_ends_at)
              || jsonb_build_object('from', OLD.status, 'by', 'direct', 'decision_due_at', NEW.decision_due_at));
  END IF;
  RETURN NULL;
END $$;

UPDATE car_events e
SET data = car_event_standing(e.car_id, e.at,
                              CASE WHEN e.kind = 'bid' THEN 'active' ELSE e.data->>'status' END,
                              (e.data->>'auction_ends_at')::timestamptz)
           || e.data
WHERE NOT (e.data ? 'bid_count' AND e.data ? 'min_next_bid' AND e.data ? 'status' AND e.data ? 'highest_bid');
