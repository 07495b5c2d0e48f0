import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { Document } from 'openapi-backend';

export const SPEC_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../openapi.yaml');

let cached: { yaml: string; document: Document; json: string } | undefined;

/** The contract, read once per process; every consumer shares the same parsed copy. */
export function loadSpec(): { yaml: string; document: Document; json: string } {
  if (!cached) {
    const yaml = readFileSync(SPEC_PATH, 'utf8');
    const document = parse(yaml) as Document;
    cached = { yaml, document, json: JSON.stringify(document) };
  }
  return cached;
}
