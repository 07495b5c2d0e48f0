import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export type Child = {
  name: string;
  pid: number;
  port: number;
  url: string;
  logFile: string;
  /** the largest VmRSS seen by sample() since the last resetPeak(), in bytes */
  peakRss: () => number;
  resetPeak: () => void;
  /** the largest VmRSS since resetWindowPeak(), in bytes */
  windowPeak: () => number;
  resetWindowPeak: () => void;
  sample: () => void;
  /** VmHWM: the kernel's peak RSS of the process since it started, in bytes */
  hwm: () => number;
  /** CPU time used so far (user + system, all threads), ms */
  cpuMs: () => number;
  stop: () => Promise<number | null>;
  /** from spawn to the first /health 200, ms */
  readyMs: number;
  /** VmRSS once the process has settled after start, bytes */
  rssAfterStart: number;
};

function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ, 100 on Linux

/** NaN when it cannot be read: a missing figure must not pass for zero. */
function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the parenthesised command name; utime and stime are fields 14 and 15
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
    return ms > 0 ? ms : NaN;
  } catch {
    return NaN;
  }
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts `node <args>` in `cwd` (one process, no npm or tsx wrapper, so the
 * pid is the server's own and its RSS is what we sample), stdout and stderr
 * into a log file, and waits until GET /health answers 200 (polled every
 * 10 ms: the time to ready is one of the figures).
 */
export async function startChild(options: {
  name: string;
  cwd: string;
  args: string[];
  env: Record<string, string>;
  logDir: string;
  timeoutMs?: number;
}): Promise<Child> {
  const port = await freePort();
  const logFile = path.join(options.logDir, `${options.name}.log`);
  const fd = openSync(logFile, 'w');
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env, PORT: String(port), HOST: '127.0.0.1' };
  const spawnedAt = performance.now();
  const child: ChildProcess = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let exited: number | null | undefined;
  const exitPromise = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = code ?? (signal ? 128 : null);
      resolve(exited);
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  for (;;) {
    if (exited !== undefined) {
      throw new Error(`${options.name} exited (${exited}) before it was ready:\n${tail(logFile)}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.name} was not ready within ${options.timeoutMs ?? 90_000} ms:\n${tail(logFile)}`);
    }
    try {
      const res = await fetch(`${url}/health`);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const readyMs = Math.round(performance.now() - spawnedAt);
  const pid = child.pid!;
  // What it holds once start-up garbage has been collected and nothing is asked of it.
  await new Promise((r) => setTimeout(r, 1000));
  const rssAfterStart = procStatus(pid, 'VmRSS');
  let peak = 0;
  let window = 0;
  return {
    name: options.name,
    pid,
    port,
    url,
    logFile,
    readyMs,
    rssAfterStart,
    peakRss: () => peak,
    resetPeak: () => {
      peak = 0;
    },
    windowPeak: () => window,
    resetWindowPeak: () => {
      window = 0;
    },
    sample: () => {
      const rss = procStatus(pid, 'VmRSS');
      peak = Math.max(peak, rss);
      window = Math.max(window, rss);
    },
    hwm: () => procStatus(pid, 'VmHWM'),
    cpuMs: () => cpuMsOf(pid),
    stop: async () => {
      if (exited !== undefined) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exitPromise;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Samples the RSS of the children every `everyMs` while `fn` runs. */
export async function sampling<T>(children: Child[], fn: () => Promise<T>, everyMs = 200): Promise<T> {
  const timer = setInterval(() => children.forEach((c) => c.sample()), everyMs);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
    children.forEach((c) => c.sample());
  }
}
