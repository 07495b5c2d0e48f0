import fastJson from 'fast-json-stringify';
import type { Operation } from 'openapi-backend';

/**
 * JSON writers compiled from the spec's response schemas (fast-json-stringify),
 * per operation and status, on first use. They write only what the schema
 * describes: a property the schema does not list is left out, and a missing
 * required one is an error, so a body the spec does not describe is never sent.
 * Several times faster than JSON.stringify on the large lists (cars, favourites).
 * A schema the compiler cannot take falls back to JSON.stringify (null).
 */
export type Serialize = (body: unknown) => string;

type Responses = Record<string, { content?: Record<string, { schema?: object }> }>;
type Schema = Record<string, unknown>;

/**
 * JSON Schema allows properties an object schema does not list unless it says
 * `additionalProperties: false`; fast-json-stringify leaves them out unless told.
 * Said explicitly here, so a schema open to more (e.g. the spec document itself)
 * loses nothing, and a closed one (every car, bid, list) still writes only its own.
 */
function openWhereTheSpecIsOpen(schema: unknown): void {
  if (Array.isArray(schema)) {
    schema.forEach(openWhereTheSpecIsOpen);
    return;
  }
  if (!schema || typeof schema !== 'object') return;
  const s = schema as Schema;
  const type = s.type;
  const isObject = type === 'object' || (Array.isArray(type) && type.includes('object')) || 'properties' in s;
  if (isObject && !('additionalProperties' in s)) s.additionalProperties = true;
  for (const key of ['properties', 'patternProperties', '$defs', 'definitions']) {
    if (s[key] && typeof s[key] === 'object') Object.values(s[key] as Schema).forEach(openWhereTheSpecIsOpen);
  }
  for (const key of ['items', 'additionalProperties', 'oneOf', 'anyOf', 'allOf', 'not', 'if', 'then', 'else', 'prefixItems']) {
    openWhereTheSpecIsOpen(s[key]);
  }
}

function compile(schema: object): Serialize {
  const copy = structuredClone(schema);
  openWhereTheSpecIsOpen(copy);
  return fastJson(copy as never) as Serialize;
}

export function createSerializers() {
  return (operation: Operation): ((status: number) => Serialize | null) => {
    const compiled = new Map<number, Serialize | null>();
    return (status) => {
      let serialize = compiled.get(status);
      if (serialize === undefined) {
        const schema = (operation.responses as Responses | undefined)?.[String(status)]?.content?.['application/json']?.schema;
        try {
          serialize = schema ? compile(schema) : null;
        } catch {
          serialize = null;
        }
        compiled.set(status, serialize);
      }
      return serialize;
    };
  };
}
