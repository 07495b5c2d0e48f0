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
import { findDealerAccount } from '../db/dealers.js';
import { setPrincipal, type DealerIdentity, type DealerStatus, type Principal } from './principal.js';
import { claimedIssuer, dealerTokens, DEALER_SESSION, SELLER_SESSION } from './session-tokens.js';

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

const dealerStatusRow = z.object({ id: z.string().uuid(), status: z.enum(['pending', 'approved', 'suspended']) });

/** The dealer with this e-mail and their approval state; `unregistered` when there is none. */
async function dealerByEmail(db: Db, email: string): Promise<DealerIdentity> {
  const row = await db.maybeOne(sql.type(dealerStatusRow)`SELECT id, status FROM dealers WHERE email = ${email}`);
  return row ? { id: row.id, email, status: row.status } : { id: null, email, status: 'unregistered' };
}

const OUR_ISSUERS: readonly string[] = [SELLER_SESSION.issuer, DEALER_SESSION.issuer];
const bearerOf = (req: Request) => /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
const isDealerSessionToken = (token: string) => claimedIssuer(token) === DEALER_SESSION.issuer;

/** Who Kaggi's own dealer token (POST /api/dealer/verify) names, as they are now; 401 when invalid or the dealer is gone. */
function dealerSessions(config: Config, logger: Logger, db: Db) {
  const tokens = dealerTokens(config, logger);
  return async (token: string): Promise<DealerIdentity> => {
    const { sub } = await tokens.verify(token);
    const account = await findDealerAccount(db, sub);
    if (!account) throw new ApiError(401, 'unauthorized', 'This dealer account no longer exists; sign in again');
    return { id: account.id, email: account.email, status: account.status };
  };
}

function requireApproved(status: DealerStatus | 'unregistered'): void {
  if (status === 'suspended') throw new ApiError(403, 'dealer_suspended', 'This dealer account is suspended');
  if (status !== 'approved') {
    throw new ApiError(403, 'dealer_not_approved', 'This e-mail does not belong to an approved dealer (registration pending or missing)');
  }
}

/**
 * `approved`: the dealer must be approved. `unregistered`: a Supabase token whose e-mail no
 * (longer a) dealer has still gets in, as that e-mail (a person's privacy rights outlive the account).
 */
export type DealerSessionOptions = { approved: boolean; unregistered?: boolean };

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
  /** A dealer's own things, in either AUTH_MODE: a dealer token (Kaggi's own, or with AUTH_MODE=jwt Supabase's); `approved` also demands approval. */
  dealerSession: (options: DealerSessionOptions) => Guard;
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
  const dealerSession = dealerSessions(config, logger, db);
  const needsToken = () => new ApiError(401, 'unauthorized', 'A bearer token is required (Authorization: Bearer <token>)');
  if (config.AUTH_MODE === 'off') {
    const open: Guard = (req, _res, next) => {
      setPrincipal(req, { kind: 'open' });
      next();
    };
    // Everyone sees what the open server shows; a caller with a valid dealer token is also that dealer.
    const identifyOpen: Guard = (req, _res, next) => {
      const token = bearerOf(req);
      if (!token || !isDealerSessionToken(token)) {
        open(req, _res, next);
        return;
      }
      dealerSession(token)
        .then(
          (dealer) => ({ kind: 'open', dealer }) as const,
          () => ({ kind: 'open' }) as const,
        )
        .then((principal) => {
          setPrincipal(req, principal);
          next();
        })
        .catch(next);
    };
    const ownOpen =
      (options: DealerSessionOptions): Guard =>
      (req, _res, next) => {
        const token = bearerOf(req);
        const dealer = token
          ? isDealerSessionToken(token)
            ? dealerSession(token)
            : Promise.reject(new ApiError(401, 'unauthorized', 'A Kaggi dealer token is required (POST /api/dealer/verify)'))
          : Promise.reject(needsToken());
        dealer
          .then((identity) => {
            if (options.approved) requireApproved(identity.status);
            setPrincipal(req, { kind: 'open', dealer: identity });
            next();
          })
          .catch(next);
      };
    return { adminKey: asAdmin, dealer: open, adminOrAdminToken: open, admin: asAdmin, identify: identifyOpen, dealerSession: ownOpen };
  }
  const verify = tokenVerifier(config);

  const claimsOf = async (req: Request): Promise<Claims> => {
    const token = bearerOf(req);
    if (!token) throw needsToken();
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
    // Nor does anything claiming one of Kaggi's own issuers pass as a Supabase token.
    if (typeof claims.iss === 'string' && OUR_ISSUERS.includes(claims.iss)) {
      throw new ApiError(401, 'unauthorized', 'The bearer token is invalid or has expired');
    }
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
    return { kind: 'dealer', ...(await dealerByEmail(db, claims.email)) };
  };

  /** The dealer a request's token names: Kaggi's own dealer token, or a Supabase token's e-mail. */
  const dealerOfRequest = async (req: Request): Promise<DealerIdentity> => {
    const token = bearerOf(req);
    if (token && isDealerSessionToken(token)) return dealerSession(token);
    const claims = await claimsOf(req);
    if (!claims.email) throw new ApiError(403, 'forbidden', 'The token carries no e-mail');
    return dealerByEmail(db, claims.email);
  };

  const dealer: Guard = (req, res, next) => {
    dealerOfRequest(req)
      .then((identity) => {
        const params = (res.locals.pathParams ?? {}) as { dealer_email?: string };
        const body = (req.body ?? {}) as { dealer_email?: unknown };
        const subject = params.dealer_email ?? (typeof body.dealer_email === 'string' ? body.dealer_email : undefined);
        if (subject !== undefined && emailKey(subject) !== identity.email) {
          throw new ApiError(403, 'forbidden', 'The token belongs to another dealer');
        }
        requireApproved(identity.status);
        setPrincipal(req, { kind: 'dealer', ...identity });
        next();
      })
      .catch(next);
  };

  const own =
    (options: DealerSessionOptions): Guard =>
    (req, _res, next) => {
      dealerOfRequest(req)
        .then((identity) => {
          if (identity.status === 'unregistered' && !options.unregistered) requireApproved(identity.status);
          if (options.approved) requireApproved(identity.status);
          setPrincipal(req, { kind: 'dealer', ...identity });
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
    const token = bearerOf(req)!;
    const principal: Promise<Principal> = isDealerSessionToken(token)
      ? dealerSession(token).then((identity) => ({ kind: 'dealer', ...identity }))
      : claimsOf(req).then(principalOfClaims);
    principal
      .catch(() => ({ kind: 'anonymous' }) as const)
      .then((principal) => {
        setPrincipal(req, principal);
        next();
      })
      .catch(next);
  };

  return { adminKey: asAdmin, dealer, adminOrAdminToken, admin: adminOrAdminToken, identify, dealerSession: own };
}
