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

-- 2. Ids in commit order. A sequence hands out ids in the order transactions ask, not the
-- order they commit: a reader that has seen id 101 could later see 100 commit, and a client
-- resuming with `id > 101` would never get it. Within one car the row lock already makes the
-- two orders the same; across cars (the stream of every car) it does not. So an event takes
-- its id under a transaction-level advisory lock, held to COMMIT (or ROLLBACK): the next
-- event anywhere gets its id only after this one is visible. Event ids then rise in commit
-- order everywhere, and `WHERE id > n` never skips one. The price: the last moments of
-- event-writing transactions (insert the event → commit) run one at a time across the
-- database — a few milliseconds per bid; measured in `npm run bench -- --only sse`.
CREATE FUNCTION car_events_take_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7114332);  -- any constant, the same everywhere (7114331: migrations)
  NEW.id := nextval(pg_get_serial_sequence('car_events', 'id'));
  RETURN NEW;
END $$;
CREATE TRIGGER car_events_take_id BEFORE INSERT ON car_events
  FOR EACH ROW EXECUTE FUNCTION car_events_take_id();
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
