import type { ErrorObject } from 'ajv';
import type { FieldError } from '../errors.js';

const LOCATION: Record<string, string> = { requestBody: 'body', path: 'path', query: 'query', header: 'header' };

function toFieldError(error: ErrorObject): FieldError {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (segments.length > 0) segments[0] = LOCATION[segments[0]] ?? segments[0];
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty?: string }).missingProperty;
    if (segments.length === 0) segments.push(missing === 'requestBody' ? 'body' : (missing ?? ''));
    else if (missing) segments.push(missing);
  }
  const at = segments.join('.') || 'body';
  const message = error.keyword === 'required' ? 'is required' : (error.message ?? 'is invalid');
  return { path: at, message: `${at} ${message}` };
}

/**
 * A body that may take one of several shapes (`oneOf`) fails every branch;
 * listing all of them buries the one mistake the client made. Report only
 * the branch that came closest, i.e. with the fewest errors.
 */
function closestBranch(errors: ErrorObject[]): ErrorObject[] {
  const branchOf = (e: ErrorObject) => /^(.*\/oneOf\/\d+)\//.exec(e.schemaPath)?.[1];
  const branches = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    const b = branchOf(e);
    if (b) branches.set(b, [...(branches.get(b) ?? []), e]);
  }
  if (branches.size === 0) return errors;
  const [best] = [...branches.values()].sort((a, b) => a.length - b.length);
  return errors.filter((e) => e.keyword !== 'oneOf' && (!branchOf(e) || best.includes(e)));
}

export function fieldErrors(errors: ErrorObject[] | null | undefined): FieldError[] {
  const unique = new Map<string, FieldError>();
  for (const fe of closestBranch(errors ?? [])
    .filter((e) => e.keyword !== 'if')
    .map(toFieldError)) {
    unique.set(fe.message, fe);
  }
  return [...unique.values()];
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** No body of this API needs more; deeper JSON only breaks recursive code (stringifiers, hashing). */
export const MAX_JSON_DEPTH = 64;
/** Deeper than this, a problem is reported at the path of its ancestor (paths stay short). */
const MAX_PATH_DEPTH = 16;

function badString(s: string): string | undefined {
  if (s.includes('\u0000')) return 'must not contain a NUL character (\\u0000)';
  if (LONE_SURROGATE.test(s)) return 'must be well-formed Unicode (it has a lone surrogate)';
  return undefined;
}

/**
 * What JSON Schema does not say but the server insists on, anywhere in a
 * value (unknown fields included): text holds no NUL character and only
 * well-formed Unicode (PostgreSQL refuses NUL; a lone surrogate would be
 * stored as U+FFFD, and jsonb refuses it), a number JSON.parse made
 * ±Infinity of (1e400) is no number, and nesting stops at MAX_JSON_DEPTH
 * (Slonik's JSON serialiser and the idempotency hash recurse). Walks without
 * recursion itself, so any depth the body limit allows is safe to look at.
 * Returns at most 10 problems.
 */
export function unacceptableValues(value: unknown, root: string): FieldError[] {
  const errors: FieldError[] = [];
  const stack: [unknown, string, number][] = [[value, root, 0]];
  while (stack.length > 0 && errors.length < 10) {
    const [v, at, depth] = stack.pop()!;
    if (typeof v === 'string') {
      const why = badString(v);
      if (why) errors.push({ path: at, message: `${at} ${why}` });
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) errors.push({ path: at, message: `${at} is not a finite number` });
    } else if (v !== null && typeof v === 'object') {
      if (depth >= MAX_JSON_DEPTH) {
        errors.push({ path: at, message: `${at} is nested more than ${MAX_JSON_DEPTH} levels deep` });
        continue;
      }
      for (const [key, child] of Object.entries(v)) {
        const why = badString(key);
        if (why) errors.push({ path: at, message: `${at} has a property name that ${why}` });
        stack.push([child, depth < MAX_PATH_DEPTH ? `${at}.${key}` : at, depth + 1]);
      }
    }
  }
  return errors;
}
