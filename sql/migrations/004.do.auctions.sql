-- Real auctions: a closing time per car, a fixed bid increment per auction, an
-- optional reserve price, proxy maxima on bids, the winning bid, and an outbox
-- for the e-mails auctions send (written in the same transaction as the event).
-- The rules themselves live in src/domain/auction.ts; closing and sending in src/auctions/.

-- `closed`: the auction has ended and waits for the seller (accept → `sold`, or re-list → `active`).
ALTER TABLE "Bílar" DROP CONSTRAINT "Bílar_status_check";
ALTER TABLE "Bílar" ADD CONSTRAINT "Bílar_status_check" CHECK (status IN ('active', 'pending', 'sold', 'closed'));

ALTER TABLE "Bílar"
  -- set whenever the car becomes active (now + AUCTION_DURATION_HOURS); moved by soft close
  ADD COLUMN auction_ends_at timestamptz,
  -- BID_INCREMENT_ISK when the auction opened: changing the setting never changes a running auction
  ADD COLUMN bid_increment integer NOT NULL DEFAULT 12000 CHECK (bid_increment > 0),
  -- never shown to dealers; they only see whether it is met
  ADD COLUMN reserve_price integer CHECK (reserve_price IS NULL OR reserve_price > 0),
  ADD COLUMN closed_at timestamptz;

-- Bids. `seq` is the insertion order (bids on one car are serialised by the car's row lock,
-- so it is also the commit order); it breaks ties between equal amounts. `max_amount` is the
-- proxy ceiling the dealer sent with this bid (never shown to anyone else); `proxy` marks an
-- amount the system chose for the dealer from such a ceiling.
ALTER TABLE "uppboð"
  ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY,
  ADD COLUMN max_amount integer CHECK (max_amount IS NULL OR max_amount >= bid_amount),
  ADD COLUMN proxy boolean NOT NULL DEFAULT false;
DROP INDEX "uppboð_car_amount_idx";
-- the leading bid of a car, and a car's bids highest first
CREATE INDEX "uppboð_car_amount_idx" ON "uppboð" (car_id, bid_amount DESC, created_at, seq);

ALTER TABLE "Bílar" ADD COLUMN winning_bid_id uuid REFERENCES "uppboð" (id) ON DELETE SET NULL;

-- the closing job looks for ended auctions; the next closing time is the smallest one
CREATE INDEX "Bílar_auction_ends_at_idx" ON "Bílar" (auction_ends_at) WHERE status = 'active';

-- Cars that are already active get a closing time now (with the default duration), so no
-- auction runs forever; the closing job does the same, with the configured duration, for
-- active cars that arrive later without one (demo data, imports).
UPDATE "Bílar" SET auction_ends_at = now() + interval '48 hours' WHERE status = 'active' AND auction_ends_at IS NULL;
UPDATE "Bílar" c SET closed_at = c.updated_at,
       winning_bid_id = (SELECT b.id FROM "uppboð" b WHERE b.car_id = c.id ORDER BY b.bid_amount DESC, b.created_at, b.seq LIMIT 1)
 WHERE c.status = 'sold';

-- E-mails to send. A row is written in the same transaction as the event that causes it
-- (a bid that outbids someone, an auction closing), so none is lost; the worker claims rows
-- with FOR UPDATE SKIP LOCKED and marks them in the same transaction, so none goes twice.
CREATE TABLE email_outbox (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind            text NOT NULL CHECK (kind IN ('outbid', 'auction_closed')),
  -- one e-mail per event, however often the event is processed
  dedupe_key      text NOT NULL UNIQUE,
  car_id          uuid REFERENCES "Bílar" (id) ON DELETE CASCADE,
  to_email        text NOT NULL CHECK (to_email = lower(btrim(to_email))),
  to_name         text,
  -- what the e-mail says, as it was when the event happened
  params          jsonb NOT NULL DEFAULT '{}',
  -- pending → sent (Brevo accepted it) / sandbox (logged, not sent) / failed (gave up or refused)
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'sandbox', 'failed')),
  attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  message_id      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz
);
CREATE INDEX email_outbox_due_idx ON email_outbox (next_attempt_at, created_at) WHERE status = 'pending';
CREATE INDEX email_outbox_car_idx ON email_outbox (car_id, created_at);
