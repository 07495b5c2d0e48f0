import { sql, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import { CAR_STATUSES } from '../domain/lifecycle.js';
import { carPhotoColumns, coverPhoto, type MediaBase } from './photos.js';

export const carStatus = z.enum(CAR_STATUSES);

/**
 * A car that holds its plate (the partial unique index of migration 009): every status but
 * the unproved `unconfirmed` and `lapsed` (UNLISTED_STATUSES in src/domain/lifecycle.ts). A
 * literal, unqualified: `ON CONFLICT (car_plate) WHERE …` must repeat the index's predicate.
 */
export const holdsPlate = sql.fragment`status NOT IN ('unconfirmed', 'lapsed')`;

/** The same, for queries on `"Bílar" c`: the cars dealers may see at all (admins see every car). */
export const listedCar = sql.fragment`c.status NOT IN ('unconfirmed', 'lapsed')`;
export type { CarStatus } from '../domain/lifecycle.js';

/**
 * The public car object, shared by every operation that returns cars. The
 * seller's phone and the reserve price are deliberately not selected: they
 * never leave the server (dealers only see `reserve_met`). Highest bid and
 * count are derived from the bids (index on car_id, bid_amount DESC) rather
 * than stored, so they can never disagree.
 */
export const carRow = z.object({
  id: z.string().uuid(),
  seller_name: z.string().nullable(),
  email: z.string().nullable(),
  postal_code: z.string().nullable(),
  car_make: z.string(),
  car_model: z.string(),
  car_plate: z.string(),
  year: z.number().int(),
  mileage: z.number().int(),
  status: carStatus,
  highest_bid: z.number().int().nullable(),
  bid_count: z.number().int(),
  auction_ends_at: z.string().nullable(),
  min_next_bid: z.number().int().nullable(),
  reserve_met: z.boolean(),
  has_inspection: z.boolean(),
  photo_count: z.number().int(),
  cover_photo: coverPhoto,
  created_at: z.string(),
  updated_at: z.string(),
});
export type CarRow = z.infer<typeof carRow>;

/**
 * `SELECT <car object> FROM "Bílar" c` — callers add WHERE / ORDER BY. `media`: the
 * store's public base, for the cover photo's URLs.
 * `min_next_bid` uses the car's own increment (fixed when its auction opened)
 * and is null when the car takes no bids (not active, or its time is up).
 *
 * `seller`: whether the caller may see the seller's personal data (see
 * `seesSellerData` in src/api/principal.ts). When not, the database never
 * sends it: name, e-mail and postal code come back as NULL.
 */
export const selectCars = (seller: { visible: boolean }, media: MediaBase) => sql.fragment`
  SELECT c.id, ${seller.visible ? sellerColumns : hiddenSellerColumns}, c.car_make, c.car_model, c.car_plate,
         c.year, c.mileage, c.status, b.highest_bid, b.bid_count, c.auction_ends_at,
         CASE WHEN c.status = 'active' AND (c.auction_ends_at IS NULL OR c.auction_ends_at > now())
              THEN coalesce(b.highest_bid, 0) + c.bid_increment END AS min_next_bid,
         (c.reserve_price IS NULL OR coalesce(b.highest_bid, 0) >= c.reserve_price) AS reserve_met,
         EXISTS (SELECT 1 FROM car_inspections i WHERE i.car_id = c.id) AS has_inspection,
         ${carPhotoColumns(media)},
         c.created_at, c.updated_at
  FROM "Bílar" c
  LEFT JOIN LATERAL (
    SELECT max(bid_amount)::int AS highest_bid, count(*)::int AS bid_count
    FROM "uppboð" WHERE car_id = c.id
  ) b ON true`;

const sellerColumns = sql.fragment`c.seller_name, c.email, c.postal_code`;
const hiddenSellerColumns = sql.fragment`NULL::text AS seller_name, NULL::text AS email, NULL::text AS postal_code`;

export const bidRow = z.object({
  id: z.string().uuid(),
  car_id: z.string().uuid(),
  dealer_name: z.string(),
  dealer_email: z.string(),
  bid_amount: z.number().int(),
  proxy: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type BidRow = z.infer<typeof bidRow>;

export const bidColumns = sql.fragment`id, car_id, dealer_name, dealer_email, bid_amount, proxy, created_at, updated_at`;

/**
 * The order of a car's bids, best first: highest amount, then the earlier bid.
 * The first bid in this order is the leading (and, after closing, the winning) one.
 */
export const bidRanking = sql.fragment`bid_amount DESC, created_at ASC, seq ASC`;

const leaderRow = z.object({
  bid_id: z.string().uuid(),
  dealer_email: z.string(),
  dealer_name: z.string(),
  price: z.number().int(),
  leader_max: z.number().int(),
  suspended: z.boolean(),
  /** How many bids the car has now (the standing a live event shows after a new one). */
  bid_count: z.number().int(),
});
export type Leader = z.infer<typeof leaderRow>;

/**
 * Who leads a car: the best-ranked bid, the largest maximum its dealer has given
 * on the car, whether that dealer is suspended (then the maximum no longer bids),
 * and the car's bid count; null when the car has no bids.
 */
export function findLeader(tx: Pick<DatabaseTransactionConnection, 'maybeOne'>, carId: string): Promise<Leader | null> {
  return tx.maybeOne(sql.type(leaderRow)`
    SELECT l.id AS bid_id, l.dealer_email, l.dealer_name, l.bid_amount AS price,
           (SELECT max(greatest(m.bid_amount, coalesce(m.max_amount, 0)))::int
              FROM "uppboð" m WHERE m.car_id = l.car_id AND m.dealer_email = l.dealer_email) AS leader_max,
           EXISTS (SELECT 1 FROM dealers d WHERE d.email = l.dealer_email AND d.status = 'suspended') AS suspended,
           (SELECT count(*)::int FROM "uppboð" c WHERE c.car_id = l.car_id) AS bid_count
    FROM (SELECT * FROM "uppboð" WHERE car_id = ${carId} ORDER BY ${bidRanking} LIMIT 1) l`);
}
