import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'slonik';
import { z } from 'zod';
import { createDb, type Db } from '../../src/db/pool.js';
import { ApiError } from '../../src/errors.js';
import { loadConfig } from '../../src/config.js';
import { createTestDatabase } from '../helpers/app.js';

const pidRow = z.object({ pid: z.number().int() });
const backendPid = (db: Db) => db.oneFirst(sql.type(pidRow)`SELECT pg_backend_pid() AS pid`);

describe('the pool on PostgreSQL, one connection', () => {
  let db: Db;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    database = await createTestDatabase();
    await database.sql.query('CREATE TABLE pool_probe (n int)');
    db = await createDb(database.url, loadConfig({ ...process.env, NODE_ENV: 'test', DB_POOL_MAX: '1' }));
  });
  afterAll(async () => {
    await db?.end();
    await database?.drop();
  });

  it('a transaction ended by an ApiError rolls back and keeps its connection', async () => {
    const before = await backendPid(db);
    const refused = db.transaction(async (tx) => {
      await tx.query(sql.unsafe`INSERT INTO pool_probe VALUES (1)`);
      throw new ApiError(409, 'bid_too_low', 'Bid too low');
    });
    await expect(refused).rejects.toMatchObject({ status: 409, code: 'bid_too_low' });
    expect(await backendPid(db)).toBe(before);
    const { rows } = await database.sql.query('SELECT count(*)::int AS n FROM pool_probe');
    expect(rows[0].n).toBe(0);
    // and the transaction's value comes back as before
    expect(await db.transaction(async (tx) => tx.oneFirst(sql.type(pidRow)`SELECT pg_backend_pid() AS pid`))).toBe(before);
  });

  it('any other error still ends the connection (its state is unknown)', async () => {
    const before = await backendPid(db);
    await expect(
      db.transaction(async () => {
        throw new TypeError('a bug');
      }),
    ).rejects.toThrow(TypeError);
    expect(await backendPid(db)).not.toBe(before);
  });
});
