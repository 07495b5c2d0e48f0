import type { Writable } from 'node:stream';
import type { Config } from '../config.js';
import type { Db } from '../db/pool.js';
import type { Logger } from '../logger.js';
import { eventFrame } from './frames.js';
import { Listener } from './listener.js';
import { eventsAfter, latestEventId } from './queries.js';
import { SseStream } from './stream.js';

type HubSettings = Pick<
  Config,
  | 'SSE_HEARTBEAT_SECONDS'
  | 'SSE_MAX_CONNECTIONS'
  | 'SSE_MAX_CONNECTIONS_PER_IP'
  | 'SSE_SLOW_CLIENT_BYTES'
  | 'SSE_SLOW_CLIENT_SECONDS'
  | 'DB_CONNECT_TIMEOUT_MS'
>;

export type EventHubOptions = { url: string; db: Db; config: HubSettings; logger: Logger };

const PAGE = 500;
/** A safety net while streams are open, should a notification ever go missing. */
const IDLE_POLL_MS = 5000;

/**
 * One per instance: the one LISTEN connection, a cursor over car_events, and every open
 * stream of this instance. A NOTIFY (or a reconnect) makes the hub read the rows after its
 * cursor, once, and hand each to the streams that want it (its car's, and every-car ones),
 * formatted once. Event ids rise in commit order (migration 008), so reading `id > cursor`
 * never skips a row, and a client's `Last-Event-ID` is a cursor of the same kind.
 *
 * After a database outage the listener reconnects and the hub reads from its cursor: the
 * streams, kept open by their heartbeats meanwhile, get exactly the events they missed.
 */
/** A stream the hub admitted: `attach` hands it the sink (the response) to write to. */
export type OpenedStream = { attach: (sink: Writable) => void };

/** Why the hub would not open a stream: the instance stops, or holds its limit, or the client holds theirs. */
export class StreamRefused extends Error {
  constructor(
    readonly reason: 'shutting_down' | 'instance_full' | 'client_full',
    readonly limit = 0,
  ) {
    super(`live stream refused: ${reason}`);
    this.name = 'StreamRefused';
  }
}

export class EventHub {
  private readonly streams = new Set<SseStream>();
  private readonly byCar = new Map<string, Set<SseStream>>();
  private readonly everyCar = new Set<SseStream>();
  private readonly perIp = new Map<string, number>();
  private reserved = 0;
  /** Every event up to here has been handed out. */
  private cursor = 0;
  private readonly listener: Listener;
  private started: Promise<void> | undefined;
  private polling = false;
  private again = false;
  private retry: NodeJS.Timeout | undefined;
  private failures = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private closing = false;

  constructor(private readonly options: EventHubOptions) {
    this.listener = new Listener({
      url: options.url,
      connectTimeoutMs: options.config.DB_CONNECT_TIMEOUT_MS,
      logger: options.logger,
      onNotify: () => this.wake(),
      onListening: () => this.wake(),
    });
  }

  get size(): number {
    return this.streams.size;
  }

  get position(): number {
    return this.cursor;
  }

  /** Events handed to streams so far (one per event per stream), for the metrics. */
  delivered = 0;

  /**
   * Opens a stream: admits it (limits), registers it so it collects live rows from now on,
   * runs `first` (the snapshot or replay, which decides `lastId`) and hands back what writes
   * it to a sink. Anything thrown (404, database down) releases the place again; a stream
   * the limits do not admit throws `StreamRefused`.
   */
  async open(carId: string | null, ip: string, first: (stream: SseStream) => Promise<string>): Promise<OpenedStream> {
    this.admit(ip);
    let stream: SseStream | undefined;
    try {
      await this.start();
      stream = new SseStream(
        carId,
        ip,
        { slowClientBytes: this.options.config.SSE_SLOW_CLIENT_BYTES, slowClientMs: this.options.config.SSE_SLOW_CLIENT_SECONDS * 1000 },
        (s) => this.remove(s),
      );
      this.add(stream);
      const head = await first(stream);
      const opened = stream;
      return { attach: (sink) => opened.attach(sink, head) };
    } catch (error) {
      if (stream) this.remove(stream);
      else this.release(ip);
      throw error;
    }
  }

  private admit(ip: string): void {
    if (this.closing) throw new StreamRefused('shutting_down');
    const { SSE_MAX_CONNECTIONS, SSE_MAX_CONNECTIONS_PER_IP } = this.options.config;
    if (this.reserved >= SSE_MAX_CONNECTIONS) throw new StreamRefused('instance_full', SSE_MAX_CONNECTIONS);
    const mine = this.perIp.get(ip) ?? 0;
    if (mine >= SSE_MAX_CONNECTIONS_PER_IP) throw new StreamRefused('client_full', SSE_MAX_CONNECTIONS_PER_IP);
    this.reserved += 1;
    this.perIp.set(ip, mine + 1);
  }

  private release(ip: string): void {
    this.reserved -= 1;
    const left = (this.perIp.get(ip) ?? 1) - 1;
    if (left > 0) this.perIp.set(ip, left);
    else this.perIp.delete(ip);
  }

  private add(stream: SseStream): void {
    this.streams.add(stream);
    if (stream.carId === null) this.everyCar.add(stream);
    else {
      let set = this.byCar.get(stream.carId);
      if (!set) this.byCar.set(stream.carId, (set = new Set()));
      set.add(stream);
    }
  }

  private remove(stream: SseStream): void {
    if (!this.streams.delete(stream)) return;
    this.release(stream.ip);
    if (stream.carId === null) this.everyCar.delete(stream);
    else {
      const set = this.byCar.get(stream.carId);
      set?.delete(stream);
      if (set?.size === 0) this.byCar.delete(stream.carId);
    }
  }

  /** Started by the first stream: an instance nobody watches holds no LISTEN connection. */
  start(): Promise<void> {
    this.started ??= (async () => {
      this.cursor = await latestEventId(this.options.db);
      await this.listener.start();
      const { SSE_HEARTBEAT_SECONDS } = this.options.config;
      this.timers.push(setInterval(() => this.beat(), SSE_HEARTBEAT_SECONDS * 1000));
      this.timers.push(setInterval(() => this.streams.size > 0 && this.wake(), IDLE_POLL_MS));
      for (const t of this.timers) t.unref();
    })().catch((error) => {
      this.started = undefined;
      throw error;
    });
    return this.started;
  }

  private beat(): void {
    const now = Date.now();
    for (const stream of [...this.streams]) stream.beat(now);
  }

  /** Read what is new; a read already running reads again when it is done. */
  wake(): void {
    if (this.closing) return;
    if (this.polling) {
      this.again = true;
      return;
    }
    this.polling = true;
    void this.poll();
  }

  private async poll(): Promise<void> {
    let retryIn: number | undefined;
    try {
      do {
        this.again = false;
        await this.readPages();
      } while (this.again && !this.closing);
      this.failures = 0;
    } catch (error) {
      // The database is away: the listener's reconnect wakes us, but keep trying too.
      this.failures += 1;
      retryIn = Math.min(5000, 100 * 2 ** Math.min(this.failures, 6));
      if (this.failures === 1) this.options.logger.warn('live events: reading car_events failed', { error: (error as Error).message });
    } finally {
      this.polling = false;
    }
    if (retryIn !== undefined && !this.closing && !this.retry) {
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.wake();
      }, retryIn);
      this.retry.unref();
    }
  }

  /** Reads and hands out every page after the cursor. */
  private async readPages(): Promise<void> {
    for (;;) {
      const rows = await eventsAfter(this.options.db, this.cursor, PAGE);
      for (const row of rows) {
        const text = eventFrame(row);
        const forCar = this.byCar.get(row.car_id);
        if (forCar) for (const stream of forCar) stream.offer(row, text);
        for (const stream of this.everyCar) stream.offer(row, text);
        this.delivered += (forCar?.size ?? 0) + this.everyCar.size;
        this.cursor = row.id;
      }
      if (rows.length < PAGE) return;
    }
  }

  /** The instance is stopping: every stream ends cleanly (browsers reconnect elsewhere). */
  async close(): Promise<void> {
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.retry);
    for (const stream of [...this.streams]) stream.end();
    await this.listener.close();
  }
}
