import { describe, expect, it } from 'vitest';
import { OpenAPIBackend, type Operation } from 'openapi-backend';
import { createSerializers } from '../../src/api/serializers.js';
import { loadSpec } from '../../src/api/spec.js';

type Media = { schema?: object; example?: unknown; examples?: Record<string, { value?: unknown }> };
type Responses = Record<string, { content?: Record<string, Media> }>;

async function operations(): Promise<Operation[]> {
  const api = new OpenAPIBackend({ definition: structuredClone(loadSpec().document), apiRoot: '/', validate: false, quick: true });
  await api.init();
  return api.getOperations();
}

describe('response serializers compiled from the spec', () => {
  it('compile for every JSON success response and write every example of it unchanged', async () => {
    const serializersFor = createSerializers();
    let checked = 0;
    for (const op of await operations()) {
      const serializer = serializersFor(op);
      for (const [status, response] of Object.entries((op.responses ?? {}) as Responses)) {
        const media = response.content?.['application/json'];
        if (!/^2\d\d$/.test(status) || !media?.schema) continue;
        const serialize = serializer(Number(status));
        expect(serialize, `${op.operationId} ${status}`).not.toBeNull();
        const examples = [media.example, ...Object.values(media.examples ?? {}).map((e) => e.value)].filter((e) => e !== undefined);
        for (const example of examples) {
          expect(JSON.parse(serialize!(example)), `${op.operationId} ${status}`).toEqual(example);
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('never writes what the schema does not describe, and refuses a body missing a required field', async () => {
    const getCar = (await operations()).find((op) => op.operationId === 'getCar')!;
    const serialize = createSerializers()(getCar)(200)!;
    const example = ((getCar.responses as Responses)['200'].content!['application/json'].examples ?? {}) as Record<
      string,
      { value: { car: object } }
    >;
    const car = Object.values(example)[0].value.car;
    const written = JSON.parse(serialize({ success: true, car: { ...car, phone: '+3548612345', reserve_price: 1 }, debug: 'x' }));
    expect(written).toEqual({ success: true, car });
    expect(() => serialize({ success: true })).toThrow();
  });
});
