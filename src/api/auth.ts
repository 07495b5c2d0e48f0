import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ApiError } from '../errors.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { sql } from 'slonik';
import { z } from 'zod';
import { emailKey } from '../domain/normalise.js';
import type { Db } from '../db/pool.js';
import { setPrincipal, type DealerStatus, type Principal } from './principal.js';

type Guard = (req: Request, res: Response, next: NextFunction) => void;

const digest = (value: string) => createHash('sha256').update(value).digest();
const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/**
 * `X-Admin-Key` must equal ADMIN_API_KEY. Without that variable the admin
 * endpoints are off. Hashing first lets timingSafeEqual compare keys of any length.
 */
export function requireAdminKey(config: Pick<Config, 'ADMIN_API_KEY'>): Guard {
  return (req, _res, next) => {
    if (!config.ADMIN_API_KEY) {
      next(new ApiError(403, 'admin_disabled', 'Admin endpoints are disabled on this server (ADMIN_API_KEY is not set)'));
      return;
    }
    const given = req.get('x-admin-key');
    if (!given) {
      next(new ApiError(401, 'admin_key_required', 'This endpoint needs the X-Admin-Key header'));
      return;
    }
    if (!sameSecret(given, config.ADMIN_API_KEY)) {
      next(new ApiError(403, 'invalid_admin_key', 'The X-Admin-Key header is not valid'));
      return;
    }
    next();
  };
}

type Claims = JWTPayload & { email?: string; role?: string; app_metadata?: { role?: string; roles?: string[] } };

/** Verifies Supabase Auth access tokens: HS256 with the project secret, or keys from a JWKS URL. */
function tokenVerifier(config: Config): (token: string) => Promise<Claims> {
  const options = {
    audience: config.AUTH_AUDIENCE,
    // a token without an expiry would work forever once leaked
    requiredClaims: ['exp'],
    ...(config.AUTH_ISSUER ? { issuer: config.AUTH_ISSUER } : {}),
  };
  const secret = config.SUPABASE_JWT_SECRET ? new TextEncoder().encode(config.SUPABASE_JWT_SECRET) : undefined;
  const jwks: JWTVerifyGetKey | undefined = config.AUTH_JWKS_URL
    ? createRemoteJWKSet(new URL(config.AUTH_JWKS_URL), { timeoutDuration: 5000 })
    : undefined;
  return async (token) => {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8') || '{}') as { alg?: string };
    if (header.alg === 'HS256' && secret) {
      return (await jwtVerify(token, secret, { ...options, algorithms: ['HS256'] })).payload;
    }
    if (jwks) return (await jwtVerify(token, jwks, { ...options, algorithms: ['RS256', 'ES256'] })).payload;
    throw new Error(`no key for alg ${header.alg}`);
  };
}

const isAdminToken = (claims: Claims, role: string) =>
  claims.app_metadata?.role === role || claims.app_metadata?.roles?.includes(role) === true || claims.role === role;

/** An admin token in the audit log: its subject, never its e-mail. */
const tokenActor = (claims: Claims) => `token:${typeof claims.sub === 'string' && claims.sub ? claims.sub.slice(0, 100) : 'unknown'}`;

const dealerStatusRow = z.object({ status: z.enum(['pending', 'approved', 'suspended']) });

/** The approval state of the dealer with this e-mail; `unregistered` when there is none. */
async function dealerStatus(db: Db, email: string): Promise<DealerStatus | 'unregistered'> {
  const status = await db.maybeOneFirst(sql.type(dealerStatusRow)`SELECT status FROM dealers WHERE email = ${email}`);
  return status ?? 'unregistered';
}

export type AuthGuards = {
  /** Operator operations: the X-Admin-Key header only. */
  adminKey: Guard;
  /** Dealer-scoped operations: with AUTH_MODE=jwt a token of an approved dealer, for the dealer the request is about. */
  dealer: Guard;
  /** Operations that were open before accounts existed: with AUTH_MODE=jwt the admin key or an admin token. */
  adminOrAdminToken: Guard;
  /** Back-office operations: the admin key, or (AUTH_MODE=jwt) an admin token; never open. */
  admin: Guard;
  /** Public operations whose answer depends on the caller: credentials are optional, invalid ones count as none. */
  identify: Guard;
  /**
   * A dealer's own privacy rights (export, erasure, consent): a dealer token of any status,
   * pending and suspended included; with AUTH_MODE=off nobody is identified (401).
   */
  dealerSelf: Guard;
};

/**
 * Turns a request into a principal (src/api/principal.ts) and enforces what each
 * kind of operation requires. With AUTH_MODE=off dealer and public operations
 * pass as the current frontend needs, and the caller is `open`.
 */
export function createAuthGuards(config: Config, logger: Logger, db: Db): AuthGuards {
  const adminKey = requireAdminKey(config);
  const asAdmin: Guard = (req, res, next) =>
    adminKey(req, res, (error?: unknown) => {
      if (!error) setPrincipal(req, { kind: 'admin', actor: config.ADMIN_KEY_LABEL });
      next(error);
    });
  if (config.AUTH_MODE === 'off') {
    const open: Guard = (req, _res, next) => {
      setPrincipal(req, { kind: 'open' });
      next();
    };
    const nobody: Guard = (_req, _res, next) =>
      next(new ApiError(401, 'unauthorized', 'A dealer token is required: this server runs with AUTH_MODE=off and identifies no dealer'));
    return { adminKey: asAdmin, dealer: open, adminOrAdminToken: open, admin: asAdmin, identify: open, dealerSelf: nobody };
  }
  const verify = tokenVerifier(config);

  const bearerOf = (req: Request) => /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
  const claimsOf = async (req: Request): Promise<Claims> => {
    const token = bearerOf(req);
    if (!token) throw new ApiError(401, 'unauthorized', 'A bearer token is required (Authorization: Bearer <token>)');
    let claims: Claims;
    try {
      claims = await verify(token);
    } catch (error) {
      logger.info('token rejected', { reason: error instanceof Error ? error.name : 'unknown' });
      throw new ApiError(401, 'unauthorized', 'The bearer token is invalid or has expired');
    }
    // A seller's session token (src/api/seller-auth.ts) is never a dealer's or an admin's,
    // even if someone configured the same secret for both.
    if (claims.role === 'seller') throw new ApiError(401, 'unauthorized', 'A seller token is not valid here');
    if (typeof claims.email === 'string') {
      const email = emailKey(claims.email);
      // a look-alike address (Kelvin sign for K) must not pass as the dealer it resembles
      if (email === null) throw new ApiError(401, 'unauthorized', 'The token’s e-mail is not in Unicode normal form (NFKC)');
      return { ...claims, email };
    }
    return { ...claims, email: undefined };
  };
  const principalOfClaims = async (claims: Claims): Promise<Principal> => {
    if (isAdminToken(claims, config.AUTH_ADMIN_ROLE)) return { kind: 'admin', actor: tokenActor(claims) };
    if (!claims.email) return { kind: 'anonymous' };
    return { kind: 'dealer', email: claims.email, status: await dealerStatus(db, claims.email) };
  };

  const dealer: Guard = (req, res, next) => {
    claimsOf(req)
      .then(async (claims) => {
        const params = (res.locals.pathParams ?? {}) as { dealer_email?: string };
        const body = (req.body ?? {}) as { dealer_email?: unknown };
        const subject = params.dealer_email ?? (typeof body.dealer_email === 'string' ? body.dealer_email : undefined);
        if (!claims.email) throw new ApiError(403, 'forbidden', 'The token carries no e-mail');
        if (subject !== undefined && emailKey(subject) !== claims.email) {
          throw new ApiError(403, 'forbidden', 'The token belongs to another dealer');
        }
        const status = await dealerStatus(db, claims.email);
        if (status === 'suspended') throw new ApiError(403, 'dealer_suspended', 'This dealer account is suspended');
        if (status !== 'approved') {
          throw new ApiError(
            403,
            'dealer_not_approved',
            'This e-mail does not belong to an approved dealer (registration pending or missing)',
          );
        }
        setPrincipal(req, { kind: 'dealer', email: claims.email, status });
        next();
      })
      .catch(next);
  };

  const adminOrAdminToken: Guard = (req, res, next) => {
    if (req.get('x-admin-key')) {
      asAdmin(req, res, next);
      return;
    }
    claimsOf(req)
      .then((claims) => {
        if (!isAdminToken(claims, config.AUTH_ADMIN_ROLE)) throw new ApiError(403, 'forbidden', 'Only an admin may do this');
        setPrincipal(req, { kind: 'admin', actor: tokenActor(claims) });
        next();
      })
      .catch(next);
  };

  const identify: Guard = (req, res, next) => {
    if (req.get('x-admin-key')) {
      // a wrong key on a public read is no key: the read answers as for anyone
      adminKey(req, res, (error?: unknown) => {
        setPrincipal(req, error ? { kind: 'anonymous' } : { kind: 'admin', actor: config.ADMIN_KEY_LABEL });
        next();
      });
      return;
    }
    if (!bearerOf(req)) {
      setPrincipal(req, { kind: 'anonymous' });
      next();
      return;
    }
    claimsOf(req)
      .then(principalOfClaims, () => ({ kind: 'anonymous' }) as const)
      .then((principal) => {
        setPrincipal(req, principal);
        next();
      })
      .catch(next);
  };

  const dealerSelf: Guard = (req, _res, next) => {
    claimsOf(req)
      .then(async (claims) => {
        if (!claims.email || isAdminToken(claims, config.AUTH_ADMIN_ROLE))
          throw new ApiError(403, 'forbidden', 'A dealer token is required');
        setPrincipal(req, { kind: 'dealer', email: claims.email, status: await dealerStatus(db, claims.email) });
        next();
      })
      .catch(next);
  };

  return { adminKey: asAdmin, dealer, adminOrAdminToken, admin: adminOrAdminToken, identify, dealerSelf };
}
