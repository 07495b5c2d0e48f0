import type { BenchDatabase, BidCar } from './db.js';
import { startCountingProxy } from './pgproxy.js';
import type { Child } from './processes.js';
import { normaliseSql } from './queries.js';
import type { Scenario } from './scenarios.js';

/** Starts one of the three servers on `databaseUrl` (npm run bench's start commands and options). */
export type StartServer = (
  who: 'project' | 'baseline' | 'express',
  name: string,
  databaseUrl: string,
  extra?: { env?: Record<string, string>; profile?: string },
) => Promise<Child>;

/** The read scenarios whose answer takes one SQL round trip (the target). */
const ONE_ROUND_TRIP = new Set(['car_get', 'dealer_bids', 'favorites', 'dashboard']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const CONTROL = /^(begin|start transaction|commit|rollback|discard all|savepoint|release savepoint)\b/;

/**
 * Round trips per request, counted on the wire: the project and the baseline
 * each run once more behind a counting proxy (bench/lib/pgproxy.ts), and each
 * scenario is requested sequentially. Also compares the statements the project
 * sends with the baseline's, so the baseline really serves the same SQL.
 */
export async function roundTripCheck(db: BenchDatabase, scenarios: Scenario[], bidCar: BidCar, start: StartServer) {
  const u = new URL(db.url);
  // one proxy per server, so that neither counts the other's traffic
  const proxies = [
    await startCountingProxy(u.hostname, Number(u.port || 5432)),
    await startCountingProxy(u.hostname, Number(u.port || 5432)),
    await startCountingProxy(u.hostname, Number(u.port || 5432)),
  ];
  const targets: Child[] = [];
  let amount = bidCar.highest;
  const bidScenario: Scenario = { name: 'bid_create', label: 'POST /api/bids/create', requests: () => [], path: () => '/api/bids/create' };
  const report: Record<string, unknown>[] = [];
  const N = 10;
  try {
    // The background auction worker (its own pool, on a timer) is off here: it is not part of a request.
    targets.push(await start('project', 'project-roundtrips', proxies[0].url(db.url), { env: { AUCTION_WORKER_ENABLED: 'false' } }));
    targets.push(await start('baseline', 'baseline-roundtrips', proxies[1].url(db.url)));
    targets.push(await start('express', 'express-roundtrips', proxies[2].url(db.url)));
    for (const scenario of [...scenarios, bidScenario]) {
      const row: Record<string, unknown> = { scenario: scenario.name, label: scenario.label };
      const seen: Record<string, string[]> = {};
      const bodies: Record<string, string[]> = { project: [], baseline: [], express: [] };
      for (const [index, target] of targets.entries()) {
        const who = target.name.split('-')[0];
        const proxy = proxies[index];
        const call = async (n: number) => {
          const init: RequestInit =
            scenario.name === 'bid_create'
              ? {
                  method: 'POST',
                  headers: { 'content-type': 'application/json' },
                  body: JSON.stringify({
                    car_id: bidCar.id,
                    dealer_name: 'Counter',
                    dealer_email: 'counter@bench.is',
                    bid_amount: (amount += bidCar.increment),
                  }),
                }
              : {};
          const res = await fetch(target.url + scenario.path(n), init);
          const body = await res.text();
          if (res.status >= 300) throw new Error(`${who} ${scenario.label}: ${res.status} in the round-trip check`);
          if (scenario.name !== 'bid_create') {
            // the same answer once the clock is taken out, whatever the order of the keys
            // (the project writes them in the spec's order, compiled from its response schemas)
            const parsed = JSON.parse(body) as Record<string, unknown>;
            delete parsed.timestamp;
            bodies[who].push(canonicalJson(parsed));
          }
        };
        await call(0);
        await call(1);
        await sleep(50);
        proxy.take();
        const before = proxy.roundTrips();
        for (let i = 0; i < N; i++) await call(i + 2);
        await sleep(50);
        const trips = (proxy.roundTrips() - before) / N;
        const statements = proxy.take().map((s) => normaliseSql(s.text));
        const counts = new Map<string, number>();
        for (const s of statements) counts.set(s, (counts.get(s) ?? 0) + 1);
        row[`${who}_round_trips`] = trips;
        row[`${who}_statements`] = [...counts].map(([text, c]) => ({
          per_request: c / N,
          sql: text.length > 90 ? `${text.slice(0, 87)}...` : text,
        }));
        seen[who] = [...new Set(statements.filter((s) => !CONTROL.test(s)))].sort();
      }
      row.same_sql_as_baseline = JSON.stringify(seen.project) === JSON.stringify(seen.baseline);
      // the hand-written Express server sends the project's statements for the bid too
      row.same_sql_as_express = JSON.stringify(seen.project) === JSON.stringify(seen.express);
      if (scenario.name !== 'bid_create') {
        row.same_body_as_baseline = bodies.project.length > 0 && bodies.project.every((b, i) => b === bodies.baseline[i]);
        row.same_body_as_express = bodies.project.length > 0 && bodies.project.every((b, i) => b === bodies.express[i]);
      }
      if (!row.same_sql_as_baseline) row.sql_difference = { project: seen.project, baseline: seen.baseline };
      if (!row.same_sql_as_express) row.sql_difference_express = { project: seen.project, express: seen.express };
      if (ONE_ROUND_TRIP.has(scenario.name)) row.target_one_round_trip = row.project_round_trips === 1;
      report.push(row);
    }
  } finally {
    for (const t of targets) await t.stop();
    for (const p of proxies) await p.close();
  }
  return report;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
