/**
 * The SQL of the hot read paths, as the handlers send it (src/db/cars.ts,
 * src/handlers/{cars,bids,favorites,dashboard}.ts, as of commit 4728960), in
 * plain `pg` form.
 * The bare baseline serves exactly this, and bench/explain.ts explains it.
 * The bench checks that the project still sends this text: the round-trip
 * check captures the statements the server really sends and compares them
 * (whitespace-normalised) with these; a mismatch is printed, so a change in
 * src/ that is not mirrored here cannot go unnoticed.
 */

export const selectCars = `
  SELECT c.id, c.seller_name, c.email, c.postal_code, c.car_make, c.car_model, c.car_plate,
         c.year, c.mileage, c.status, b.highest_bid, b.bid_count, c.auction_ends_at,
         CASE WHEN c.status = 'active' AND (c.auction_ends_at IS NULL OR c.auction_ends_at > now())
              THEN coalesce(b.highest_bid, 0) + c.bid_increment END AS min_next_bid,
         (c.reserve_price IS NULL OR coalesce(b.highest_bid, 0) >= c.reserve_price) AS reserve_met,
         EXISTS (SELECT 1 FROM car_inspections i WHERE i.car_id = c.id) AS has_inspection,
         c.created_at, c.updated_at
  FROM "Bílar" c
  LEFT JOIN LATERAL (
    SELECT max(bid_amount)::int AS highest_bid, count(*)::int AS bid_count
    FROM "uppboð" WHERE car_id = c.id
  ) b ON true`;

const bidColumns = 'id, car_id, dealer_name, dealer_email, bid_amount, proxy, created_at, updated_at';
const bidRanking = 'bid_amount DESC, created_at ASC, seq ASC';

export const sql = {
  /** listCars without status or cursor: $1 = limit + 1 */
  listCars: `${selectCars} ORDER BY c.created_at DESC, c.id DESC LIMIT $1`,
  /** getCar: $1 = car id */
  getCar: `${selectCars} WHERE c.id = $1`,
  /** listCarBids: $1 = car id */
  listCarBids: `SELECT ${bidColumns} FROM "uppboð" WHERE car_id = $1 ORDER BY ${bidRanking}`,
  /** listCarBids, only when the car has no bids: does the car exist? */
  carExists: `SELECT exists(SELECT 1 FROM "Bílar" WHERE id = $1)`,
  /** listDealerBids: $1 = normalised e-mail */
  listDealerBids: `
    SELECT b.id, b.car_id, b.dealer_name, b.dealer_email, b.bid_amount, b.proxy, b.created_at, b.updated_at,
           (SELECT json_build_object('id', c.id, 'car_make', c.car_make, 'car_model', c.car_model,
                                     'car_plate', c.car_plate, 'year', c.year, 'status', c.status)
              FROM "Bílar" c WHERE c.id = b.car_id) AS car
    FROM "uppboð" b
    WHERE b.dealer_email = $1
    ORDER BY b.created_at DESC, b.seq DESC`,
  /** listFavorites: $1 = normalised e-mail */
  listFavorites: `${selectCars}
    JOIN favorites f ON f.car_id = c.id
    WHERE f.dealer_email = $1
    ORDER BY f.created_at DESC, f.id DESC`,
  /** getDashboardStats: $1 = $2 = $3 = normalised e-mail (Slonik binds each use) */
  dashboardStats: `
    SELECT
      (SELECT count(*) FROM "Bílar" WHERE status = 'active')::int AS active_auctions,
      (SELECT count(*) FROM "Bílar" WHERE status = 'pending')::int AS coming_cars,
      (SELECT count(*) FROM "uppboð" WHERE dealer_email = $1)::int AS my_bids,
      (SELECT count(*) FROM favorites WHERE dealer_email = $2)::int AS favorites,
      (SELECT count(*)
         FROM "uppboð" b JOIN "Bílar" c ON c.id = b.car_id AND c.status = 'sold'
        WHERE b.dealer_email = $3
          AND b.id = coalesce(c.winning_bid_id,
                (SELECT w.id FROM "uppboð" w WHERE w.car_id = c.id ORDER BY ${bidRanking} LIMIT 1)))::int AS my_purchases`,
  /**
   * A bid, simplified: lock the car, read the highest bid, insert. The project's
   * createBid also applies the auction rules (closing time, increment, proxy
   * bids, soft close, outbid e-mail), which the baseline does not: the POST
   * figures of the baseline are for orientation only.
   */
  bidLockCar: `SELECT status, bid_increment FROM "Bílar" WHERE id = $1 FOR UPDATE`,
  bidHighest: `SELECT max(bid_amount) AS highest FROM "uppboð" WHERE car_id = $1`,
  bidInsert: `
      INSERT INTO "uppboð" (car_id, dealer_name, dealer_email, bid_amount, created_at, updated_at)
      VALUES ($1, $2, $3, $4, clock_timestamp(), clock_timestamp())
      RETURNING ${bidColumns}`,
} as const;

export type QueryName = keyof typeof sql;

/** Whitespace and `--` comments do not make two statements different. */
export function normaliseSql(text: string): string {
  return text
    .replace(/--[^\n]*/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/\(\s+/g, '(')
    .replace(/\s+\)/g, ')')
    .trim()
    .toLowerCase();
}

/**
 * The project's bid (src/handlers/bids.ts createBid, src/db/cars.ts findLeader,
 * src/db/car-events.ts appendBidEvent, src/auctions/outbox.ts enqueueEmail) in plain `pg` form: what the hand-written
 * Express server (bench/express-baseline.ts) sends, so that its bid does the
 * same work as the project's, auction rules included.
 */
export const bidSql = {
  lock: `SELECT id FROM "Bílar" WHERE id = $1 FOR UPDATE`,
  car: `
      SELECT c.status, c.auction_ends_at, c.bid_increment, c.reserve_price, c.car_make, c.car_model, c.car_plate, c.year,
             t.now, coalesce(c.auction_ends_at <= t.now, false) AS ended
      FROM "Bílar" c, (SELECT clock_timestamp() AS now) t
      WHERE c.id = $1`,
  leader: `
    SELECT l.id AS bid_id, l.dealer_email, l.dealer_name, l.bid_amount AS price,
           (SELECT max(greatest(m.bid_amount, coalesce(m.max_amount, 0)))::int
              FROM "uppboð" m WHERE m.car_id = l.car_id AND m.dealer_email = l.dealer_email) AS leader_max,
           EXISTS (SELECT 1 FROM dealers d WHERE d.email = l.dealer_email AND d.status = 'suspended') AS suspended,
           (SELECT count(*)::int FROM "uppboð" c WHERE c.car_id = l.car_id) AS bid_count
    FROM (SELECT * FROM "uppboð" WHERE car_id = $1 ORDER BY ${bidRanking} LIMIT 1) l`,
  insert: `
        INSERT INTO "uppboð" (car_id, dealer_name, dealer_email, bid_amount, max_amount, proxy, created_at, updated_at)
        VALUES ($1, $2, $3, $4,
                $5, $6, clock_timestamp(), clock_timestamp())
        RETURNING ${bidColumns}`,
  event: `INSERT INTO car_events (car_id, kind, data) VALUES ($1, 'bid', $2::jsonb)`,
  softClose: `
        UPDATE "Bílar" SET auction_ends_at = $1::timestamptz, updated_at = now() WHERE id = $2`,
  outbox: `
    INSERT INTO email_outbox (kind, dedupe_key, car_id, to_email, to_name, params)
    VALUES ($1, $2, $3, $4, $5,
            $6::jsonb)
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id`,
} as const;
