import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ApiError } from '../errors.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { normaliseEmail } from '../domain/normalise.js';

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
    ...(config.AUTH_ISSUER ? { issuer: config.AUTH_ISSUER } : {}),
  };
  const secret = config.SUPABASE_JWT_SECRET ? new TextEncoder().encode(config.SUPABASE_JWT_SECRET) : undefined;
  const jwks: JWTVerifyGetKey | undefined = config.AUTH_JWKS_URL
    ? createRemoteJWKSet(new URL(config.AUTH_JWKS_URL), { timeoutDuration: 5000 })
    : undefined;
  return async (token) => {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8') || '{}') as { alg?: string };
    if (header.alg === 'HS256' && secret) {
      return (await jwtVerify(token, secret, { ...options, algorithms: ['HS256'] })).payload as Claims;
    }
    if (jwks) return (await jwtVerify(token, jwks, { ...options, algorithms: ['RS256', 'ES256'] })).payload as Claims;
    throw new Error(`no key for alg ${header.alg}`);
  };
}

const isAdminToken = (claims: Claims, role: string) =>
  claims.app_metadata?.role === role || claims.app_metadata?.roles?.includes(role) === true || claims.role === role;

/**
 * Dealer-scoped operations in AUTH_MODE=jwt: a valid token whose e-mail is
 * the dealer the request is about (path or body), else 401/403. With
 * AUTH_MODE=off they pass, as the current frontend needs.
 */
export function createAuthGuards(config: Config, logger: Logger): { dealer: Guard; adminOrAdminToken: Guard } {
  if (config.AUTH_MODE === 'off') {
    const open: Guard = (_req, _res, next) => next();
    return { dealer: open, adminOrAdminToken: open };
  }
  const verify = tokenVerifier(config);
  const adminKey = requireAdminKey(config);

  const claimsOf = async (req: Request): Promise<Claims> => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (!match) throw new ApiError(401, 'unauthorized', 'A bearer token is required (Authorization: Bearer <token>)');
    let claims: Claims;
    try {
      claims = await verify(match[1]);
    } catch (error) {
      logger.info('token rejected', { reason: error instanceof Error ? error.name : 'unknown' });
      throw new ApiError(401, 'unauthorized', 'The bearer token is invalid or has expired');
    }
    // A seller's session token (src/api/seller-auth.ts) is never a dealer's or an admin's,
    // even if someone configured the same secret for both.
    if (claims.role === 'seller') throw new ApiError(401, 'unauthorized', 'A seller token is not valid here');
    return claims;
  };

  const dealer: Guard = (req, res, next) => {
    claimsOf(req)
      .then((claims) => {
        const params = (res.locals.pathParams ?? {}) as { dealer_email?: string };
        const body = (req.body ?? {}) as { dealer_email?: unknown };
        const subject = params.dealer_email ?? (typeof body.dealer_email === 'string' ? body.dealer_email : undefined);
        if (!claims.email) throw new ApiError(403, 'forbidden', 'The token carries no e-mail');
        if (subject !== undefined && normaliseEmail(subject) !== normaliseEmail(claims.email)) {
          throw new ApiError(403, 'forbidden', 'The token belongs to another dealer');
        }
        next();
      })
      .catch(next);
  };

  const adminOrAdminToken: Guard = (req, res, next) => {
    if (req.get('x-admin-key')) {
      adminKey(req, res, next);
      return;
    }
    claimsOf(req)
      .then((claims) => {
        if (!isAdminToken(claims, config.AUTH_ADMIN_ROLE)) throw new ApiError(403, 'forbidden', 'Only an admin may change a car’s status');
        next();
      })
      .catch(next);
  };

  return { dealer, adminOrAdminToken };
}
