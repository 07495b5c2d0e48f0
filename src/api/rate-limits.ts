import type { NextFunction, Request, Response } from 'express';
import { ipKeyGenerator, rateLimit, type Options } from 'express-rate-limit';
import { ApiError } from '../errors.js';
import type { Config } from '../config.js';
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

/** The per-operation limits of the contract; each one configurable. */
export function operationGuards(config: Config): OperationGuards {
  if (!config.RATE_LIMIT_ENABLED) return {};
  return {
    verifyVehicle: [limiter(HOUR, config.RATE_LIMIT_VEHICLE_PER_HOUR, 'vehicle')],
    validateCompany: [limiter(HOUR, config.RATE_LIMIT_COMPANY_PER_HOUR, 'company')],
  };
}
