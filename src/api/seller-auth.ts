import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { SignJWT, jwtVerify } from 'jose';
import { sql } from 'slonik';
import { z } from 'zod';
import { ApiError, notConfigured } from '../errors.js';
import type { Config } from '../config.js';
import type { Db } from '../db/pool.js';
import type { Logger } from '../logger.js';

/**
 * Sellers' sessions: our own short-lived JWTs (HS256, SELLER_TOKEN_SECRET) with `sub` = the
 * car's id and `role` = `seller`, issued after a sign-in code. Audience and issuer are
 * Kaggi's own, so a Supabase dealer token never passes here, nor a seller token there
 * (src/api/auth.ts also refuses `role: seller`).
 *
 * A token also carries `sv`, the car's `seller_session` when it was issued, and is good only
 * while the car still has that number: a new sign-in, a logout and a changed e-mail move it
 * on (migration 009), which ends every older token of the car at once.
 */

const ISSUER = 'kaggi';
const AUDIENCE = 'kaggi-seller';
const ROLE = 'seller';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Guard = (req: Request, res: Response, next: NextFunction) => void;

export type SellerTokens = {
  /** False in production without SELLER_TOKEN_SECRET: the seller endpoints answer 503. */
  readonly configured: boolean;
  issue(carId: string, session: number): Promise<{ token: string; expires_at: string }>;
  /** The car id and session of a validly signed seller token; throws 401 `unauthorized` otherwise. */
  verify(token: string): Promise<{ carId: string; session: number }>;
};

function createSellerTokens(config: Config, logger: Logger): SellerTokens {
  let secret: Uint8Array | undefined;
  if (config.SELLER_TOKEN_SECRET) secret = new TextEncoder().encode(config.SELLER_TOKEN_SECRET);
  else if (config.NODE_ENV !== 'production') {
    secret = randomBytes(32);
    logger.warn('SELLER_TOKEN_SECRET is not set: seller sessions are signed with a random per-process secret and end at restart');
  }
  const unauthorized = () => new ApiError(401, 'unauthorized', 'A valid seller token is required (Authorization: Bearer <token>)');
  return {
    configured: secret !== undefined,
    async issue(carId, session) {
      if (!secret) throw notConfigured('Seller sign-in (SELLER_TOKEN_SECRET)');
      const expires = new Date(Date.now() + config.SELLER_SESSION_HOURS * 3600_000);
      const token = await new SignJWT({ role: ROLE, sv: session })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(carId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(Math.floor(expires.getTime() / 1000))
        .sign(secret);
      return { token, expires_at: new Date(Math.floor(expires.getTime() / 1000) * 1000).toISOString() };
    },
    async verify(token) {
      if (!secret) throw notConfigured('Seller sign-in (SELLER_TOKEN_SECRET)');
      try {
        const { payload } = await jwtVerify(token, secret, {
          algorithms: ['HS256'],
          issuer: ISSUER,
          audience: AUDIENCE,
          requiredClaims: ['exp'],
        });
        if (payload.role !== ROLE || typeof payload.sub !== 'string' || !UUID.test(payload.sub)) throw new Error('not a seller token');
        if (typeof payload.sv !== 'number' || !Number.isSafeInteger(payload.sv)) throw new Error('no session version');
        return { carId: payload.sub, session: payload.sv };
      } catch (error) {
        logger.info('seller token rejected', { reason: error instanceof Error ? error.name : 'unknown' });
        throw unauthorized();
      }
    },
  };
}

// One per configuration, i.e. per app: the guard and the handlers share its (possibly random) secret.
const byConfig = new WeakMap<Config, SellerTokens>();
export function sellerTokens(config: Config, logger: Logger): SellerTokens {
  let tokens = byConfig.get(config);
  if (!tokens) {
    tokens = createSellerTokens(config, logger);
    byConfig.set(config, tokens);
  }
  return tokens;
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
