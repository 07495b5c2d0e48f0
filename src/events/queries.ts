import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { minNextBid, reserveMet } from '../domain/auction.js';
import type { EventRow, Standing } from './frames.js';
import { listedCar } from '../db/cars.js';
import { noRows } from '../db/no-rows.js';

/** The SQL of the live streams: a car's standing now, the rows a client missed, the hub's read. */

const eventRow = z.object({
  id: z.coerce.number(),
  car_id: z.string(),
  kind: z.enum(['bid', 'status', 'sale']),
  data: z.record(z.unknown()),
  at: z.string(),
});
const eventIdRow = z.object({ id: z.coerce.number() });
const columns = sql.fragment`e.id, e.car_id, e.kind, e.data, e.at`;

const snapshotRow = z.object({
  car_id: z.string(),
  status: z.string(),
  auction_ends_at: z.string().nullable(),
  highest_bid: z.number().int().nullable(),
  bid_count: z.number().int(),
  bid_increment: z.number().int(),
  reserve_price: z.number().int().nullable(),
  last_event_id: z.coerce.number().nullable(),
});

/**
 * A car as a stream starts it, and the id of its latest event. One statement, so one
 * snapshot: every event up to `last_event_id` is in the figures and none after it (the
 * car's writers hold its row lock, so its events commit in id order). Null: no such car.
 */
export async function carSnapshot(
  q: CommonQueryMethods,
  carId: string,
): Promise<{ standing: Standing; lastEventId: number | null } | null> {
  const row = await q.maybeOne(sql.type(snapshotRow)`
    SELECT c.id AS car_id, c.status, c.auction_ends_at, s.highest_bid, s.bid_count, c.bid_increment, c.reserve_price,
           (SELECT max(e.id) FROM car_events e WHERE e.car_id = c.id) AS last_event_id
    FROM "Bílar" c,
         LATERAL (SELECT max(b.bid_amount)::int AS highest_bid, count(*)::int AS bid_count
                  FROM "uppboð" b WHERE b.car_id = c.id AND NOT b.set_aside) s
    WHERE c.id = ${carId} AND ${listedCar}`);
  if (!row) return null;
  return {
    standing: {
      car_id: row.car_id,
      status: row.status,
      highest_bid: row.highest_bid,
      bid_count: row.bid_count,
      min_next_bid: minNextBid(row.highest_bid, row.bid_increment),
      auction_ends_at: row.auction_ends_at,
      reserve_met: reserveMet(row.highest_bid, row.reserve_price),
    },
    lastEventId: row.last_event_id,
  };
}

/**
 * A car's events after `afterId`, oldest first, when `afterId` is one of this car's events
 * and at most `limit` followed it; null when the client cannot resume from there.
 */
export async function carEventsAfter(q: CommonQueryMethods, carId: string, afterId: number, limit: number): Promise<EventRow[] | null> {
  const rows = await q.any(sql.type(eventRow)`
    SELECT ${columns} FROM car_events e
    WHERE e.car_id = ${carId} AND e.id > ${afterId}
    ORDER BY e.id
    LIMIT ${limit + 1}`);
  if (rows.length > limit) return null;
  const known = await q.exists(sql.type(noRows)`SELECT 1 FROM car_events WHERE car_id = ${carId} AND id = ${afterId}`);
  return known ? [...rows] : null;
}

/**
 * Every car's events in (afterId, upTo], oldest first — `upTo` is where the hub has read to.
 * Null when more than `limit` were missed.
 */
export async function allEventsBetween(q: CommonQueryMethods, afterId: number, upTo: number, limit: number): Promise<EventRow[] | null> {
  if (upTo <= afterId) return [];
  const rows = await q.any(sql.type(eventRow)`
    SELECT ${columns} FROM car_events e
    WHERE e.id > ${afterId} AND e.id <= ${upTo}
    ORDER BY e.id
    LIMIT ${limit + 1}`);
  return rows.length > limit ? null : [...rows];
}

/**
 * The hub's read: rows after its cursor. Event ids are taken in commit order (migration 008),
 * so the rows a reader sees are always a prefix of what will ever be there.
 */
export function eventsAfter(q: CommonQueryMethods, cursor: number, limit: number): Promise<readonly EventRow[]> {
  return q.any(sql.type(eventRow)`
    SELECT ${columns} FROM car_events e
    WHERE e.id > ${cursor}
    ORDER BY e.id
    LIMIT ${limit}`);
}

/** Where the hub starts: the newest event. */
export function latestEventId(q: CommonQueryMethods): Promise<number> {
  return q.oneFirst(sql.type(eventIdRow)`
    SELECT coalesce(max(id), 0) AS id FROM car_events`);
}

export function eventExists(q: CommonQueryMethods, id: number): Promise<boolean> {
  return q.exists(sql.type(noRows)`SELECT 1 FROM car_events WHERE id = ${id}`);
}
