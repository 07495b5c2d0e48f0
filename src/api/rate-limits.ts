import type { NextFunction, Request, Response } from 'express';
import { rateLimit, type Options, type Store } from 'express-rate-limit';
import { clientKey } from './client-key.js';
import { ApiError } from '../errors.js';
import type { Config } from '../config.js';
import { normalisePlate, toE164 } from '../domain/normalise.js';
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
const plateKey = (req: Request): string | undefined => {
  const plate = ((req.body ?? {}) as { car_plate?: unknown }).car_plate;
  return typeof plate === 'string' ? normalisePlate(plate) : undefined;
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
      limiter('sms_phone', HOUR, config.RATE_LIMIT_SMS_PER_PHONE_PER_HOUR, phoneKey),
      limiter('sms_prefix', DAY, config.RATE_LIMIT_SMS_PER_PREFIX_PER_DAY, phonePrefixKey),
    ],
    getPriceEstimate: [limiter('estimate', HOUR, config.RATE_LIMIT_ESTIMATE_PER_HOUR)],
    verifyCode: [limiter('verify_phone', MINUTES_15, config.RATE_LIMIT_VERIFY_PER_PHONE_PER_15MIN, phoneKey)],
    sellerLogin: [
      limiter('seller_login_ip', HOUR, config.RATE_LIMIT_SELLER_LOGIN_PER_IP_PER_HOUR),
      limiter('seller_login_plate', HOUR, config.RATE_LIMIT_SELLER_LOGIN_PER_PLATE_PER_HOUR, plateKey),
    ],
    sellerVerify: [limiter('seller_verify_plate', MINUTES_15, config.RATE_LIMIT_SELLER_VERIFY_PER_PLATE_PER_15MIN, plateKey)],
  };
}

export function globalLimit(config: Config, limiter: LimiterFactory) {
  return limiter('global', 60_000, config.RATE_LIMIT_GLOBAL_PER_MINUTE);
}
