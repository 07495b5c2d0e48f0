import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadSpec } from '../../src/api/spec.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

/**
 * openapi.yaml points into openapi/; what the server reads and serves is their bundle
 * (scripts/bundle-spec.mjs): one document whose every $ref is internal, every path in it.
 */

const externalRefs = (node: unknown, at = '#'): string[] => {
  if (Array.isArray(node)) return node.flatMap((n, i) => externalRefs(n, `${at}/${i}`));
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === '$ref' && typeof value === 'string' && !value.startsWith('#/') ? [`${at}: ${value}`] : externalRefs(value, `${at}/${key}`),
  );
};

describe('the bundled contract', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => app?.close());

  it('is whole: no reference to another file, every operation in it', () => {
    const doc = loadSpec().document as unknown as { paths: Record<string, Record<string, { operationId?: string }>> };
    expect(externalRefs(doc)).toEqual([]);
    const operations = Object.values(doc.paths).flatMap((item) => Object.values(item).filter((op) => op?.operationId));
    expect(operations.length).toBeGreaterThanOrEqual(47);
  });

  it('is what GET /openapi.json and GET /openapi.yaml serve', async () => {
    const json = await app.request('GET', '/openapi.json');
    expect(json.status).toBe(200);
    expect(json.body).toEqual(loadSpec().document);
    const yaml = await app.request('GET', '/openapi.yaml');
    expect(yaml.status).toBe(200);
    expect(parse(yaml.text)).toEqual(loadSpec().document);
  });
});
