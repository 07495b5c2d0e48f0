import type pg from 'pg';
import type { Request } from 'autocannon';
import type { BidCar } from './db.js';
import { fire, summarise, type Measurement, type Run } from './load.js';
import { sampling, type Child } from './processes.js';
import { bidRequests, type BidTally } from './scenarios.js';

/** How hard and how long each scenario loads the servers (npm run bench's options). */
export type LoadPlan = { connections: number; warmup: number; duration: number; rounds: number };

export const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
export const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : NaN);

/**
 * Every server on one scenario: a warm-up each, then `rounds` short runs each,
 * interleaved with the order rotating every round (P E B, E B P, B P E, …) so
 * that a change in the machine's other load falls on all alike. RSS is sampled
 * during the measured runs.
 */
export async function measureAll(plan: LoadPlan, targets: Child[], requests: () => Request[]): Promise<Measurement[]> {
  const run = (t: Child, duration: number) => fire({ url: t.url, connections: plan.connections, duration, requests: requests() }, t.cpuMs);
  for (const t of targets) await run(t, plan.warmup);
  const runs: Run[][] = targets.map(() => []);
  const each = plan.duration / plan.rounds;
  for (const t of targets) t.resetWindowPeak();
  for (let r = 0; r < plan.rounds; r++) {
    for (let k = 0; k < targets.length; k++) {
      const i = (k + r) % targets.length;
      runs[i].push(await sampling([targets[i]], () => run(targets[i], each)));
    }
  }
  return targets.map((t, i) => ({ ...summarise(runs[i]), peak_rss_mb: mb(t.windowPeak()) }));
}

export async function measurePair(
  plan: LoadPlan,
  project: Child,
  baseline: Child,
  requests: () => Request[],
): Promise<{ project: Measurement; baseline: Measurement }> {
  const [p, b] = await measureAll(plan, [project, baseline], requests);
  return { project: p, baseline: b };
}

export function assertServed(name: string, who: string, m: Measurement): void {
  const ok = Object.entries(m.statuses)
    .filter(([s]) => s.startsWith('2'))
    .reduce((a, [, c]) => a + c, 0);
  if (ok === 0) {
    throw new Error(
      `${who} answered no 2xx in ${name}: ${JSON.stringify(m.statuses)} (${m.responses} responses, ${m.errors} errors, ${m.timeouts} timeouts)`,
    );
  }
}

/**
 * POST /api/bids/create on one hot car. Counted runs, not timed ones: a timed
 * run cuts off requests in flight, whose bids may commit unseen; with
 * `amount` every request gets its answer, so 201s can be matched to rows.
 */
export async function measureBids(plan: LoadPlan, t: Child, car: BidCar): Promise<{ m: Measurement; tally: BidTally }> {
  const tally: BidTally = { statuses: {}, accepted: [] };
  // each bid one increment above the previous one, so a bid that comes in order is accepted
  const counter = { amount: car.highest, step: car.increment, n: 0 };
  const warm = await fire(
    { url: t.url, connections: plan.connections, amount: plan.connections * 10, requests: bidRequests(car.id, counter, tally) },
    t.cpuMs,
  );
  const rate = warm.latencies.length / warm.seconds;
  const amount = Math.max(plan.connections * 20, Math.round(rate * plan.duration));
  t.resetWindowPeak();
  const run = await sampling([t], () =>
    fire({ url: t.url, connections: plan.connections, amount, requests: bidRequests(car.id, counter, tally) }, t.cpuMs),
  );
  const m = { ...summarise([run]), peak_rss_mb: mb(t.windowPeak()) };
  assertServed('bid_create', t.name, m);
  return { m, tally };
}

export async function verifyBids(pool: pg.Pool, carId: string, tally: BidTally) {
  const { rows } = await pool.query<{ id: string; bid_amount: number; dealer_email: string }>(
    `SELECT id, bid_amount, dealer_email FROM "uppboð" WHERE car_id = $1 ORDER BY created_at, id`,
    [carId],
  );
  let outOfOrder = 0;
  for (let i = 1; i < rows.length; i++) if (rows[i].bid_amount <= rows[i - 1].bid_amount) outOfOrder++;
  const stored = new Set(rows.map((r) => r.id));
  const newRows = rows.filter((r) => r.dealer_email.startsWith('hot')).length;
  const accepted = tally.statuses['201'] ?? 0;
  const lost = tally.accepted.filter((id) => !stored.has(id)).length;
  const fiveXx = Object.entries(tally.statuses)
    .filter(([s]) => s.startsWith('5'))
    .reduce((a, [, c]) => a + c, 0);
  return {
    car_id: carId,
    statuses: tally.statuses,
    accepted_201: accepted,
    rejected_409: tally.statuses['409'] ?? 0,
    responses_5xx: fiveXx,
    rows_from_run: newRows,
    accepted_missing_from_db: lost,
    out_of_order_pairs: outOfOrder,
    ok: accepted === newRows && lost === 0 && outOfOrder === 0 && fiveXx === 0,
  };
}
export type BidCheck = Awaited<ReturnType<typeof verifyBids>>;
