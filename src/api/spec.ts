import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Document } from 'openapi-backend';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../..');
/** The contract's entry; it points into openapi/ (paths, schemas and responses by tag). */
export const SPEC_PATH = path.join(ROOT, 'openapi.yaml');
/**
 * The whole contract as one document (scripts/bundle-spec.mjs, `npm run bundle`), in YAML
 * and JSON. Everything reads this bundle, never the entry: the compiled server (which so
 * needs no YAML parser and no file resolution at start), the tests, the docs page.
 */
export const BUNDLE_YAML_PATH = path.join(ROOT, 'dist/openapi.yaml');
export const BUNDLE_JSON_PATH = path.join(ROOT, 'dist/openapi.json');

/**
 * Run from source (tests, `npm run dev`, tsx scripts) the bundle is rebuilt when the spec's
 * files are newer than it; the compiled server reads the one `npm run build` wrote (a
 * production image has no bundler).
 */
export function ensureBundle(): void {
  if (!import.meta.url.endsWith('.ts')) return;
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/bundle-spec.mjs'), '--if-stale', '--quiet'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

let cached: { yaml: string; document: Document; json: string } | undefined;

/** The bundled contract, read once per process; every consumer shares the same parsed copy. */
export function loadSpec(): { yaml: string; document: Document; json: string } {
  if (!cached) {
    ensureBundle();
    let yaml: string;
    let json: string;
    try {
      yaml = readFileSync(BUNDLE_YAML_PATH, 'utf8');
      json = readFileSync(BUNDLE_JSON_PATH, 'utf8');
    } catch (error) {
      throw new Error(`the bundled contract (dist/openapi.json) is missing: run \`npm run build\``, { cause: error });
    }
    cached = { yaml, document: JSON.parse(json) as Document, json };
  }
  return cached;
}
