import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { carRow, selectCars } from './cars.js';
import type { MediaBase } from './photos.js';

/** A car the dealer bid on, with when they last bid and whether the sale went to them. */
export const bidCarRow = carRow.extend({ last_bid_at: z.string(), won: z.boolean() });
export type BidCarRow = z.infer<typeof bidCarRow>;

/**
 * The cars `dealerEmail` bid on, the most recently bid on first (keyset after the car
 * `after`). `uppboð_dealer_created_idx` finds their bids; each car once.
 */
export function carsBidOn(
  q: CommonQueryMethods,
  dealerEmail: string,
  page: { after: string | null; limit: number },
  view: { seller: boolean; declarations: boolean },
  media: MediaBase,
): Promise<readonly BidCarRow[]> {
  const mine = sql.fragment`(SELECT car_id, max(created_at) AS last_bid_at FROM "uppboð" WHERE dealer_email = ${dealerEmail} GROUP BY car_id)`;
  const after = page.after
    ? sql.fragment`AND (m.last_bid_at, car.id) < (SELECT max(created_at), ${page.after}::uuid FROM "uppboð"
                                                  WHERE car_id = ${page.after} AND dealer_email = ${dealerEmail})`
    : sql.fragment``;
  return q.any(sql.type(bidCarRow)`
    SELECT car.*, m.last_bid_at, coalesce(w.dealer_email = ${dealerEmail}, false) AS won
    FROM (${selectCars({ visible: view.seller, declarations: view.declarations, bidder: dealerEmail }, media)}) car
    JOIN ${mine} m ON m.car_id = car.id
    JOIN "Bílar" s ON s.id = car.id
    LEFT JOIN "uppboð" w ON w.id = s.winning_bid_id
    WHERE true ${after}
    ORDER BY m.last_bid_at DESC, car.id DESC
    LIMIT ${page.limit + 1}`);
}

/** A car sold to the dealer: the price (their winning bid) and when it was sold. */
export const purchaseRow = carRow.extend({ price: z.number().int(), sold_at: z.string() });
export type PurchaseRow = z.infer<typeof purchaseRow>;

/** The cars sold to `dealerEmail` (the winning bid is theirs), the latest sale first, keyset after the car `after`. */
export function carsBoughtBy(
  q: CommonQueryMethods,
  dealerEmail: string,
  page: { after: string | null; limit: number },
  view: { seller: boolean; declarations: boolean },
  media: MediaBase,
): Promise<readonly PurchaseRow[]> {
  const bought = sql.fragment`(
    SELECT s.id AS car_id, w.bid_amount AS price,
           coalesce((SELECT max(e.at) FROM car_events e
                      WHERE e.car_id = s.id AND e.kind = 'status' AND e.data->>'status' = 'sold'), s.updated_at) AS sold_at
    FROM "uppboð" w JOIN "Bílar" s ON s.winning_bid_id = w.id
    WHERE w.dealer_email = ${dealerEmail} AND s.status = 'sold')`;
  const after = page.after
    ? sql.fragment`AND (p.sold_at, car.id) < (SELECT sold_at, car_id FROM ${bought} a WHERE a.car_id = ${page.after})`
    : sql.fragment``;
  return q.any(sql.type(purchaseRow)`
    SELECT car.*, p.price, p.sold_at
    FROM (${selectCars({ visible: view.seller, declarations: view.declarations, bidder: dealerEmail }, media)}) car
    JOIN ${bought} p ON p.car_id = car.id
    WHERE true ${after}
    ORDER BY p.sold_at DESC, car.id DESC
    LIMIT ${page.limit + 1}`);
}
