import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { ApiError, conflict, notConfigured } from '../errors.js';
import { carRow, selectCars } from '../db/cars.js';
import { changeStatus, lockCar, sellToBestBid, type LockedCar } from '../db/car-status.js';
import { statusTimeline } from '../db/car-events.js';
import { estimatePrice } from '../db/estimates.js';
import { findInspection } from '../db/inspections.js';
import { sellerCodes } from '../db/one-time-codes.js';
import { CODE_TTL_MINUTES, newCode } from '../domain/codes.js';
import { UNLISTED_STATUSES } from '../domain/lifecycle.js';
import { normaliseEmail, normalisePlate } from '../domain/normalise.js';
import { sellerCarId, sellerTokens } from '../api/seller-auth.js';
import type { Deps, Handler } from '../api/types.js';
import type { Logger } from '../logger.js';
import { mediaBase } from '../storage/index.js';
import { listPhotos, type MediaBase } from '../db/photos.js';
import { showInspection } from '../usecases/inspection-photos.js';

/**
 * The seller's side ("Mín síða"): sign in with plate and e-mail and a one-time code, follow
 * the auction, then accept or decline the highest bid, or withdraw the car. Every decision
 * goes through the one lifecycle (src/db/car-status.ts) under the car's row lock.
 */

const SELLER_CODE_LENGTH = 6;
const LOGIN_ANSWER = 'If a car with this plate and e-mail is registered, a sign-in code is on its way by e-mail (and SMS)';

const sellerOf = z.object({ id: z.string().uuid(), phone: z.string().nullable(), seller_name: z.string(), car_plate: z.string() });

/**
 * The car registered with this plate and e-mail, both normalised as at registration. A
 * registration nobody has confirmed (or one that lapsed) signs nobody in.
 */
function findSellersCar(q: CommonQueryMethods, plate: string, email: string) {
  return q.maybeOne(sql.type(sellerOf)`
    SELECT id, phone, seller_name, car_plate FROM "Bílar"
    WHERE car_plate = ${normalisePlate(plate)} AND email = ${normaliseEmail(email)}
      AND status <> ALL(${sql.array([...UNLISTED_STATUSES], 'text')})`);
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Sends the code by e-mail (Brevo: template BREVO_SELLER_CODE_TEMPLATE_ID, else plain) and,
 * when the car has a phone and SMS can be sent, by SMS. Runs after the answer has gone, so
 * a match looks and takes the same as no match; a failure is logged, and the seller asks again.
 */
async function deliverCode(deps: Deps, log: Logger, car: z.infer<typeof sellerOf>, email: string, code: string): Promise<void> {
  const { brevo, twilio } = deps.services;
  const templateId = deps.config.BREVO_SELLER_CODE_TEMPLATE_ID;
  const to = { email, name: car.seller_name };
  const sends: Promise<unknown>[] = [
    templateId
      ? brevo.sendTemplateEmail({ to, templateId, params: { code, car_plate: car.car_plate, minutes: CODE_TTL_MINUTES } })
      : brevo.sendEmail({
          to,
          subject: `Kaggi innskráningarkóði: ${code}`,
          htmlContent:
            `<p>Innskráningarkóðinn þinn fyrir ${escapeHtml(car.car_plate)} á Mín síða er <strong>${code}</strong>.</p>` +
            `<p>Hann gildir í ${CODE_TTL_MINUTES} mínútur. Ef þú baðst ekki um hann máttu hunsa þennan póst.</p>`,
        }),
  ];
  if (car.phone && (twilio.provider === 'twilio_messaging' || twilio.provider === 'sandbox')) {
    sends.push(twilio.sendSms(car.phone, `Kaggi: innskráningarkóðinn þinn er ${code}. Hann gildir í ${CODE_TTL_MINUTES} mínútur.`));
  }
  const results = await Promise.allSettled(sends);
  for (const r of results) {
    if (r.status === 'rejected') {
      log.warn('seller code not delivered', { car_id: car.id, error: r.reason instanceof Error ? r.reason.message : String(r.reason) });
    }
  }
  log.info('seller code sent', { car_id: car.id, channels: results.filter((r) => r.status === 'fulfilled').length });
}

/**
 * Finds the car, stores a new code and sends it. Runs once the answer has gone (see
 * sellerLogin), so its errors are only logged: the seller asks again.
 */
async function issueCode(deps: Deps, log: Logger, plate: string, email: string): Promise<void> {
  const car = await findSellersCar(deps.db, plate, email);
  if (!car) return;
  const code = newCode(SELLER_CODE_LENGTH);
  await deps.db.transaction((tx) => sellerCodes.issue(tx, car.id, code));
  await deliverCode(deps, log, car, email, code);
}

/**
 * Answers 202 before looking anything up: a hit (lookup, a code stored in a transaction, the
 * e-mail queued) and a miss (one lookup) then take the same time to answer, so the timing of
 * the answer cannot tell whether a plate + e-mail is registered.
 */
const sellerLogin: Handler<'sellerLogin'> = ({ req, body, deps, log }) => {
  if (deps.services.brevo.mode === 'disabled') throw notConfigured('E-mail (Brevo)');
  const email = normaliseEmail(body.email);
  const plate = body.car_plate;
  const work = () =>
    void issueCode(deps, log, plate, email).catch((error: unknown) =>
      log.warn('seller code not issued', { error: error instanceof Error ? error.message : String(error) }),
    );
  const res = req.res;
  if (res) res.once('close', work);
  else setImmediate(work);
  return { status: 202, body: { success: true, message: LOGIN_ANSWER } };
};

const sessionRow = z.object({ seller_session: z.number().int() });

const invalidCode = () => new ApiError(401, 'invalid_code', 'The code is wrong, has expired or was already used; request a new one');

const sellerVerify: Handler<'sellerVerify'> = async ({ body, deps, log }) => {
  const car = await findSellersCar(deps.db, body.car_plate, body.email);
  if (!car) throw invalidCode();
  // A new sign-in ends the car's older sessions: the code and the new session in one step.
  const signedIn = await deps.db.transaction(async (tx) => {
    if ((await sellerCodes.check(tx, car.id, body.code)) !== 'valid') return null;
    return tx.oneFirst(sql.type(sessionRow)`
      UPDATE "Bílar" SET seller_session = seller_session + 1 WHERE id = ${car.id} RETURNING seller_session`);
  });
  if (signedIn === null) throw invalidCode();
  const session = await sellerTokens(deps.config, deps.logger).issue(car.id, signedIn);
  log.info('seller signed in', { car_id: car.id });
  return { status: 200, body: { success: true, token: session.token, expires_at: session.expires_at, car_id: car.id } };
};

// The seller always sees their own name: the car object's seller fields are never hidden here.
const sellerCarRow = carRow.extend({ seller_name: z.string(), decision_due_at: z.string().nullable() });

function readSellerCar(q: CommonQueryMethods, media: MediaBase, carId: string) {
  return q.one(sql.type(sellerCarRow)`
    SELECT x.*, (SELECT decision_due_at FROM "Bílar" WHERE id = x.id) AS decision_due_at
    FROM (${selectCars({ visible: true }, media)} WHERE c.id = ${carId}) x`);
}

const sellerBid = z.object({ amount: z.number().int(), created_at: z.string() });

const getSellerCar: Handler<'getSellerCar'> = async ({ req, deps }) => {
  const carId = sellerCarId(req);
  // One snapshot: the car, its bids and its timeline agree with each other.
  const page = await deps.db.transaction(async (tx) => {
    await tx.query(sql.unsafe`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`);
    if (!(await tx.exists(sql.unsafe`SELECT 1 FROM "Bílar" WHERE id = ${carId}`))) throw gone();
    const car = await readSellerCar(tx, mediaBase(deps), carId);
    // Amounts and times only: the seller never learns who bid.
    const bids = await tx.any(sql.type(sellerBid)`
      SELECT bid_amount AS amount, created_at FROM "uppboð" WHERE car_id = ${carId}
      ORDER BY bid_amount DESC, created_at ASC, seq ASC`);
    const timeline = await statusTimeline(tx, carId);
    const report = await findInspection(tx, carId);
    const inspection = report ? await showInspection(tx, mediaBase(deps), report) : null;
    const photos = await listPhotos(tx, mediaBase(deps), carId);
    // What the frontend promises: "see what we estimate your car could get in a bidding round".
    const estimate = await estimatePrice(tx, { make: car.car_make, model: car.car_model, year: car.year, mileage: car.mileage });
    return { car, bids: [...bids], timeline: [...timeline], inspection, estimate, photos: [...photos] };
  });
  return { status: 200, body: { success: true, ...page } };
};

/** The token's car no longer exists: the session is over. */
const gone = () => new ApiError(401, 'unauthorized', 'This seller session is no longer valid; sign in again');

/** Locks the seller's car for a decision; 401 when it is gone. */
async function lockOwnCar(tx: CommonQueryMethods, carId: string): Promise<LockedCar> {
  const car = await lockCar(tx, carId);
  if (!car) throw gone();
  return car;
}

const notClosed = (car: LockedCar) =>
  conflict('car_not_closed', `Only a closed auction waits for your decision; this car is ${car.status}`);

const deadlineRow = z.object({ passed: z.boolean(), decision_due_at: z.string().nullable() });

/**
 * A closed car waits for the seller only until `decision_due_at`: past it the decision is
 * the expiry sweep's, whether or not the sweep has run yet. Read under the row lock, at the
 * moment the lock was won (clock_timestamp, not the transaction's start).
 */
async function refuseAfterDeadline(tx: CommonQueryMethods, carId: string): Promise<void> {
  const due = await tx.one(sql.type(deadlineRow)`
    SELECT coalesce(decision_due_at <= clock_timestamp(), false) AS passed, decision_due_at FROM "Bílar" WHERE id = ${carId}`);
  if (due.passed) {
    throw conflict(
      'decision_deadline_passed',
      `The time to decide ended at ${due.decision_due_at}; the car is no longer waiting for your decision`,
    );
  }
}

const sellerAccept: Handler<'sellerAccept'> = async ({ req, deps, log }) => {
  const carId = sellerCarId(req);
  const { bid, car } = await deps.db.transaction(async (tx) => {
    const locked = await lockOwnCar(tx, carId);
    if (locked.status !== 'closed') throw notClosed(locked);
    await refuseAfterDeadline(tx, carId);
    const sale = await sellToBestBid(tx, carId, { by: 'seller', settings: deps.config, conflictCode: 'car_not_closed' });
    return { bid: sale.bid, car: await readSellerCar(tx, mediaBase(deps), carId) };
  });
  log.info('seller accepted the highest bid', { car_id: carId, bid_id: bid.id, amount: bid.bid_amount });
  return { status: 200, body: { success: true, car, winning_bid: { amount: bid.bid_amount, created_at: bid.created_at } } };
};

const sellerDecline: Handler<'sellerDecline'> = async ({ req, deps, log }) => {
  const carId = sellerCarId(req);
  const car = await deps.db.transaction(async (tx) => {
    const locked = await lockOwnCar(tx, carId);
    if (locked.status !== 'closed') throw notClosed(locked);
    await refuseAfterDeadline(tx, carId);
    await changeStatus(tx, carId, 'declined', { by: 'seller', settings: deps.config, conflictCode: 'car_not_closed' });
    return readSellerCar(tx, mediaBase(deps), carId);
  });
  log.info('seller declined the bids', { car_id: carId });
  return { status: 200, body: { success: true, car } };
};

const sellerWithdraw: Handler<'sellerWithdraw'> = async ({ req, body, deps, log }) => {
  const carId = sellerCarId(req);
  const reason = body?.reason?.trim() || null;
  const car = await deps.db.transaction(async (tx) => {
    const locked = await lockOwnCar(tx, carId);
    if (locked.status !== 'pending' && locked.status !== 'active') {
      throw conflict('car_not_withdrawable', `Only a car that is pending or in auction can be withdrawn; this car is ${locked.status}`);
    }
    await changeStatus(tx, carId, 'withdrawn', {
      by: 'seller',
      settings: deps.config,
      conflictCode: 'car_not_withdrawable',
      withdrawReason: reason,
    });
    return readSellerCar(tx, mediaBase(deps), carId);
  });
  log.info('seller withdrew the car', { car_id: carId });
  return { status: 200, body: { success: true, car } };
};

/** Ends every session of the car, this one included (the next request with any of its tokens is 401). */
const sellerLogout: Handler<'sellerLogout'> = async ({ req, deps, log }) => {
  const carId = sellerCarId(req);
  await deps.db.maybeOne(sql.type(sessionRow)`
    UPDATE "Bílar" SET seller_session = seller_session + 1 WHERE id = ${carId} RETURNING seller_session`);
  log.info('seller signed out', { car_id: carId });
  return { status: 200, body: { success: true, message: 'Signed out: every seller session of this car has ended' } };
};

export const sellerHandlers = { sellerLogin, sellerVerify, getSellerCar, sellerAccept, sellerDecline, sellerWithdraw, sellerLogout };
