import { execFile } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { SPEC_PATH } from '../api/spec.js';
import { DOCS_PATH } from '../handlers/docs.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const mtime = (file: string) => {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
};

/** Redoc page from openapi.yaml, self-contained (`--inlineBundle`): the docs load no CDN. */
export async function buildDocs(): Promise<void> {
  mkdirSync(path.dirname(DOCS_PATH), { recursive: true });
  await promisify(execFile)(
    path.join(ROOT, 'node_modules/.bin/redocly'),
    ['build-docs', SPEC_PATH, '--inlineBundle', '--title', 'Kaggi API', '-o', DOCS_PATH],
    { cwd: ROOT, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } },
  );
}

export async function buildDocsIfStale(): Promise<boolean> {
  if (mtime(DOCS_PATH) >= mtime(SPEC_PATH)) return false;
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
