import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import pg from 'pg';
import winston from 'winston';
import { inject } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createDb, type Db } from '../../src/db/pool.js';
import { createServices } from '../../src/integrations/index.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { EventHub } from '../../src/events/hub.js';
import { createHttpServer } from '../../src/api/request-limits.js';
import { assertMatchesSpec } from './contract.js';

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * A fresh database copied from the migrated template (`empty`: with no schema
 * at all, for start-up tests); dropped by `drop()`.
 */
export async function createTestDatabase(
  options: { empty?: boolean } = {},
): Promise<{ url: string; sql: pg.Pool; drop: () => Promise<void> }> {
  const adminUrl = inject('adminUrl');
  const prefix = inject('runPrefix');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(options.empty ? `CREATE DATABASE "${name}"` : `CREATE DATABASE "${name}" TEMPLATE "${prefix}_template"`);
  await admin.end();
  const url = withDatabase(adminUrl, name);
  const sql = new pg.Pool({ connectionString: url, max: 2 });
  // pg-pool's end() resolves as soon as it has asked its idle clients to close, not
  // when they have: DROP DATABASE … WITH (FORCE) right after can terminate one that
  // is still closing, and that error reaches the pool. It is the drop, not a failure.
  sql.on('error', () => undefined);
  return {
    url,
    sql,
    drop: async () => {
      await sql.end();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

export type ApiResponse<T = any> = { status: number; body: T; headers: Headers; text: string };

export type TestApp = {
  url: string;
  config: Config;
  db: Db;
  /** Plain pg access for assertions on rows, independent of the app's pool. */
  sql: pg.Pool;
  logger: Logger;
  request: <T = any>(method: string, path: string, options?: RequestOptions) => Promise<ApiResponse<T>>;
  close: () => Promise<void>;
};

export type RequestOptions = {
  body?: unknown;
  /** Sent as is, for malformed JSON and wrong content types. */
  raw?: string;
  headers?: Record<string, string>;
};

async function firstFrame(res: Response): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes('\n\n')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text;
}

/** Every response that reaches a test has been checked against openapi.yaml. */
export async function request<T = any>(base: string, method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  let payload: string | undefined = options.raw;
  if (options.body !== undefined) {
    payload = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${base}${path}`, { method, headers, body: payload });
  const contentType = res.headers.get('content-type');
  // A live stream never ends: take its first frame and hang up (tests/events reads streams in full).
  const text = contentType?.startsWith('text/event-stream') ? await firstFrame(res) : await res.text();
  const body = contentType?.includes('json') && text ? JSON.parse(text) : text;
  await assertMatchesSpec(method, path, res.status, contentType, body);
  return { status: res.status, body, headers: res.headers, text };
}

/** `logLines`: collect every log line (as written, after masking) instead of discarding them. */
export async function startTestApp(env: Record<string, string> = {}, options: { logLines?: string[] } = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  // The tests stand in for the load balancer: one trusted hop, so X-Forwarded-For names the client.
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: options.logLines ? 'debug' : 'silent',
    TRUST_PROXY_HOPS: '1',
    DATABASE_URL: database.url,
    ...env,
  });
  const lines = options.logLines;
  const transport = lines
    ? new winston.transports.Stream({
        stream: new Writable({
          write(chunk: Buffer, _encoding, done) {
            lines.push(chunk.toString('utf8'));
            done();
          },
        }),
      })
    : undefined;
  const logger = createLogger(config, transport);
  const served = await serveApp(config, logger);
  return {
    url: served.url,
    config,
    db: served.db,
    sql: database.sql,
    logger,
    request: served.request,
    close: async () => {
      await served.close();
      await database.drop();
    },
  };
}

export type ServedApp = {
  url: string;
  db: Db;
  hub: EventHub;
  server: Server;
  request: TestApp['request'];
  /** Ends the streams, the server and the pool (not the database). */
  close: () => Promise<void>;
};

/** The app on `config.DATABASE_URL`, as src/start.ts wires one (pool, services, live-event hub), on a free port. */
export async function serveApp(config: Config, logger: Logger): Promise<ServedApp> {
  const databaseUrl = config.DATABASE_URL!;
  const db = await createDb(databaseUrl, config);
  const hub = new EventHub({ url: databaseUrl, db, config, logger });
  const app = await createApp({ config, db, logger, services: createServices(config, logger), startedAt: new Date(), events: hub });
  const server: Server = await new Promise((resolve) => {
    const s = createHttpServer(app).listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    db,
    hub,
    server,
    request: (method, path, options) => request(url, method, path, options),
    close: async () => {
      await hub.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await db.end().catch(() => undefined);
    },
  };
}
