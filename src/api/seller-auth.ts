import type { NextFunction, Request, Response } from 'express';
import { sql } from 'slonik';
import { z } from 'zod';
import { ApiError, notConfigured } from '../errors.js';
import type { Config } from '../config.js';
import type { Db } from '../db/pool.js';
import type { Logger } from '../logger.js';
import { SELLER_SESSION, sessionTokensFor } from './session-tokens.js';

/**
 * Sellers' sessions: our own short-lived JWTs (HS256, SELLER_TOKEN_SECRET) with `sub` = the
 * car's id and `role` = `seller`, issued after a sign-in code. Audience and issuer are
 * Kaggi's own and differ from the dealer's session tokens (src/api/session-tokens.ts), so a
 * Supabase or dealer token never passes here, nor a seller token there (src/api/auth.ts also
 * refuses `role: seller`).
 *
 * A token also carries `sv`, the car's `seller_session` when it was issued, and is good only
 * while the car still has that number: a new sign-in, a logout and a changed e-mail move it
 * on (migration 009), which ends every older token of the car at once.
 */

type Guard = (req: Request, res: Response, next: NextFunction) => void;

export type SellerTokens = {
  /** False in production without SELLER_TOKEN_SECRET: the seller endpoints answer 503. */
  readonly configured: boolean;
  issue(carId: string, session: number): Promise<{ token: string; expires_at: string }>;
  /** The car id and session of a validly signed seller token; throws 401 `unauthorized` otherwise. */
  verify(token: string): Promise<{ carId: string; session: number }>;
};

/** The seller's kind of Kaggi session token (src/api/session-tokens.ts, shared with the dealer's). */
export function sellerTokens(config: Config, logger: Logger): SellerTokens {
  const tokens = sessionTokensFor(config, logger, {
    ...SELLER_SESSION,
    feature: 'Seller sign-in (SELLER_TOKEN_SECRET)',
    secret: config.SELLER_TOKEN_SECRET,
    hours: config.SELLER_SESSION_HOURS,
  });
  return {
    configured: tokens.configured,
    issue: (carId, session) => tokens.issue(carId, { sv: session }),
    async verify(token) {
      const payload = await tokens.verify(token);
      if (typeof payload.sv !== 'number' || !Number.isSafeInteger(payload.sv)) {
        logger.info('seller token rejected', { reason: 'no session version' });
        throw new ApiError(401, 'unauthorized', 'A valid seller token is required (Authorization: Bearer <token>)');
      }
      return { carId: payload.sub, session: payload.sv };
    },
  };
}

/** The car a request's seller token is for, or null when no seller guard accepted one. */
export function sellerCarIdOf(req: Request): string | null {
  return (req.res?.locals as { sellerCarId?: string } | undefined)?.sellerCarId ?? null;
}

/**
 * A seller token for a car that was just listed (registered, or confirmed by phone), the same
 * token `POST /api/seller/verify` issues, so its seller can add photos at once. Null when
 * seller sign-in is not configured (production without SELLER_TOKEN_SECRET).
 */
export async function listingToken(
  config: Config,
  logger: Logger,
  carId: string,
  session: number,
): Promise<{ token: string; expires_at: string } | null> {
  const tokens = sellerTokens(config, logger);
  return tokens.configured ? tokens.issue(carId, session) : null;
}

/** The car a request's seller token is for (set by the `seller` guard). */
export function sellerCarId(req: Request): string {
  const carId = (req.res?.locals as { sellerCarId?: string } | undefined)?.sellerCarId;
  if (!carId) throw new ApiError(401, 'unauthorized', 'A valid seller token is required (Authorization: Bearer <token>)');
  return carId;
}

const sessionRow = z.object({ seller_session: z.number().int() });

/**
 * `seller`: a valid seller token whose session is still the car's current one;
 * `sellerSignIn`: the endpoints that issue one, 503 when they cannot.
 */
export function createSellerGuards(config: Config, logger: Logger, db: Db): { seller: Guard; sellerSignIn: Guard } {
  const tokens = sellerTokens(config, logger);
  const sellerSignIn: Guard = (_req, _res, next) =>
    next(tokens.configured ? undefined : notConfigured('Seller sign-in (SELLER_TOKEN_SECRET)'));
  const seller: Guard = (req, res, next) => {
    if (!tokens.configured) {
      next(notConfigured('Seller sign-in (SELLER_TOKEN_SECRET)'));
      return;
    }
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (!match) {
      next(new ApiError(401, 'unauthorized', 'A seller token is required (Authorization: Bearer <token>)'));
      return;
    }
    tokens
      .verify(match[1])
      .then(async ({ carId, session }) => {
        const current = await db.maybeOneFirst(sql.type(sessionRow)`
          SELECT seller_session FROM "Bílar" WHERE id = ${carId}`);
        if (current !== session) {
          logger.info('seller token rejected', { reason: current === null ? 'car gone' : 'session ended' });
          throw new ApiError(401, 'unauthorized', 'This seller session has ended (signed out, or signed in again); sign in again');
        }
        res.locals.sellerCarId = carId;
        // An Idempotency-Key is the seller's own: another car's same key never replays this answer.
        res.locals.idempotencyScope = `car:${carId}`;
        next();
      })
      .catch(next);
  };
  return { seller, sellerSignIn };
}
