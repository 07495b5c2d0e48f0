import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { rateLimit, type Options, type Store } from 'express-rate-limit';
import { clientKey } from './client-key.js';
import { ApiError } from '../errors.js';
import type { Config } from '../config.js';
import { normaliseEmail, normalisePlate, toE164 } from '../domain/normalise.js';
import { phonePrefix } from '../domain/sms-countries.js';
import type { Db } from '../db/pool.js';
import { PostgresRateLimitStore } from './postgres-rate-limit-store.js';

/** Limits answer in the one error shape, with Retry-After in seconds. */
export function rateLimitHandler(req: Request, res: Response, next: NextFunction, options: Options): void {
  const resetTime = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
  const retryAfter = resetTime ? Math.max(1, Math.ceil((resetTime.getTime() - Date.now()) / 1000)) : Math.ceil(options.windowMs / 1000);
  next(
    new ApiError(429, 'rate_limited', `Too many requests; try again in ${retryAfter} seconds`, {
      headers: { 'Retry-After': String(retryAfter) },
    }),
  );
}

const HOUR = 60 * 60 * 1000;
const MINUTES_15 = 15 * 60 * 1000;
const DAY = 24 * HOUR;

/** Limits per phone count the number however it is written (`777-7777` = `+3547777777`). */
const phoneKey = (req: Request): string | undefined => {
  const body = (req.body ?? {}) as { phone?: unknown; phone_number?: unknown };
  const raw = typeof body.phone === 'string' ? body.phone : typeof body.phone_number === 'string' ? body.phone_number : undefined;
  return raw === undefined ? undefined : (toE164(raw) ?? raw.replace(/\s+/g, ''));
};

/** The number range of the phone (`+354777…`); an unparseable one is its own key (and a 422). */
const phonePrefixKey = (req: Request): string | undefined => {
  const phone = phoneKey(req);
  if (phone === undefined) return undefined;
  return phone.startsWith('+') && toE164(phone) === phone ? phonePrefix(phone) : `unparsed:${phone}`;
};

/** Limits per plate count the plate however it is written (`ab 123` = `AB123`). */
const plate = (req: Request): string | undefined => {
  const value = ((req.body ?? {}) as { car_plate?: unknown }).car_plate;
  return typeof value === 'string' ? normalisePlate(value) : undefined;
};

const email = (req: Request): string | undefined => {
  const value = ((req.body ?? {}) as { email?: unknown }).email;
  return typeof value === 'string' ? normaliseEmail(value) : undefined;
};

/**
 * A plate is public (it is on the car), so a budget per plate alone is one a stranger can
 * spend for the owner. The seller's budget is per plate + e-mail: a stranger's guesses with
 * other e-mails land in other buckets (and in their own IP's), while guessing codes for the
 * right plate + e-mail stays bounded by that pair's budget.
 */
const plateAndEmailKey = (req: Request): string | undefined => {
  const p = plate(req);
  return p === undefined ? undefined : `${p}:${email(req) ?? ''}`;
};

/**
 * Before a number is verified nothing tells its owner from a stranger but where the request
 * comes from: a number's budget is per number + client, so codes asked from elsewhere leave
 * the owner's intact. A larger budget per number alone still bounds the texts one number
 * gets (and so the codes that can be guessed for it).
 */
const phoneAndIpKey = (req: Request): string | undefined => {
  const phone = phoneKey(req);
  return phone === undefined ? undefined : `${phone}:${clientKey(req)}`;
};

/** Uploads count per credential: a hash of the bearer token (a seller's, or an admin's), else the client. */
const bearerKey = (req: Request): string | undefined => {
  const token = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
  return token ? createHash('sha256').update(token).digest('base64url').slice(0, 22) : undefined;
};

/**
 * Counters live in process memory by default; with RATE_LIMIT_STORE=postgres
 * in PostgreSQL, so several instances share them.
 */
export function createLimiterFactory(config: Config, db: Db) {
  // The limiter's name is already the first part of every key (keyGenerator below): no store prefix.
  const store = (): Store | undefined => (config.RATE_LIMIT_STORE === 'postgres' ? new PostgresRateLimitStore(db, '') : undefined);
  return (name: string, windowMs: number, limit: number, key?: (req: Request) => string | undefined) =>
    rateLimit({
      windowMs,
      limit,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      store: store(),
      keyGenerator: (req) => `${name}:${key?.(req) ?? clientKey(req)}`,
      handler: rateLimitHandler,
    });
}

export type LimiterFactory = ReturnType<typeof createLimiterFactory>;

/** The contract's per-operation limits, each configurable. */
export function operationLimits(config: Config, limiter: LimiterFactory) {
  return {
    verifyVehicle: [limiter('vehicle', HOUR, config.RATE_LIMIT_VEHICLE_PER_HOUR)],
    validateCompany: [limiter('company', HOUR, config.RATE_LIMIT_COMPANY_PER_HOUR)],
    sendVerificationCode: [
      limiter('sms_ip', HOUR, config.RATE_LIMIT_SMS_PER_IP_PER_HOUR),
      limiter('sms_phone_ip', HOUR, config.RATE_LIMIT_SMS_PER_PHONE_PER_HOUR, phoneAndIpKey),
      limiter('sms_phone', HOUR, config.RATE_LIMIT_SMS_PER_PHONE_ALL_CLIENTS_PER_HOUR, phoneKey),
      limiter('sms_prefix', DAY, config.RATE_LIMIT_SMS_PER_PREFIX_PER_DAY, phonePrefixKey),
    ],
    getPriceEstimate: [limiter('estimate', HOUR, config.RATE_LIMIT_ESTIMATE_PER_HOUR)],
    verifyCode: [limiter('verify_phone_ip', MINUTES_15, config.RATE_LIMIT_VERIFY_PER_PHONE_PER_15MIN, phoneAndIpKey)],
    sellerLogin: [
      limiter('seller_login_ip', HOUR, config.RATE_LIMIT_SELLER_LOGIN_PER_IP_PER_HOUR),
      limiter('seller_login_plate_email', HOUR, config.RATE_LIMIT_SELLER_LOGIN_PER_PLATE_PER_HOUR, plateAndEmailKey),
    ],
    uploadCarPhoto: [
      limiter('photo_upload_ip', HOUR, config.RATE_LIMIT_PHOTO_UPLOADS_PER_IP_PER_HOUR),
      limiter('photo_upload_token', HOUR, config.RATE_LIMIT_PHOTO_UPLOADS_PER_TOKEN_PER_HOUR, bearerKey),
    ],
    sellerVerify: [
      limiter('seller_verify_ip', MINUTES_15, config.RATE_LIMIT_SELLER_VERIFY_PER_IP_PER_15MIN),
      limiter('seller_verify_plate_email', MINUTES_15, config.RATE_LIMIT_SELLER_VERIFY_PER_PLATE_PER_15MIN, plateAndEmailKey),
    ],
    // A dealer's e-mail is no secret (it is on their website): guesses from elsewhere spend
    // their own IP's budget too, and the code dies after 5 wrong tries whatever the budgets.
    dealerLogin: [
      limiter('dealer_login_ip', HOUR, config.RATE_LIMIT_DEALER_LOGIN_PER_IP_PER_HOUR),
      limiter('dealer_login_email', HOUR, config.RATE_LIMIT_DEALER_LOGIN_PER_EMAIL_PER_HOUR, email),
    ],
    dealerVerify: [
      limiter('dealer_verify_ip', MINUTES_15, config.RATE_LIMIT_DEALER_VERIFY_PER_IP_PER_15MIN),
      limiter('dealer_verify_email', MINUTES_15, config.RATE_LIMIT_DEALER_VERIFY_PER_EMAIL_PER_15MIN, email),
    ],
  };
}

export function globalLimit(config: Config, limiter: LimiterFactory) {
  return limiter('global', 60_000, config.RATE_LIMIT_GLOBAL_PER_MINUTE);
}
