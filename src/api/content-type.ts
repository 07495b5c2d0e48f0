import type { NextFunction, Request, Response } from 'express';
import { ApiError } from '../errors.js';

/**
 * Every request body this API takes is JSON. A body of another type would be
 * silently ignored by the JSON parser; refuse it instead.
 */
export function requireJsonBodies(req: Request, _res: Response, next: NextFunction): void {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  if (hasBody && !req.is(['application/json', 'application/*+json'])) {
    next(new ApiError(415, 'unsupported_media_type', 'Request bodies must be JSON (Content-Type: application/json)'));
    return;
  }
  next();
}
