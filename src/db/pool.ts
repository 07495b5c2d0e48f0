import { createPgDriverFactory } from '@slonik/pg-driver';
import {
  ConnectionError,
  createPool,
  createTypeParserPreset,
  type DatabasePool,
  type DriverFactory,
  type Interceptor,
  type QueryResultRow,
  SchemaValidationError,
} from 'slonik';
import type { Config } from '../config.js';
import { ApiError } from '../errors.js';
import { createLiveness, type Liveness } from './liveness.js';
import { rowCheckOf } from './row-check.js';

/**
 * Slonik checks the zod schema of `sql.type(...)` queries only through an
 * interceptor; without it a typed query is typed in name only. A row the
 * schema's compiled check passes is the value zod would return
 * (src/db/row-check.ts); any other row is zod's to parse or refuse.
 */
const resultParser: Interceptor = {
  name: 'zod-result-parser',
  transformRow: (context, query, row) => {
    const parser = context.resultParser;
    if (!parser) return row;
    if (rowCheckOf(parser)?.(row)) return row;
    const parsed = parser.safeParse(row);
    if (!parsed.success) {
      throw new SchemaValidationError(query, row, parsed.error.issues);
    }
    return parsed.data as QueryResultRow;
  },
};

/** Where PostgreSQL's `2026-11-29 14:00:00.123456+00` has its separators. */
const SEPARATORS: Array<[number, number]> = [
  [4, 45],
  [7, 45],
  [10, 32],
  [13, 58],
  [16, 58],
]; // - - ␠ : :

/**
 * Timestamps leave the database as ISO 8601 strings, the wire format of the API,
 * in milliseconds (truncated, as Date does). V8 parses PostgreSQL's form through
 * its slow legacy parser: three timestamps per car made it the largest single
 * cost of a car list. A UTC value (`YYYY-MM-DD HH:MM:SS[.ffffff]+00`, what a UTC
 * session prints) is rewritten as text by position — a regular expression's
 * match arrays were most of what this allocated; any other form (another
 * session time zone, a five-digit year, BC, infinity) still goes through Date.
 */
export function timestamptzToIso(value: string): string {
  const n = value.length;
  const utc =
    (n === 22 || (n >= 24 && n <= 29 && value.charCodeAt(19) === 46)) && // no fraction, or '.' and 1–6 digits
    value.endsWith('+00') &&
    SEPARATORS.every(([at, code]) => value.charCodeAt(at) === code);
  if (!utc) return new Date(Date.parse(value)).toISOString();
  const fraction = n === 22 ? '' : value.slice(20, n - 3);
  const ms = fraction.length >= 3 ? fraction.slice(0, 3) : fraction.padEnd(3, '0');
  return `${value.slice(0, 10)}T${value.slice(11, 19)}.${ms}Z`;
}

const typeParsers = [...createTypeParserPreset().filter((p) => p.name !== 'timestamptz'), { name: 'timestamptz', parse: timestamptzToIso }];

export type Db = DatabasePool;

/** How long past the statement timeout a query may go unanswered before its connection is presumed dead. */
const WATCHDOG_GRACE_MS = 1000;

/**
 * A database that stops answering while the TCP connection stays open
 * (frozen, or the network cut) would leave the query, its request and the
 * pooled connection waiting forever, and every later request queued behind
 * them. Two guards fail such a query as a ConnectionError (→ 503
 * database_unavailable) and destroy its connection:
 *
 * - liveness: a query still waiting after `probeAfterMs` asks whether the
 *   database answers a fresh connection (src/db/liveness.ts); if not, it fails
 *   at once, so every request learns of a frozen database within about the
 *   connect timeout. If the database answers, the query is merely slow and
 *   keeps its full statement timeout (asking again while it waits).
 * - watchdog: the statement timeout plus a grace, in case nothing else fires.
 *
 * Right after a failed probe, new connections and queries fail at once.
 */
function withFrozenDatabaseGuards(
  factory: DriverFactory,
  liveness: Liveness,
  timeouts: { probeAfterMs: number; watchdogMs: number },
): DriverFactory {
  return async (input) => {
    const driver = await factory(input);
    return {
      ...driver,
      createClient: async () => {
        if (liveness.down) throw new ConnectionError('The database is not answering');
        const client = await driver.createClient();
        let gaveUp = false;
        const giveUp = (message: string) => {
          gaveUp = true;
          void client.destroy().catch(() => undefined);
          return new ConnectionError(message);
        };
        return {
          ...client,
          query: (text, values) =>
            new Promise((resolve, reject) => {
              // Later statements on a connection given up on (e.g. the ROLLBACK after a failed
              // statement in a transaction) fail the same way, not as "Client is pending destroy".
              if (gaveUp) {
                reject(new ConnectionError('The database stopped answering on this connection'));
                return;
              }
              if (liveness.down) {
                reject(giveUp('The database stopped answering'));
                return;
              }
              let settled = false;
              const watchdog = setTimeout(() => {
                if (!settled) reject(giveUp(`The database did not answer within ${timeouts.watchdogMs} ms`));
              }, timeouts.watchdogMs);
              let check: NodeJS.Timeout;
              const askLiveness = () => {
                check = setTimeout(() => {
                  void liveness.probe().then((alive) => {
                    if (settled || gaveUp) return;
                    if (alive) askLiveness();
                    else reject(giveUp('The database stopped answering'));
                  });
                }, timeouts.probeAfterMs);
              };
              askLiveness();
              client
                .query(text, values)
                .then(resolve, reject)
                .finally(() => {
                  settled = true;
                  clearTimeout(watchdog);
                  clearTimeout(check);
                });
            }),
        };
      },
    };
  };
}

/**
 * Slonik ends a pooled connection whenever the work given to it throws (its
 * createConnection destroys the connection on any error): right for a broken
 * connection, wasteful for a transaction our code ends on purpose — a bid below
 * the minimum (409), a car that is not there (404) — which has rolled back on a
 * healthy connection. Under a hot auction that was ~10 new connections a
 * second, each a TCP connect, authentication and session set-up. Here an
 * ApiError leaves the connection as a value, after the rollback, and is thrown
 * again once the connection is back in the pool; any other error still ends it.
 */
function keepingConnectionsOnApiErrors(pool: DatabasePool): DatabasePool {
  return {
    ...pool,
    transaction: async (handler, retryLimit) => {
      const outcome = await pool.connect(async (connection) => {
        try {
          return { value: await connection.transaction(handler, retryLimit) };
        } catch (error) {
          if (error instanceof ApiError) return { error };
          throw error;
        }
      });
      if ('error' in outcome) throw outcome.error;
      return outcome.value;
    },
  };
}

export async function createDb(
  url: string,
  config: Pick<Config, 'DB_POOL_MAX' | 'DB_CONNECT_TIMEOUT_MS' | 'DB_STATEMENT_TIMEOUT_MS'>,
): Promise<Db> {
  const liveness = createLiveness(url, config.DB_CONNECT_TIMEOUT_MS);
  const pool = await createPool(url, {
    driverFactory: withFrozenDatabaseGuards(createPgDriverFactory(), liveness, {
      // Soon enough that waiting + one probe stays within the connect timeout + 1 s.
      probeAfterMs: Math.min(500, config.DB_CONNECT_TIMEOUT_MS / 2),
      watchdogMs: config.DB_STATEMENT_TIMEOUT_MS + WATCHDOG_GRACE_MS,
    }),
    // How long destroying a connection waits for its running query. Only a connection
    // given up on above is destroyed while a query runs (a graceful stop lets requests
    // finish first), and its query will never answer: free its slot for the requests
    // queued behind it at once, not after the default 5 s.
    gracefulTerminationTimeout: 100,
    interceptors: [resultParser],
    typeParsers,
    maximumPoolSize: config.DB_POOL_MAX,
    connectionTimeout: config.DB_CONNECT_TIMEOUT_MS,
    // A dead database must answer 503 quickly, not after several retries.
    connectionRetryLimit: 0,
    statementTimeout: config.DB_STATEMENT_TIMEOUT_MS,
    idleInTransactionSessionTimeout: config.DB_STATEMENT_TIMEOUT_MS,
    idleTimeout: 30_000,
    // Serialization failures inside a transaction are retried by Slonik.
    transactionRetryLimit: 5,
    captureStackTrace: false,
    // Slonik's default resets every connection with DISCARD ALL when it goes
    // back to the pool: a second round trip on every query. Nothing here
    // leaves session state behind (no SET, no temp tables, no session
    // advisory locks, no LISTEN, unnamed statements only), so skip it.
    resetConnection: async () => {},
  });
  return keepingConnectionsOnApiErrors(pool);
}
