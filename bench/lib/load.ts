import autocannon, { type Request } from 'autocannon';

export type LoadOptions = {
  url: string;
  connections: number;
  /** seconds; or */
  duration?: number;
  /** exactly this many requests, every one answered (no request cut off at the end) */
  amount?: number;
  requests: Request[];
};

/** One autocannon run, raw. */
export type Run = {
  latencies: number[];
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  seconds: number;
  /** CPU time the server process used during the run (utime + stime), ms */
  serverCpuMs: number;
};

export type Measurement = {
  /** responses per second over the measured runs */
  rps: number;
  /** latency percentiles in ms over every response, whatever its status */
  p50: number;
  p99: number;
  mean: number;
  responses: number;
  /** server CPU time per response, ms: robust to other load on the machine */
  cpu_ms_per_request: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  runs: number;
  /** largest RSS of the server seen during these runs, MB */
  peak_rss_mb?: number;
};

/**
 * One autocannon run. Latencies are taken from every response event (float
 * ms, all statuses) rather than autocannon's histogram, which keeps whole
 * milliseconds and only 2xx — too coarse for 1–3 ms p50s and blind to 409s.
 */
export function fire(options: LoadOptions, cpuMs: () => number = () => 0): Promise<Run> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const statuses: Record<string, number> = {};
    const cpuBefore = cpuMs();
    const started = performance.now();
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        ...(options.amount ? { amount: options.amount } : { duration: options.duration }),
        pipelining: 1,
        timeout: 10,
        requests: options.requests,
      },
      (error, result) => {
        if (error) {
          reject(error);
          return;
        }
        resolve({
          latencies,
          statuses,
          errors: result.errors,
          timeouts: result.timeouts,
          seconds: (performance.now() - started) / 1000,
          serverCpuMs: cpuMs() - cpuBefore,
        });
      },
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      latencies.push(ms);
      statuses[status] = (statuses[status] ?? 0) + 1;
    });
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Several runs of one target as one measurement. */
export function summarise(runs: Run[]): Measurement {
  const all = Float64Array.from(runs.flatMap((r) => r.latencies)).sort();
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  const statuses: Record<string, number> = {};
  for (const r of runs) for (const [s, c] of Object.entries(r.statuses)) statuses[s] = (statuses[s] ?? 0) + c;
  // runs whose CPU reading failed (NaN) or went backwards are left out of cpu/req
  const counted = runs.filter((r) => Number.isFinite(r.serverCpuMs) && r.serverCpuMs >= 0);
  const cpu = counted.reduce((a, r) => a + r.serverCpuMs, 0);
  const cpuResponses = counted.reduce((a, r) => a + r.latencies.length, 0);
  return {
    rps: round(all.length / Math.max(seconds, 0.001), 1),
    p50: round(percentile(all, 50)),
    p99: round(percentile(all, 99)),
    mean: round(all.reduce((a, b) => a + b, 0) / (all.length || 1)),
    responses: all.length,
    cpu_ms_per_request: cpuResponses ? round(cpu / cpuResponses, 3) : NaN,
    statuses,
    errors: runs.reduce((a, r) => a + r.errors, 0),
    timeouts: runs.reduce((a, r) => a + r.timeouts, 0),
    runs: runs.length,
  };
}

/** Requests that walk through `paths` in turn, one path per request, shared by all connections. */
export function rotating(paths: string[]): Request[] {
  let i = 0;
  return [
    {
      method: 'GET',
      setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length] }),
    },
  ];
}
