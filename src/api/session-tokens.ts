import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, type JWTPayload } from 'jose';
import { ApiError, notConfigured } from '../errors.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

/**
 * Kaggi's own session tokens (HS256 JWTs), one kind per audience: the seller's (`sub` = a car)
 * and the dealer's (`sub` = a dealer). Each kind has its own secret, issuer, audience and
 * `role`, and verification demands all four, so a token of one kind never passes as the other
 * even when an operator configures the same secret for both; Supabase tokens carry neither
 * issuer nor audience of ours.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type SessionKind = {
  /** For log lines and the 503 message, e.g. `Seller sign-in (SELLER_TOKEN_SECRET)`. */
  readonly feature: string;
  readonly issuer: string;
  readonly audience: string;
  readonly role: string;
  readonly secret: string | undefined;
  readonly hours: number;
};

export const SELLER_SESSION = { issuer: 'kaggi', audience: 'kaggi-seller', role: 'seller' } as const;
export const DEALER_SESSION = { issuer: 'kaggi-dealer-sign-in', audience: 'kaggi-dealer', role: 'dealer' } as const;

export type SessionTokens = {
  /** False in production without the kind's secret: its endpoints answer 503. */
  readonly configured: boolean;
  issue(subject: string, claims?: Record<string, unknown>): Promise<{ token: string; expires_at: string }>;
  /** The payload of a validly signed token of this kind (a UUID `sub`); throws 401 `unauthorized` otherwise. */
  verify(token: string): Promise<JWTPayload & { sub: string }>;
};

export function createSessionTokens(kind: SessionKind, config: Pick<Config, 'NODE_ENV'>, logger: Logger): SessionTokens {
  let secret: Uint8Array | undefined;
  if (kind.secret) secret = new TextEncoder().encode(kind.secret);
  else if (config.NODE_ENV !== 'production') {
    secret = randomBytes(32);
    logger.warn(`${kind.feature}: no secret set, sessions are signed with a random per-process secret and end at restart`);
  }
  const unauthorized = () => new ApiError(401, 'unauthorized', `A valid ${kind.role} token is required (Authorization: Bearer <token>)`);
  return {
    configured: secret !== undefined,
    async issue(subject, claims = {}) {
      if (!secret) throw notConfigured(kind.feature);
      const expires = Math.floor((Date.now() + kind.hours * 3600_000) / 1000);
      const token = await new SignJWT({ ...claims, role: kind.role })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(subject)
        .setIssuer(kind.issuer)
        .setAudience(kind.audience)
        .setIssuedAt()
        .setExpirationTime(expires)
        .sign(secret);
      return { token, expires_at: new Date(expires * 1000).toISOString() };
    },
    async verify(token) {
      if (!secret) throw notConfigured(kind.feature);
      try {
        const { payload } = await jwtVerify(token, secret, {
          algorithms: ['HS256'],
          issuer: kind.issuer,
          audience: kind.audience,
          requiredClaims: ['exp'],
        });
        if (payload.role !== kind.role || typeof payload.sub !== 'string' || !UUID.test(payload.sub)) {
          throw new Error(`not a ${kind.role} token`);
        }
        return payload as JWTPayload & { sub: string };
      } catch (error) {
        logger.info(`${kind.role} token rejected`, { reason: error instanceof Error ? error.name : 'unknown' });
        throw unauthorized();
      }
    },
  };
}

/** Whether an unverified token claims to be one of ours (its issuer), so the guard knows which key to try. */
export function claimedIssuer(token: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8') || '{}') as { iss?: unknown };
    return typeof payload.iss === 'string' ? payload.iss : undefined;
  } catch {
    return undefined;
  }
}

// One per configuration, i.e. per app: guards and handlers share its (possibly random) secret.
const byConfig = new WeakMap<Config, Map<string, SessionTokens>>();
export function sessionTokensFor(config: Config, logger: Logger, kind: SessionKind): SessionTokens {
  let kinds = byConfig.get(config);
  if (!kinds) {
    kinds = new Map();
    byConfig.set(config, kinds);
  }
  let tokens = kinds.get(kind.audience);
  if (!tokens) {
    tokens = createSessionTokens(kind, config, logger);
    kinds.set(kind.audience, tokens);
  }
  return tokens;
}

/** The dealer's session tokens (POST /api/dealer/verify, the dealer guard). */
export const dealerTokens = (config: Config, logger: Logger) =>
  sessionTokensFor(config, logger, {
    ...DEALER_SESSION,
    feature: 'Dealer sign-in (DEALER_TOKEN_SECRET)',
    secret: config.DEALER_TOKEN_SECRET,
    hours: config.DEALER_SESSION_HOURS,
  });

/** The dealer sign-in endpoints: 503 when no token can be signed (production without DEALER_TOKEN_SECRET). */
export function dealerSignInGuard(config: Config, logger: Logger) {
  const tokens = dealerTokens(config, logger);
  return (_req: unknown, _res: unknown, next: (error?: unknown) => void) =>
    next(tokens.configured ? undefined : notConfigured('Dealer sign-in (DEALER_TOKEN_SECRET)'));
}
