import { sql } from 'slonik';
import { z } from 'zod';
import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';
import type { Db } from '../db/pool.js';
import { noRows } from '../db/no-rows.js';

const counter = z.object({ hits: z.number().int(), reset_at: z.string() });

/**
 * express-rate-limit counters in PostgreSQL, so every instance counts the
 * same hits. Written here rather than taken from @acpr/rate-limit-postgresql:
 * that store migrates its own schema from its constructor without awaiting
 * or handling errors, so a database restart during start-up crashed the
 * process; this one uses the app's pool (fast-failing, 503 on outage) and a
 * migration of ours. One atomic upsert per hit: a fixed window per key that
 * starts over once reset_at has passed.
 */
export class PostgresRateLimitStore implements Store {
  private windowMs = 60_000;
  readonly localKeys = false;

  constructor(
    private readonly db: Db,
    readonly prefix: string,
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const row = await this.db.one(sql.type(counter)`
      INSERT INTO rate_limit_hits (key, hits, reset_at)
      VALUES (${this.prefix + key}, 1, now() + make_interval(secs => ${this.windowMs / 1000}))
      ON CONFLICT (key) DO UPDATE SET
        hits = CASE WHEN rate_limit_hits.reset_at <= now() THEN 1 ELSE rate_limit_hits.hits + 1 END,
        reset_at = CASE WHEN rate_limit_hits.reset_at <= now() THEN excluded.reset_at ELSE rate_limit_hits.reset_at END
      RETURNING hits, reset_at`);
    return { totalHits: row.hits, resetTime: new Date(row.reset_at) };
  }

  async decrement(key: string): Promise<void> {
    await this.db.query(sql.type(noRows)`
      UPDATE rate_limit_hits SET hits = greatest(hits - 1, 0) WHERE key = ${this.prefix + key}`);
  }

  async resetKey(key: string): Promise<void> {
    await this.db.query(sql.type(noRows)`DELETE FROM rate_limit_hits WHERE key = ${this.prefix + key}`);
  }
}
