/**
 * Writes docs/configuration.md from the zod schema in src/config.ts: one row per
 * variable with its default, what it accepts and its `.describe()` text. The schema
 * is the only place configuration is documented; this file only renders it.
 *
 *   npm run docs:config            write docs/configuration.md
 *   npm run docs:config -- --check exit 1 when docs/configuration.md is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { configSchema } from '../src/config.js';

export const CONFIG_DOCS_PATH = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));

/** The schema under the wrappers that do not change what a variable accepts. */
function inner(t: z.ZodTypeAny): z.ZodTypeAny {
  if (t instanceof z.ZodDefault) return inner(t._def.innerType);
  if (t instanceof z.ZodOptional) return inner(t._def.innerType);
  if (t instanceof z.ZodEffects) return inner(t._def.schema);
  // optionalText.pipe(check): the check on the right is what the value must pass.
  if (t instanceof z.ZodPipeline) return inner(t._def.out);
  return t;
}

/** The default as one would write it in the environment, or null when unset means "none". */
function defaultOf(t: z.ZodTypeAny): string | null {
  // A .default() anywhere in the chain holds the raw value (before any transform).
  for (let s: z.ZodTypeAny | undefined = t; s;) {
    if (s instanceof z.ZodDefault) return String(s._def.defaultValue());
    s = s instanceof z.ZodEffects ? s._def.schema : s instanceof z.ZodPipeline ? s._def.in : undefined;
  }
  // Otherwise (a transform that supplies the fallback, as `bool()` does): what unset parses to.
  const parsed = t.safeParse(undefined);
  if (!parsed.success || parsed.data === undefined) return null;
  return Array.isArray(parsed.data) ? parsed.data.join(',') : String(parsed.data);
}

function accepts(t: z.ZodTypeAny): string {
  const base = inner(t);
  if (base instanceof z.ZodEnum) return (base.options as string[]).map((o) => `\`${o}\``).join(', ');
  if (base instanceof z.ZodNumber) {
    // `.positive()` is an exclusive minimum of 0: for whole numbers, at least 1.
    let min: number | null = null;
    let max: number | null = null;
    for (const check of base._def.checks) {
      if (check.kind === 'min') min = check.inclusive ? check.value : check.value + 1;
      if (check.kind === 'max') max = check.inclusive ? check.value : check.value - 1;
    }
    const kind = base.isInt ? 'integer' : 'number';
    const upper = max !== null && max < Number.MAX_SAFE_INTEGER ? `–${max}` : '';
    return min !== null ? (upper ? `${kind} ${min}${upper}` : `${kind} ≥ ${min}`) : kind;
  }
  if (base instanceof z.ZodString) {
    if (base.isURL) return 'URL';
    if (base.isEmail) return 'e-mail address';
    const minLength = base.minLength;
    return minLength !== null ? `text, at least ${minLength} characters` : 'text';
  }
  return '';
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderConfigDocs(): string {
  const rows = Object.entries(configSchema.shape as Record<string, z.ZodTypeAny>).map(([name, t]) => {
    const description = t.description;
    if (!description) throw new Error(`${name} in src/config.ts has no .describe()`);
    const fallback = defaultOf(t);
    return `| \`${name}\` | ${fallback === null ? '—' : `\`${cell(fallback)}\``} | ${accepts(t)} | ${cell(description)} |`;
  });
  return [
    '# Configuration',
    '',
    '<!-- Generated from src/config.ts by `npm run docs:config`; edit the `.describe()` there, not this file. -->',
    '',
    'Every environment variable the server reads, parsed once at start-up by the zod schema in',
    '[`src/config.ts`](../src/config.ts). A bad value stops start-up with a message naming the',
    'variable; an empty value counts as unset. Only `DATABASE_URL` is needed in production (see',
    '[operations](operations.md)).',
    '',
    '| Variable | Default | Accepts | Meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const text = renderConfigDocs();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(CONFIG_DOCS_PATH, 'utf8');
    } catch {
      // a missing file is stale too
    }
    if (current !== text) {
      console.error('docs/configuration.md is stale: run npm run docs:config and commit it');
      process.exit(1);
    }
  } else {
    writeFileSync(CONFIG_DOCS_PATH, text);
    console.log(`wrote ${CONFIG_DOCS_PATH}`);
  }
}
