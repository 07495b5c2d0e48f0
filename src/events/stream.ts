import type { Writable } from 'node:stream';
import type { EventRow } from './frames.js';

export type StreamLimits = { slowClientBytes: number; slowClientMs: number };

/**
 * One open text/event-stream, written to a sink the HTTP layer hands in (the response, its
 * headers already set). Until the handler's first read (snapshot or replay)
 * is done the stream collects what the hub hands it, then writes that read, then the
 * collected rows it did not cover, then live rows as they come — each id once, in order.
 */
export class SseStream {
  /** The last id this client has (written, or covered by the snapshot / replay). */
  lastId = 0;
  private res: Writable | undefined;
  private pending: { row: EventRow; text: string }[] | undefined = [];
  private blockedSince = 0;
  private ended = false;

  constructor(
    /** null: the stream of every car. */
    readonly carId: string | null,
    readonly ip: string,
    private readonly limits: StreamLimits,
    private readonly onGone: (stream: SseStream) => void,
  ) {}

  /** Takes the sink over: the first read (`head`), then what arrived meanwhile. */
  attach(res: Writable, head: string): void {
    this.res = res;
    res.on('close', () => this.gone());
    res.on('drain', () => {
      this.blockedSince = 0;
    });
    if (res.destroyed || this.ended) {
      this.gone();
      return;
    }
    this.write(head);
    const waiting = this.pending ?? [];
    this.pending = undefined;
    for (const { row, text } of waiting) this.offer(row, text);
  }

  /** A row the hub hands out (already the right car, or any car for the global stream). */
  offer(row: EventRow, text: string): void {
    if (this.pending) {
      this.pending.push({ row, text });
      return;
    }
    if (row.id <= this.lastId) return;
    this.lastId = row.id;
    this.write(text);
  }

  write(text: string): void {
    const res = this.res;
    if (!res || this.ended || res.destroyed) return;
    if (!res.write(text) && this.blockedSince === 0) this.blockedSince = Date.now();
    // A client that stopped reading: drop it rather than buffer without end.
    if (res.writableLength > this.limits.slowClientBytes) this.drop();
  }

  /** The hub's periodic beat: a comment line, unless the client has not read for too long. */
  beat(now: number): void {
    if (this.blockedSince !== 0 && now - this.blockedSince > this.limits.slowClientMs) {
      this.drop();
      return;
    }
    this.write(':\n\n');
  }

  /** A graceful end (the instance is stopping): the browser reconnects, to another instance. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.res?.end();
    this.gone();
  }

  private drop(): void {
    this.ended = true;
    this.res?.destroy();
    this.gone();
  }

  private gone(): void {
    this.ended = true;
    this.pending = undefined;
    this.onGone(this);
  }
}
