import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSpec } from '../../src/api/spec.js';

/**
 * `ErrorCode` in the spec lists the codes of the error body's `error`, and ApiError accepts
 * only those (src/errors.ts), so the code cannot throw one the spec leaves out. This keeps the
 * other direction honest: every listed code is still written somewhere in src/, and each one
 * says when it is given.
 */

const schema = (loadSpec().document.components?.schemas as Record<string, unknown>).ErrorCode as {
  type: string;
  enum: string[];
  'x-enumDescriptions': Record<string, string>;
};

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
/** src/ without its comments, so a code only mentioned in prose does not count as used. */
const code = sources('src')
  .map((file) =>
    readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, ''),
  )
  .join('\n');

describe('ErrorCode (the spec) ↔ the codes src/ produces', () => {
  it('is an enum of strings that Error.error refers to', () => {
    expect(schema.type).toBe('string');
    expect(schema.enum.length).toBeGreaterThan(0);
    expect(new Set(schema.enum).size).toBe(schema.enum.length);
    const error = (loadSpec().document.components?.schemas as Record<string, { properties: { error: { $ref?: string } } }>).Error;
    expect(error.properties.error.$ref).toBe('#/components/schemas/ErrorCode');
  });

  it('lists no code that nothing in src/ uses', () => {
    const unused = schema.enum.filter((value) => !new RegExp(`(['"\`])${value}\\1`).test(code));
    expect(unused, 'codes in ErrorCode that src/ never writes: drop them from the spec').toEqual([]);
  });

  it('says in one line when each code is given', () => {
    expect(Object.keys(schema['x-enumDescriptions']).sort()).toEqual([...schema.enum].sort());
    for (const [value, description] of Object.entries(schema['x-enumDescriptions'])) {
      expect(description.trim(), value).not.toBe('');
      expect(description, value).not.toContain('\n');
    }
  });
});
