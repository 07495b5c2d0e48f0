import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError } from '../errors.js';
import { loadSpec } from '../api/spec.js';
import type { Handler } from '../api/types.js';

export const DOCS_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs-dist/index.html');

// The Redoc bundle is inlined (no CDN), so the page needs inline scripts,
// styles and blob: workers, but nothing from another host.
const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline' blob:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
].join('; ');

let page: string | undefined;

const getDocs: Handler<'getDocs'> = () => {
  try {
    page ??= readFileSync(DOCS_PATH, 'utf8');
  } catch {
    throw new ApiError(503, 'docs_not_built', 'The documentation page has not been built; run `npm run docs`');
  }
  return { status: 200, body: page, contentType: 'text/html; charset=utf-8', headers: { 'Content-Security-Policy': DOCS_CSP } };
};

const getOpenApiYaml: Handler<'getOpenApiYaml'> = () => ({
  status: 200,
  body: loadSpec().yaml,
  contentType: 'application/yaml; charset=utf-8',
});

const getOpenApiJson: Handler<'getOpenApiJson'> = () => ({
  status: 200,
  body: loadSpec().document as never,
});

export const docsHandlers = { getDocs, getOpenApiYaml, getOpenApiJson };
