import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { configSchema, loadConfig } from '../../src/config.js';
import { CONFIG_DOCS_PATH, renderConfigDocs } from '../../scripts/config-docs.js';

/**
 * Configuration is documented once, in the `.describe()` of each variable in src/config.ts;
 * docs/configuration.md is rendered from it. These checks keep the two from drifting apart.
 */
describe('docs/configuration.md', () => {
  const shape = configSchema.shape as Record<string, z.ZodTypeAny>;

  it('every variable in src/config.ts has a description', () => {
    const missing = Object.entries(shape)
      .filter(([, t]) => !t.description?.trim())
      .map(([name]) => name);
    expect(missing).toEqual([]);
  });

  it('is what npm run docs:config writes (run it and commit the file when this fails)', () => {
    expect(readFileSync(CONFIG_DOCS_PATH, 'utf8')).toBe(renderConfigDocs());
  });

  it('lists every variable once, in the order of the schema', () => {
    const documented = [...readFileSync(CONFIG_DOCS_PATH, 'utf8').matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(documented).toEqual(Object.keys(shape));
  });

  it('gives each default as it would be written in the environment: setting it changes nothing', () => {
    const rows = [...renderConfigDocs().matchAll(/^\| `([A-Z0-9_]+)` \| `([^`]*)` \|/gm)];
    expect(rows.length).toBeGreaterThan(40);
    const unset = loadConfig({}) as Record<string, unknown>;
    for (const [, name, value] of rows) {
      const set = loadConfig({ [name]: value }) as Record<string, unknown>;
      expect(set[name], name).toEqual(unset[name]);
    }
  });

  it('shows no default for a variable that is unset unless given', () => {
    const unset = loadConfig({}) as Record<string, unknown>;
    const none = [...renderConfigDocs().matchAll(/^\| `([A-Z0-9_]+)` \| — \|/gm)].map((m) => m[1]);
    expect(none).toContain('DATABASE_URL');
    // Their default depends on NODE_ENV: AUTH_MODE must be chosen in production; LISTING_REQUIRES_PHONE is on there only.
    const dependsOnNodeEnv = new Set(['AUTH_MODE', 'LISTING_REQUIRES_PHONE']);
    for (const name of none) if (!dependsOnNodeEnv.has(name)) expect(unset[name], name).toBeUndefined();
    expect(loadConfig({ NODE_ENV: 'development' }).AUTH_MODE).toBe('off');
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/AUTH_MODE/);
  });
});
