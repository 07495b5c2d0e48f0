import { timingSafeEqual, createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { ApiError } from '../errors.js';
import type { Config } from '../config.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * `X-Admin-Key` must equal ADMIN_API_KEY. Without that variable the admin
 * endpoints are off. Hashing first lets timingSafeEqual compare keys of any length.
 */
export function requireAdminKey(config: Pick<Config, 'ADMIN_API_KEY'>) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (!config.ADMIN_API_KEY) {
      next(new ApiError(403, 'admin_disabled', 'Admin endpoints are disabled on this server (ADMIN_API_KEY is not set)'));
      return;
    }
    const given = req.get('x-admin-key');
    if (!given) {
      next(new ApiError(401, 'admin_key_required', 'This endpoint needs the X-Admin-Key header'));
      return;
    }
    if (!timingSafeEqual(digest(given), digest(config.ADMIN_API_KEY))) {
      next(new ApiError(403, 'invalid_admin_key', 'The X-Admin-Key header is not valid'));
      return;
    }
    next();
  };
}
