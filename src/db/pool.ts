import { createPool, createTypeParserPreset, type DatabasePool, type Interceptor, type QueryResultRow, SchemaValidationError } from 'slonik';
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

export function createDb(url: string, config: Pick<Config, 'DB_POOL_MAX' | 'DB_CONNECT_TIMEOUT_MS' | 'DB_STATEMENT_TIMEOUT_MS'>): Promise<Db> {
  return createPool(url, {
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
  });
}
