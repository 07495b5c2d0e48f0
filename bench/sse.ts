/**
 * Live auctions fan-out (`npm run bench -- --only sse`): STREAMS open streams on the running
 * project server, held by a separate process (this file, run with `--clients`, so the
 * server's figures are its own), spread over CARS active cars; the parent places bids at
 * a steady rate and the client process notes when each bid's event reaches each stream.
 * Printed: delivery latency from the bid's 201 to the event (p50, p99 over every stream ×
 * bid), the server's RSS and CPU per 1,000 streams. Targets: p99 < 250 ms at 2,000
 * streams, < 25 MB RSS per 1,000 streams.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { Child } from './lib/processes.js';

const STREAMS = 2000;
const CARS = 20;
const BIDS_PER_SECOND = 10;
const SECONDS = 10;
const TARGET_P99_MS = 250;
const TARGET_MB_PER_1000 = 25;

const now = () => performance.timeOrigin + performance.now();
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

export type SseBench = {
  streams: number;
  cars: number;
  bids: number;
  deliveries: number;
  missing: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  from_request_p50_ms: number;
  from_request_p99_ms: number;
  bid_statuses: Record<number, number>;
  rss_before_mb: number;
  rss_with_streams_mb: number;
  rss_mb_per_1000_streams: number;
  cpu_ms_per_bid_per_1000_streams: number;
  cpu_percent_during_bids: number;
  targets: { p99_ms: number; mb_per_1000: number; pass_p99: boolean; pass_rss: boolean };
};

/** The client process: opens the streams, then prints `amount receivedAt` for every bid event. */
async function clients(base: string, cars: string[], streams: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  let open = 0;
  const openOne = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const req = http.get(
        `${base}/api/cars/${cars[i % cars.length]}/events`,
        // one address per stream, as a crowd of browsers behind a proxy (the per-IP limit is 20)
        { agent, headers: { accept: 'text/event-stream', 'x-forwarded-for': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` } },
        (res) => {
          if (res.statusCode !== 200) return reject(new Error(`stream ${i}: ${res.statusCode}`));
          res.setEncoding('utf8');
          let buffer = '';
          res.on('data', (chunk: string) => {
            const at = now();
            buffer += chunk;
            let end: number;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const frame = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              if (!frame.includes('event: bid')) continue;
              const amount = /"amount":(\d+)/.exec(frame)?.[1];
              const car = /"car_id":"([^"]+)"/.exec(frame)?.[1];
              if (amount && car) process.stdout.write(`${car}:${amount} ${at.toFixed(1)}\n`);
            }
          });
          open += 1;
          resolve();
        },
      );
      req.on('error', reject);
    });
  for (let i = 0; i < streams; i += 50) await Promise.all(Array.from({ length: Math.min(50, streams - i) }, (_, k) => openOne(i + k)));
  process.stdout.write(`open ${open}\n`);
  await new Promise(() => undefined);
}

function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

export async function benchSse(pool: pg.Pool, project: Child, log: (msg: string) => void): Promise<SseBench> {
  const { rows } = await pool.query<{ id: string; highest: number; increment: number }>(
    `SELECT c.id, coalesce(max(b.bid_amount), 0)::int AS highest, c.bid_increment AS increment
     FROM "Bílar" c LEFT JOIN "uppboð" b ON b.car_id = c.id
     WHERE c.status = 'active' AND c.auction_ends_at > now() + interval '1 hour'
     GROUP BY c.id ORDER BY c.id LIMIT $1`,
    [CARS],
  );
  const cars = rows.map((r) => ({ ...r, next: r.highest + r.increment * 10 }));
  const mb = (b: number) => round(b / 1024 / 1024);
  // settle, then the server's RSS without streams
  await new Promise((r) => setTimeout(r, 1000));
  const rssBefore = rssOf(project.pid);

  const received = new Map<string, number[]>();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--clients', project.url, String(STREAMS), ...cars.map((c) => c.id)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let opened: (n: number) => void;
  const allOpen = new Promise<number>((resolve) => (opened = resolve));
  let rest = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    rest += chunk;
    const lines = rest.split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      const [a, b] = line.split(' ');
      if (a === 'open') opened(Number(b));
      else (received.get(a) ?? received.set(a, []).get(a)!).push(Number(b));
    }
  });
  try {
    const open = await allOpen;
    log(`sse: ${open} streams open over ${cars.length} cars`);
    await new Promise((r) => setTimeout(r, 2000));
    const rssWith = rssOf(project.pid);

    // Bids at a steady rate, round robin over the cars, each amount unique.
    const sentAt = new Map<string, { at: number; sent: number; car: number }>();
    const statuses: Record<number, number> = {};
    const cpuStart = project.cpuMs();
    const started = now();
    const total = BIDS_PER_SECOND * SECONDS;
    const pending: Promise<void>[] = [];
    for (let i = 0; i < total; i += 1) {
      const wait = started + (i * 1000) / BIDS_PER_SECOND - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const c = i % cars.length;
      const amount = cars[c].next;
      // well clear of any proxy maximum in the seeded bids, and unique
      cars[c].next += cars[c].increment * 100;
      const sent = now();
      pending.push(
        fetch(`${project.url}/api/bids/create`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ car_id: cars[c].id, dealer_name: 'Bench', dealer_email: `dealer${i % 200}@bench.is`, bid_amount: amount }),
        }).then(async (res) => {
          const at = now();
          await res.arrayBuffer();
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          if (res.status === 201) sentAt.set(`${cars[c].id}:${amount}`, { at, sent, car: c });
        }),
      );
    }
    await Promise.all(pending);
    const cpuMs = project.cpuMs() - cpuStart;
    const elapsed = now() - started;
    await new Promise((r) => setTimeout(r, 1500));

    const latencies: number[] = [];
    let missing = 0;
    const fromSend: number[] = [];
    for (const [key, { at, sent, car }] of sentAt) {
      const got = received.get(key) ?? [];
      const expected = Array.from({ length: STREAMS }, (_, i) => i).filter((i) => i % cars.length === car).length;
      missing += Math.max(0, expected - got.length);
      // An event may reach the streams before the bidder has read its 201: that counts as 0.
      for (const t of got) latencies.push(Math.max(0, t - at));
      for (const t of got) fromSend.push(t - sent);
    }
    latencies.sort((x, y) => x - y);
    fromSend.sort((x, y) => x - y);
    const per1000 = (rssWith - rssBefore) / (STREAMS / 1000);
    const result: SseBench = {
      streams: STREAMS,
      cars: cars.length,
      bids: sentAt.size,
      deliveries: latencies.length,
      missing,
      p50_ms: round(percentile(latencies, 0.5) ?? NaN),
      p99_ms: round(percentile(latencies, 0.99) ?? NaN),
      max_ms: round(latencies.at(-1) ?? NaN),
      from_request_p50_ms: round(percentile(fromSend, 0.5) ?? NaN),
      from_request_p99_ms: round(percentile(fromSend, 0.99) ?? NaN),
      bid_statuses: statuses,
      rss_before_mb: mb(rssBefore),
      rss_with_streams_mb: mb(rssWith),
      rss_mb_per_1000_streams: mb(per1000),
      cpu_ms_per_bid_per_1000_streams: round(cpuMs / Math.max(1, sentAt.size) / (STREAMS / 1000), 2),
      cpu_percent_during_bids: round((cpuMs / elapsed) * 100),
      targets: {
        p99_ms: TARGET_P99_MS,
        mb_per_1000: TARGET_MB_PER_1000,
        pass_p99: percentile(latencies, 0.99) < TARGET_P99_MS,
        pass_rss: per1000 / 1024 / 1024 < TARGET_MB_PER_1000,
      },
    };
    log(
      `sse fan-out: ${result.bids} bids × ${STREAMS / cars.length} streams per car → ${result.deliveries} deliveries (${missing} missing); ` +
        `201→event p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms (target < ${TARGET_P99_MS}), ` +
        `request sent→event p50 ${result.from_request_p50_ms} ms, p99 ${result.from_request_p99_ms} ms; bid answers ${JSON.stringify(statuses)}; ` +
        `RSS ${result.rss_before_mb} → ${result.rss_with_streams_mb} MB = ${result.rss_mb_per_1000_streams} MB per 1,000 streams (target < ${TARGET_MB_PER_1000}); ` +
        `CPU ${result.cpu_percent_during_bids}% during the bids, ${result.cpu_ms_per_bid_per_1000_streams} ms per bid per 1,000 streams`,
    );
    return result;
  } finally {
    child.kill('SIGKILL');
  }
}

if (process.argv[2] === '--clients') {
  const [, , , base, streams, ...cars] = process.argv;
  await clients(base, cars, Number(streams));
}
