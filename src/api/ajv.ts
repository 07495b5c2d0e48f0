import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Options } from 'ajv';

/**
 * openapi-backend ships an Ajv for JSON Schema draft-07 (OpenAPI 3.0); our
 * spec is 3.1, whose schemas are draft 2020-12 (`type: [string, "null"]`,
 * `const`, ...). Every validator in the project, the server's and the tests',
 * is built here so that both judge with the same rules.
 */
export function createAjv(options: Options = {}): Ajv2020.default {
  const AjvClass = (Ajv2020 as unknown as { default: typeof Ajv2020.default }).default ?? Ajv2020;
  const ajv = new AjvClass({ strict: false, allErrors: true, ...options });
  // ajv-formats is CommonJS: under NodeNext its callable sits on `.default`.
  const formats = addFormats as unknown as { default?: (a: unknown) => void } & ((a: unknown) => void);
  (formats.default ?? formats)(ajv);
  return ajv;
}
