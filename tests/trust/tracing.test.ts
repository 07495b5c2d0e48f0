import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/app.js';
import { json, startFake, type Fake } from '../fakes/fake-server.js';
import { RSK_KEY, startFakeRsk, type RskMode } from '../fakes/rsk.js';
import { eventually } from '../auctions/helpers.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

/**
 * Issue 19: traces reach an OTLP/HTTP endpoint when one is configured, and
 * nothing of the SDK is loaded when none is. The real server in a child
 * process; the collector a loopback fake that records what it gets (OTLP JSON).
 */

type OtlpSpan = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
};

function spansOf(collector: Fake<'ok'>): OtlpSpan[] {
  return collector.requests
    .filter((r) => r.path === '/v1/traces')
    .flatMap((r) => (r.body as any).resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans as OtlpSpan[])));
}

const SDK = /@opentelemetry\/(sdk-trace|exporter-trace-otlp|resources)/;
const MODULE_LOG = path.join(import.meta.dirname, 'fixtures', 'module-log.mjs');

describe('tracing', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let collector: Fake<'ok'>;
  let rsk: Fake<RskMode>;
  let dir: string;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    collector = await startFake<'ok'>('ok', () => json(200, {}));
    rsk = await startFakeRsk({ requireKey: true });
    dir = mkdtempSync(path.join(os.tmpdir(), 'kaggi-modules-'));
  });
  afterAll(async () => {
    for (const s of servers) await s.kill();
    await collector?.close();
    await rsk?.close();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const start = async (name: string, env: Record<string, string>) => {
    const log = path.join(dir, `${name}.txt`);
    const server = await startServerProcess(
      name,
      database.url,
      { AUCTION_WORKER_ENABLED: 'false', ...env, MODULE_LOG: log },
      { nodeArgs: ['--import', MODULE_LOG] },
    );
    servers.push(server);
    return { server, modules: () => readFileSync(log, 'utf8').split('\n') };
  };

  it('is off without OTEL_EXPORTER_OTLP_ENDPOINT: no SDK module loaded, no trace id in the access line', async () => {
    const { server, modules } = await start('untraced', {});
    expect((await server.request('GET', '/api/cars')).status).toBe(200);
    expect((await server.stop()).code).toBe(0);
    const loaded = modules();
    expect(loaded.some((m) => m.includes('/src/app.ts'))).toBe(true);
    expect(loaded.filter((m) => SDK.test(m))).toEqual([]);
    const access = server.logs.filter((l) => l.includes('"message":"request"')).map((l) => JSON.parse(l));
    expect(access.length).toBeGreaterThan(0);
    expect(access.every((l) => l.trace_id === undefined)).toBe(true);
  });

  it('sends a span per request named by operation, with its queries and outside calls as children', async () => {
    const { server, modules } = await start('traced', {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_SERVICE_NAME: 'kaggi-test',
      RSK_API_BASE: rsk.url,
      RSK_API_KEY: RSK_KEY,
    });
    expect(modules().some((m) => SDK.test(m))).toBe(true);
    const cars = await server.request('GET', '/api/cars');
    expect(cars.status).toBe(200);
    const company = await server.request('POST', '/api/validate-company', { body: { kennitala: '5402696029' } });
    expect(company.status).toBe(200);
    // The stop flushes what the batch processor holds.
    expect((await server.stop()).code).toBe(0);
    await eventually(async () => spansOf(collector).some((s) => s.name === 'validateCompany'), 10_000, 'spans at the collector');

    const spans = spansOf(collector);
    const list = spans.find((s) => s.name === 'listCars')!;
    expect(list).toBeDefined();
    expect(list.kind).toBe(2); // SERVER
    expect(list.parentSpanId ?? '').toBe('');
    const queries = spans.filter((s) => s.name === 'slonik.executeQuery' && s.traceId === list.traceId);
    expect(queries.length).toBeGreaterThan(0);
    // a query span sits under the request span (directly or via Slonik's connection spans)
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const ancestors = (s: OtlpSpan): string[] =>
      s.parentSpanId && byId.get(s.parentSpanId) ? [s.parentSpanId, ...ancestors(byId.get(s.parentSpanId)!)] : [];
    expect(queries.every((q) => ancestors(q).includes(list.spanId))).toBe(true);

    const validate = spans.find((s) => s.name === 'validateCompany')!;
    const outside = spans.find((s) => s.name === 'RSK GET')!;
    expect(outside).toBeDefined();
    expect(outside.kind).toBe(3); // CLIENT
    expect(outside.traceId).toBe(validate.traceId);
    expect(ancestors(outside)).toContain(validate.spanId);
    expect(outside.attributes.find((a) => a.key === 'http.response.status_code')?.value).toEqual({ intValue: 200 });

    // No raw path in a span: the names are operations.
    expect(JSON.stringify(collector.requests.map((r) => r.body))).not.toContain('5402696029');
    // The access line carries the request's trace id.
    const access = server.logs.filter((l) => l.includes('"message":"request"')).map((l) => JSON.parse(l));
    expect(access.find((l) => l.operation === 'listCars')?.trace_id).toBe(list.traceId);
    const service = (collector.requests[0].body as any).resourceSpans[0].resource.attributes.find((a: any) => a.key === 'service.name');
    expect(service.value).toEqual({ stringValue: 'kaggi-test' });
  }, 60_000);
});
