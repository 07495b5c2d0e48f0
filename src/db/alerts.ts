import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { DIGEST_RETENTION_DAYS, MATCH_RETENTION_DAYS } from '../domain/alerts.js';
import { noRows } from './no-rows.js';

/**
 * The alert sweep's rows (migration 016): how far it has read car_events, the openings
 * after that, the matches kept for the daily digest, the digests sent, and the dealers due a
 * reminder. The story is src/auctions/alerts.ts's.
 */

const nowRow = z.object({ now: z.string() });

/** The database's clock: the deadlines of alerts are read on it, as the auctions' are. */
export const databaseNow = (q: CommonQueryMethods): Promise<string> => q.oneFirst(sql.type(nowRow)`SELECT now() AS now`);

const markRow = z.object({ last_event_id: z.string() });

/**
 * The sweep's mark, locked for the caller's transaction; null when another instance holds
 * it (that one is reading the same openings: this one has nothing to do).
 */
export function lockAlertMark(tx: CommonQueryMethods): Promise<string | null> {
  return tx.maybeOneFirst(sql.type(markRow)`
    SELECT last_event_id::text FROM alert_progress WHERE singleton FOR UPDATE SKIP LOCKED`);
}

export async function moveAlertMark(tx: CommonQueryMethods, to: string): Promise<void> {
  await tx.query(sql.type(noRows)`UPDATE alert_progress SET last_event_id = ${to}::bigint WHERE singleton`);
}

const openingRow = z.object({
  event_id: z.string(),
  car_id: z.string(),
  car_make: z.string(),
  car_model: z.string(),
  car_plate: z.string(),
  year: z.number().int(),
  mileage: z.number().int(),
  auction_ends_at: z.string().nullable(),
});
export type Opening = z.infer<typeof openingRow>;

const lastRow = z.object({ last: z.string().nullable() });

/**
 * Rounds that opened after event `after` (a status event to `active`), oldest first, at most
 * `limit`, with the car as it is now (only cars still active: a round over before the sweep
 * saw it is no news), and how far the sweep may move its mark: to the last opening when
 * there may be more, else to the newest event it looked at. Event ids rise in commit order, so
 * no event at or below that mark can still commit.
 */
export async function openingsAfter(
  tx: CommonQueryMethods,
  after: string,
  limit: number,
): Promise<{ openings: readonly Opening[]; scanned: { events: number; upTo: string } }> {
  // The newest event first, and only events up to it: each statement reads its own snapshot,
  // and one committed between the two must not be passed over by the mark (a later one has a
  // higher id, commit order, so the next run sees it).
  const newest = (await tx.oneFirst(sql.type(lastRow)`SELECT max(id)::text AS last FROM car_events`)) ?? after;
  const events = await tx.any(sql.type(z.object({ id: z.string(), car_id: z.string() }))`
    SELECT id::text, car_id FROM car_events
    WHERE id > ${after}::bigint AND id <= ${newest}::bigint AND kind = 'status' AND data->>'status' = 'active'
    ORDER BY id LIMIT ${limit}`);
  const upTo = events.length === limit ? events[events.length - 1].id : newest;
  if (!events.length) return { openings: [], scanned: { events: 0, upTo } };
  const openings = await tx.any(sql.type(openingRow)`
    SELECT e.id::text AS event_id, c.id AS car_id, c.car_make, c.car_model, c.car_plate, c.year, c.mileage, c.auction_ends_at
    FROM unnest(${sql.array(
      events.map((e) => e.id),
      'int8',
    )}::bigint[]) WITH ORDINALITY e(id, n)
    JOIN car_events ev ON ev.id = e.id
    JOIN "Bílar" c ON c.id = ev.car_id AND c.status = 'active'
    ORDER BY e.n`);
  return { openings, scanned: { events: events.length, upTo } };
}

/** Keeps the daily searches' matches of one opening for the digest (a repeat is dropped). */
export async function recordMatches(
  tx: CommonQueryMethods,
  opening: { eventId: string; carId: string },
  matches: readonly { search_id: string; dealer_id: string }[],
): Promise<void> {
  if (!matches.length) return;
  await tx.query(sql.type(noRows)`
    INSERT INTO saved_search_matches (search_id, event_id, dealer_id, car_id)
    SELECT s, ${opening.eventId}::bigint, d, ${opening.carId}
    FROM unnest(${sql.array(
      matches.map((m) => m.search_id),
      'uuid',
    )}::uuid[], ${sql.array(
      matches.map((m) => m.dealer_id),
      'uuid',
    )}::uuid[]) AS t(s, d)
    ON CONFLICT DO NOTHING`);
}

const dealerRow = z.object({ id: z.string(), email: z.string(), name: z.string() });
export type AlertDealer = z.infer<typeof dealerRow>;

/** Who an alert goes to: approved dealers still on file with an e-mail. */
const alertable = sql.fragment`d.status = 'approved' AND d.erased_at IS NULL AND d.email IS NOT NULL`;
const dealerName = sql.fragment`coalesce(nullif(d.company_name, ''), d.dealer_name)`;

/** Dealers with a daily search and no digest for `day` yet. */
export function dealersDueDigest(q: CommonQueryMethods, day: string): Promise<readonly AlertDealer[]> {
  return q.any(sql.type(dealerRow)`
    SELECT d.id, d.email, ${dealerName} AS name FROM dealers d
    WHERE ${alertable}
      AND EXISTS (SELECT 1 FROM saved_searches s WHERE s.dealer_id = d.id AND s.alert = 'daily')
      AND NOT EXISTS (SELECT 1 FROM alert_digests g WHERE g.dealer_id = d.id AND g.day = ${day}::date)`);
}

const claimedRow = z.object({ since: z.string().nullable() });

/**
 * Claims `day`'s digest of the dealer in the caller's transaction (the unique key: a second
 * instance's claim waits for this one and then finds the row); null when it is taken,
 * else since when its matches count (the previous digest, or null: every match kept).
 */
export async function claimDigest(tx: CommonQueryMethods, dealerId: string, day: string): Promise<{ since: string | null } | null> {
  const claimed = await tx.maybeOne(sql.type(z.object({ day: z.string() }))`
    INSERT INTO alert_digests (dealer_id, day, matches) VALUES (${dealerId}, ${day}::date, 0)
    ON CONFLICT DO NOTHING RETURNING day::text`);
  if (!claimed) return null;
  const since = await tx.oneFirst(sql.type(claimedRow)`
    SELECT max(at) AS since FROM alert_digests WHERE dealer_id = ${dealerId} AND day < ${day}::date`);
  return { since };
}

/** A car of a digest: the opening's car, with the dealer's searches it matched. */
const digestCarRow = openingRow.omit({ event_id: true }).extend({ searches: z.array(z.string()) });
export type DigestCar = z.infer<typeof digestCarRow>;

/** The still-active cars the dealer's daily searches matched after `since`, with the searches' names, soonest ending first. */
export function digestCars(q: CommonQueryMethods, dealerId: string, since: string | null): Promise<readonly DigestCar[]> {
  return q.any(sql.type(digestCarRow)`
    SELECT c.id AS car_id, c.car_make, c.car_model, c.car_plate, c.year, c.mileage, c.auction_ends_at,
           array_agg(DISTINCT s.name ORDER BY s.name) AS searches
    FROM saved_search_matches m
    JOIN saved_searches s ON s.id = m.search_id AND s.alert = 'daily'
    JOIN "Bílar" c ON c.id = m.car_id AND c.status = 'active'
    WHERE m.dealer_id = ${dealerId} ${since ? sql.fragment`AND m.matched_at > ${since}::timestamptz` : sql.fragment``}
    GROUP BY c.id
    ORDER BY c.auction_ends_at NULLS LAST, c.id`);
}

export async function setDigestMatches(tx: CommonQueryMethods, dealerId: string, day: string, matches: number): Promise<void> {
  await tx.query(sql.type(noRows)`
    UPDATE alert_digests SET matches = ${matches} WHERE dealer_id = ${dealerId} AND day = ${day}::date`);
}

const reminderRow = openingRow.extend({ dealer_id: z.string(), email: z.string(), name: z.string() });
export type ReminderDue = z.infer<typeof reminderRow>;

/**
 * (dealer, car) pairs due a reminder: an active car whose round ends within `minutes`, and an
 * approved dealer who bid on it (a bid not set aside) or keeps it as a favourite, with the
 * event that opened the round (the reminder's key: one per round).
 */
export function remindersDue(q: CommonQueryMethods, minutes: number): Promise<readonly ReminderDue[]> {
  return q.any(sql.type(reminderRow)`
    SELECT o.event_id, c.id AS car_id, c.car_make, c.car_model, c.car_plate, c.year, c.mileage, c.auction_ends_at,
           d.id AS dealer_id, d.email, ${dealerName} AS name
    FROM "Bílar" c
    CROSS JOIN LATERAL (
      SELECT max(e.id)::text AS event_id FROM car_events e
      WHERE e.car_id = c.id AND e.kind = 'status' AND e.data->>'status' = 'active') o
    JOIN dealers d ON ${alertable} AND (
      EXISTS (SELECT 1 FROM "uppboð" b WHERE b.car_id = c.id AND b.dealer_email = d.email AND NOT b.set_aside)
      OR EXISTS (SELECT 1 FROM favorites f WHERE f.car_id = c.id AND f.dealer_email = d.email))
    WHERE c.status = 'active' AND c.auction_ends_at > now()
      AND c.auction_ends_at <= now() + make_interval(mins => ${minutes})
      AND o.event_id IS NOT NULL`);
}

const roundRow = z.object({ open: z.boolean() });

/** Whether the car's round is still running (active, not past its end): alerts and reminders are about nothing else. */
export async function roundIsOpen(q: CommonQueryMethods, carId: string | null): Promise<boolean> {
  if (!carId) return false;
  const open = await q.maybeOneFirst(sql.type(roundRow)`
    SELECT status = 'active' AND coalesce(auction_ends_at > now(), true) AS open FROM "Bílar" WHERE id = ${carId}`);
  return open === true;
}

/** Matches and digest records past their use (the retention of src/domain/alerts.ts). */
export const expiredMatches = sql.fragment`matched_at < now() - make_interval(days => ${MATCH_RETENTION_DAYS})`;
export const expiredDigests = sql.fragment`day < current_date - ${DIGEST_RETENTION_DAYS}::int`;
