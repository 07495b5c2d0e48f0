import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { BUNDLE_YAML_PATH, ensureBundle } from '../api/spec.js';
import { DOCS_PATH } from '../handlers/docs.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const mtime = (file: string) => {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
};

/** Redoc page from the bundled contract, self-contained (`--inlineBundle`): the docs load no CDN. */
export async function buildDocs(): Promise<void> {
  ensureBundle();
  mkdirSync(path.dirname(DOCS_PATH), { recursive: true });
  await promisify(execFile)(
    path.join(ROOT, 'node_modules/.bin/redocly'),
    ['build-docs', BUNDLE_YAML_PATH, '--inlineBundle', '--title', 'Kaggi API', '-o', DOCS_PATH],
    { cwd: ROOT, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } },
  );
  // Redoc's sidebar credit loads its logo from a CDN, with no option to turn it
  // off; the page must load nothing from another host, so it gets an inline image.
  // An empty inline icon also spares the browser a /favicon.ico request (a 404).
  const page = readFileSync(DOCS_PATH, 'utf8')
    .replace(/https:\/\/cdn\.redoc\.ly\/redoc\/logo-mini(?:-full)?\.svg/g, BLANK_SVG)
    .replace(/<head>/i, '<head><link rel="icon" href="data:,">');
  writeFileSync(DOCS_PATH, page);
}

const BLANK_SVG = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E";

export async function buildDocsIfStale(): Promise<boolean> {
  // stale when the spec or this build step changed since the page was written
  ensureBundle();
  if (mtime(DOCS_PATH) >= Math.max(mtime(BUNDLE_YAML_PATH), mtime(fileURLToPath(import.meta.url)))) return false;
  await buildDocs();
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const force = process.argv.includes('--force');
  (force ? buildDocs().then(() => true) : buildDocsIfStale())
    .then((built) => console.log(built ? `docs written to ${path.relative(ROOT, DOCS_PATH)}` : 'docs are up to date'))
    .catch((error: unknown) => {
      console.error('docs build failed:', error instanceof Error ? error.message : error);
      process.exit(1);
    });
}
