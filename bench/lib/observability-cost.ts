import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Db } from '../../src/db/pool.js';
import { accessLine, createLineDestination, type AccessRecord } from '../../src/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';

/**
 * What observability costs one request, measured in this process without a
 * server (the server-level access-log pair is too noisy on a shared machine to
 * resolve a few microseconds): CPU time per request of
 * - metrics: requests-in-flight up and down, one histogram observation
 *   (operation × method × status, as the access middleware records it);
 * - the access line as it was (JSON.stringify of the record, one write
 *   system call per line, as Node writes to a pipe) and as it is (built by
 *   hand, into the buffered destination).
 */

export const TARGET_METRICS_CPU_US = 10;

const OPERATIONS = ['getCar', 'listCars', 'listBidsForCar', 'createBid', 'getDashboard', 'listFavorites'];
const STATUSES = [200, 200, 200, 404, 409, 201];

function cpuMicrosPerCall(n: number, body: (i: number) => void): number {
  for (let i = 0; i < Math.min(n, 20_000); i += 1) body(i); // warm-up: compiled, children created
  const start = process.cpuUsage();
  for (let i = 0; i < n; i += 1) body(i);
  const used = process.cpuUsage(start);
  return Math.round(((used.user + used.system) / n) * 1000) / 1000;
}

const record = (i: number, trace_id?: string): AccessRecord => ({
  request_id: '2f1c6f0e-8d7b-4c1e-9d61-5b0a3f5c9e7a',
  method: 'GET',
  path: '/api/cars/6f1e2d3c-4b5a-4978-8a1b-2c3d4e5f6a7b',
  operation: OPERATIONS[i % OPERATIONS.length],
  status: STATUSES[i % STATUSES.length],
  duration_ms: 1.3,
  trace_id,
});

export type ObservabilityCost = {
  metrics_cpu_us_per_request: number;
  metrics_target_us: number;
  metrics_pass: boolean;
  /** JSON.stringify of the record and process.stdout.write per line (synchronous on a pipe). */
  access_line_cpu_us_before: number;
  /** The line built by hand into the buffered destination. */
  access_line_cpu_us_after: number;
  access_line_after_with_trace_id_cpu_us: number;
};

type Mode = 'none' | 'before' | 'after' | 'after-trace';

/**
 * The access line in a child whose stdout is a pipe the parent drains, as a
 * supervisor or container runtime reads a server's: lines come in bursts of
 * 32 per turn of the event loop, as requests finish, and the child reports its
 * own CPU time per line.
 */
async function accessLineInChild(mode: Mode, n: number): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), `--access-line=${mode}`, String(n)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.resume();
  let report = '';
  child.stderr.on('data', (chunk: Buffer) => (report += chunk.toString('utf8')));
  const [code] = (await once(child, 'exit')) as [number];
  if (code !== 0) throw new Error(`access-line child (${mode}) exited ${code}: ${report}`);
  return Number(/cpu_us=([\d.]+)/.exec(report)?.[1]);
}

async function writeLinesHere(mode: Mode, n: number): Promise<void> {
  const destination = mode === 'before' || mode === 'none' ? undefined : createLineDestination(1);
  const trace = mode === 'after-trace' ? '4bf92f3577b34da6a3ce929d0e0e4736' : undefined;
  const one = (i: number) => {
    const r = record(i, trace);
    if (mode === 'none') return;
    if (!destination) {
      process.stdout.write(
        `${JSON.stringify({ level: 'info', message: 'request', ...r, service: 'kaggi-backend', timestamp: new Date().toISOString() })}\n`,
      );
    } else {
      destination.write(accessLine('info', r, new Date().toISOString()));
    }
  };
  const burst = async (from: number, count: number) => {
    for (let i = from; i < from + count; i += 32) {
      for (let k = i; k < Math.min(i + 32, from + count); k += 1) one(k);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await burst(0, Math.min(n, 20_000));
  const start = process.cpuUsage();
  await burst(0, n);
  destination?.flush();
  const used = process.cpuUsage(start);
  process.stderr.write(`cpu_us=${(used.user + used.system) / n}\n`);
}

export async function measureObservabilityCost(n = 200_000): Promise<ObservabilityCost> {
  const db = { state: () => ({ acquiredConnections: 0, idleConnections: 0, pendingConnections: 0, waitingClients: 0 }) } as unknown as Db;
  const metrics = createMetrics({ db });
  const metricsUs = cpuMicrosPerCall(n, (i) => {
    metrics.started();
    metrics.finished(OPERATIONS[i % OPERATIONS.length], 'GET', STATUSES[i % STATUSES.length], 0.0013);
  });
  const round = (x: number) => Math.round(x * 1000) / 1000;
  // The child's own loop (bursts, event-loop turns) without any line, taken off each figure.
  const floor = await accessLineInChild('none', n);
  const line = async (mode: Mode) => round(Math.max(0, (await accessLineInChild(mode, n)) - floor));
  return {
    metrics_cpu_us_per_request: metricsUs,
    metrics_target_us: TARGET_METRICS_CPU_US,
    metrics_pass: metricsUs < TARGET_METRICS_CPU_US,
    access_line_cpu_us_before: await line('before'),
    access_line_cpu_us_after: await line('after'),
    access_line_after_with_trace_id_cpu_us: await line('after-trace'),
  };
}

const childMode = process.argv.find((a) => a.startsWith('--access-line='))?.split('=')[1] as Mode | undefined;
if (childMode) {
  await writeLinesHere(childMode, Number(process.argv.at(-1)));
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await measureObservabilityCost()));
}
