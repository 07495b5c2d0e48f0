import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
// @ts-expect-error plain JavaScript, no declarations
import { compareContracts } from '../../scripts/check-contract.mjs';
import { loadSpec } from '../../src/api/spec.js';

/**
 * The contract check of CI (scripts/check-contract.mjs): each kind of breaking change fails
 * unless info.version's major rises; an additive change passes.
 */

type Spec = Record<string, any>;

function base(): Spec {
  return {
    openapi: '3.1.0',
    info: { title: 't', version: '2.0.0' },
    paths: {
      '/cars/{id}': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        get: {
          operationId: 'getCar',
          parameters: [{ name: 'fields', in: 'query', required: false, schema: { type: 'string' } }],
          responses: { '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/Car' } } } } },
        },
      },
      '/bids': {
        post: {
          operationId: 'createBid',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/BidRequest' } } },
          },
          responses: {
            '201': {
              content: { 'application/json': { schema: { type: 'object', properties: { bid: { $ref: '#/components/schemas/Bid' } } } } },
            },
          },
        },
      },
    },
    components: {
      schemas: {
        Car: {
          type: 'object',
          required: ['id', 'status'],
          properties: { id: { type: 'string' }, status: { $ref: '#/components/schemas/Status' }, year: { type: ['integer', 'null'] } },
        },
        Status: { type: 'string', enum: ['pending', 'active', 'sold'] },
        BidRequest: {
          type: 'object',
          required: ['car_id', 'amount'],
          properties: { car_id: { type: 'string' }, amount: { type: 'number' }, note: { type: 'string' } },
        },
        Bid: { type: 'object', required: ['id'], properties: { id: { type: 'string' }, amount: { type: 'integer' } } },
      },
    },
  };
}

function changed(edit: (s: Spec) => void): Spec {
  const s = base();
  edit(s);
  return s;
}

describe('contract check', () => {
  it('an unchanged contract has no breaking change', () => {
    expect(compareContracts(base(), base()).breaking).toEqual([]);
  });

  it('an additive change passes: a new operation, an optional request field, a response field, an enum value', () => {
    const after = changed((s) => {
      s.paths['/cars'] = { get: { operationId: 'listCars', responses: { '200': { description: 'ok' } } } };
      s.components.schemas.BidRequest.properties.source = { type: 'string' };
      s.components.schemas.Car.properties.colour = { type: 'string' };
      s.components.schemas.Status.enum.push('expired');
      s.paths['/cars/{id}'].get.parameters.push({ name: 'lang', in: 'query', schema: { type: 'string' } });
    });
    expect(compareContracts(base(), after).breaking).toEqual([]);
  });

  it('fails on a removed operation', () => {
    const after = changed((s) => delete s.paths['/bids'].post);
    expect(compareContracts(base(), after).breaking).toEqual(['POST /bids (createBid): operation removed']);
  });

  it('fails on a removed response field, and on one no longer required', () => {
    const removed = changed((s) => delete s.components.schemas.Car.properties.year);
    expect(compareContracts(base(), removed).breaking).toEqual(['GET /cars/{id} 200.year: response field removed']);
    const optional = changed((s) => (s.components.schemas.Car.required = ['id']));
    expect(compareContracts(base(), optional).breaking).toEqual(['GET /cars/{id} 200.status: response field no longer always present']);
  });

  it('fails on a removed enum value', () => {
    const after = changed((s) => (s.components.schemas.Status.enum = ['pending', 'active']));
    expect(compareContracts(base(), after).breaking).toEqual(['GET /cars/{id} 200.status: enum value "sold" removed']);
  });

  it('fails on a new required request field, parameter or body', () => {
    const field = changed((s) => s.components.schemas.BidRequest.required.push('note'));
    expect(compareContracts(base(), field).breaking).toEqual(['POST /bids request body.note: new required request field']);
    const param = changed((s) => (s.paths['/cars/{id}'].get.parameters[0].required = true));
    expect(compareContracts(base(), param).breaking).toEqual(['GET /cars/{id}: new required query parameter fields']);
  });

  it('fails on a narrowed request type and a widened response type', () => {
    const narrowed = changed((s) => (s.components.schemas.BidRequest.properties.amount = { type: 'integer' }));
    expect(compareContracts(base(), narrowed).breaking).toEqual(['POST /bids request body.amount: type narrowed (number → integer)']);
    const widened = changed((s) => (s.components.schemas.Bid.properties.amount = { type: ['integer', 'null'] }));
    expect(compareContracts(base(), widened).breaking).toEqual([
      'POST /bids 201.bid.amount: response type widened (integer → integer|null)',
    ]);
  });

  it('a breaking change is allowed when the major version rises', () => {
    const after = changed((s) => {
      delete s.paths['/bids'].post;
      s.info.version = '3.0.0';
    });
    const result = compareContracts(base(), after);
    expect(result.breaking).toHaveLength(1);
    expect(result.majorRose).toBe(true);
  });

  it('the command fails (exit 1) on a breaking change and passes on the contract against itself', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'contract-'));
    const spec = loadSpec().yaml;
    const old = path.join(dir, 'old.yaml');
    const next = path.join(dir, 'new.yaml');
    writeFileSync(old, spec);
    writeFileSync(next, spec);
    expect(execFileSync(process.execPath, ['scripts/check-contract.mjs', old, next], { encoding: 'utf8' })).toContain('no breaking change');
    const doc = parse(spec);
    const [firstPath] = Object.keys(doc.paths);
    delete doc.paths[firstPath];
    writeFileSync(next, stringify(doc));
    let status = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, ['scripts/check-contract.mjs', old, next], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error: any) {
      status = error.status;
      stderr = String(error.stderr);
    }
    expect(status).toBe(1);
    expect(stderr).toContain(`${firstPath}`);
    expect(stderr).toContain('operation removed');
  });

  it('bundles each side: the split entry with openapi/ against a single-file version', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'contract-split-'));
    cpSync('openapi.yaml', path.join(dir, 'split/openapi.yaml'));
    cpSync('openapi', path.join(dir, 'split/openapi'), { recursive: true });
    const single = path.join(dir, 'single.yaml');
    const doc = parse(loadSpec().yaml);
    writeFileSync(single, stringify(doc));
    const run = (a: string, b: string) =>
      execFileSync(process.execPath, ['scripts/check-contract.mjs', a, b], { encoding: 'utf8', stdio: 'pipe' });
    expect(run(single, path.join(dir, 'split/openapi.yaml'))).toContain('no breaking change');
    // a response field dropped in one of openapi/'s files is seen through the entry
    const bidsFile = path.join(dir, 'split/openapi/components/schemas/bids.yaml');
    const bids = parse(readFileSync(bidsFile, 'utf8'));
    delete bids.BidCreated.properties.leading;
    writeFileSync(bidsFile, stringify(bids));
    expect(() => run(single, path.join(dir, 'split/openapi.yaml'))).toThrow(/leading: response field removed/);
  });
});
