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

/**
 * Slonik checks the zod schema of `sql.type(...)` queries only through an
 * interceptor; without it a typed query is typed in name only.
 */
const resultParser: Interceptor = {
  name: 'zod-result-parser',
  transformRow: (context, query, row, fields) => {
    const parser = context.resultParser;
    if (!parser) return row;
    const parsed = parser.safeParse(row);
    if (!parsed.success) {
      throw new SchemaValidationError(query, row, parsed.error.issues);
    }
    return parsed.data as QueryResultRow;
  },
};

/** Timestamps leave the database as ISO 8601 strings, the wire format of the API. */
const typeParsers = [
  ...createTypeParserPreset().filter((p) => p.name !== 'timestamptz'),
  { name: 'timestamptz', parse: (value: string) => new Date(Date.parse(value)).toISOString() },
];

export type Db = DatabasePool;

/** How long past the statement timeout a query may go unanswered before its connection is presumed dead. */
const WATCHDOG_GRACE_MS = 1000;

/**
 * statement_timeout is enforced by the server. A server that stops answering
 * while the TCP connection stays open (frozen, or the network cut) would
 * leave the query, its request and the pooled connection waiting forever,
 * and every later request queued behind them. The watchdog fails such a
 * query as a ConnectionError (→ 503 database_unavailable) and destroys the
 * connection, so the pool opens a fresh one when the database is back.
 */
function withQueryWatchdog(factory: DriverFactory, timeoutMs: number): DriverFactory {
  return async (input) => {
    const driver = await factory(input);
    return {
      ...driver,
      createClient: async () => {
        const client = await driver.createClient();
        let gaveUp = false;
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
              const timer = setTimeout(() => {
                gaveUp = true;
                reject(new ConnectionError(`The database did not answer within ${timeoutMs} ms`));
                void client.destroy().catch(() => undefined);
              }, timeoutMs);
              client.query(text, values).then(resolve, reject).finally(() => clearTimeout(timer));
            }),
        };
      },
    };
  };
}

export function createDb(url: string, config: Pick<Config, 'DB_POOL_MAX' | 'DB_CONNECT_TIMEOUT_MS' | 'DB_STATEMENT_TIMEOUT_MS'>): Promise<Db> {
  return createPool(url, {
    driverFactory: withQueryWatchdog(createPgDriverFactory(), config.DB_STATEMENT_TIMEOUT_MS + WATCHDOG_GRACE_MS),
    // A connection the watchdog gave up on is closed after this long, not the default 5 s.
    gracefulTerminationTimeout: WATCHDOG_GRACE_MS,
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
}
