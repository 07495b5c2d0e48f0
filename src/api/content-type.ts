import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { ApiError } from '../errors.js';

const JSON_TYPES = ['application/json', 'application/*+json'];
// GET and HEAD take no body here; one sent anyway is ignored, as HTTP allows.
const bodyless = (req: Request) => req.method === 'GET' || req.method === 'HEAD';

/** What express.json() should parse: JSON bodies of methods that take one. */
// (body-parser hands over the same object express augmented, so `.is` is there)
export const hasJsonBody = (req: IncomingMessage): boolean => !bodyless(req as Request) && Boolean((req as Request).is(JSON_TYPES));

/** Uploads (the photo operations) come as multipart/form-data; the router checks the operation takes one. */
export const isMultipart = (req: Request): boolean => Boolean(req.is('multipart/form-data'));

/**
 * Every request body this API takes is JSON, or a multipart upload where the spec says so
 * (src/api/router.ts refuses one elsewhere). A body of another type would be silently
 * ignored by the JSON parser; refuse it instead.
 */
export function requireJsonBodies(req: Request, _res: Response, next: NextFunction): void {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  if (hasBody && !bodyless(req) && !req.is(JSON_TYPES) && !isMultipart(req)) {
    next(new ApiError(415, 'unsupported_media_type', 'Request bodies must be JSON (Content-Type: application/json)'));
    return;
  }
  next();
}
