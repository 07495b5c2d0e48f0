#!/usr/bin/env node
// Compiles src/ to dist/ (tsc -p tsconfig.build.json), bundles the contract (dist/openapi.yaml,
// dist/openapi.json: scripts/bundle-spec.mjs) and builds the docs page.
//   node scripts/build.mjs            always compile
//   node scripts/build.mjs --if-stale compile only when dist/ is missing or older than the sources
// Plain JavaScript with no dependencies but the bundler's: it has to run before anything is compiled.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { specSources, writeBundle } from './bundle-spec.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stamp = path.join(root, 'dist/.build-stamp');
const sources = ['src', 'generated', 'tsconfig.json', 'tsconfig.build.json'].map((p) => path.join(root, p));

function newest(file) {
  if (!existsSync(file)) return 0;
  const stat = statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(file).map((name) => newest(path.join(file, name))));
}

// The contract's files: the compiled server reads their bundle (dist/openapi.json, src/api/spec.ts).
sources.push(...specSources(root));

const stale = () => !existsSync(stamp) || statSync(stamp).mtimeMs < Math.max(...sources.map(newest));

function run(args) {
  execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
}

if (!process.argv.includes('--if-stale') || stale()) {
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  if (!existsSync(tsc)) {
    console.error('dist/ is missing or older than src/, and TypeScript is not installed: run `npm ci && npm run build`.');
    process.exit(1);
  }
  console.log('compiling src/ to dist/');
  run([tsc, '-p', 'tsconfig.build.json']);
  await writeBundle();
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}
// The docs page is rebuilt only when the bundled contract changed (a production image ships it built).
run([path.join(root, 'dist/cli/build-docs.js')]);
