import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request, type ApiResponse, type RequestOptions } from '../helpers/app.js';
import { freePort } from './embedded-db.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export type ServerProcess = {
  name: string;
  url: string;
  child: ChildProcess;
  /** stdout lines (JSON logs) and `[stderr] …` chunks. */
  logs: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  request: <T = any>(method: string, p: string, options?: RequestOptions) => Promise<ApiResponse<T>>;
  /** SIGTERM, then the exit (or a rejection after `ms`). */
  stop: (ms?: number) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL when still running (clean-up after a failed test). */
  kill: () => Promise<void>;
};

/**
 * `node --import tsx src/server.ts` as a child process, on `databaseUrl`,
 * resolved once it logs `Kaggi API listening`. Only the variables given here
 * reach it: nothing leaks in from the test runner's environment.
 */
export async function startServerProcess(
  name: string,
  databaseUrl: string,
  env: Record<string, string> = {},
  options: { nodeArgs?: string[] } = {},
): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      // the tests stand in for the load balancer in front of the server
      TRUST_PROXY_HOPS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      // A server that never came up must not outlive the test run.
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within 60 s:\n${logs.join('\n')}`));
    }, 60_000);
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        logs.push(line);
        if (line.includes('Kaggi API listening')) {
          clearTimeout(timer);
          resolve();
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => logs.push(`[stderr] ${chunk.toString('utf8').trimEnd()}`));
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before listening:\n${logs.join('\n')}`));
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    url,
    child,
    logs,
    exited,
    request: (method, p, options) => request(url, method, p, options),
    stop: (ms = 30_000) => {
      if (running()) child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      return Promise.race([
        exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${name} did not exit within ${ms} ms`)), ms);
        }),
      ]).finally(() => clearTimeout(timer));
    },
    kill: async () => {
      if (running()) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/**
 * Several servers started at the same moment, as a deployment starts them. If
 * any fails to start, the others are killed before the error is thrown: a
 * failed start-up never leaves a server running after the test run.
 */
export async function startServerProcesses(
  specs: { name: string; databaseUrl: string; env?: Record<string, string> }[],
): Promise<ServerProcess[]> {
  const starts = await Promise.allSettled(specs.map((s) => startServerProcess(s.name, s.databaseUrl, s.env)));
  const failed = starts.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed.length === 0) return starts.map((s) => (s as PromiseFulfilledResult<ServerProcess>).value);
  await Promise.all(starts.filter((s) => s.status === 'fulfilled').map((s) => s.value.kill()));
  throw new Error(failed.map((f) => (f.reason instanceof Error ? f.reason.message : String(f.reason))).join('\n\n'));
}
