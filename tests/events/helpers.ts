import type { Server } from 'node:http';
import { loadConfig, type Config } from '../../src/config.js';
import type { Db } from '../../src/db/pool.js';
import { EventHub } from '../../src/events/hub.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase, serveApp, type RequestOptions } from '../helpers/app.js';
import { assertEventMatchesSpec, assertMatchesSpec } from '../helpers/contract.js';
import { camelCar } from '../helpers/fixtures.js';

export type SseEvent = { id: string | undefined; event: string; data: any };

/**
 * A small Server-Sent Events client (the parsing rules of the HTML standard): every
 * event's data is checked against openapi.yaml as it arrives. `lastId` is what a browser
 * would send as Last-Event-ID on reconnecting.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  comments = 0;
  retry: number | undefined;
  lastId: string | undefined;
  ended = false;
  error: Error | undefined;
  private waiters: (() => void)[] = [];
  private readonly abort = new AbortController();

  private constructor(readonly url: string) {}

  /** Opens a stream; a non-200 answer is returned (validated) instead. */
  static async open(
    base: string,
    path: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; headers: Headers; client?: SseClient; body?: any }> {
    const client = new SseClient(base + path);
    const res = await fetch(base + path, { headers: { accept: 'text/event-stream', ...headers }, signal: client.abort.signal });
    const contentType = res.headers.get('content-type');
    if (res.status !== 200) {
      const body = await res.json();
      await assertMatchesSpec('GET', path, res.status, contentType, body);
      return { status: res.status, headers: res.headers, body };
    }
    await assertMatchesSpec('GET', path, res.status, contentType, '');
    void client.read(res);
    return { status: res.status, headers: res.headers, client };
  }

  private async read(res: Response): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    let id: string | undefined;
    let event = '';
    let data: string[] = [];
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).replace(/\r$/, '');
          buffer = buffer.slice(nl + 1);
          if (line === '') {
            if (id !== undefined) this.lastId = id;
            if (data.length > 0) {
              const parsed = JSON.parse(data.join('\n'));
              const name = event || 'message';
              await assertEventMatchesSpec(name, parsed);
              this.events.push({ id, event: name, data: parsed });
            }
            id = undefined;
            event = '';
            data = [];
            this.notify();
            continue;
          }
          if (line.startsWith(':')) {
            this.comments += 1;
            continue;
          }
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') id = value;
          else if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
          else if (field === 'retry') this.retry = Number(value);
        }
      }
    } catch (error) {
      if (!this.abort.signal.aborted) this.error = error as Error;
    }
    this.ended = true;
    this.notify();
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until `check` holds (re-checked at every frame), failing after `ms`. */
  async until(check: (events: SseEvent[]) => boolean, ms = 10_000, what = 'events'): Promise<SseEvent[]> {
    const deadline = Date.now() + ms;
    while (!check(this.events)) {
      if (this.error) throw this.error;
      if (this.ended) throw new Error(`stream ended while waiting for ${what} (${this.events.length} events)`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(this.events.map((e) => [e.id, e.event]))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.events;
  }

  /** Waits for the stream to be closed by the server. */
  async closedByServer(ms = 10_000): Promise<void> {
    await this.until(() => this.ended, ms, 'the end of the stream').catch((error) => {
      if (!this.ended) throw error;
    });
  }

  close(): void {
    this.abort.abort();
  }
}

export type Instance = {
  url: string;
  config: Config;
  db: Db;
  hub: EventHub;
  server: Server;
  request: <T = any>(
    method: string,
    path: string,
    options?: RequestOptions,
  ) => Promise<{ status: number; body: T; headers: Headers; text: string }>;
  stream: (path: string, headers?: Record<string, string>) => ReturnType<typeof SseClient.open>;
  close: () => Promise<void>;
};

/** An app instance on a given database, as src/start.ts wires one (hub included). */
export async function startInstance(databaseUrl: string, env: Record<string, string> = {}): Promise<Instance> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    TRUST_PROXY_HOPS: '1',
    DATABASE_URL: databaseUrl,
    RATE_LIMIT_ENABLED: 'false',
    ...env,
  });
  const served = await serveApp(config, createLogger(config));
  return { ...served, config, stream: (path, headers) => SseClient.open(served.url, path, headers) };
}

/** `count` instances on one fresh database (a copy of the migrated template). */
export async function startCluster(count: number, env: Record<string, string> = {}) {
  const database = await createTestDatabase();
  const instances: Instance[] = [];
  for (let i = 0; i < count; i += 1) instances.push(await startInstance(database.url, env));
  return {
    database,
    instances,
    close: async () => {
      await Promise.all(instances.map((i) => i.close()));
      await database.drop();
    },
  };
}

export async function registerActiveCar(instance: Instance, overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await instance.request('POST', '/api/cars/register', { body: camelCar(overrides) });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${res.text}`);
  return res.body.car.id;
}

export function placeBid(instance: Instance, carId: string, amount: number, dealer: string, max?: number) {
  return instance.request('POST', '/api/bids/create', {
    body: {
      car_id: carId,
      dealer_name: dealer.split('@')[0],
      dealer_email: dealer,
      bid_amount: amount,
      ...(max ? { max_amount: max } : {}),
    },
  });
}

export const ids = (events: SseEvent[]) => events.filter((e) => e.id !== undefined).map((e) => Number(e.id));
