import type { NextFunction, Request, Response } from 'express';
import { ipKeyGenerator, rateLimit, type Options } from 'express-rate-limit';
import { ApiError } from '../errors.js';
import type { Config } from '../config.js';
import { toE164 } from '../domain/normalise.js';
import { requireAdminKey } from './admin.js';
import type { OperationGuards } from './router.js';

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

/** Limits per phone count the number however it is written (`777-7777` = `+3547777777`). */
const phoneKey = (req: Request): string | undefined => {
  const body = (req.body ?? {}) as { phone?: unknown; phone_number?: unknown };
  const raw = typeof body.phone === 'string' ? body.phone : typeof body.phone_number === 'string' ? body.phone_number : undefined;
  return raw === undefined ? undefined : (toE164(raw) ?? raw.replace(/\s+/g, ''));
};

function limiter(windowMs: number, limit: number, prefix: string, key?: (req: Request) => string | undefined) {
  return rateLimit({
    windowMs,
    limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // IPv6 clients are grouped by /56 so one host cannot rotate addresses past the limit.
    keyGenerator: (req) => `${prefix}:${key?.(req) ?? ipKeyGenerator(req.ip ?? '')}`,
    handler: rateLimitHandler,
  });
}

/**
 * What runs after routing and before validation, per operation: the
 * contract's rate limits (each configurable) and the admin key check.
 */
export function operationGuards(config: Config): OperationGuards {
  const admin = [requireAdminKey(config)];
  const guards: OperationGuards = { debugBrevo: admin, testBrevoList: admin, testAutomationTrigger: admin, testRealEmail: admin };
  if (!config.RATE_LIMIT_ENABLED) return guards;
  return {
    ...guards,
    verifyVehicle: [limiter(HOUR, config.RATE_LIMIT_VEHICLE_PER_HOUR, 'vehicle')],
    validateCompany: [limiter(HOUR, config.RATE_LIMIT_COMPANY_PER_HOUR, 'company')],
    sendVerificationCode: [
      limiter(HOUR, config.RATE_LIMIT_SMS_PER_IP_PER_HOUR, 'sms-ip'),
      limiter(HOUR, config.RATE_LIMIT_SMS_PER_PHONE_PER_HOUR, 'sms-phone', phoneKey),
    ],
    verifyCode: [limiter(MINUTES_15, config.RATE_LIMIT_VERIFY_PER_PHONE_PER_15MIN, 'verify-phone', phoneKey)],
  };
}
