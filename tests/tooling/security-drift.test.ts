import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationGuards } from '../../src/api/guards.js';
import { createLimiterFactory } from '../../src/api/rate-limits.js';
import { loadSpec } from '../../src/api/spec.js';
import { sellerTokens } from '../../src/api/seller-auth.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { insertDealer, registerCar } from '../helpers/fixtures.js';
import { operations, type Operation } from '../trust/spec-walk.js';
import { supabaseHsToken } from '../helpers/tokens.js';

/**
 * Each operation's `security` in openapi.yaml is what its guards enforce. For
 * every operation and every credential the spec names, a request carrying just
 * that credential must get past the access check exactly when the operation
 * declares its scheme. `{}` (no credentials) is declared where anonymous
 * callers may come in: always, or, where the operation also declares a 401,
 * only with AUTH_MODE=off. Where `{}` is declared, a credential the operation
 * does not name counts as none.
 */

const SECRET = 'drift-test-jwt-secret-with-at-least-32-characters';
const ADMIN_KEY = 'drift-test-admin-key';
const DEALER = 'drift@dealer.is';
const METRICS_TOKEN = 'drift-test-metrics-token-0123456789';
const CREDENTIALS = ['none', 'AdminKey', 'AdminBearer', 'DealerBearer', 'sellerToken', 'MetricsToken'] as const;
type Credential = (typeof CREDENTIALS)[number];
/** Bearer tokens of Supabase Auth are only read with AUTH_MODE=jwt (see the schemes' descriptions). */
const JWT_ONLY: Credential[] = ['AdminBearer', 'DealerBearer'];

/** The codes with which the guards (src/api/auth.ts, seller-auth.ts) refuse a caller; any other answer got past them. */
const REFUSALS = new Set(['unauthorized', 'forbidden', 'admin_key_required', 'invalid_admin_key', 'admin_disabled', 'dealer_not_approved', 'dealer_suspended']);

const hsToken = (claims: Record<string, unknown>) => supabaseHsToken(SECRET, claims);

let ip = 0;

/** Does a request with just `credential` get past the operation's access check? */
async function getsIn(app: TestApp, op: Operation, credential: Credential): Promise<boolean> {
  // A car of its own for every request: a seller's or an admin's operation that gets in may change it.
  const carId = (await registerCar(app)).id;
  const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(name === 'car_id' ? carId : name === 'dealer_email' ? DEALER : '6f1e2d3c-4b5a-4978-8a1b-2c3d4e5f6a7b'),
  );
  ip += 1;
  // Own client address for each: the live streams limit streams per client.
  const headers: Record<string, string> = { 'X-Forwarded-For': `198.51.${Math.floor(ip / 250)}.${(ip % 250) + 1}` };
  if (credential === 'AdminKey') headers['X-Admin-Key'] = ADMIN_KEY;
  if (credential === 'AdminBearer') headers.Authorization = `Bearer ${await hsToken({ app_metadata: { role: 'admin' } })}`;
  if (credential === 'DealerBearer') headers.Authorization = `Bearer ${await hsToken({ email: DEALER })}`;
  if (credential === 'MetricsToken') headers.Authorization = `Bearer ${METRICS_TOKEN}`;
  if (credential === 'sellerToken') headers.Authorization = `Bearer ${(await sellerTokens(app.config, app.logger).issue(carId)).token}`;
  // A body no operation accepts: one that gets in is answered 422 before its handler runs.
  const body = op.body ? { raw: '[]', headers: { ...headers, 'content-type': 'application/json' } } : { headers };
  const res = await app.request(op.method, path, body);
  return !((res.status === 401 || res.status === 403) && REFUSALS.has(res.body?.error));
}

/** Does the spec let a request with just `credential` in? */
function declared(op: Operation, credential: Credential, mode: 'off' | 'jwt'): boolean {
  if (op.security.length === 0) return true;
  const anonymous = op.security.some((alternative) => alternative.length === 0) && (mode === 'off' || !op.responses.includes('401'));
  return anonymous || op.security.some((alternative) => alternative.length === 1 && alternative[0] === credential);
}

async function mismatches(app: TestApp, mode: 'off' | 'jwt'): Promise<string[]> {
  const found: string[] = [];
  for (const op of operations()) {
    for (const credential of CREDENTIALS) {
      if (mode === 'off' && JWT_ONLY.includes(credential)) continue;
      const expected = declared(op, credential, mode);
      const actual = await getsIn(app, op, credential);
      if (actual !== expected) {
        const security = JSON.stringify(op.security.map((a) => (a.length ? a.join('+') : '{}')));
        found.push(`${op.operationId} (security ${security}): ${credential} ${actual ? 'gets in' : 'is refused'}`);
      }
    }
  }
  return found;
}

describe('openapi.yaml security ↔ the guards', () => {
  it('names only the schemes this test sends, and no alternative needs two at once', () => {
    const schemes = (loadSpec().document.components?.securitySchemes ?? {}) as Record<string, unknown>;
    expect(Object.keys(schemes).sort()).toEqual(CREDENTIALS.filter((c) => c !== 'none').sort());
    for (const op of operations()) {
      for (const alternative of op.security) expect(alternative.length, op.operationId).toBeLessThanOrEqual(1);
    }
  });

  for (const mode of ['jwt', 'off'] as const) {
    describe(`AUTH_MODE=${mode}`, () => {
      let app: TestApp;
      beforeAll(async () => {
        app = await startTestApp({
          AUTH_MODE: mode,
          ...(mode === 'jwt' ? { SUPABASE_JWT_SECRET: SECRET } : {}),
          ADMIN_API_KEY: ADMIN_KEY,
          // GET /metrics exists only with a token; then only that token (no credential named here) opens it.
          METRICS_TOKEN,
          SELLER_TOKEN_SECRET: 'drift-test-seller-secret-with-at-least-32-characters',
          RATE_LIMIT_ENABLED: 'false',
        });
        await insertDealer(app, DEALER, 'approved');
      });
      afterAll(async () => app?.close());

      it('lets in exactly the credentials each operation declares', async () => {
        expect(await mismatches(app, mode)).toEqual([]);
      }, 120_000);

      it('guards only operations the spec has', () => {
        const specIds = new Set(operations().map((op) => op.operationId));
        for (const rateLimits of ['true', 'false']) {
          const config = { ...app.config, RATE_LIMIT_ENABLED: rateLimits === 'true' };
          const guarded = Object.keys(operationGuards(config, app.logger, createLimiterFactory(config, app.db), app.db));
          expect(guarded.length).toBeGreaterThan(0);
          expect(guarded.filter((id) => !specIds.has(id))).toEqual([]);
        }
      });
    });
  }
});
