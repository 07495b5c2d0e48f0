import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationGuards } from '../../src/api/guards.js';
import { createLimiterFactory } from '../../src/api/rate-limits.js';
import { loadSpec } from '../../src/api/spec.js';
import { sellerTokens } from '../../src/api/seller-auth.js';
import { dealerTokens } from '../../src/api/session-tokens.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { insertDealer, registerCar } from '../helpers/fixtures.js';
import { operations, type Operation } from '../trust/spec-walk.js';
import { supabaseHsToken } from '../helpers/tokens.js';
import { backtrackingShapes, regexLiterals } from './regex-audit.js';

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
const ADMIN_KEY = 'drift-test-admin-key-0123456789abcdef';
const DEALER = 'drift@dealer.is';
const METRICS_TOKEN = 'drift-test-metrics-token-0123456789';
const CREDENTIALS = ['none', 'AdminKey', 'AdminBearer', 'DealerBearer', 'DealerSession', 'sellerToken', 'MetricsToken'] as const;
type Credential = (typeof CREDENTIALS)[number];
/** Bearer tokens of Supabase Auth are only read with AUTH_MODE=jwt (see the schemes' descriptions). */
const JWT_ONLY: Credential[] = ['AdminBearer', 'DealerBearer'];

/** The codes with which the guards (src/api/auth.ts, seller-auth.ts) refuse a caller; any other answer got past them. */
const REFUSALS = new Set([
  'unauthorized',
  'forbidden',
  'admin_key_required',
  'invalid_admin_key',
  'admin_disabled',
  'dealer_not_approved',
  'dealer_suspended',
]);

const hsToken = (claims: Record<string, unknown>) => supabaseHsToken(SECRET, claims);

let ip = 0;

/** A seller token for the car's current session (`ended`: for the one before it, as after a new sign-in). */
async function sellerToken(app: TestApp, carId: string, ended = false): Promise<string> {
  const { rows } = await app.sql.query('SELECT seller_session FROM "Bílar" WHERE id = $1', [carId]);
  const session = rows[0].seller_session as number;
  if (ended) await app.sql.query('UPDATE "Bílar" SET seller_session = seller_session + 1 WHERE id = $1', [carId]);
  return (await sellerTokens(app.config, app.logger).issue(carId, session)).token;
}

/** Does a request with just `credential` get past the operation's access check? */
async function getsIn(app: TestApp, op: Operation, credential: Credential): Promise<boolean> {
  // A car of its own for every request: a seller's or an admin's operation that gets in may change it.
  const carId = (await registerCar(app)).id;
  // A dealer of its own for every request too: a dealer's operation that gets in may close the account (erasure).
  const dealerEmail = `drift${ip}@dealer.is`;
  const ownDealerId = await insertDealer(app, dealerEmail, 'approved');
  const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(name === 'car_id' ? carId : name === 'dealer_email' ? dealerEmail : '6f1e2d3c-4b5a-4978-8a1b-2c3d4e5f6a7b'),
  );
  ip += 1;
  // Own client address for each: the live streams limit streams per client.
  const headers: Record<string, string> = { 'X-Forwarded-For': `198.51.${Math.floor(ip / 250)}.${(ip % 250) + 1}` };
  if (credential === 'AdminKey') headers['X-Admin-Key'] = ADMIN_KEY;
  if (credential === 'AdminBearer') headers.Authorization = `Bearer ${await hsToken({ app_metadata: { role: 'admin' } })}`;
  if (credential === 'DealerBearer') headers.Authorization = `Bearer ${await hsToken({ email: dealerEmail })}`;
  if (credential === 'MetricsToken') headers.Authorization = `Bearer ${METRICS_TOKEN}`;
  if (credential === 'DealerSession')
    headers.Authorization = `Bearer ${(await dealerTokens(app.config, app.logger).issue(ownDealerId)).token}`;
  if (credential === 'sellerToken') headers.Authorization = `Bearer ${await sellerToken(app, carId)}`;
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
          DEALER_TOKEN_SECRET: 'drift-test-dealer-secret-with-at-least-32-characters',
          RATE_LIMIT_ENABLED: 'false',
        });
        await insertDealer(app, DEALER, 'approved');
      });
      afterAll(async () => app?.close());

      it('lets in exactly the credentials each operation declares', async () => {
        expect(await mismatches(app, mode)).toEqual([]);
      }, 120_000);

      it('a seller token whose session has ended (a later sign-in, a logout) gets into no seller operation', async () => {
        const sellerOps = operations().filter((op) => op.security.some((a) => a.length === 1 && a[0] === 'sellerToken'));
        expect(sellerOps.map((op) => op.operationId)).toContain('sellerLogout');
        for (const op of sellerOps) {
          const carId = (await registerCar(app)).id;
          const token = await sellerToken(app, carId, true);
          const res = await app.request(op.method, op.path, {
            headers: { Authorization: `Bearer ${token}`, ...(op.body ? { 'content-type': 'application/json' } : {}) },
            ...(op.body ? { raw: '{}' } : {}),
          });
          expect([op.operationId, res.status, res.body.error]).toEqual([op.operationId, 401, 'unauthorized']);
        }
      });

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

/**
 * Issue 25: no regular expression in src/ that backtracks over what a client sends. A
 * pattern listed here reads configuration only, never a request, a token or a log line.
 */
const CONFIGURATION_ONLY = new Map([
  ['src/integrations/brevo.ts', String.raw`\/+$`],
  ['src/integrations/creditinfo.ts', String.raw`\/+$`],
  ['src/integrations/rsk.ts', String.raw`\/+$`],
  ['src/integrations/twilio-sdk.ts', String.raw`\/+$`],
  ['src/observability/otel.ts', String.raw`\/+$`],
]);

describe('regular expressions in src/', () => {
  it('the audit sees what backtracks', () => {
    // the access log's e-mail pattern before issue 25, and the textbook cases
    expect(backtrackingShapes(String.raw`[^\s/@]+@[^\s/@]+\.[^\s/@]+`).leading).toBe(true);
    expect(backtrackingShapes('(a+)+$').nested).toBe(true);
    expect(backtrackingShapes(String.raw`(?:\w*\s)*x`).nested).toBe(true);
    expect(backtrackingShapes(String.raw`^Bearer\s+(\S+)$`)).toEqual({ nested: false, leading: false });
    expect(backtrackingShapes(String.raw`\s+`)).toEqual({ nested: false, leading: false });
  });

  it('every operation declares the 414 that refuses a long request target before routing', () => {
    expect(
      operations()
        .filter((op) => !op.responses.includes('414'))
        .map((op) => op.operationId),
    ).toEqual([]);
  });

  it('has no nested unbounded quantifier, nor an unanchored one that scans a run from every start', () => {
    const literals = regexLiterals(process.cwd());
    expect(literals.length).toBeGreaterThan(30);
    const risky = literals
      .filter((r) => CONFIGURATION_ONLY.get(r.file) !== r.source)
      .filter((r) => {
        const shapes = backtrackingShapes(r.source);
        return shapes.nested || shapes.leading;
      })
      .map((r) => `${r.file}:${r.line} /${r.source}/${r.flags}`);
    expect(risky).toEqual([]);
  });
});

/**
 * The business-flow controls answer with codes a client must be able to find in the
 * spec: each operation's response lists the code among its examples, and the rules a
 * dealer sees (who bids, the reserve at the moment it is met, keys per caller) are
 * written where the operation or parameter is described.
 */
describe('openapi.yaml documents the business-flow controls', () => {
  type Node = Record<string, any>;
  const doc = loadSpec().document as unknown as Node;
  const resolve = (node: Node): Node => {
    if (typeof node?.$ref !== 'string') return node;
    return resolve(
      node.$ref
        .slice(2)
        .split('/')
        .reduce((at: Node, part: string) => at[part], doc),
    );
  };
  const operation = (id: string): Node => {
    for (const item of Object.values(doc.paths as Node)) {
      for (const op of Object.values(item as Node)) if ((op as Node)?.operationId === id) return op as Node;
    }
    throw new Error(`no operation ${id}`);
  };
  const exampleCodes = (id: string, status: string): string[] => {
    const response = resolve(operation(id).responses[status]);
    const examples = Object.values((response.content?.['application/json']?.examples ?? {}) as Node);
    return examples.map((e) => resolve(e as Node).value?.error);
  };
  const described = (node: Node) => (resolve(node).description as string).replace(/\s+/g, ' ');

  it('lists own_car and idempotency_in_progress among the bid’s 409s', () => {
    expect(exampleCodes('createBid', '409')).toEqual(expect.arrayContaining(['own_car', 'idempotency_in_progress', 'bid_too_low']));
  });

  it('lists decision_deadline_passed among the seller’s accept and decline 409s', () => {
    for (const id of ['sellerAccept', 'sellerDecline']) {
      expect(exampleCodes(id, '409'), id).toEqual(expect.arrayContaining(['decision_deadline_passed', 'car_not_closed']));
      expect(described(operation(id)), id).toContain('decision_deadline_passed');
    }
  });

  it('says who a bid is stored under, and that a lift to the reserve shows its amount', () => {
    const bid = described(operation('createBid'));
    expect(bid).toContain('registered company');
    expect(bid).toContain('own_car');
    expect(bid).toMatch(/everyone sees the reserve's amount/);
    // and no schema still promises that the reserve is never shown
    expect(loadSpec().yaml.replace(/\s+/g, ' ')).not.toMatch(
      /reserve itself is never shown|Never shown to dealers: they see only `reserve_met`/,
    );
  });

  it('describes Idempotency-Key as one transaction, per caller, with a bounded wait', () => {
    const key = described(doc.components.parameters.IdempotencyKey);
    expect(key).toContain('one transaction');
    expect(key).toContain('per caller');
    expect(key).toContain('idempotency_in_progress');
  });
});
