import type { NextFunction, Request, Response } from 'express';
import { ApiError } from '../errors.js';
import type { PhotoEditor } from '../domain/access.js';
import { principalOf } from './principal.js';

export type { PhotoEditor } from '../domain/access.js';

type Guard = (req: Request, res: Response, next: NextFunction) => void;

const SELLER_AUDIENCE = 'kaggi-seller';

/** Whether a bearer token says it is a seller's (unverified: only to pick the guard that verifies it). */
function claimsSellerAudience(token: string): boolean {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { aud?: unknown };
    return payload.aud === SELLER_AUDIENCE || (Array.isArray(payload.aud) && payload.aud.includes(SELLER_AUDIENCE));
  } catch {
    return false;
  }
}

/**
 * The photo operations take either credential: `X-Admin-Key` or an admin token goes to the
 * back-office guard, a seller token to the seller guard, which must then be for the car in
 * the path (another car's token → 403). No credentials → 401.
 */
export function photoEditorGuard(seller: Guard, backOffice: Guard): Guard {
  return (req, res, next) => {
    if (req.get('x-admin-key')) {
      backOffice(req, res, next);
      return;
    }
    const token = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
    if (!token) {
      next(new ApiError(401, 'unauthorized', 'A seller token or admin credentials are required'));
      return;
    }
    if (!claimsSellerAudience(token)) {
      backOffice(req, res, next);
      return;
    }
    seller(req, res, (error?: unknown) => {
      if (error) {
        next(error);
        return;
      }
      const carId = (res.locals.pathParams as { car_id?: string } | undefined)?.car_id;
      if (res.locals.sellerCarId !== carId) {
        next(new ApiError(403, 'forbidden', 'This seller token is for another car'));
        return;
      }
      next();
    });
  };
}

/** The editor the guard let through. */
export function photoEditorOf(req: Request): PhotoEditor {
  const carId = (req.res?.locals as { sellerCarId?: string } | undefined)?.sellerCarId;
  if (carId) return { kind: 'seller', carId };
  if (principalOf(req).kind === 'admin') return { kind: 'admin' };
  throw new ApiError(401, 'unauthorized', 'A seller token or admin credentials are required');
}
