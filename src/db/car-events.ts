import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { CAR_STATUSES } from '../domain/lifecycle.js';
import { SALE_ACTIONS, type SaleAction } from '../domain/sale.js';
import { noRows } from './no-rows.js';

/**
 * The append-only event log of cars (`car_events`): status rows are written by
 * src/db/car-status.ts (and, for a car's first status, by a trigger on INSERT), bid rows by
 * the bid handler — always in the transaction that made the change, under the car's lock.
 * `data` holds what a live stream would show, never a dealer's identity.
 */

/** One accepted bid (a proxy bid the system placed included), as the stream shows it. */
export async function appendBidEvent(
  tx: CommonQueryMethods,
  carId: string,
  bid: { bid_amount: number; created_at: string; proxy: boolean },
  snapshot: { highest_bid: number; bid_count: number; min_next_bid: number; auction_ends_at: string | null; reserve_met: boolean },
): Promise<void> {
  // Bids are only taken on active cars: the status is part of the picture a stream shows.
  const data = { amount: bid.bid_amount, created_at: bid.created_at, proxy: bid.proxy, status: 'active', ...snapshot };
  await tx.query(sql.type(noRows)`INSERT INTO car_events (car_id, kind, data) VALUES (${carId}, 'bid', ${sql.jsonb(data)})`);
}

const timelineRow = z.object({
  status: z.enum(CAR_STATUSES),
  at: z.string(),
  sale_action: z.enum(SALE_ACTIONS).nullable(),
  step: z.string().nullable(),
});
export type TimelineEntry = { status: z.infer<typeof timelineRow>['status']; at: string; sale_action?: SaleAction; step?: string | null };

/**
 * A car's history, oldest first: its status at registration, then every change, and the
 * steps of its sale (`sale_action`, `step`) among them.
 */
export async function statusTimeline(q: CommonQueryMethods, carId: string): Promise<TimelineEntry[]> {
  const rows = await q.any(sql.type(timelineRow)`
    SELECT data->>'status' AS status, at,
           CASE WHEN kind = 'sale' THEN data->>'action' END AS sale_action,
           CASE WHEN kind = 'sale' THEN data->>'step' END AS step
    FROM car_events
    WHERE car_id = ${carId} AND kind IN ('status', 'sale')
    ORDER BY id`);
  return rows.map((r) =>
    r.sale_action === null ? { status: r.status, at: r.at } : { status: r.status, at: r.at, sale_action: r.sale_action, step: r.step },
  );
}
