import type { TestApp } from '../helpers/app.js';
import { startAuctionWorker, type AuctionWorker } from '../../src/auctions/worker.js';
import { loadConfig } from '../../src/config.js';
import { createDb, type Db } from '../../src/db/pool.js';
import { createServices } from '../../src/integrations/index.js';
import { createLogger } from '../../src/logger.js';

/**
 * The auction clock is PostgreSQL's: tests move a car's closing time in the
 * database instead of waiting for it.
 */
export async function setEndsIn(app: Pick<TestApp, 'sql'>, carId: string, seconds: number): Promise<void> {
  await app.sql.query(`UPDATE "Bílar" SET auction_ends_at = now() + make_interval(secs => $2) WHERE id = $1`, [carId, seconds]);
}

export async function endsAt(app: Pick<TestApp, 'sql'>, carId: string): Promise<Date | null> {
  const { rows } = await app.sql.query('SELECT auction_ends_at FROM "Bílar" WHERE id = $1', [carId]);
  return rows[0].auction_ends_at;
}

export function bid(app: TestApp, carId: string, amount: number, dealer: string, max?: number | null) {
  return app.request('POST', '/api/bids/create', {
    body: {
      car_id: carId,
      dealer_name: dealer.split('@')[0],
      dealer_email: dealer,
      bid_amount: amount,
      ...(max === undefined ? {} : { max_amount: max }),
    },
  });
}

export type OutboxRow = {
  id: string;
  kind: string;
  to_email: string;
  to_name: string | null;
  params: Record<string, unknown>;
  status: string;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  message_id: string | null;
};

export async function outbox(app: Pick<TestApp, 'sql'>, carId?: string): Promise<OutboxRow[]> {
  const { rows } = carId
    ? await app.sql.query('SELECT * FROM email_outbox WHERE car_id = $1 ORDER BY created_at, id', [carId])
    : await app.sql.query('SELECT * FROM email_outbox ORDER BY created_at, id');
  return rows;
}

/** Polls `check` until it holds (for background workers), failing after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, ms = 20_000, what = 'condition'): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Auction workers as separate instances would run them on `app`'s database:
 * each its own config, pool, services and pg-boss. `stop()` stops them all.
 */
export async function startWorkerInstances(
  app: Pick<TestApp, 'config'>,
  count: number,
  env: Record<string, string>,
): Promise<{ workers: AuctionWorker[]; stop: () => Promise<void> }> {
  const workers: AuctionWorker[] = [];
  const pools: Db[] = [];
  const stop = async () => {
    for (const w of workers) await w.stop();
    for (const p of pools) await p.end();
  };
  try {
    for (let i = 0; i < count; i += 1) {
      const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: app.config.DATABASE_URL!, ...env });
      const logger = createLogger(config);
      const db = await createDb(config.DATABASE_URL!, config);
      pools.push(db);
      workers.push(
        await startAuctionWorker({ config, db, databaseUrl: config.DATABASE_URL!, logger, brevo: createServices(config, logger).brevo }),
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { workers, stop };
}
