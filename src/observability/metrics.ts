import client from 'prom-client';
import { sql } from 'slonik';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import type { EventHub } from '../events/hub.js';

/**
 * The instance's Prometheus metrics (GET /metrics). Per request only two
 * things happen: a plain counter moves (requests in flight) and one histogram
 * child, looked up once per operation/method/status, observes the duration.
 * Everything else (pool, streams, outbox, overdue auctions, job queue) is read
 * when Prometheus scrapes, so traffic pays nothing for it.
 */

/** Requests answered before routing (no such path, a malformed body, the global rate limit). */
export const UNMATCHED = 'unmatched';

/** Upper bounds in seconds: a point read is ~1 ms, a cold list tens of ms, an outside call up to its timeout. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** How long one scrape's database read is reused: the gauges of one scrape come from one query. */
const SNAPSHOT_MS = 1000;

const snapshotRow = z.object({
  outbox_pending: z.number(),
  outbox_oldest_pending_seconds: z.number(),
  outbox_retrying: z.number(),
  outbox_failed: z.number(),
  auctions_overdue: z.number(),
  jobs: z.record(z.number()),
  retention: z.record(z.number()),
});
type Snapshot = z.infer<typeof snapshotRow>;

export type MetricsSources = { db: Db; events?: EventHub };

export type Metrics = {
  readonly registry: client.Registry;
  /** A request has arrived. */
  started(): void;
  /** A request has ended (answered, or its client hung up). */
  finished(operation: string | undefined, method: string, status: number, seconds: number): void;
  /** The exposition text (text/plain; version=0.0.4). */
  render(): Promise<string>;
  readonly contentType: string;
};

export function createMetrics({ db, events }: MetricsSources): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });

  const duration = new client.Histogram({
    name: 'kaggi_http_request_duration_seconds',
    help: 'Time from a request arriving to its answer (or to its client hanging up), by operationId.',
    labelNames: ['operation', 'method', 'status'] as const,
    buckets: BUCKETS,
    registers: [registry],
  });
  // A child per label set, found by one string key: prom-client's own lookup
  // hashes a label object (sorting its keys) on every observation.
  const children = new Map<string, client.Histogram.Internal<'operation' | 'method' | 'status'>>();

  let inFlight = 0;
  new client.Gauge({
    name: 'kaggi_http_requests_in_flight',
    help: 'Requests that have arrived and are not yet answered (open live streams included).',
    registers: [registry],
    collect() {
      this.set(inFlight);
    },
  });

  const pool = (name: string, help: string, read: (s: ReturnType<Db['state']>) => number) =>
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read(db.state()));
      },
    });
  pool(
    'kaggi_db_pool_connections',
    'Open connections of the database pool (in use, idle and being opened).',
    (s) => s.acquiredConnections + s.idleConnections + s.pendingConnections,
  );
  pool('kaggi_db_pool_idle_connections', 'Open connections of the database pool that nothing uses.', (s) => s.idleConnections);
  pool('kaggi_db_pool_waiting_clients', 'Queries waiting for a connection of the database pool.', (s) => s.waitingClients);

  new client.Gauge({
    name: 'kaggi_live_streams_open',
    help: 'Open live-event streams (Server-Sent Events) of this instance.',
    registers: [registry],
    collect() {
      this.set(events?.size ?? 0);
    },
  });
  new client.Counter({
    name: 'kaggi_live_events_delivered_total',
    help: 'Events handed to open live streams by this instance (one per event per stream).',
    registers: [registry],
    collect() {
      // The hub counts with a plain number; the counter only mirrors it.
      this.reset();
      const delivered = events?.delivered ?? 0;
      if (delivered > 0) this.inc(delivered);
    },
  });

  let snapshot: { at: number; value: Promise<Snapshot | null> } | undefined;
  const read = (): Promise<Snapshot | null> => {
    const now = performance.now();
    if (!snapshot || now - snapshot.at > SNAPSHOT_MS) snapshot = { at: now, value: readSnapshot(db) };
    return snapshot.value;
  };
  const fromDatabase = (name: string, help: string, pick: (s: Snapshot) => number) =>
    new client.Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const s = await read();
        // A database that does not answer leaves the gauge out rather than failing the scrape.
        if (s) this.set(pick(s));
        else this.reset();
      },
    });
  fromDatabase('kaggi_email_outbox_pending', 'E-mails in the outbox waiting to be sent (retries included).', (s) => s.outbox_pending);
  fromDatabase(
    'kaggi_email_outbox_oldest_pending_seconds',
    'Age of the oldest e-mail waiting in the outbox (0 when none).',
    (s) => s.outbox_oldest_pending_seconds,
  );
  fromDatabase(
    'kaggi_email_outbox_retrying',
    'E-mails in the outbox that failed at least once and wait for a retry.',
    (s) => s.outbox_retrying,
  );
  fromDatabase('kaggi_email_outbox_failed', 'E-mails the outbox gave up on (refused by Brevo or out of attempts).', (s) => s.outbox_failed);
  fromDatabase('kaggi_auctions_overdue', 'Auctions still active past their end: the closing job is behind.', (s) => s.auctions_overdue);
  new client.Counter({
    name: 'kaggi_retention_erased_total',
    help: 'Rows (logs) and cars (their personal data) the retention job has erased, by category, over all instances.',
    labelNames: ['category'] as const,
    registers: [registry],
    async collect() {
      // The totals live in retention_totals (every instance's sweeps); the counter mirrors them.
      const s = await read();
      this.reset();
      if (s) for (const [category, n] of Object.entries(s.retention)) this.inc({ category }, n);
    },
  });
  new client.Gauge({
    name: 'kaggi_job_queue_depth',
    help: 'Jobs waiting in the job queue (pg-boss: created or retry), by queue.',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      const s = await read();
      this.reset();
      if (s) for (const [queue, n] of Object.entries(s.jobs)) this.set({ queue }, n);
    },
  });

  return {
    registry,
    contentType: registry.contentType,
    started() {
      inFlight += 1;
    },
    finished(operation, method, status, seconds) {
      inFlight -= 1;
      const op = operation ?? UNMATCHED;
      const key = `${op} ${method} ${status}`;
      let child = children.get(key);
      if (!child) {
        child = duration.labels(op, method, String(status));
        children.set(key, child);
      }
      child.observe(seconds);
    },
    render: () => registry.metrics(),
  };
}

/** One round trip for every gauge that needs SQL; each part is an index or a small table. */
async function readSnapshot(db: Db): Promise<Snapshot | null> {
  try {
    return await db.one(sql.type(snapshotRow)`
      SELECT
        (SELECT count(*)::int FROM email_outbox WHERE status = 'pending') AS outbox_pending,
        (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 FROM email_outbox WHERE status = 'pending')
          AS outbox_oldest_pending_seconds,
        (SELECT count(*)::int FROM email_outbox WHERE status = 'pending' AND attempts > 0) AS outbox_retrying,
        (SELECT count(*)::int FROM email_outbox WHERE status = 'failed') AS outbox_failed,
        (SELECT count(*)::int FROM "Bílar" WHERE status = 'active' AND auction_ends_at < now()) AS auctions_overdue,
        (SELECT coalesce(jsonb_object_agg(name, n), '{}'::jsonb) FROM (
           SELECT name, count(*)::int AS n FROM pgboss.job WHERE state IN ('created', 'retry') GROUP BY name) AS j) AS jobs,
        (SELECT coalesce(jsonb_object_agg(category, total), '{}'::jsonb) FROM retention_totals) AS retention`);
  } catch {
    return null;
  }
}
