import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * How the bench starts the three servers: the project exactly as `npm start`
 * does, and the two baselines. Shared by `npm run bench` and `npm run bench:profile`.
 */

/** Rate limits are on in the measured configuration (memory store), with a ceiling the load never reaches. */
export const UNREACHED_LIMIT_PER_MINUTE = '100000000';
export const BASELINE_ARGS = ['--import', 'tsx', 'bench/baseline.ts'];
export const EXPRESS_ARGS = ['--import', 'tsx', 'bench/express-baseline.ts'];

const ASSIGNMENTS = /^(?:[A-Z_][A-Z0-9_]*=\S*\s+)*/;

const startScript = (dir: string) =>
  (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start;

/** The variables package.json's start script sets before its node command (MALLOC_ARENA_MAX), as the server gets them. */
export function projectStartEnv(dir: string): Record<string, string> {
  const words = (ASSIGNMENTS.exec(startScript(dir))?.[0] ?? '').trim().split(/\s+/).filter(Boolean);
  return Object.fromEntries(words.map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
}

/**
 * The node arguments of package.json's start script (compiled JavaScript,
 * built first when stale), with `extra` node flags before the script: on the
 * command line, since NODE_OPTIONS refuses some (--cpu-prof). An older tree
 * whose start script is not plain node runs its src/server.ts through tsx.
 */
export function projectArgs(dir: string, extra: string[] = []): string[] {
  // The variables it sets (projectStartEnv) and `exec` (the shell hands its pid to node, so a
  // supervisor's signal reaches it) are not part of the node command.
  const start = startScript(dir)
    .replace(ASSIGNMENTS, '')
    .replace(/^exec\s+/, '');
  if (!/^node\s/.test(start)) return ['--import', 'tsx', ...extra, 'src/server.ts'];
  const build = path.join(dir, 'scripts/build.mjs');
  if (existsSync(build)) execFileSync(process.execPath, [build, '--if-stale'], { cwd: dir, stdio: 'inherit' });
  const argv = start.trim().split(/\s+/).slice(1);
  return [...argv.slice(0, -1), ...extra, ...argv.slice(-1)];
}

/** node flags placed before the script (the last argument). */
export function withNodeFlags(argv: string[], flags: string[]): string[] {
  return [...argv.slice(0, -1), ...flags, ...argv.slice(-1)];
}

/** The configuration users run: production, access log at info, metrics, validation, rate limits (memory store) on. */
export function projectEnv(databaseUrl: string, pool: number): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    RATE_LIMIT_ENABLED: 'true',
    RATE_LIMIT_STORE: 'memory',
    RATE_LIMIT_GLOBAL_PER_MINUTE: UNREACHED_LIMIT_PER_MINUTE,
    // the price estimate has a limit of its own (bench/estimate.ts sends 400 requests)
    RATE_LIMIT_ESTIMATE_PER_HOUR: UNREACHED_LIMIT_PER_MINUTE,
    AUTH_MODE: 'off',
    // loopback clients stand in for a crowd behind one proxy (bench/sse.ts gives each stream its own X-Forwarded-For)
    TRUST_PROXY_HOPS: '1',
    DATABASE_URL: databaseUrl,
    DB_POOL_MAX: String(pool),
    // Metrics are recorded (as where an operator scrapes them); a tree without /metrics ignores it.
    METRICS_TOKEN: 'bench-metrics-token-not-secret',
  };
}

export function baselineEnv(databaseUrl: string, pool: number): Record<string, string> {
  return { DATABASE_URL: databaseUrl, DB_POOL_MAX: String(pool) };
}

export function expressEnv(databaseUrl: string, pool: number): Record<string, string> {
  return { ...baselineEnv(databaseUrl, pool), LOG_LEVEL: 'info', RATE_LIMIT_GLOBAL_PER_MINUTE: UNREACHED_LIMIT_PER_MINUTE };
}
