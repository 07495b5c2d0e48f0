/**
 * npm run bench:profile [-- --scenario car_get --requests 20000 --servers project,express,bare]
 *
 * Scenarios: the read scenarios of `npm run bench` (cars_list car_get car_bids
 * dealer_bids favorites dashboard) and bid_create (bids on one hot car, a car
 * of its own per server, amounts rising by the car's increment).
 * Where each server's CPU goes, per request: one scenario of `npm run bench`
 * on a fresh bench database, each server started with `node --cpu-prof`,
 * warmed, then a counted run of exactly --requests responses. The profile's
 * samples inside that run (marked on the shared monotonic clock) are summed by
 * package and by function and divided by the responses: µs per request, side
 * by side. Figures are wall-clock samples of the main thread (a sample that
 * waits in a syscall counts; GC helper threads do not), so the process CPU
 * per request from /proc is printed too.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Request } from 'autocannon';
import {
  activeCarId,
  createBenchDatabase,
  dealerEmail,
  DEFAULT_ADMIN_URL,
  DEFAULT_SHAPE,
  growTo,
  sampleCarIds,
  type Migrate,
} from './lib/db.js';
import { profileWindow, type ProfileWindow } from './lib/cpuprofile.js';
import { fire } from './lib/load.js';
import { startChild } from './lib/processes.js';
import { bidRequests, readScenarios, type BidTally } from './lib/scenarios.js';
import {
  BASELINE_ARGS,
  baselineEnv,
  EXPRESS_ARGS,
  expressEnv,
  projectArgs,
  projectEnv,
  projectStartEnv,
  withNodeFlags,
} from './lib/servers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'car_get' },
    requests: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '5000' },
    cars: { type: 'string', default: '10000' },
    connections: { type: 'string', default: '16' },
    pool: { type: 'string', default: '10' },
    servers: { type: 'string', default: 'project,express,bare' },
    top: { type: 'string', default: '25' },
    'server-node-options': { type: 'string', default: '' },
    'keep-profiles': { type: 'string' },
  },
});
const opts = {
  scenario: args.scenario,
  requests: Number(args.requests),
  warmup: Number(args.warmup),
  cars: Number(args.cars),
  connections: Number(args.connections),
  pool: Number(args.pool),
  servers: args.servers.split(','),
  top: Number(args.top),
  extra: args['server-node-options'] ? args['server-node-options'].trim().split(/\s+/) : [],
};

const { migrate } = (await import(pathToFileURL(path.join(ROOT, 'src/db/migrate.ts')).href)) as { migrate: Migrate };
const db = await createBenchDatabase(DEFAULT_ADMIN_URL, migrate);
const profileDir = args['keep-profiles'] ? path.resolve(args['keep-profiles']) : mkdtempSync(path.join(os.tmpdir(), 'kaggi-profile-'));
const logDir = mkdtempSync(path.join(os.tmpdir(), 'kaggi-profile-logs-'));
try {
  await growTo(db.pool, 0, opts.cars, DEFAULT_SHAPE);
  const dealers = Array.from({ length: DEFAULT_SHAPE.dealers }, (_, i) => dealerEmail(i));
  const reads = readScenarios(await sampleCarIds(db.pool, 100), dealers);
  // Each server bids on a car of its own; amounts rise by the car's increment across all connections.
  const bidsOnOwnCar = async (i: number): Promise<() => Request[]> => {
    const car = await activeCarId(db.pool, Math.ceil(opts.cars / 2) + 20 * i);
    const counter = { amount: car.highest, step: car.increment, n: 0 };
    const tally: BidTally = { statuses: {}, accepted: [] };
    return () => bidRequests(car.id, counter, tally);
  };
  const read = reads.find((s) => s.name === opts.scenario);
  if (!read && opts.scenario !== 'bid_create') throw new Error(`no scenario ${opts.scenario}`);
  const label = read?.label ?? 'POST /api/bids/create (hot car)';
  const servers: Record<string, { argv: string[]; env: Record<string, string> }> = {
    project: { argv: projectArgs(ROOT, opts.extra), env: { ...projectStartEnv(ROOT), ...projectEnv(db.url, opts.pool) } },
    express: { argv: EXPRESS_ARGS, env: expressEnv(db.url, opts.pool) },
    bare: { argv: BASELINE_ARGS, env: baselineEnv(db.url, opts.pool) },
  };
  const results: Array<{ name: string; window: ProfileWindow; responses: number; cpuUs: number }> = [];
  for (const [i, name] of opts.servers.entries()) {
    const requests = read ? read.requests : await bidsOnOwnCar(i);
    const dir = path.join(profileDir, name);
    rmSync(dir, { recursive: true, force: true });
    const child = await startChild({
      name,
      cwd: ROOT,
      args: withNodeFlags(servers[name].argv, ['--cpu-prof', `--cpu-prof-dir=${dir}`]),
      env: servers[name].env,
      logDir,
    });
    await fire({ url: child.url, connections: opts.connections, amount: opts.warmup, requests: requests() });
    const cpuBefore = child.cpuMs();
    const from = Number(process.hrtime.bigint() / 1000n);
    const run = await fire({ url: child.url, connections: opts.connections, amount: opts.requests, requests: requests() });
    const to = Number(process.hrtime.bigint() / 1000n);
    const cpuUs = (child.cpuMs() - cpuBefore) * 1000;
    await child.stop();
    const responses = Object.values(run.statuses).reduce((a, b) => a + b, 0);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`${name} wrote no profile`);
    results.push({ name, window: profileWindow(path.join(dir, file), from, to), responses, cpuUs });
    console.log(`${name}: ${responses} responses ${JSON.stringify(run.statuses)}`);
  }

  const perRequest = (r: (typeof results)[number], us: number) => us / r.responses;
  const fmt = (n: number | undefined) => (n === undefined ? '' : n.toFixed(1)).padStart(9);
  console.log(`\n${label}, ${opts.requests} requests, ${opts.connections} connections; µs per request (self time, main thread)`);
  console.log(`${'process CPU (/proc)'.padEnd(44)}${results.map((r) => fmt(perRequest(r, r.cpuUs))).join('')}`);
  console.log(`${'sampled busy'.padEnd(44)}${results.map((r) => fmt(perRequest(r, r.window.busyUs))).join('')}`);
  console.log(`${''.padEnd(44)}${results.map((r) => r.name.padStart(9)).join('')}`);
  const table = (pick: (w: ProfileWindow) => Map<string, number>) => {
    const keys = new Map<string, number>();
    for (const r of results) for (const [k, v] of pick(r.window)) keys.set(k, Math.max(keys.get(k) ?? 0, perRequest(r, v)));
    for (const [key] of [...keys].sort((a, b) => b[1] - a[1]).slice(0, opts.top)) {
      const cells = results.map((r) => {
        const v = pick(r.window).get(key);
        return fmt(v === undefined ? undefined : perRequest(r, v));
      });
      console.log(`${key.slice(0, 43).padEnd(44)}${cells.join('')}`);
    }
  };
  console.log('--- by package');
  table((w) => w.byPackage);
  console.log('--- by function');
  table((w) => w.byFunction);
  if (args['keep-profiles']) console.log(`\nprofiles in ${profileDir} (open in Chrome DevTools or speedscope)`);
} finally {
  await db.drop();
  if (!args['keep-profiles']) rmSync(profileDir, { recursive: true, force: true });
  rmSync(logDir, { recursive: true, force: true });
}
