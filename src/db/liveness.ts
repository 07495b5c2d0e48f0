import pg from 'pg';

/**
 * Is the database still answering? Asked when a query has waited a while.
 *
 * A database that stops answering without closing its connections (frozen,
 * a network partition) leaves queries waiting until the statement timeout,
 * and a slow query looks the same from inside its connection. A fresh
 * connection tells them apart: a live server answers `SELECT 1` within the
 * connect timeout however busy it is; a frozen one does not. One probe at a
 * time per pool, shared by every query that asks.
 *
 * For `downForMs` after a failed probe the database counts as down (`down`):
 * queries and new connections fail at once instead of each waiting out a
 * timeout of its own (requests queued for a connection above all). After
 * that, connections are tried again as usual; no timer keeps probing.
 */
export type Liveness = {
  /** true when the database answered a fresh connection within the connect timeout. */
  probe(): Promise<boolean>;
  readonly down: boolean;
};

async function answers(url: string, timeoutMs: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([
      client
        .connect()
        .then(() => client.query('SELECT 1'))
        .then(() => true),
      deadline,
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    void client.end().catch(() => undefined);
  }
}

/**
 * A probe that succeeded counts for `aliveForMs`: queries waiting on a row lock
 * (a hot car's bids) ask every half second, and a fresh connection for each
 * question would load the database they wait on. The answer can be that much
 * late for a database that froze just after, still within the 1 s budget.
 */
export function createLiveness(url: string, connectTimeoutMs: number, downForMs = 1000, aliveForMs = 250): Liveness {
  let inFlight: Promise<boolean> | undefined;
  let failedAt = -Infinity;
  let answeredAt = -Infinity;

  const probe = (): Promise<boolean> => {
    if (performance.now() - answeredAt < aliveForMs) return Promise.resolve(true);
    return (inFlight ??= answers(url, connectTimeoutMs)
      .then((alive) => {
        if (alive) answeredAt = performance.now();
        else failedAt = performance.now();
        return alive;
      })
      .finally(() => {
        inFlight = undefined;
      }));
  };

  return {
    probe,
    get down() {
      return performance.now() - failedAt < downForMs;
    },
  };
}
