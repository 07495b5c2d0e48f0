import { sql, type CommonQueryMethods, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import type { Config } from '../config.js';
import { CAR_STATUSES, type CarStatus } from '../domain/lifecycle.js';
import { carPhotoColumns, coverPhoto, type MediaBase } from './photos.js';
import { noRows } from './no-rows.js';

export const carStatus = z.enum(CAR_STATUSES);

/**
 * A car that holds its plate (the partial unique index of migration 009): every status but
 * the unproved `unconfirmed` and `lapsed` (UNLISTED_STATUSES in src/domain/lifecycle.ts). A
 * literal, unqualified: `ON CONFLICT (car_plate) WHERE …` must repeat the index's predicate.
 */
export const holdsPlate = sql.fragment`status NOT IN ('unconfirmed', 'lapsed')`;

/** The same, for queries on `"Bílar" c`: the cars dealers may see at all (admins see every car). */
export const listedCar = sql.fragment`c.status NOT IN ('unconfirmed', 'lapsed')`;

/**
 * The public car object, shared by every operation that returns cars. The
 * seller's phone and the reserve price are deliberately not selected: they
 * never leave the server (dealers only see `reserve_met`). Highest bid and
 * count are derived from the bids (index on car_id, bid_amount DESC) rather
 * than stored, so they can never disagree.
 */
/** The vehicle's specification (registry + seller); null on a car until the registry has answered. */
export const vehicleSpec = z.object({
  vin: z.string().nullable(),
  fuel: z.string().nullable(),
  engine_size: z.number().int().nullable(),
  color: z.string().nullable(),
  first_registration: z.string().nullable(),
  transmission: z.enum(['manual', 'automatic']).nullable(),
  drivetrain: z.enum(['fwd', 'rwd', 'awd']).nullable(),
  equipment: z.array(z.string()),
});
export type VehicleSpec = z.infer<typeof vehicleSpec>;

export const OWNERSHIP = ['own', 'estate', 'power_of_attorney', 'on_behalf'] as const;
export const declarationsRow = z.object({
  damage: z.string().nullable(),
  repairs: z.string().nullable(),
  other: z.string().nullable(),
  ownership: z.enum(OWNERSHIP),
  ownership_details: z.string().nullable(),
});
export type Declarations = z.infer<typeof declarationsRow>;

/** The calling dealer's own standing on a car (`my_bid`). */
export const myBid = z.object({ amount: z.number().int(), max_amount: z.number().int().nullable(), leading: z.boolean() });

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
  vehicle: vehicleSpec.nullable(),
  declarations: declarationsRow.nullable(),
  photo_count: z.number().int(),
  cover_photo: coverPhoto,
  my_bid: myBid.nullable(),
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
 * `seesSellerData` in src/domain/access.ts). When not, the database never
 * sends it: name, e-mail and postal code come back as NULL. `bidder`: the caller's dealer
 * e-mail, for `my_bid` (null without a dealer identity).
 */
export const selectCars = (seller: { visible: boolean; declarations?: boolean; bidder?: string | null }, media: MediaBase) => sql.fragment`
  SELECT c.id, ${seller.visible ? sellerColumns : hiddenSellerColumns}, c.car_make, c.car_model, c.car_plate,
         c.year, c.mileage, c.status, b.highest_bid, b.bid_count, c.auction_ends_at,
         CASE WHEN c.status = 'active' AND (c.auction_ends_at IS NULL OR c.auction_ends_at > now())
              THEN coalesce(b.highest_bid, 0) + c.bid_increment END AS min_next_bid,
         (c.reserve_price IS NULL OR coalesce(b.highest_bid, 0) >= c.reserve_price) AS reserve_met,
         EXISTS (SELECT 1 FROM car_inspections i WHERE i.car_id = c.id) AS has_inspection,
         ${vehicleColumn}, ${(seller.declarations ?? seller.visible) ? declarationsColumn : sql.fragment`NULL::jsonb AS declarations`},
         ${carPhotoColumns(media)}, ${myBidColumn(seller.bidder ?? null)},
         c.created_at, c.updated_at
  FROM "Bílar" c
  LEFT JOIN LATERAL (
    SELECT max(bid_amount)::int AS highest_bid, count(*)::int AS bid_count
    FROM "uppboð" WHERE car_id = c.id AND NOT set_aside
  ) b ON true`;

const sellerColumns = sql.fragment`c.seller_name, c.email, c.postal_code`;

/** `vehicle` of the car object, for a car `c`. */
const vehicleColumn = sql.fragment`
  CASE WHEN c.vehicle_checked_at IS NOT NULL THEN jsonb_build_object(
    'vin', c.vin, 'fuel', c.fuel, 'engine_size', c.engine_size, 'color', c.color,
    'first_registration', to_char(c.first_registration, 'YYYY-MM-DD'),
    'transmission', c.transmission, 'drivetrain', c.drivetrain, 'equipment', to_jsonb(c.equipment)) END AS vehicle`;
const declarationsColumn = sql.fragment`c.declarations`;

/**
 * `my_bid` for the dealer `bidder` on car `c`: their highest amount and ceiling, and whether
 * the car's best-ranked bid is theirs. Both lookups use the (car_id, bid_amount DESC) index.
 */
function myBidColumn(bidder: string | null) {
  if (bidder === null) return sql.fragment`NULL::jsonb AS my_bid`;
  return sql.fragment`(
    SELECT jsonb_build_object('amount', max(m.bid_amount), 'max_amount', max(m.max_amount),
             'leading', (SELECT l.dealer_email FROM "uppboð" l WHERE l.car_id = c.id ORDER BY ${bidRanking} LIMIT 1) = ${bidder})
    FROM "uppboð" m WHERE m.car_id = c.id AND m.dealer_email = ${bidder} HAVING count(*) > 0) AS my_bid`;
}
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
 * The first bid in this order is the leading (and, after closing, the winning) one. Bids
 * `set_aside` (a buyer who backed out of the sale, migration 014) rank nowhere: every query
 * that picks a leader or a highest bid leaves them out.
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
           (SELECT count(*)::int FROM "uppboð" c WHERE c.car_id = l.car_id AND NOT c.set_aside) AS bid_count
    FROM (SELECT * FROM "uppboð" WHERE car_id = ${carId} AND NOT set_aside ORDER BY ${bidRanking} LIMIT 1) l`);
}

/** What a caller may see of cars (src/domain/access.ts): the seller's data; unlisted cars. */
export type CarView = { seller: boolean; unlisted: boolean; declarations?: boolean; bidder?: string | null };

const listedOnly = (view: CarView) => (view.unlisted ? sql.fragment`` : sql.fragment`AND ${listedCar}`);

/** One car as `view` may see it; null when there is none (or it is unlisted and the view does not see those). */
export function findCar(q: CommonQueryMethods, carId: string, view: CarView, media: MediaBase): Promise<CarRow | null> {
  return q.maybeOne(sql.type(carRow)`
    ${selectCars({ visible: view.seller, declarations: view.declarations, bidder: view.bidder }, media)} WHERE c.id = ${carId} ${listedOnly(view)}`);
}

/** A car that exists, as `view` may see it (after a change under its lock). */
export function readCar(
  q: CommonQueryMethods,
  carId: string,
  view: Pick<CarView, 'seller' | 'declarations' | 'bidder'>,
  media: MediaBase,
): Promise<CarRow> {
  return q.one(
    sql.type(
      carRow,
    )`${selectCars({ visible: view.seller, declarations: view.declarations, bidder: view.bidder }, media)} WHERE c.id = ${carId}`,
  );
}

const oneRow = z.object({ one: z.number() });

const statusRow = z.object({ status: carStatus });

/** The car's status, or null when there is no such car. */
export function carStatusOf(q: CommonQueryMethods, carId: string): Promise<CarStatus | null> {
  return q.maybeOneFirst(sql.type(statusRow)`SELECT status FROM "Bílar" WHERE id = ${carId}`);
}

/** Whether the car exists for `view` (unlisted cars only for a view that sees them). */
export function carExists(q: CommonQueryMethods, carId: string, view: Pick<CarView, 'unlisted'>): Promise<boolean> {
  return q.exists(sql.type(oneRow)`SELECT 1 AS one FROM "Bílar" c WHERE c.id = ${carId} ${listedOnly({ seller: false, ...view })}`);
}

/** Newest first, keyset after the car `after`; one row more than `limit` tells whether another page exists. */
export function listCarsNewestFirst(
  q: CommonQueryMethods,
  filter: { status?: CarStatus; after: string | null; limit: number },
  view: CarView,
  media: MediaBase,
): Promise<readonly CarRow[]> {
  const conditions = [
    view.unlisted ? null : listedCar,
    filter.status ? sql.fragment`c.status = ${filter.status}` : null,
    filter.after ? sql.fragment`(c.created_at, c.id) < (SELECT created_at, id FROM "Bílar" WHERE id = ${filter.after})` : null,
  ].filter((c) => c !== null);
  const where = conditions.length ? sql.fragment`WHERE ${sql.join(conditions, sql.fragment` AND `)}` : sql.fragment``;
  return q.any(sql.type(carRow)`
    ${selectCars({ visible: view.seller, declarations: view.declarations, bidder: view.bidder }, media)} ${where}
    ORDER BY c.created_at DESC, c.id DESC
    LIMIT ${filter.limit + 1}`);
}

/** When an auction opened now ends: at registration and at every re-opening. */
export const auctionEndsAt = (settings: Pick<Config, 'AUCTION_DURATION_HOURS'>) =>
  sql.fragment`now() + make_interval(hours => ${settings.AUCTION_DURATION_HOURS})`;

/** A registration as stored (already normalised and checked). */
export type NewCar = {
  seller_name: string;
  email: string;
  phone: string;
  postal_code: string;
  car_make: string;
  car_model: string;
  car_plate: string;
  year: number;
  mileage: number;
  reserve_price: number | null;
  /** What the registry said (null fields when it has no such plate); null when it could not be asked. */
  registry: Pick<VehicleSpec, 'vin' | 'fuel' | 'engine_size' | 'color' | 'first_registration'> | null;
  seller_vehicle: Pick<VehicleSpec, 'transmission' | 'drivetrain' | 'equipment'>;
  declarations: Declarations | null;
};

const specColumns = sql.fragment`vin, fuel, engine_size, color, first_registration, transmission, drivetrain, equipment,
  vehicle_checked_at, declarations`;

/** The specification and declarations of a registration, in the order of `specColumns`. */
const specValues = (car: NewCar) => {
  const r = car.registry;
  const v = car.seller_vehicle;
  return sql.fragment`${r?.vin ?? null}, ${r?.fuel ?? null}, ${r?.engine_size ?? null}, ${r?.color ?? null},
    ${r?.first_registration ?? null}::date, ${v.transmission}, ${v.drivetrain}, ${sql.array(v.equipment, 'text')},
    ${r ? sql.fragment`now()` : null}, ${car.declarations ? sql.jsonb(car.declarations) : null}`;
};

const registeredCar = sql.fragment`
    SELECT c.id, c.seller_name, c.email, c.postal_code, c.car_make, c.car_model, c.car_plate, c.year, c.mileage,
           c.status, NULL::int AS highest_bid, 0 AS bid_count, c.auction_ends_at, c.bid_increment AS min_next_bid,
           c.reserve_price IS NULL AS reserve_met, false AS has_inspection, ${vehicleColumn}, ${declarationsColumn},
           0 AS photo_count, NULL::json AS cover_photo, NULL::jsonb AS my_bid,
           c.created_at, c.updated_at
    FROM inserted c`;

/**
 * Inserts a registration: `unconfirmed` (it holds no plate yet, and is refused only when a
 * car already holds it) or `active` with its auction opened now. Null when a car holds the plate.
 */
export function insertCar(
  q: CommonQueryMethods,
  car: NewCar,
  unconfirmed: boolean,
  settings: Pick<Config, 'AUCTION_DURATION_HOURS' | 'BID_INCREMENT_ISK'>,
): Promise<CarRow | null> {
  return unconfirmed
    ? q.maybeOne(sql.type(carRow)`
        WITH inserted AS (
          INSERT INTO "Bílar" (seller_name, email, phone, postal_code, car_make, car_model, car_plate, year, mileage, status,
                               bid_increment, reserve_price, ${specColumns})
          SELECT ${car.seller_name}, ${car.email}, ${car.phone}, ${car.postal_code}, ${car.car_make}, ${car.car_model},
                 ${car.car_plate}, ${car.year}, ${car.mileage}, 'unconfirmed', ${settings.BID_INCREMENT_ISK}, ${car.reserve_price},
                 ${specValues(car)}
          WHERE NOT EXISTS (SELECT 1 FROM "Bílar" WHERE car_plate = ${car.car_plate} AND ${holdsPlate})
          RETURNING *
        )
        ${registeredCar}`)
    : // ON CONFLICT instead of catching the unique violation: no aborted statement, no race.
      q.maybeOne(sql.type(carRow)`
        WITH inserted AS (
          INSERT INTO "Bílar" (seller_name, email, phone, postal_code, car_make, car_model, car_plate, year, mileage, status,
                               auction_ends_at, bid_increment, reserve_price, ${specColumns})
          VALUES (${car.seller_name}, ${car.email}, ${car.phone}, ${car.postal_code}, ${car.car_make}, ${car.car_model},
                  ${car.car_plate}, ${car.year}, ${car.mileage}, 'active', ${auctionEndsAt(settings)}, ${settings.BID_INCREMENT_ISK}, ${car.reserve_price},
                  ${specValues(car)})
          ON CONFLICT (car_plate) WHERE ${holdsPlate} DO NOTHING
          RETURNING *
        )
        ${registeredCar}`);
}

export async function setReservePrice(q: CommonQueryMethods, carId: string, reserve: number | null): Promise<void> {
  await q.query(sql.type(noRows)`UPDATE "Bílar" SET reserve_price = ${reserve}, updated_at = now() WHERE id = ${carId}`);
}

const carIdRow = z.object({ id: z.string().uuid() });

/** A dealer's own car, waiting as `pending`; null when a car holds the plate. */
export function insertPendingCar(
  q: CommonQueryMethods,
  car: Omit<NewCar, 'email' | 'reserve_price' | 'registry' | 'seller_vehicle' | 'declarations'> & { email: string | null },
): Promise<string | null> {
  return q.maybeOneFirst(sql.type(carIdRow)`
    INSERT INTO "Bílar" (seller_name, email, phone, postal_code, car_make, car_model, car_plate, year, mileage, status)
    VALUES (${car.seller_name}, ${car.email}, ${car.phone}, ${car.postal_code}, ${car.car_make}, ${car.car_model},
            ${car.car_plate}, ${car.year}, ${car.mileage}, 'pending')
    ON CONFLICT (car_plate) WHERE ${holdsPlate} DO NOTHING
    RETURNING id`);
}
