import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { CAR_STATUSES } from '../domain/lifecycle.js';

/** Statements without RETURNING: no row comes back for the schema to check. */
const nothing = z.object({});

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
  await tx.query(sql.type(nothing)`INSERT INTO car_events (car_id, kind, data) VALUES (${carId}, 'bid', ${sql.jsonb(data)})`);
}

const timelineEntry = z.object({ status: z.enum(CAR_STATUSES), at: z.string() });
export type TimelineEntry = z.infer<typeof timelineEntry>;

/** A car's status history, oldest first: its status at registration, then every change. */
export function statusTimeline(q: CommonQueryMethods, carId: string): Promise<readonly TimelineEntry[]> {
  return q.any(sql.type(timelineEntry)`
    SELECT data->>'status' AS status, at FROM car_events
    WHERE car_id = ${carId} AND kind = 'status'
    ORDER BY id`);
}
