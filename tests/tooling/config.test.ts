import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createTestDatabase } from '../helpers/app.js';
import { startServerProcess } from '../trust/server-process.js';

/** Issue 25: insecure defaults refused at start-up (src/config.ts). */

const problems = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
};

const KEY_31 = 'k'.repeat(31);
const KEY_32 = 'k'.repeat(32);

describe('configuration', () => {
  it('in production, an unset AUTH_MODE stops the start with what to set', () => {
    expect(problems({ NODE_ENV: 'production' })).toEqual(['AUTH_MODE: set AUTH_MODE=jwt, or AUTH_MODE=off to run open on purpose']);
    // an empty value in a .env file is unset too
    expect(problems({ NODE_ENV: 'production', AUTH_MODE: '' })).toEqual([
      'AUTH_MODE: set AUTH_MODE=jwt, or AUTH_MODE=off to run open on purpose',
    ]);
  });

  it('in production, an explicit AUTH_MODE is taken as given', () => {
    expect(loadConfig({ NODE_ENV: 'production', AUTH_MODE: 'off' }).AUTH_MODE).toBe('off');
    expect(loadConfig({ NODE_ENV: 'production', AUTH_MODE: 'jwt', SUPABASE_JWT_SECRET: KEY_32 }).AUTH_MODE).toBe('jwt');
  });

  it('outside production, an unset AUTH_MODE is off', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).AUTH_MODE).toBe('off');
    expect(loadConfig({ NODE_ENV: 'test' }).AUTH_MODE).toBe('off');
  });

  it.each(['ADMIN_API_KEY', 'SUPABASE_JWT_SECRET', 'SELLER_TOKEN_SECRET'])('%s must have at least 32 characters when set', (name) => {
    expect(problems({ NODE_ENV: 'test', [name]: KEY_31 })).toEqual([`${name}: at least 32 characters`]);
    expect(problems({ NODE_ENV: 'test', [name]: KEY_32 })).toEqual([]);
    expect(problems({ NODE_ENV: 'test' })).toEqual([]);
  });

  it('trusts no proxy unless TRUST_PROXY_HOPS says how many there are', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).TRUST_PROXY_HOPS).toBe(0);
    expect(loadConfig({ NODE_ENV: 'test', TRUST_PROXY_HOPS: '1' }).TRUST_PROXY_HOPS).toBe(1);
  });
});

describe('starting in production', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database?.drop());

  it('without AUTH_MODE: exits 1 naming the choice, and never listens', async () => {
    const start = startServerProcess('no auth mode', database.url, { NODE_ENV: 'production' });
    const error = await start.then(
      async (server) => {
        await server.kill();
        return undefined;
      },
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/exited \(1\) before listening/);
    expect(error?.message).toContain('set AUTH_MODE=jwt, or AUTH_MODE=off to run open on purpose');
  }, 60_000);

  it('with AUTH_MODE=off: starts open and warns', async () => {
    const server = await startServerProcess('open on purpose', database.url, {
      NODE_ENV: 'production',
      AUTH_MODE: 'off',
      AUCTION_WORKER_ENABLED: 'false',
    });
    try {
      expect(server.logs.some((line) => line.includes('AUTH_MODE=off in production'))).toBe(true);
    } finally {
      await server.stop();
    }
  }, 60_000);
});
