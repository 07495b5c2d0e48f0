import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSpec } from '../../src/api/spec.js';

/**
 * "One file per tag, named for it": every operation tagged `<tag>` is served by
 * src/handlers/<tag>.ts, and each handler file serves exactly the operations of its tag,
 * so the spec → handler hop of the README holds without exception.
 */

const HANDLERS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/handlers');
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

type Operation = { operationId?: string; tags?: string[] };
const spec = loadSpec().document as unknown as { paths: Record<string, Record<string, Operation>>; tags: { name: string }[] };

const byTag = new Map<string, string[]>();
for (const item of Object.values(spec.paths)) {
  for (const method of METHODS) {
    const op = item[method];
    if (!op?.operationId) continue;
    expect(op.tags, `${op.operationId} has exactly one tag`).toHaveLength(1);
    const tag = op.tags![0];
    byTag.set(tag, [...(byTag.get(tag) ?? []), op.operationId]);
  }
}

const files = readdirSync(HANDLERS_DIR)
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts')
  .map((f) => f.replace(/\.ts$/, ''));

/** The operationIds a handler file binds: the keys of the handler map(s) it exports. */
async function servedBy(file: string): Promise<string[]> {
  const module = (await import(path.join(HANDLERS_DIR, `${file}.ts`))) as Record<string, unknown>;
  return Object.entries(module)
    .filter(([name, value]) => name.endsWith('Handlers') && value && typeof value === 'object')
    .flatMap(([, value]) => Object.keys(value as object));
}

describe('handler files and spec tags', () => {
  it('has a handler file for every tag and a tag for every handler file', () => {
    expect([...byTag.keys()].sort()).toEqual([...files].sort());
    expect(spec.tags.map((t) => t.name).sort()).toEqual([...files].sort());
  });

  it.each([...byTag.keys()])('src/handlers/%s.ts serves exactly the operations tagged so', async (tag) => {
    expect((await servedBy(tag)).sort()).toEqual(byTag.get(tag)!.sort());
  });
});
