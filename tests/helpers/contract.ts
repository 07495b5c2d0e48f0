import { OpenAPIBackend } from 'openapi-backend';
import type { ValidateFunction } from 'ajv';
import { createAjv } from '../../src/api/ajv.js';
import { loadSpec } from '../../src/api/spec.js';

/**
 * Judges every response a test receives against openapi.yaml: the status must
 * be one the operation declares, and a JSON body must match that response's
 * schema. Unknown routes must answer the shared Error schema.
 */
const api = new OpenAPIBackend({ definition: structuredClone(loadSpec().document), apiRoot: '/', validate: false });
api.validateDefinition = () => api.document;
const ready = api.init();
const ajv = createAjv();
const compiled = new Map<string, ValidateFunction>();

function compile(key: string, schema: object): ValidateFunction {
  let fn = compiled.get(key);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(key, fn);
  }
  return fn;
}

export type Checked = { operationId: string | null };

export async function assertMatchesSpec(
  method: string,
  path: string,
  status: number,
  contentType: string | null,
  body: unknown,
): Promise<Checked> {
  await ready;
  const operation = api.matchOperation({ method, path: path.split('?')[0], headers: {} });
  const schemas = (api.document as { components: { schemas: Record<string, object> } }).components.schemas;
  if (!operation) {
    const validate = compile('#Error', schemas.Error);
    if (!validate(body)) throw new Error(`${method} ${path} → ${status}: body is not the Error schema: ${ajv.errorsText(validate.errors)}`);
    if (![404, 405, 400, 414].includes(status)) throw new Error(`${method} ${path}: unexpected status ${status} for an unknown route`);
    return { operationId: null };
  }
  const responses = (operation.responses ?? {}) as Record<string, { content?: Record<string, { schema?: object }> }>;
  const declared = responses[String(status)] ?? responses.default;
  if (!declared) {
    throw new Error(
      `${operation.operationId}: status ${status} is not declared in openapi.yaml (declared: ${Object.keys(responses).join(', ')})`,
    );
  }
  const mediaType = contentType?.split(';')[0].trim() ?? '';
  const content = declared.content ?? {};
  if (Object.keys(content).length === 0) return { operationId: operation.operationId ?? null };
  const media = content[mediaType];
  if (!media) {
    throw new Error(
      `${operation.operationId} ${status}: content type ${mediaType || '(none)'} not declared (${Object.keys(content).join(', ')})`,
    );
  }
  if (mediaType === 'application/json' && media.schema) {
    const validate = compile(`${operation.operationId}#${status}`, media.schema);
    if (!validate(body)) {
      throw new Error(
        `${operation.operationId} ${status}: response does not match openapi.yaml: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 800)}`,
      );
    }
  }
  return { operationId: operation.operationId ?? null };
}

/** The schema of each live event's `data` (openapi.yaml, `contentSchema` of the streams). */
const EVENT_SCHEMAS: Record<string, string> = {
  snapshot: 'CarSnapshotEvent',
  bid: 'CarBidEvent',
  status: 'CarStatusEvent',
  sale: 'CarSaleEvent',
  reset: 'AllEventsReset',
};

/** Judges one Server-Sent Event against openapi.yaml: a known event name, data matching its schema. */
export async function assertEventMatchesSpec(event: string, data: unknown): Promise<void> {
  await ready;
  const name = EVENT_SCHEMAS[event];
  if (!name) throw new Error(`event "${event}" is not described in openapi.yaml`);
  const schemas = (api.document as { components: { schemas: Record<string, object> } }).components.schemas;
  const validate = compile(`#event:${name}`, schemas[name]);
  if (!validate(data)) {
    throw new Error(`event ${event} does not match ${name}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(data).slice(0, 800)}`);
  }
}
