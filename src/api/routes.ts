/**
 * Route matching for the spec's path templates, compiled once at start: one
 * regular expression per method holding every route of that method, most
 * specific first, so a request costs one `exec` (openapi-backend's matcher
 * builds a RegExp per operation on every request).
 *
 * The rules are openapi-backend's, so no request matches differently:
 * - a trailing slash is ignored (`/api/` is `/api`), the path is trimmed;
 * - a `{param}` matches one non-empty segment (`[^/]+`);
 * - among templates that match, the one with the most literal characters wins
 *   (`/api/cars/register` before `/api/cars/{car_id}`), ties in spec order;
 * - a path some route matches, but not with this method, is a 405; none, a 404.
 * The path given is already percent-decoded (router.ts); parameters are not decoded again.
 */

export type RouteSpec<T> = { method: string; path: string; value: T };

export type RouteMatch<T> =
  { kind: 'found'; value: T; params: Record<string, string> } | { kind: 'method_not_allowed' } | { kind: 'not_found' };

type Compiled<T> = { pattern: RegExp; routes: { value: T; names: string[]; group: number }[] };

const escapeRegExp = (literal: string) => literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const literalLength = (path: string) => path.replace(/\{[^}]*\}/g, '').length;

function compile<T>(routes: RouteSpec<T>[]): Compiled<T> {
  // stable: equal specificity keeps spec order
  const ordered = [...routes].sort((a, b) => literalLength(b.path) - literalLength(a.path));
  const parts: string[] = [];
  const compiled: Compiled<T>['routes'] = [];
  let group = 1;
  for (const route of ordered) {
    const names = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    const body = route.path
      .split(/\{[^}]+\}/)
      .map(escapeRegExp)
      .join('([^/]+)');
    // one marker group per route tells which alternative matched
    parts.push(`(${body}$)`);
    compiled.push({ value: route.value, names, group });
    group += 1 + names.length;
  }
  return { pattern: new RegExp(`^(?:${parts.join('|') || '(?!)'})`), routes: compiled };
}

export function normalisePath(path: string): string {
  let p = path.trim();
  if (!p.startsWith('/')) p = `/${p}`;
  let end = p.length;
  while (end > 1 && p[end - 1] === '/') end--;
  return p.slice(0, end);
}

export function compileRoutes<T>(routes: RouteSpec<T>[]): (method: string, path: string) => RouteMatch<T> {
  const byMethod = new Map<string, Compiled<T>>();
  for (const method of new Set(routes.map((r) => r.method.toLowerCase()))) {
    byMethod.set(method, compile(routes.filter((r) => r.method.toLowerCase() === method)));
  }
  const anyMethod = compile(routes);
  return (method, path) => {
    const normalised = normalisePath(path);
    const compiled = byMethod.get(method.toLowerCase());
    const m = compiled?.pattern.exec(normalised);
    if (compiled && m) {
      const route = compiled.routes.find((r) => m[r.group] !== undefined)!;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        params[name] = m[route.group + 1 + i];
      });
      return { kind: 'found', value: route.value, params };
    }
    return anyMethod.pattern.test(normalised) ? { kind: 'method_not_allowed' } : { kind: 'not_found' };
  };
}
