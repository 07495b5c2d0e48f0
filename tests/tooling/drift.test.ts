import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSpec } from '../../src/api/spec.js';
import { handlers } from '../../src/handlers/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

/**
 * The spec and the server must describe the same API: every operation of openapi.yaml has
 * a handler bound and is routed by the running app, and the app binds nothing the spec does
 * not describe.
 */

type Parameter = { name: string; in: string; required?: boolean; example?: unknown; schema?: { example?: unknown; examples?: unknown[] } };
type MediaType = { example?: unknown; examples?: Record<string, { value?: unknown }> };
type SpecOperation = {
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, MediaType> };
};
type Spec = { paths: Record<string, Record<string, SpecOperation> & { parameters?: Parameter[] }> };

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const spec = loadSpec().document as unknown as Spec;

/** Resolves a local `$ref` (`#/components/parameters/CarId`) against the document. */
function deref<T>(value: T | { $ref: string }): T {
  if (value && typeof value === 'object' && '$ref' in value) {
    return value.$ref
      .slice(2)
      .split('/')
      .reduce<any>((node, key) => node?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], spec) as T;
  }
  return value;
}

type Case = { operationId: string; method: string; path: string; url: string; body?: unknown };

/** Plausible values for path parameters when the spec gives no example. */
const FALLBACK_PATH_VALUES: Record<string, string> = {
  car_id: '6f1e2d3c-4b5a-4978-8a1b-2c3d4e5f6a7b',
  dealer_email: 'bilaland@example.is',
};

function exampleOf(param: Parameter): unknown {
  return param.example ?? param.schema?.example ?? param.schema?.examples?.[0] ?? FALLBACK_PATH_VALUES[param.name];
}

const cases: Case[] = [];
for (const [path, item] of Object.entries(spec.paths)) {
  for (const method of METHODS) {
    const op = item[method] as SpecOperation | undefined;
    if (!op) continue;
    const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p) => deref<Parameter>(p));
    let url = path;
    for (const param of params.filter((p) => p.in === 'path')) {
      const value = exampleOf(param);
      if (value === undefined) throw new Error(`${op.operationId}: no example for path parameter ${param.name}`);
      url = url.replace(`{${param.name}}`, encodeURIComponent(String(value)));
    }
    const query = new URLSearchParams();
    for (const param of params.filter((p) => p.in === 'query' && p.required)) query.set(param.name, String(exampleOf(param)));
    if ([...query].length > 0) url += `?${query}`;
    // The spec's own first request example, so the request gets past validation to the handler.
    const json = op.requestBody?.content?.['application/json'];
    const body = json ? (json.example ?? Object.values(json.examples ?? {})[0]?.value) : undefined;
    cases.push({ operationId: op.operationId ?? `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path, url, body });
  }
}

describe('openapi.yaml ↔ handlers', () => {
  it('finds the operations of the spec', () => {
    expect(cases.length).toBeGreaterThanOrEqual(33);
    expect(
      cases.filter((c) => c.operationId.includes(' ')),
      'operations without operationId',
    ).toEqual([]);
  });

  it('binds a handler to every operation, and no handler to anything else', () => {
    const operationIds = cases.map((c) => c.operationId).sort();
    const bound = Object.keys(handlers).sort();
    const unbound = operationIds.filter((id) => !bound.includes(id));
    const unknown = bound.filter((id) => !operationIds.includes(id));
    expect({ inSpecWithoutHandler: unbound, handlerWithoutOperation: unknown }).toEqual({
      inSpecWithoutHandler: [],
      handlerWithoutOperation: [],
    });
    for (const id of bound) expect(typeof (handlers as Record<string, unknown>)[id], id).toBe('function');
  });
});

describe('every operation is routed by the running app', () => {
  let app: TestApp;
  beforeAll(async () => {
    // GET /metrics exists only with a metrics token.
    app = await startTestApp({ METRICS_TOKEN: 'drift-test-metrics-token-0123456789' });
  });
  afterAll(async () => app?.close());

  it.each(cases.map((c) => [`${c.method} ${c.path} (${c.operationId})`, c] as const))('%s', async (_name, { method, url, body }) => {
    // request() validates the answer against openapi.yaml (status declared, body matching),
    // so a 501 not_implemented or any undocumented answer fails here too.
    const res = await app.request(method, url, body === undefined ? {} : { body });
    const code = typeof res.body === 'object' && res.body ? (res.body as { error?: unknown }).error : undefined;
    expect(code, `${method} ${url} → ${res.status} ${res.text.slice(0, 200)}`).not.toBe('route_not_found');
    expect(code, `${method} ${url} → ${res.status} ${res.text.slice(0, 200)}`).not.toBe('method_not_allowed');
    expect(res.status).not.toBe(501);
  });

  it('answers route_not_found for a path the spec does not have, and method_not_allowed for a wrong method', async () => {
    const missing = await app.request('GET', '/api/no-such-route');
    expect([missing.status, missing.body.error]).toEqual([404, 'route_not_found']);
    const wrongMethod = await app.request('DELETE', '/api/cars');
    expect([wrongMethod.status, wrongMethod.body.error]).toEqual([405, 'method_not_allowed']);
  });
});
