import type { ValidateFunction } from 'ajv';
import { createAjv } from '../../src/api/ajv.js';
import { loadSpec } from '../../src/api/spec.js';

/**
 * Reads openapi.yaml for the hostile-input sweep: every operation with its
 * parameters and body schema, a valid example body built from the schemas'
 * `examples`, and validators that say whether a given body or parameter
 * value is one the contract accepts (the oracle: only those may get a 2xx).
 */

type Schema = Record<string, any>;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

const spec = loadSpec().document as unknown as {
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, Schema>; parameters?: Record<string, any>; requestBodies?: Record<string, any> };
};

export function resolve<T = Schema>(node: any): T {
  let current = node;
  while (current && typeof current === 'object' && typeof current.$ref === 'string') {
    const pointer = current.$ref.replace(/^#\//, '').split('/');
    current = pointer.reduce((o: any, key: string) => o?.[key.replaceAll('~1', '/').replaceAll('~0', '~')], spec);
  }
  return current as T;
}

export type Param = { name: string; in: 'path' | 'query' | 'header'; required: boolean; schema: Schema };

export type Operation = {
  operationId: string;
  method: string;
  path: string;
  params: Param[];
  body?: { schema: Schema; required: boolean };
  /** Its security alternatives (or the spec's default): each the scheme names it needs, `[]` for none. */
  security: string[][];
  /** Only X-Admin-Key opens it (every security alternative needs AdminKey). */
  adminOnly: boolean;
  responses: string[];
};

export function operations(): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p: any) => {
        const r = resolve<any>(p);
        return { name: r.name, in: r.in, required: Boolean(r.required), schema: resolve(r.schema ?? {}) };
      });
      const rb = op.requestBody ? resolve<any>(op.requestBody) : undefined;
      const jsonSchema = rb?.content?.['application/json']?.schema;
      const security: Record<string, unknown>[] | undefined = op.security ?? (spec as any).security;
      out.push({
        operationId: op.operationId,
        method: method.toUpperCase(),
        path,
        params,
        body: jsonSchema ? { schema: jsonSchema, required: Boolean(rb.required) } : undefined,
        security: (security ?? []).map((alternative) => Object.keys(alternative)),
        adminOnly: Array.isArray(security) && security.length > 0 && security.every((s) => Object.keys(s).includes('AdminKey')),
        responses: Object.keys(op.responses ?? {}),
      });
    }
  }
  return out;
}

/** The object schema a body is checked against: properties merged over allOf and the first oneOf branch. */
export function objectShape(schema: Schema): { properties: Record<string, Schema>; required: string[] } {
  const s = resolve(schema);
  const properties: Record<string, Schema> = {};
  const required = new Set<string>();
  const visit = (node: Schema) => {
    const n = resolve(node);
    for (const [k, v] of Object.entries(n.properties ?? {})) if (v !== false) properties[k] = resolve(v as Schema);
    for (const r of n.required ?? []) required.add(r);
    for (const part of n.allOf ?? []) visit(part);
    if (n.oneOf?.[0]) visit(n.oneOf[0]);
    // `anyOf: [{required: [a]}, {required: [b]}]`: the first alternative is what the example uses.
    if (n.anyOf?.[0]) visit(n.anyOf[0]);
  };
  visit(s);
  return { properties, required: [...required] };
}

/** A value the schema accepts, from `examples`/`example`/`enum`/`const`, or built from the type. */
export function exampleOf(node: Schema, name = ''): unknown {
  const s = resolve(node);
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.examples) && s.examples.length) return structuredClone(s.examples[0]);
  if (s.example !== undefined) return structuredClone(s.example);
  if (Array.isArray(s.enum)) return s.enum.find((v: unknown) => v !== null);
  if (s.default !== undefined) return s.default;
  if (s.oneOf) return exampleOf(s.oneOf[0], name);
  if (s.anyOf) return exampleOf(s.anyOf.find((b: Schema) => resolve(b).type !== 'null') ?? s.anyOf[0], name);
  const type = Array.isArray(s.type) ? s.type.find((t: string) => t !== 'null') : s.type;
  if (type === 'object' || s.properties || s.allOf) {
    const { properties, required } = objectShape(s);
    return Object.fromEntries(required.map((k) => [k, exampleOf(properties[k] ?? {}, k)]));
  }
  if (type === 'array') return [];
  if (type === 'integer' || type === 'number') return Math.max(1, s.minimum ?? 1);
  if (type === 'boolean') return true;
  if (type === 'string') {
    if (s.format === 'email') return 'jon@example.is';
    if (s.format === 'uuid') return '6f1e2d3c-4b5a-4978-8a1b-2c3d4e5f6a7b';
    if (s.format === 'date-time') return new Date().toISOString();
    return 'x'.repeat(Math.max(1, s.minLength ?? 1));
  }
  return `example-${name}`;
}

const ajv = createAjv();
// A parameter arrives as text; a repeatable one (style form, explode) given once is a list of
// one, as OpenAPI reads `?make=Kia`.
const coercing = createAjv({ coerceTypes: 'array' });
const bodyValidators = new Map<string, ValidateFunction>();

/** Body schemas reference `#/components/...`: compile them with the components next to them. */
function withComponents(schema: Schema): Schema {
  return { ...schema, components: spec.components };
}

/** Does the contract accept this body (as the server's Ajv judges it: no coercion)? */
export function bodyIsValid(op: Operation, body: unknown): boolean {
  if (!op.body) return body === undefined;
  let validate = bodyValidators.get(op.operationId);
  if (!validate) {
    validate = ajv.compile(withComponents(op.body.schema));
    bodyValidators.set(op.operationId, validate);
  }
  if (body === undefined) return !op.body.required;
  try {
    return validate(body);
  } catch (error) {
    // Too deep to even validate: not something the contract can be said to accept.
    if (error instanceof RangeError) return false;
    throw error;
  }
}

/** Does the contract accept this (already decoded) parameter value? Parameters are coerced like openapi-backend does. */
const paramValidators = new Map<Param, ValidateFunction>();
export function paramIsValid(param: Param, value: unknown): boolean {
  let validate = paramValidators.get(param);
  if (!validate) {
    validate = coercing.compile(withComponents({ type: 'object', properties: { v: param.schema }, required: ['v'] }));
    paramValidators.set(param, validate);
  }
  return validate({ v: value });
}

export const errorSchema = spec.components.schemas.Error;
export function errorValidator(): ValidateFunction {
  return ajv.compile(withComponents(errorSchema));
}
