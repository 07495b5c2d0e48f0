/**
 * The long-path check (`npm run bench -- --only long_path`): `GET /health` latency while
 * 40 concurrent `GET /aaaa…` (16,000 characters, outside /api, so no rate limit) keep
 * running against the server, against its latency idle. The 40 requests come from a
 * separate process (this file, run with `--attack`), each connection sending the next as
 * soon as the last is answered, so the observer's figures are not its own load; idle and
 * attacked phases alternate, so that other load on the machine falls on both alike.
 * Printed: /health p50 and p90 both ways, the p50 ratio against the 2× target, and the
 * server's CPU per long request.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Child } from './processes.js';

const CONCURRENT = 40;
const PATH_LENGTH = 16_000;
const TARGET_RATIO = 2;
const ROUNDS = 5;
const PROBES_PER_PHASE = 60;
const PROBE_GAP_MS = 10;

export type LongPathBench = {
  concurrent: number;
  path_length: number;
  long_requests: number;
  long_statuses: Record<string, number>;
  health_idle_p50_ms: number;
  health_idle_p90_ms: number;
  health_attacked_p50_ms: number;
  health_attacked_p90_ms: number;
  health_attacked_max_ms: number;
  ratio_p50: number;
  cpu_ms_per_long_request: number;
  target: { ratio: number; pass: boolean };
};

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function timedGet(agent: http.Agent, url: string): Promise<{ ms: number; status: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    http
      .get(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ ms: performance.now() - started, status: res.statusCode ?? 0 }));
      })
      .on('error', reject);
  });
}

/** The attacking process: `start` on stdin opens the 40 loops, `stop` ends them and prints the tally as JSON. */
async function attack(base: string): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENT });
  const url = `${base}/${'a'.repeat(PATH_LENGTH - 1)}`;
  let running = false;
  let loops: Promise<void>[] = [];
  const statuses: Record<string, number> = {};
  const loop = async () => {
    while (running) {
      const { status } = await timedGet(agent, url);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'start') {
      running = true;
      loops = Array.from({ length: CONCURRENT }, loop);
      console.log('started');
    } else if (line === 'stop') {
      running = false;
      await Promise.all(loops);
      console.log(JSON.stringify(statuses));
    }
  }
  agent.destroy();
}

export async function benchLongPaths(server: Child, log: (msg: string) => void): Promise<LongPathBench> {
  const attacker = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--attack', server.url], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: attacker.stdout })[Symbol.asyncIterator]();
  const tell = async (command: string) => {
    attacker.stdin.write(`${command}\n`);
    return String((await lines.next()).value);
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const probe = async (into: number[]) => {
    for (let i = 0; i < PROBES_PER_PHASE; i++) {
      const { ms, status } = await timedGet(agent, `${server.url}/health`);
      if (status !== 200) throw new Error(`/health answered ${status}`);
      into.push(ms);
      await sleep(PROBE_GAP_MS);
    }
  };
  try {
    for (let i = 0; i < 50; i++) await timedGet(agent, `${server.url}/health`);
    const idle: number[] = [];
    const attacked: number[] = [];
    const statuses: Record<string, number> = {};
    let cpu = 0;
    for (let r = 0; r < ROUNDS; r++) {
      await probe(idle);
      const cpuBefore = server.cpuMs();
      await tell('start');
      await probe(attacked);
      const tally = JSON.parse(await tell('stop')) as Record<string, number>;
      cpu += server.cpuMs() - cpuBefore;
      for (const [status, n] of Object.entries(tally)) statuses[status] = (statuses[status] ?? 0) + n;
    }
    const longRequests = Object.values(statuses).reduce((a, b) => a + b, 0);
    const result: LongPathBench = {
      concurrent: CONCURRENT,
      path_length: PATH_LENGTH,
      long_requests: longRequests,
      long_statuses: statuses,
      health_idle_p50_ms: round(percentile(idle, 0.5)),
      health_idle_p90_ms: round(percentile(idle, 0.9)),
      health_attacked_p50_ms: round(percentile(attacked, 0.5)),
      health_attacked_p90_ms: round(percentile(attacked, 0.9)),
      health_attacked_max_ms: round(Math.max(...attacked)),
      ratio_p50: round(percentile(attacked, 0.5) / percentile(idle, 0.5)),
      // the probes' own share (a few hundred /health) is small next to the long requests
      cpu_ms_per_long_request: round(cpu / Math.max(1, longRequests), 3),
      target: { ratio: TARGET_RATIO, pass: percentile(attacked, 0.5) <= TARGET_RATIO * percentile(idle, 0.5) },
    };
    log(
      `long paths: /health p50 ${result.health_idle_p50_ms} ms idle, ${result.health_attacked_p50_ms} ms (p90 ${result.health_attacked_p90_ms}, max ${result.health_attacked_max_ms}) ` +
        `while ${CONCURRENT} concurrent ${PATH_LENGTH}-character paths run: ${result.ratio_p50}× (target ≤ ${TARGET_RATIO}×: ${result.target.pass ? 'ok' : 'MISSED'}); ` +
        `${longRequests} long requests, ${result.cpu_ms_per_long_request} ms server CPU each, answered ${JSON.stringify(statuses)}`,
    );
    return result;
  } finally {
    agent.destroy();
    attacker.kill();
  }
}

if (process.argv[2] === '--attack') void attack(process.argv[3]);
