import type { Config } from '../config.js';
import type { Db } from '../db/pool.js';
import {
  claimDigest,
  databaseNow,
  dealersDueDigest,
  digestCars,
  lockAlertMark,
  moveAlertMark,
  openingsAfter,
  recordMatches,
  remindersDue,
  setDigestMatches,
  type Opening,
} from '../db/alerts.js';
import { matchingSearches } from '../db/car-search.js';
import { auctionReminderKey, digestDayDue, searchAlertKey, searchDigestKey } from '../domain/alerts.js';
import type { OutboxEmail } from '../notifications/kinds.js';
import { queueEmail, queueEmails } from '../notifications/queue.js';
import type { CommonQueryMethods } from 'slonik';

/**
 * The dealer-alerts job (docs/alerts.md), every ALERT_INTERVAL_SECONDS on any number of
 * instances:
 *
 * - **instant**: rounds that opened since the last run are read from car_events (a status
 *   event to `active`, whoever opened it) after a stored mark; each is matched against every
 *   saved search that alerts, and each dealer it matched gets one e-mail listing the
 *   searches. The mark is locked while a run works (SKIP LOCKED: another instance's run at
 *   the same time does nothing), and moves in the transaction that queues the e-mails, so an
 *   opening is handled once; the outbox's key `search-alert:<dealer>:<event>` makes even a
 *   repeat harmless.
 * - **daily**: from ALERT_DIGEST_HOUR (UTC), each dealer with a daily search gets the day's
 *   digest of the still-active cars matched since the previous one; the (dealer, day) row
 *   that claims it is written in the same transaction as the e-mail, and its key is unique.
 * - **reminders**: AUCTION_REMINDER_MINUTES before a round ends, each dealer who bid on the
 *   car or keeps it as a favourite gets one e-mail (`auction-reminder:<dealer>:<opening>`).
 *
 * Only approved dealers still on file get any of these; the outbox drops an alert or a
 * reminder still queued when its round is over.
 */

export type AlertSettings = Pick<Config, 'ALERT_DIGEST_HOUR' | 'AUCTION_REMINDER_MINUTES'>;
export type AlertsResult = { openings: number; alerts: number; digests: number; reminders: number };

/** Openings read per transaction: a burst (an import opening many rounds) is worked through in steps. */
const OPENINGS_PER_RUN = 50;

const carParams = (car: Omit<Opening, 'event_id' | 'car_id'>) => ({
  car_make: car.car_make,
  car_model: car.car_model,
  car_plate: car.car_plate,
  year: car.year,
  mileage: car.mileage,
  auction_ends_at: car.auction_ends_at,
});

/** One opening: its matches kept for the daily digests, and one e-mail to each instant dealer. */
async function alertOpening(tx: CommonQueryMethods, opening: Opening): Promise<number> {
  const matches = await matchingSearches(tx, opening.car_id);
  await recordMatches(
    tx,
    { eventId: opening.event_id, carId: opening.car_id },
    matches.filter((m) => m.alert === 'daily'),
  );
  // One e-mail per dealer, naming every search of theirs the car matched (in the order they saved them).
  const byDealer = new Map<string, { email: string; name: string; searches: string[] }>();
  for (const m of matches) {
    if (m.alert !== 'instant') continue;
    const entry = byDealer.get(m.dealer_id) ?? { email: m.dealer_email, name: m.dealer_name, searches: [] };
    entry.searches.push(m.name);
    byDealer.set(m.dealer_id, entry);
  }
  const emails: OutboxEmail[] = [...byDealer].map(([dealerId, d]) => ({
    kind: 'search_alert',
    dedupeKey: searchAlertKey(dealerId, opening.event_id),
    carId: opening.car_id,
    toEmail: d.email,
    toName: d.name,
    params: { dealer_name: d.name, car_id: opening.car_id, ...carParams(opening), searches: JSON.stringify(d.searches) },
  }));
  return queueEmails(tx, emails);
}

/** Instant alerts for the rounds that opened since the last run; how many openings and e-mails. */
export async function alertOpenings(db: Db): Promise<{ openings: number; alerts: number }> {
  const total = { openings: 0, alerts: 0 };
  for (;;) {
    const step = await db.transaction(async (tx) => {
      const mark = await lockAlertMark(tx);
      if (mark === null) return null;
      const { openings, scanned } = await openingsAfter(tx, mark, OPENINGS_PER_RUN);
      let alerts = 0;
      for (const opening of openings) alerts += await alertOpening(tx, opening);
      if (scanned.upTo !== mark) await moveAlertMark(tx, scanned.upTo);
      return { openings: openings.length, alerts, more: scanned.events === OPENINGS_PER_RUN };
    });
    if (!step) return total;
    total.openings += step.openings;
    total.alerts += step.alerts;
    if (!step.more) return total;
  }
}

/** The day's digests, once the hour has come: one per dealer with a daily search, e-mailed when it lists anything. */
export async function sendDigests(db: Db, settings: AlertSettings): Promise<number> {
  // The database's clock, as every other deadline here.
  const day = digestDayDue(new Date(await databaseNow(db)), settings.ALERT_DIGEST_HOUR);
  if (!day) return 0;
  let sent = 0;
  for (const dealer of await dealersDueDigest(db, day)) {
    sent += await db.transaction(async (tx) => {
      const claim = await claimDigest(tx, dealer.id, day);
      if (!claim) return 0;
      const cars = await digestCars(tx, dealer.id, claim.since);
      await setDigestMatches(tx, dealer.id, day, cars.length);
      if (!cars.length) return 0;
      const queued = await queueEmail(tx, {
        kind: 'search_digest',
        dedupeKey: searchDigestKey(dealer.id, day),
        carId: null,
        toEmail: dealer.email,
        toName: dealer.name,
        params: {
          dealer_name: dealer.name,
          day,
          count: cars.length,
          cars: JSON.stringify(cars.map((c) => ({ car_id: c.car_id, ...carParams(c), searches: c.searches }))),
        },
      });
      return queued ? 1 : 0;
    });
  }
  return sent;
}

/** Reminders for rounds ending within AUCTION_REMINDER_MINUTES; how many were new. */
export async function queueReminders(db: Db, settings: AlertSettings): Promise<number> {
  const due = await remindersDue(db, settings.AUCTION_REMINDER_MINUTES);
  return queueEmails(
    db,
    due.map((r) => ({
      kind: 'auction_reminder',
      dedupeKey: auctionReminderKey(r.dealer_id, r.event_id),
      carId: r.car_id,
      toEmail: r.email,
      toName: r.name,
      params: { dealer_name: r.name, car_id: r.car_id, ...carParams(r), minutes: settings.AUCTION_REMINDER_MINUTES },
    })),
  );
}

/** One run of the job: instant alerts, digests, reminders. */
export async function runDealerAlerts(db: Db, settings: AlertSettings): Promise<AlertsResult> {
  const { openings, alerts } = await alertOpenings(db);
  const digests = await sendDigests(db, settings);
  const reminders = await queueReminders(db, settings);
  return { openings, alerts, digests, reminders };
}
