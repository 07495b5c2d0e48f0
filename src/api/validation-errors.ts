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
  for (const fe of closestBranch(errors ?? []).filter((e) => e.keyword !== 'if').map(toFieldError)) {
    unique.set(fe.message, fe);
  }
  return [...unique.values()];
}
