import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Operation } from 'openapi-backend';
import { createAjv } from './ajv.js';

/**
 * Request validation compiled from the spec, per operation, on its first
 * request. The schemas have the shape openapi-backend validates against
 * (`{ requestBody }`, `{ path, query, header }`), so every error keeps its
 * `instancePath` (`/requestBody/email`, `/path/car_id`, …) and the 422's
 * `errors[]` its paths. Parameters are coerced from strings ("50" → 50), bodies
 * never ("100" is not 100).
 */

export type RequestParts = {
  path: Record<string, unknown>;
  query: Record<string, unknown>;
  header: Record<string, unknown>;
  body: unknown;
};

/** The parts as the handler gets them (coerced), or what is wrong with them. */
export type Validate = (parts: RequestParts) => ErrorObject[] | null;

type Parameter = {
  name: string;
  in: string;
  required?: boolean;
  schema?: Record<string, unknown>;
  content?: Record<string, { schema?: unknown }>;
};

const LOCATIONS = ['path', 'query', 'header'] as const;

export function createRequestValidators() {
  const bodyAjv = createAjv();
  // 'array': a repeatable parameter given once (`?make=Kia`) is a list of one
  const paramsAjv = createAjv({ coerceTypes: 'array' });

  return (
    operation: Operation,
  ): { validate: Validate; queryNames: string[]; headerNames: string[]; multipart: boolean; strictQuery: boolean } => {
    const parameters = (operation.parameters ?? []) as Parameter[];
    const unsupported = parameters.find((p) => !(LOCATIONS as readonly string[]).includes(p.in) || p.content);
    if (unsupported)
      throw new Error(`${operation.operationId}: parameter ${unsupported.name} in ${unsupported.in} is not supported by the router`);

    const paramsSchema = {
      type: 'object',
      additionalProperties: true,
      required: [] as string[],
      properties: Object.fromEntries(
        LOCATIONS.map((where) => {
          const own = parameters.filter((p) => p.in === where);
          const key = (p: Parameter) => (where === 'header' ? p.name.toLowerCase() : p.name);
          const required = own.filter((p) => p.required).map(key);
          return [
            where,
            {
              type: 'object',
              // unknown query parameters never get here (router.ts keeps the declared ones)
              additionalProperties: where === 'header',
              properties: Object.fromEntries(own.map((p) => [key(p), p.schema ?? {}])),
              required,
            },
          ];
        }),
      ),
    };
    paramsSchema.required = LOCATIONS.filter((where) => parameters.some((p) => p.in === where && p.required));

    const content = (operation.requestBody as { content?: Record<string, { schema?: unknown }>; required?: boolean } | undefined)?.content;
    const bodySchema = content?.['application/json']?.schema;
    const bodyRequired = (operation.requestBody as { required?: boolean } | undefined)?.required === true;

    let compiled: { params: ValidateFunction; body: ValidateFunction | null } | undefined;
    const validate: Validate = (parts) => {
      compiled ??= {
        params: paramsAjv.compile(paramsSchema),
        body: bodySchema
          ? bodyAjv.compile({
              type: 'object',
              additionalProperties: true,
              properties: { requestBody: bodySchema },
              required: bodyRequired ? ['requestBody'] : [],
            })
          : null,
      };
      const errors: ErrorObject[] = [];
      if (compiled.body && !compiled.body({ requestBody: parts.body })) errors.push(...(compiled.body.errors ?? []));
      // coerces parts.path and parts.query in place
      if (!compiled.params({ path: parts.path, query: parts.query, header: parts.header })) errors.push(...(compiled.params.errors ?? []));
      return errors.length > 0 ? errors : null;
    };
    return {
      validate,
      // The body of an upload is streamed by its handler (src/api/multipart.ts), not validated here.
      multipart: content?.['multipart/form-data'] !== undefined,
      queryNames: parameters.filter((p) => p.in === 'query').map((p) => p.name),
      // Opt-in per operation (`x-kaggi-strict-query: true`): an undeclared query parameter is a
      // 422 there, where a misspelt filter would otherwise silently widen the answer.
      strictQuery: (operation as { 'x-kaggi-strict-query'?: unknown })['x-kaggi-strict-query'] === true,
      headerNames: parameters.filter((p) => p.in === 'header').map((p) => p.name.toLowerCase()),
    };
  };
}
