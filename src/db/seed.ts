import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { Logger } from '../logger.js';

const DEMO_SQL = new URL('../../sql/seed/demo.sql', import.meta.url);

/**
 * Loads sql/seed/demo.sql into a database without cars; one with cars is left
 * alone. A plain pg client runs the file as one multi-statement script, which
 * Slonik's prepared statements cannot.
 */
export async function seedDemoData(url: string, logger: Logger): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('LOCK TABLE "Bílar" IN SHARE ROW EXCLUSIVE MODE');
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM "Bílar"');
    if (rows[0].n > 0) {
      await client.query('ROLLBACK');
      return false;
    }
    await client.query(readFileSync(DEMO_SQL, 'utf8'));
    await client.query('COMMIT');
    logger.info('demo data seeded into the embedded database');
    return true;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}
