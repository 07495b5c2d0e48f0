/**
 * The rules of saved searches and their alerts (docs/alerts.md): how many a dealer may keep,
 * which alerts there are, the keys that make each e-mail go once, and when a day's digest
 * is due. The matching itself is the list's own filters (src/db/car-search.ts).
 */

/** A dealer's saved searches are a short list to choose from, not a data store. */
export const MAX_SAVED_SEARCHES = 20;

export const ALERTS = ['instant', 'daily', 'off'] as const;
export type Alert = (typeof ALERTS)[number];

/**
 * How long a match is kept for the daily digest: a day's digest lists the matches since the
 * previous one, so a week covers a digest missed by a stopped server; after that it is old news.
 */
export const MATCH_RETENTION_DAYS = 8;
/** How long the record of a sent digest is kept (it is what makes a day's digest once). */
export const DIGEST_RETENTION_DAYS = 30;

/** One instant alert per dealer per opening of a round (the car_events id of the opening). */
export const searchAlertKey = (dealerId: string, openingEventId: string | number) => `search-alert:${dealerId}:${openingEventId}`;

/** One reminder per dealer per round. */
export const auctionReminderKey = (dealerId: string, openingEventId: string | number) => `auction-reminder:${dealerId}:${openingEventId}`;

/** One digest per dealer per UTC day. */
export const searchDigestKey = (dealerId: string, day: string) => `search-digest:${dealerId}:${day}`;

/**
 * The UTC day whose digest is due at `now` (YYYY-MM-DD), or null before `hour` (UTC): from
 * that hour on the day's digest goes, once, however late in the day a server first looks.
 */
export function digestDayDue(now: Date, hour: number): string | null {
  return now.getUTCHours() >= hour ? now.toISOString().slice(0, 10) : null;
}
