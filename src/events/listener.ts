import pg from 'pg';
import type { Logger } from '../logger.js';

export const CHANNEL = 'kaggi_car_events';

export type ListenerOptions = {
  url: string;
  connectTimeoutMs: number;
  logger: Logger;
  /** A NOTIFY arrived (its payload is not needed: the hub reads from its cursor). */
  onNotify: () => void;
  /** Listening (again): whatever was committed meanwhile is read now, so nothing is missed. */
  onListening: () => void;
};

const BACKOFF_MS = [100, 250, 500, 1000, 2000, 5000];
const PING_EVERY_MS = 10_000;

/**
 * The instance's one LISTEN connection. It reconnects by itself with backoff after the
 * database goes away; a ping notices a connection that hangs without closing (a frozen
 * database, a cut network), which would otherwise leave every stream silent.
 */
export class Listener {
  private client: pg.Client | undefined;
  private attempt = 0;
  private retry: NodeJS.Timeout | undefined;
  private ping: NodeJS.Timeout | undefined;
  private closed = false;
  private firstConnect: Promise<void> | undefined;

  constructor(private readonly options: ListenerOptions) {}

  get listening(): boolean {
    return this.client !== undefined;
  }

  /** The first connection; after that, reconnecting is the listener's own business. */
  start(): Promise<void> {
    this.firstConnect ??= this.connect().catch((error) => {
      this.firstConnect = undefined;
      throw error;
    });
    return this.firstConnect;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.options.url,
      connectionTimeoutMillis: this.options.connectTimeoutMs,
      query_timeout: this.options.connectTimeoutMs * 2,
      keepAlive: true,
      application_name: 'kaggi-events',
    });
    const lost = (error?: Error) => this.lost(client, error);
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    client.on('notification', () => this.options.onNotify());
    this.client = client;
    if (this.attempt > 0) this.options.logger.info('live events: listening again', { attempts: this.attempt });
    this.attempt = 0;
    this.ping = setInterval(() => {
      client.query('SELECT 1').catch((error: Error) => this.lost(client, error));
    }, PING_EVERY_MS);
    this.ping.unref();
    this.options.onListening();
  }

  private lost(client: pg.Client, error?: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    clearInterval(this.ping);
    client.removeAllListeners('notification');
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    if (this.closed) return;
    this.options.logger.warn('live events: lost the LISTEN connection, reconnecting', { error: error?.message });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retry) return;
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.connect().catch(() => this.scheduleReconnect());
    }, delay);
    this.retry.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    clearInterval(this.ping);
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    }
  }
}
