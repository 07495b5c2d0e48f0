import { notConfigured } from '../errors.js';
import { normaliseEmail } from '../domain/normalise.js';
import { sellerCarId, sellerTokens } from '../api/seller-auth.js';
import type { Handler } from '../api/types.js';
import { endSellerSessions, issueSellerCode, verifySellerCode } from '../usecases/seller-session.js';
import { acceptHighestBid, declineBids, sellerPage, withdrawCar } from '../usecases/seller-decisions.js';

/**
 * The seller's side ("Mín síða"): sign in with plate and e-mail and a one-time code
 * (src/usecases/seller-session.ts), follow the auction, decide (src/usecases/seller-decisions.ts).
 */

const LOGIN_ANSWER = 'If a car with this plate and e-mail is registered, a sign-in code is on its way by e-mail (and SMS)';

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
    void issueSellerCode(deps, log, plate, email).catch((error: unknown) =>
      log.warn('seller code not issued', { error: error instanceof Error ? error.message : String(error) }),
    );
  const res = req.res;
  if (res) res.once('close', work);
  else setImmediate(work);
  return { status: 202, body: { success: true, message: LOGIN_ANSWER } };
};

const sellerVerify: Handler<'sellerVerify'> = async ({ body, deps, log }) => {
  const { carId, session: generation } = await verifySellerCode(deps, { plate: body.car_plate, email: body.email, code: body.code });
  const session = await sellerTokens(deps.config, deps.logger).issue(carId, generation);
  log.info('seller signed in', { car_id: carId });
  return { status: 200, body: { success: true, token: session.token, expires_at: session.expires_at, car_id: carId } };
};

const getSellerCar: Handler<'getSellerCar'> = async ({ req, deps }) => ({
  status: 200,
  body: { success: true, ...(await sellerPage(deps, sellerCarId(req))) },
});

const sellerAccept: Handler<'sellerAccept'> = async ({ req, deps, log }) => {
  const carId = sellerCarId(req);
  const { bid, car } = await acceptHighestBid(deps, carId);
  log.info('seller accepted the highest bid', { car_id: carId, bid_id: bid.id, amount: bid.bid_amount });
  return { status: 200, body: { success: true, car, winning_bid: { amount: bid.bid_amount, created_at: bid.created_at } } };
};

const sellerDecline: Handler<'sellerDecline'> = async ({ req, deps, log }) => {
  const carId = sellerCarId(req);
  const car = await declineBids(deps, carId);
  log.info('seller declined the bids', { car_id: carId });
  return { status: 200, body: { success: true, car } };
};

const sellerWithdraw: Handler<'sellerWithdraw'> = async ({ req, body, deps, log }) => {
  const carId = sellerCarId(req);
  const car = await withdrawCar(deps, carId, body?.reason?.trim() || null);
  log.info('seller withdrew the car', { car_id: carId });
  return { status: 200, body: { success: true, car } };
};

/** Ends every session of the car, this one included (the next request with any of its tokens is 401). */
const sellerLogout: Handler<'sellerLogout'> = async ({ req, deps, log }) => {
  const carId = sellerCarId(req);
  await endSellerSessions(deps, carId);
  log.info('seller signed out', { car_id: carId });
  return { status: 200, body: { success: true, message: 'Signed out: every seller session of this car has ended' } };
};

export const sellerHandlers = { sellerLogin, sellerVerify, getSellerCar, sellerAccept, sellerDecline, sellerWithdraw, sellerLogout };
