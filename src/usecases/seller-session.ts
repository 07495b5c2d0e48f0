import { ApiError } from '../errors.js';
import { CODE_TTL_MINUTES, newCode } from '../domain/codes.js';
import { normaliseEmail, normalisePlate } from '../domain/normalise.js';
import { sellerCodes } from '../db/one-time-codes.js';
import { bumpSellerSession, findSellersCar, type SellersCar } from '../db/sellers.js';
import type { Deps } from '../deps.js';
import type { Logger } from '../logger.js';
import { sellerCodeEmail } from '../notifications/templates.js';

/**
 * The seller's sign-in ("Mín síða"): plate and e-mail, then a one-time code sent by e-mail
 * (and SMS); a matching code starts a new session generation, which ends the older ones.
 */

const SELLER_CODE_LENGTH = 6;

type SessionDeps = Pick<Deps, 'db' | 'services' | 'config'>;

const findCar = (deps: Pick<Deps, 'db'>, plate: string, email: string) =>
  findSellersCar(deps.db, normalisePlate(plate), normaliseEmail(email));

/**
 * Sends the code by e-mail (Brevo: template BREVO_SELLER_CODE_TEMPLATE_ID, else plain) and,
 * when the car has a phone and SMS can be sent, by SMS. A failure is logged, and the seller asks again.
 */
async function deliverCode(deps: SessionDeps, log: Logger, car: SellersCar, email: string, code: string): Promise<void> {
  const { brevo, twilio } = deps.services;
  const templateId = deps.config.BREVO_SELLER_CODE_TEMPLATE_ID;
  const to = { email, name: car.seller_name };
  const plain = sellerCodeEmail({ car_plate: car.car_plate, code, minutes: CODE_TTL_MINUTES });
  const sends: Promise<unknown>[] = [
    templateId
      ? brevo.sendTemplateEmail({ to, templateId, params: { code, car_plate: car.car_plate, minutes: CODE_TTL_MINUTES } })
      : brevo.sendEmail({ to, subject: plain.subject, htmlContent: plain.html }),
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
 * Finds the car, stores a new code and sends it; nothing when no car matches. The caller runs
 * it after answering (so a match and a miss look and take the same), so errors are only logged.
 */
export async function issueSellerCode(deps: SessionDeps, log: Logger, plate: string, email: string): Promise<void> {
  const car = await findCar(deps, plate, email);
  if (!car) return;
  const code = newCode(SELLER_CODE_LENGTH);
  await deps.db.transaction((tx) => sellerCodes.issue(tx, car.id, code));
  await deliverCode(deps, log, car, email, code);
}

const invalidCode = () => new ApiError(401, 'invalid_code', 'The code is wrong, has expired or was already used; request a new one');

/**
 * Checks the code; a valid one starts a new session generation of the car, ending its older
 * sessions (the code and the new session in one step). 401 `invalid_code` for any miss.
 */
export async function verifySellerCode(deps: Pick<Deps, 'db'>, input: { plate: string; email: string; code: string }) {
  const car = await findCar(deps, input.plate, input.email);
  if (!car) throw invalidCode();
  const session = await deps.db.transaction(async (tx) => {
    if ((await sellerCodes.check(tx, car.id, input.code)) !== 'valid') return null;
    return bumpSellerSession(tx, car.id);
  });
  if (session === null) throw invalidCode();
  return { carId: car.id, session };
}

/** Ends every session of the car, the caller's included. */
export async function endSellerSessions(deps: Pick<Deps, 'db'>, carId: string): Promise<void> {
  await bumpSellerSession(deps.db, carId);
}
