/**
 * npm run bench [-- --cars 10000 --duration 6 --warmup 2 --rounds 3 --connections 16 --no-scaling]
 *
 * One run: a database of its own on BENCH_DATABASE_URL's PostgreSQL, seeded
 * with generate_series; the real server (production mode, logging at info) and
 * the bare node:http + pg baseline (bench/baseline.ts) and the hand-written
 * Express server (bench/express-baseline.ts) side by side; autocannon
 * on loopback against both for every scenario, interleaved; the bid-contention,
 * round-trip and data-growth checks; a table on stdout and bench/results.json.
 * Exits non-zero only when the run itself failed, never for a missed target.
 *
 * The scenarios are the two lists below (CHECKS_BEFORE_LOAD, SCENARIOS), each entry
 * a name (what --only selects), its target and how it runs; main() sets up, runs
 * each, and prints the summary.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  activeCarId,
  createBenchDatabase,
  dealerEmail,
  DEFAULT_ADMIN_URL,
  DEFAULT_SHAPE,
  growTo,
  sampleCarIds,
  tableCounts,
  type BenchDatabase,
  type Migrate,
  type SeedShape,
} from './lib/db.js';
import { fire, type Measurement } from './lib/load.js';
import { assertServed, mb, measureAll, measureBids, measurePair, ratio, verifyBids, type BidCheck, type LoadPlan } from './lib/measure.js';
import { startChild, type Child } from './lib/processes.js';
import { pad, printTable, readRow, readTargets, type Row } from './lib/report.js';
import { roundTripCheck, type StartServer } from './lib/round-trips.js';
import { readScenarios } from './lib/scenarios.js';
import {
  baselineEnv as bareEnv,
  BASELINE_ARGS,
  expressEnv as handWrittenEnv,
  EXPRESS_ARGS,
  projectArgs as startArgs,
  projectEnv,
  projectStartEnv,
  withNodeFlags,
} from './lib/servers.js';
import {
  POINT_READS,
  TARGET_BID_VS_EXPRESS,
  TARGET_POINT_READ_CPU_MS,
  TARGET_RSS_AFTER_START_MB,
  TARGET_RSS_PEAK_MB,
  TARGET_SCALING,
  TARGET_START_MS,
  TARGET_VS_BARE,
  TARGET_VS_EXPRESS,
} from './lib/targets.js';
import { benchEstimate } from './estimate.js';
import { benchPhotos } from './photos.js';
import { benchDealerSearch, TARGET_FACETS_P99_MS, TARGET_Q_P99_MS, TARGET_SEARCH_P99_MS, type DealerSearchBench } from './dealer-search.js';
import { benchAlerts, TARGET_ALERT_P99_MS, type AlertsBench } from './alerts.js';
import { benchSse } from './sse.js';
import { benchLongPaths } from './lib/long-paths.js';
import { measureObservabilityCost, TARGET_METRICS_CPU_US, type ObservabilityCost } from './lib/observability-cost.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values: args } = parseArgs({
  options: {
    cars: { type: 'string', default: '10000' },
    duration: { type: 'string', default: '6' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '16' },
    pool: { type: 'string', default: '10' },
    'no-scaling': { type: 'boolean', default: false },
    'scaling-small': { type: 'string', default: '1000' },
    'scaling-large': { type: 'string', default: '100000' },
    'project-dir': { type: 'string' },
    'server-node-options': { type: 'string', default: '' },
    profile: { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string', default: path.join(ROOT, 'bench', 'results.json') },
    help: { type: 'boolean', default: false },
  },
  allowPositionals: false,
});

if (args.help) {
  console.log(`npm run bench -- [options]
  --cars N            cars in the main data set (default 10000; bids 10 per car, favourites 2 per car, 500 dealers)
  --duration S        measured seconds per scenario and server, split over the rounds (default 6)
  --warmup S          warm-up seconds per scenario and server (default 2)
  --rounds N          project/baseline runs interleaved per scenario (default 3)
  --connections N     autocannon connections (default 16)
  --pool N            database connections of each server (default 10)
  --no-scaling        skip the data-growth check (car list at --scaling-small and --scaling-large cars)
  --project-dir DIR   the project tree to start (default: this checkout)
  --server-node-options=FLAGS  extra node flags for the project server, e.g. --server-node-options='--cpu-prof --cpu-prof-dir=/tmp/prof'
  --profile DIR       CPU profiles (node --cpu-prof) of the measured project, Express and bare servers into DIR/<server>/
  --only a,b          only these scenarios: cars_list car_get car_bids dealer_bids favorites dashboard bid_create access_log estimate sse long_path photos alerts
                      dealer_search (also alone, without the rest's set-up: npx tsx bench/dealer-search.ts --help)
  --out FILE          results file (default bench/results.json)
  BENCH_DATABASE_URL  PostgreSQL to create the bench database on (default ${DEFAULT_ADMIN_URL})`);
  process.exit(0);
}

const opts = {
  cars: Number(args.cars),
  duration: Number(args.duration),
  warmup: Number(args.warmup),
  rounds: Number(args.rounds),
  connections: Number(args.connections),
  pool: Number(args.pool),
  scaling: !args['no-scaling'],
  scalingSmall: Number(args['scaling-small']),
  scalingLarge: Number(args['scaling-large']),
  projectDir: path.resolve(args['project-dir'] ?? ROOT),
  serverNodeOptions: args['server-node-options'] ?? '',
  profileDir: args.profile ? path.resolve(args.profile) : null,
  only: args.only ? new Set(args.only.split(',')) : null,
  out: path.resolve(args.out),
};
for (const [k, v] of Object.entries(opts)) {
  if (typeof v === 'number' && !(Number.isFinite(v) && v > 0)) {
    console.error(`--${k} must be a positive number`);
    process.exit(2);
  }
}

const plan: LoadPlan = opts;
const log = (msg: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const load = () => os.loadavg().map((x) => Math.round(x * 100) / 100);

/** With --profile, the measured servers write a CPU profile when they stop (the script stays last). */
function profiled(name: string, argv: string[]): string[] {
  return opts.profileDir ? withNodeFlags(argv, ['--cpu-prof', `--cpu-prof-dir=${path.join(opts.profileDir, name)}`]) : argv;
}
/** The project as `npm start` runs it, with --server-node-options. */
const projectArgs = (dir: string) => startArgs(dir, opts.serverNodeOptions ? opts.serverNodeOptions.trim().split(/\s+/) : []);

/** The three servers, each with --pool connections: the project under test, the bare baseline, hand-written Express. */
function serverStarter(logDir: string): StartServer {
  return (who, name, databaseUrl, extra = {}) => {
    const server =
      who === 'project'
        ? {
            cwd: opts.projectDir,
            args: projectArgs(opts.projectDir),
            env: { ...projectStartEnv(opts.projectDir), ...projectEnv(databaseUrl, opts.pool) },
          }
        : who === 'baseline'
          ? { cwd: ROOT, args: BASELINE_ARGS, env: bareEnv(databaseUrl, opts.pool) }
          : { cwd: ROOT, args: EXPRESS_ARGS, env: handWrittenEnv(databaseUrl, opts.pool) };
    const args = extra.profile ? profiled(extra.profile, server.args) : server.args;
    return startChild({ name, cwd: server.cwd, args, env: { ...server.env, ...extra.env }, logDir });
  };
}

type Servers = { project: Child; baseline: Child; express: Child };
type ScalingPoint = { cars: number; project: Measurement; baseline: Measurement };

/** What the scenarios share, and what each leaves behind for the summary and bench/results.json. */
type Bench = {
  db: BenchDatabase;
  postgres: string;
  shape: SeedShape;
  dealers: string[];
  logDir: string;
  startedAt: Date;
  loadAtStart: number[];
  start: StartServer;
  /** Every server still running, stopped at the end (also on Ctrl-C). */
  children: Child[];
  servers: Servers | null;
  rssIdle: { project_mb: number; baseline_mb: number; express_mb: number };
  /** Cars sampled at the current data size, for the read scenarios. */
  carIds: string[];
  mainCounts: unknown;
  results: Record<string, unknown>;
  roundTrips: Record<string, unknown>[];
  starts: number[];
  startMs: number;
  rows: Row[];
  scalingPoints: Record<string, ScalingPoint>;
  contention: Record<string, BidCheck>;
  accessLog: Record<string, unknown> | null;
  observability: ObservabilityCost | null;
};

function started(b: Bench): Servers {
  if (!b.servers) throw new Error('the servers are not started yet');
  return b.servers;
}

/** Runs before the measured servers start, with nothing else running. */
type Check = { name: string; target: string; run: (b: Bench) => Promise<void> };

/**
 * Runs on the measured servers. `cars`: the data size (cars) it needs — the data only grows,
 * so the scenarios run in order of it, those without one last, on the largest. Selected by
 * --only (every one when it is absent) unless `selected` says otherwise.
 */
type BenchScenario = {
  name: string;
  target: string;
  cars?: () => number | undefined;
  selected?: () => boolean;
  run: (b: Bench) => Promise<void>;
};

const CHECKS_BEFORE_LOAD: Check[] = [
  {
    name: 'round_trips',
    target: 'one SQL round trip per request (car_get, dealer_bids, favorites, dashboard); the statements and bodies of both baselines',
    run: async (b) => {
      // Round trips first, while nothing else runs; its extra servers are gone before any load.
      log('round-trip check: project, bare baseline and hand-written Express behind counting proxies, 10 sequential requests per scenario');
      const roundTrips = await roundTripCheck(
        b.db,
        readScenarios(await sampleCarIds(b.db.pool, 100), b.dealers),
        await activeCarId(b.db.pool, Math.ceil(firstDataSize() / 2) + 40),
        b.start,
      );
      for (const r of roundTrips) {
        log(
          `  ${pad(String(r.label), 34, true)} project ${r.project_round_trips} round trip(s)/request, baseline ${r.baseline_round_trips}, ` +
            `express ${r.express_round_trips}` +
            `${r.same_sql_as_baseline || r.scenario === 'bid_create' ? '' : '  (SQL differs from the baseline!)'}` +
            `${r.same_sql_as_express ? '' : '  (SQL differs from Express!)'}` +
            `${r.same_body_as_baseline === false ? '  (response body differs from the baseline!)' : ''}` +
            `${r.same_body_as_express === false ? '  (response body differs from Express!)' : ''}`,
        );
      }
      b.roundTrips = roundTrips;
      b.results.round_trips = roundTrips;
    },
  },
  {
    name: 'start_ms',
    target: `start to listening < ${TARGET_START_MS} ms on a migrated database (median of three starts)`,
    run: async (b) => {
      for (let i = 0; i < 3; i += 1) {
        const once = await b.start('project', `project-start-${i}`, b.db.url);
        b.starts.push(once.readyMs);
        await once.stop();
      }
      b.startMs = [...b.starts].sort((x, y) => x - y)[1];
      log(`project start to listening: ${b.starts.join(', ')} ms (median ${b.startMs})`);
    },
  },
];

/** A read scenario of bench/lib/scenarios.ts on all three servers, at --cars cars. */
function readScenario(name: string): BenchScenario {
  return {
    name,
    target: readTargets(name),
    cars: () => opts.cars,
    run: async (b) => {
      const { project, express, baseline } = started(b);
      const s = readScenarios(b.carIds, b.dealers).find((x) => x.name === name);
      if (!s) throw new Error(`no read scenario ${name}`);
      log(`${opts.cars} cars: ${s.label}`);
      const [mp, me, mb_] = await measureAll(plan, [project, express, baseline], s.requests);
      const m = { project: mp, express: me, baseline: mb_ };
      assertServed(s.name, 'project', m.project);
      assertServed(s.name, 'express', m.express);
      assertServed(s.name, 'baseline', m.baseline);
      const row = readRow(s, m);
      b.rows.push(row);
      log(
        `  project ${m.project.rps} req/s p50 ${m.project.p50} p99 ${m.project.p99} cpu ${m.project.cpu_ms_per_request} ms/req | ` +
          `express ${m.express.rps} req/s cpu ${m.express.cpu_ms_per_request} ms/req | ` +
          `baseline ${m.baseline.rps} req/s p50 ${m.baseline.p50} p99 ${m.baseline.p99} cpu ${m.baseline.cpu_ms_per_request} ms/req | ` +
          `×express ${row.ratio_express}, ×bare ${row.ratio}`,
      );
      // a data-growth point that falls on the main data set is this measurement
      if (opts.scaling && (opts.cars === opts.scalingSmall || opts.cars === opts.scalingLarge) && s.name === 'cars_list') {
        b.scalingPoints[String(opts.cars)] = { cars: opts.cars, ...m };
      }
    },
  };
}

/** Data growth: the car list on the project and the bare baseline at `size()` cars (when that is not --cars). */
function growthPoint(name: string, size: () => number, alsoAt: () => number[] = () => []): BenchScenario {
  return {
    name,
    target: `GET /api/cars?limit=50 p50 at --scaling-large cars ≤ ${TARGET_SCALING}× its p50 at --scaling-small`,
    cars: () => (opts.scaling ? size() : undefined),
    selected: () => opts.scaling && size() !== opts.cars && !alsoAt().includes(size()),
    run: async (b) => {
      const { project, baseline } = started(b);
      const s = readScenarios(b.carIds, b.dealers)[0];
      log(`${size()} cars: ${s.label}`);
      const m = await measurePair(plan, project, baseline, s.requests);
      assertServed(s.name, 'project', m.project);
      assertServed(s.name, 'baseline', m.baseline);
      b.scalingPoints[String(size())] = { cars: size(), ...m };
      log(`  project ${m.project.rps} req/s p50 ${m.project.p50} ms | baseline ${m.baseline.rps} req/s p50 ${m.baseline.p50} ms`);
    },
  };
}

const SCENARIOS: BenchScenario[] = [
  growthPoint('scaling_small', () => opts.scalingSmall),
  ...readScenarios([], []).map((s) => readScenario(s.name)),
  {
    name: 'bid_create',
    target: `≥${TARGET_BID_VS_EXPRESS}× Express; the car's bids rise strictly in commit order, every 201 a row, no 5xx`,
    cars: () => opts.cars,
    run: async (b) => {
      const { project, express, baseline } = started(b);
      const size = opts.cars;
      log(`${size} cars: POST /api/bids/create on one hot car, ${opts.connections} connections`);
      const hot = {
        project: await activeCarId(b.db.pool, Math.ceil(size / 2)),
        baseline: await activeCarId(b.db.pool, Math.ceil(size / 2) + 20),
        express: await activeCarId(b.db.pool, Math.ceil(size / 2) + 60),
      };
      const p = await measureBids(plan, project, hot.project);
      const e = await measureBids(plan, express, hot.express);
      const m = await measureBids(plan, baseline, hot.baseline);
      b.contention = {
        project: await verifyBids(b.db.pool, hot.project.id, p.tally),
        express: await verifyBids(b.db.pool, hot.express.id, e.tally),
        baseline: await verifyBids(b.db.pool, hot.baseline.id, m.tally),
      };
      const rx = ratio(p.m.rps, e.m.rps);
      b.rows.push({
        scenario: 'bid_create',
        label: 'POST /api/bids/create (hot car)',
        project: p.m,
        express: e.m,
        baseline: m.m,
        ratio: ratio(p.m.rps, m.m.rps),
        ratio_express: rx,
        cpu_ratio: ratio(p.m.cpu_ms_per_request, m.m.cpu_ms_per_request),
        cpu_ratio_express: ratio(p.m.cpu_ms_per_request, e.m.cpu_ms_per_request),
        targets: `≥${TARGET_BID_VS_EXPRESS}× Express`,
        pass: rx >= TARGET_BID_VS_EXPRESS,
      });
      const c = b.contention.project;
      log(
        `  project ${p.m.rps} req/s p50 ${p.m.p50} p99 ${p.m.p99}; 201 ${c.accepted_201}, 409 ${c.rejected_409}, 5xx ${c.responses_5xx}, ` +
          `rows ${c.rows_from_run}, lost ${c.accepted_missing_from_db}, out of order ${c.out_of_order_pairs} → ${c.ok ? 'ok' : 'FAILED'}`,
      );
    },
  },
  growthPoint(
    'scaling_large',
    () => opts.scalingLarge,
    () => [opts.scalingSmall],
  ),
  {
    // The access log's cost: the same point read on the server as configured (LOG_LEVEL=info, one line per
    // request) and on a second instance with LOG_LEVEL=warn, interleaved like the other pairs.
    name: 'access_log',
    target: 'reported: CPU per access line, req/s with and without it',
    run: async (b) => {
      const { project } = started(b);
      const quiet = await b.start('project', 'project-log-warn', b.db.url, { env: { LOG_LEVEL: 'warn', AUCTION_WORKER_ENABLED: 'false' } });
      b.children.push(quiet);
      const s = readScenarios(await sampleCarIds(b.db.pool, 1000), b.dealers)[1];
      log(`access log cost: ${s.label} with LOG_LEVEL=info (access log on) and LOG_LEVEL=warn (off)`);
      await fire({ url: quiet.url, connections: opts.connections, duration: Math.max(1, opts.warmup / 2), requests: s.requests() });
      const m = await measurePair(plan, project, quiet, s.requests);
      b.accessLog = {
        scenario: s.label,
        info_rps: m.project.rps,
        warn_rps: m.baseline.rps,
        info_cpu_ms_per_request: m.project.cpu_ms_per_request,
        warn_cpu_ms_per_request: m.baseline.cpu_ms_per_request,
        cpu_ms_per_line: Math.round((m.project.cpu_ms_per_request - m.baseline.cpu_ms_per_request) * 1000) / 1000,
        rps_ratio: ratio(m.project.rps, m.baseline.rps),
      };
      log(`  ${JSON.stringify(b.accessLog)}`);
    },
  },
  {
    // Request size: /health behind 40 concurrent 16,000-character paths (bench/lib/long-paths.ts).
    name: 'long_path',
    target: '/health p50 under 40 concurrent 16,000-character paths ≤ 2× its p50 idle',
    run: async (b) => {
      b.results.long_path = await benchLongPaths(started(b).project, log);
    },
  },
  {
    // Metrics and the access line per request, in-process (bench/lib/observability-cost.ts).
    name: 'observability',
    target: `metrics < ${TARGET_METRICS_CPU_US} µs CPU per request`,
    selected: () => true,
    run: async (b) => {
      const observability = await measureObservabilityCost();
      b.observability = observability;
      b.results.observability = observability;
      log(`  observability per request: ${JSON.stringify(observability)}`);
    },
  },
  {
    // Live auctions: 2,000 streams from a separate process, bids at a steady rate (bench/sse.ts).
    name: 'sse',
    target: 'p99 bid → event < 250 ms at 2,000 streams, < 25 MB RSS per 1,000 streams',
    run: async (b) => {
      b.results.sse = await benchSse(b.db.pool, started(b).project, log);
    },
  },
  {
    // last: the sales it adds would change the other scenarios' data
    name: 'estimate',
    target: 'reported: p50 and p99 of 400 sequential estimates at 100,000 sold cars',
    run: async (b) => {
      b.results.price_estimate = await benchEstimate(b.db.pool, started(b).project.url, log);
    },
  },
  {
    // Its own database: 10,000 saved searches, cars opened one at a time (bench/alerts.ts).
    name: 'alerts',
    target: `a car opening queues its alerts at 10,000 saved searches: p99 ≤ ${TARGET_ALERT_P99_MS} ms (p50 and p99 printed)`,
    run: async (b) => {
      b.results.alerts = await benchAlerts({
        adminUrl: process.env.BENCH_DATABASE_URL || DEFAULT_ADMIN_URL,
        projectDir: opts.projectDir,
        log,
      });
    },
  },
  {
    // Its own server and database, so its memory figure is its own (bench/photos.ts).
    name: 'photos',
    target: 'reported: time per 12 MP photo p50/p99, photos/s with 4 at once; peak RSS with 10 at once < 250 MB',
    run: async (b) => {
      b.results.photos = await benchPhotos({
        adminUrl: process.env.BENCH_DATABASE_URL || DEFAULT_ADMIN_URL,
        projectDir: opts.projectDir,
        log,
      });
    },
  },
  {
    // Its own database (100,000 cars, 1,000,000 bids) and server (bench/dealer-search.ts).
    name: 'dealer_search',
    target:
      `GET /api/cars, every filter alone × every sort: p99 ≤ ${TARGET_SEARCH_P99_MS} ms (with q ≤ ${TARGET_Q_P99_MS}); ` +
      `its facets p99 ≤ ${TARGET_FACETS_P99_MS} ms; no sequential scan of all cars for a selective filter`,
    run: async (b) => {
      const search: DealerSearchBench = await benchDealerSearch({
        adminUrl: process.env.BENCH_DATABASE_URL || DEFAULT_ADMIN_URL,
        projectDir: opts.projectDir,
        log,
      });
      b.results.dealer_search = search;
    },
  },
];

/** The smallest data set a scenario needs: seeded before anything runs. */
const firstDataSize = () => Math.min(opts.cars, ...(opts.scaling ? [opts.scalingSmall, opts.scalingLarge] : []));

/** Stable: scenarios of one data size keep the list's order. */
const inDataOrder = (list: BenchScenario[]) => [...list].sort((x, y) => (x.cars?.() ?? Infinity) - (y.cars?.() ?? Infinity));

let seeded = 0;
async function seed(b: Bench, to: number) {
  const ms = await growTo(b.db.pool, seeded, to, b.shape);
  seeded = to;
  const counts = await tableCounts(b.db.pool);
  if (ms > 0) log(`seeded to ${counts.cars} cars, ${counts.bids} bids, ${counts.favourites} favourites in ${(ms / 1000).toFixed(1)} s`);
  return counts;
}

/** The data at `cars` cars, and the cars the read scenarios sample there. */
async function dataAt(b: Bench, cars: number): Promise<void> {
  const counts = await seed(b, cars);
  if (cars === opts.cars) b.mainCounts = counts;
  b.carIds = await sampleCarIds(b.db.pool, 1000);
}

/** Its own database, migrated by the tree under test and seeded to the smallest size; Ctrl-C cleans up. */
async function setUp(): Promise<Bench> {
  const adminUrl = process.env.BENCH_DATABASE_URL || DEFAULT_ADMIN_URL;
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'kaggi-bench-'));
  const shape = { ...DEFAULT_SHAPE };
  const startedAt = new Date();
  const loadAtStart = load();
  log(
    `cars ${opts.cars} (bids ${opts.cars * shape.bidsPerCar}, favourites ${opts.cars * shape.favouritesPerCar}, ${shape.dealers} dealers); ` +
      `${opts.connections} connections; per scenario ${opts.warmup}s warm-up + ${opts.rounds} interleaved rounds, ${opts.duration}s in all, per server; ` +
      `project ${opts.projectDir}; logs in ${logDir}`,
  );
  if (loadAtStart[0] > os.cpus().length) {
    log(
      `note: load average ${loadAtStart.join(' ')} on ${os.cpus().length} cores — other work is running; absolute figures will be low, ratios hold better`,
    );
  }

  // the schema of the tree under test (--project-dir), by its own migrate()
  const { migrate } = (await import(pathToFileURL(path.join(opts.projectDir, 'src/db/migrate.ts')).href)) as { migrate: Migrate };
  const db = await createBenchDatabase(adminUrl, migrate);
  log(`database ${db.name} created and migrated`);
  const b: Bench = {
    db,
    postgres: '',
    shape,
    dealers: Array.from({ length: shape.dealers }, (_, i) => dealerEmail(i)),
    logDir,
    startedAt,
    loadAtStart,
    start: serverStarter(logDir),
    children: [],
    servers: null,
    rssIdle: { project_mb: 0, baseline_mb: 0, express_mb: 0 },
    carIds: [],
    mainCounts: undefined,
    results: {},
    roundTrips: [],
    starts: [],
    startMs: NaN,
    rows: [],
    scalingPoints: {},
    contention: {},
    accessLog: null,
    observability: null,
  };
  // Ctrl-C: stop the servers and drop the database before leaving
  const interrupted = (signal: NodeJS.Signals) => {
    log(`${signal}: cleaning up`);
    void Promise.allSettled(b.children.map((c) => c.stop()))
      .then(() => db.drop())
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  return b;
}

/** The three measured servers, warmed on every read path to be measured. */
async function startServers(b: Bench): Promise<void> {
  const project = await b.start('project', 'project', b.db.url, { profile: 'project' });
  b.children.push(project);
  const baseline = await b.start('baseline', 'baseline', b.db.url, { profile: 'bare' });
  b.children.push(baseline);
  const express = await b.start('express', 'express', b.db.url, { profile: 'express' });
  b.children.push(express);
  b.servers = { project, baseline, express };
  b.rssIdle = { project_mb: mb(project.rssAfterStart), baseline_mb: mb(baseline.rssAfterStart), express_mb: mb(express.rssAfterStart) };
  log(
    `project pid ${project.pid} on ${project.url} (${b.rssIdle.project_mb} MB after start), baseline pid ${baseline.pid} on ${baseline.url} (${b.rssIdle.baseline_mb} MB)`,
  );

  // JIT and connection pools warm on every read path before anything is measured,
  // or whichever scenario comes first (the small data-growth point) pays for it
  log('warming the servers on every read scenario to be measured');
  for (const s of readScenarios(await sampleCarIds(b.db.pool, 100), b.dealers).filter(
    (x) => !opts.only || opts.only.has(x.name) || (opts.scaling && x.name === 'cars_list'),
  )) {
    for (const t of [project, baseline, express]) {
      await fire({ url: t.url, connections: opts.connections, duration: Math.max(1, opts.warmup / 2), requests: s.requests() });
    }
  }
}

async function main(): Promise<void> {
  const b = await setUp();
  try {
    const { rows: v } = await b.db.pool.query<{ v: string }>(`SELECT current_setting('server_version') AS v`);
    b.postgres = v[0].v;
    await seed(b, firstDataSize());
    for (const check of CHECKS_BEFORE_LOAD) await check.run(b);
    await startServers(b);
    let at: number | undefined;
    for (const s of inDataOrder(SCENARIOS)) {
      // the data grows as a full run's does, whichever scenarios --only keeps
      const cars = s.cars?.();
      if (cars !== undefined && cars !== at) await dataAt(b, (at = cars));
      if (s.selected ? s.selected() : !opts.only || opts.only.has(s.name)) await s.run(b);
    }
    report(b);
  } finally {
    for (const c of b.children.reverse()) await c.stop().catch(() => undefined);
    await b.db.drop().catch((error: unknown) => console.error(`could not drop ${b.db.name}:`, error));
  }
  writeFileSync(opts.out, `${JSON.stringify(b.results, null, 2)}\n`);
  log(`wrote ${path.relative(process.cwd(), opts.out) || opts.out}; took ${Math.round((Date.now() - b.startedAt.getTime()) / 1000)} s`);
}

/** The table, the checks' verdicts and every figure into bench/results.json. */
function report(b: Bench): void {
  const { project, baseline, express: expressServer } = started(b);
  const { rows, contention, roundTrips, starts, startMs, accessLog, scalingPoints, mainCounts, startedAt, loadAtStart, shape } = b;
  const observability = b.observability;
  if (!observability) throw new Error('the observability cost was not measured');
  const rssIdle = b.rssIdle;
  const results = b.results;
  const logDir = b.logDir;
  const rss = {
    project_after_start_mb: rssIdle.project_mb,
    project_peak_under_load_mb: mb(project.peakRss()),
    project_vmhwm_mb: mb(project.hwm()),
    baseline_after_start_mb: rssIdle.baseline_mb,
    express_after_start_mb: rssIdle.express_mb,
    express_peak_under_load_mb: mb(expressServer.peakRss()),
    baseline_peak_under_load_mb: mb(baseline.peakRss()),
    baseline_vmhwm_mb: mb(baseline.hwm()),
  };
  const small = scalingPoints[String(opts.scalingSmall)];
  const large = scalingPoints[String(opts.scalingLarge)];
  const scaling =
    small && large
      ? {
          small_cars: small.cars,
          large_cars: large.cars,
          project_p50_small: small.project.p50,
          project_p50_large: large.project.p50,
          project_p50_ratio: ratio(large.project.p50, small.project.p50),
          project_cpu_ms_small: small.project.cpu_ms_per_request,
          project_cpu_ms_large: large.project.cpu_ms_per_request,
          project_rps_small: small.project.rps,
          project_rps_large: large.project.rps,
          baseline_p50_small: small.baseline.p50,
          baseline_p50_large: large.baseline.p50,
          baseline_p50_ratio: ratio(large.baseline.p50, small.baseline.p50),
          target: TARGET_SCALING,
          pass: ratio(large.project.p50, small.project.p50) <= TARGET_SCALING,
        }
      : null;

  const reads = rows.filter((r) => r.scenario !== 'bid_create');
  const bidRow = rows.find((r) => r.scenario === 'bid_create');
  const pointReads = reads.filter((r) => POINT_READS.has(r.scenario));
  const pc = contention.project;
  const rtRows = roundTrips.filter((r) => 'target_one_round_trip' in r);
  const alerts = results.alerts as AlertsBench | undefined;
  Object.assign(results, {
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      memory_gb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      postgres: b.postgres,
      load_average_at_start: loadAtStart,
      load_average_at_end: load(),
    },
    options: { ...opts, only: opts.only ? [...opts.only] : null, shape },
    data: mainCounts,
    scenarios: rows,
    bid_contention: contention,
    scaling,
    rss,
    start_ms: { runs: starts, median: startMs },
    access_log: accessLog,
    targets: {
      reads_at_least_0_9x_express: reads.length ? reads.every((r) => r.ratio_express >= TARGET_VS_EXPRESS) : null,
      reads_at_least_0_6x_bare: reads.length ? reads.every((r) => r.ratio >= TARGET_VS_BARE) : null,
      bid_at_least_0_8x_express: bidRow ? bidRow.ratio_express >= TARGET_BID_VS_EXPRESS : null,
      point_read_cpu_at_most_0_25_ms: pointReads.length
        ? pointReads.every((r) => r.project.cpu_ms_per_request <= TARGET_POINT_READ_CPU_MS)
        : null,
      cars_p50_large_within_1_5x_small: scaling ? scaling.pass : null,
      one_round_trip: rtRows.every((r) => r.target_one_round_trip),
      rss_after_start_below_100_mb: rss.project_after_start_mb < TARGET_RSS_AFTER_START_MB,
      peak_rss_below_150_mb: rss.project_peak_under_load_mb < TARGET_RSS_PEAK_MB,
      start_below_1500_ms: startMs < TARGET_START_MS,
      bids_none_lost_none_out_of_order_no_5xx: pc ? pc.ok : null,
      dealer_search: results.dealer_search ? (results.dealer_search as DealerSearchBench).pass : null,
      alert_queued_p99_at_most_100_ms: alerts ? alerts.pass : null,
    },
    logs: logDir,
  });

  console.log('');
  console.log(
    `Kaggi bench — ${os.cpus().length} cores, Node ${process.version}, PostgreSQL ${b.postgres}; ${JSON.stringify(mainCounts)}; ` +
      `${opts.connections} connections; load average ${loadAtStart.join(' ')} → ${load().join(' ')}`,
  );
  printTable(rows);
  console.log('');
  if (scaling) {
    console.log(
      `data growth: GET /api/cars?limit=50 p50 ${scaling.project_p50_small} ms at ${scaling.small_cars} cars → ${scaling.project_p50_large} ms at ` +
        `${scaling.large_cars} cars = ${scaling.project_p50_ratio}× (target ≤ ${TARGET_SCALING}: ${scaling.pass ? 'ok' : 'MISSED'}); ` +
        `cpu/req ${scaling.project_cpu_ms_small} → ${scaling.project_cpu_ms_large} ms; baseline p50 ${scaling.baseline_p50_small} → ${scaling.baseline_p50_large} ms`,
    );
  }
  for (const r of rtRows) {
    console.log(
      `round trips: ${pad(String(r.label), 34, true)} project ${r.project_round_trips}, baseline ${r.baseline_round_trips} ` +
        `(target 1: ${r.target_one_round_trip ? 'ok' : 'MISSED'})`,
    );
  }
  // the baseline's bid is deliberately simpler (no auction rules): only the reads must match
  const differ = roundTrips.filter((r) => !r.same_sql_as_baseline && r.scenario !== 'bid_create').map((r) => r.scenario);
  if (differ.length)
    console.log(`WARNING: the baseline's SQL differs from the project's for ${differ.join(', ')} (see round_trips in the results)`);
  const bodyDiffer = roundTrips.filter((r) => r.same_body_as_baseline === false).map((r) => r.scenario);
  if (bodyDiffer.length) console.log(`WARNING: the baseline answers differently from the project for ${bodyDiffer.join(', ')}`);
  else if (!differ.length)
    console.log('baseline equivalence: the same statements and the same response bodies as the project in every read scenario');
  else console.log('baseline equivalence: the same response bodies as the project in every read scenario');
  if (pc) {
    console.log(
      `bid contention: ${pc.accepted_201} accepted (201), ${pc.rejected_409} rejected (409), ${pc.responses_5xx} 5xx; ${pc.rows_from_run} rows; ` +
        `${pc.accepted_missing_from_db} lost; ${pc.out_of_order_pairs} out of order → ${pc.ok ? 'ok' : 'FAILED'}`,
    );
  }
  const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');
  console.log(
    `footprint: RSS after start ${rss.project_after_start_mb} MB (target < ${TARGET_RSS_AFTER_START_MB}: ${verdict(rss.project_after_start_mb < TARGET_RSS_AFTER_START_MB)}); ` +
      `peak under load ${rss.project_peak_under_load_mb} MB (target < ${TARGET_RSS_PEAK_MB}: ${verdict(rss.project_peak_under_load_mb < TARGET_RSS_PEAK_MB)}); ` +
      `start to listening ${startMs} ms on a migrated database (target < ${TARGET_START_MS}: ${verdict(startMs < TARGET_START_MS)}); ` +
      `baseline ${rss.baseline_after_start_mb} MB after start, ${rss.baseline_peak_under_load_mb} MB peak`,
  );
  if (accessLog) {
    console.log(
      `access log: ${accessLog.scenario} ${accessLog.info_rps} req/s with it, ${accessLog.warn_rps} without (${accessLog.rps_ratio}×); ` +
        `${accessLog.cpu_ms_per_line} ms CPU per line`,
    );
  }
  console.log(
    `metrics: ${observability.metrics_cpu_us_per_request} µs CPU per request (target < ${observability.metrics_target_us}: ${verdict(observability.metrics_pass)}); ` +
      `access line ${observability.access_line_cpu_us_before} µs CPU before (JSON.stringify, a write per line), ${observability.access_line_cpu_us_after} µs now ` +
      `(${observability.access_line_after_with_trace_id_cpu_us} µs with a trace id)`,
  );
  if (alerts) {
    console.log(
      `alerts: a car opening queues its alerts at ${alerts.searches} saved searches in p50 ${alerts.p50_ms} ms, p99 ${alerts.p99_ms} ms ` +
        `(target ≤ ${alerts.target_p99_ms}: ${verdict(alerts.pass)}); ${alerts.emails_per_opening} e-mails per opening`,
    );
  }
  console.log(`targets: ${JSON.stringify(results.targets)}`);
}

main().catch((error: unknown) => {
  console.error('bench failed:', error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
