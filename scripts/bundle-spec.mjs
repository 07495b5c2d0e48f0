#!/usr/bin/env node
// The contract as one document. openapi.yaml is the entry and points into openapi/ (paths,
// schemas and responses by tag); `redocly bundle` resolves those files into one document,
// written as dist/openapi.yaml and dist/openapi.json. Everything that reads the contract reads
// this bundle: the server (src/api/spec.ts), the docs page, Prism, openapi-typescript, the tests.
//   node scripts/bundle-spec.mjs             always bundle
//   node scripts/bundle-spec.mjs --if-stale  only when openapi.yaml or a file under openapi/ is newer
// Needs @redocly/cli (a dev dependency): a production image ships the bundle `npm run build` wrote.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ENTRY = path.join(ROOT, 'openapi.yaml');
export const BUNDLE_YAML = path.join(ROOT, 'dist/openapi.yaml');
export const BUNDLE_JSON = path.join(ROOT, 'dist/openapi.json');

/** The files the bundle is made of: the entry and everything under openapi/. */
export function specSources(root = ROOT) {
  const walk = (dir) =>
    existsSync(dir)
      ? readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
          e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)],
        )
      : [];
  return [path.join(root, 'openapi.yaml'), ...walk(path.join(root, 'openapi'))];
}

const mtime = (file) => statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? -1;

export function bundleIsStale() {
  return Math.min(mtime(BUNDLE_YAML), mtime(BUNDLE_JSON)) < Math.max(...specSources().map(mtime));
}

/** The bundled document of the entry `entry` (a single-file spec comes back as it is), as YAML text. */
export function bundleText(entry) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kaggi-bundle-'));
  try {
    const out = path.join(dir, 'openapi.yaml');
    execFileSync(path.join(ROOT, 'node_modules/.bin/redocly'), ['bundle', entry, '-o', out], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    return readFileSync(out, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Bundles openapi.yaml into dist/; each file is renamed into place whole, so a reader never sees half of one. */
export async function writeBundle() {
  const { parse } = await import('yaml');
  const yaml = bundleText(ENTRY);
  const json = JSON.stringify(parse(yaml));
  mkdirSync(path.dirname(BUNDLE_YAML), { recursive: true });
  for (const [file, text] of [
    [BUNDLE_YAML, yaml],
    [BUNDLE_JSON, json],
  ]) {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes('--if-stale') || bundleIsStale()) {
    await writeBundle();
    if (!process.argv.includes('--quiet'))
      console.log(`bundled openapi.yaml and openapi/ into ${path.relative(ROOT, BUNDLE_YAML)} and .json`);
  }
}
