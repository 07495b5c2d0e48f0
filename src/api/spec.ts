import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Document } from 'openapi-backend';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SPEC_PATH = path.resolve(here, '../../openapi.yaml');
/**
 * `npm run build` writes the spec as JSON beside the compiled code
 * (dist/openapi.json): a compiled server reads that instead of parsing 135 kB
 * of YAML at every start, and never loads the YAML parser. Run from source
 * (tests, `npm run dev`) there is no such file and the YAML is parsed.
 */
export const SPEC_JSON_PATH = path.resolve(here, '../openapi.json');

let cached: { yaml: string; document: Document; json: string } | undefined;

const mtime = (file: string) => statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? -1;

/** The contract, read once per process; every consumer shares the same parsed copy. */
export function loadSpec(): { yaml: string; document: Document; json: string } {
  if (!cached) {
    const yaml = readFileSync(SPEC_PATH, 'utf8');
    if (mtime(SPEC_JSON_PATH) >= mtime(SPEC_PATH)) {
      const json = readFileSync(SPEC_JSON_PATH, 'utf8');
      cached = { yaml, document: JSON.parse(json) as Document, json };
    } else {
      const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
      const document = parse(yaml) as Document;
      cached = { yaml, document, json: JSON.stringify(document) };
    }
  }
  return cached;
}
