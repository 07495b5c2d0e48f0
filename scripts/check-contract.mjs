#!/usr/bin/env node
// Breaking changes of the contract against an earlier version of it.
//   node scripts/check-contract.mjs                 against the base git picks (see pickBase)
//   node scripts/check-contract.mjs --base <ref>    against openapi.yaml (and openapi/) at a git ref
//   node scripts/check-contract.mjs <old.yaml> <new.yaml>
// Each side is bundled first (scripts/bundle-spec.mjs): an entry that points into other files,
// as openapi.yaml does into openapi/, and an earlier single-file version compare alike.
// Breaking: an operation removed; a response field removed (or no longer always there); an enum
// value removed; a required request field or parameter added; a request type narrowed (or a
// response type widened). Any of these fails unless info.version's major number rises.
// No npm tool reads OpenAPI 3.1 offline here (openapi-diff stops at 3.0.3; optic needs its cloud
// and a large tree), so this is a small checker of exactly those rules.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { bundleText } from './bundle-spec.mjs';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

function resolver(spec) {
  return (node) => {
    let seen = 0;
    while (node && typeof node === 'object' && typeof node.$ref === 'string' && node.$ref.startsWith('#/')) {
      if (++seen > 50) throw new Error(`$ref loop at ${node.$ref}`);
      node = node.$ref
        .slice(2)
        .split('/')
        .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
        .reduce((at, key) => at?.[key], spec);
    }
    return node;
  };
}

/** The types a schema admits (type, type arrays, nullable), or undefined when it says none. */
function types(schema) {
  if (!schema || typeof schema !== 'object') return undefined;
  const t = schema.type === undefined ? undefined : [schema.type].flat();
  if (!t) return undefined;
  const set = new Set(t);
  if (schema.nullable === true) set.add('null');
  // An integer is a number: number → integer narrows, integer → number widens.
  return set;
}

function admits(set, type) {
  return set.has(type) || (type === 'integer' && set.has('number'));
}

/** allOf members folded into one object schema (properties and required merged). */
function flatten(schema, deref) {
  schema = deref(schema);
  if (!schema || typeof schema !== 'object' || !Array.isArray(schema.allOf)) return schema;
  const out = { ...schema, properties: { ...(schema.properties ?? {}) }, required: [...(schema.required ?? [])] };
  delete out.allOf;
  for (const part of schema.allOf.map((p) => flatten(p, deref))) {
    if (!part) continue;
    Object.assign(out.properties, part.properties ?? {});
    out.required.push(...(part.required ?? []));
    for (const key of ['type', 'enum', 'items', 'nullable']) if (part[key] !== undefined && out[key] === undefined) out[key] = part[key];
  }
  return out;
}

/**
 * Compares two schemas in one direction: 'request' (what clients send: narrowing breaks them)
 * or 'response' (what clients read: a field gone or a new type breaks them).
 */
function compareSchemas(before, after, direction, where, ctx, depth = 0) {
  if (depth > 40) return;
  const a = flatten(before, ctx.derefOld);
  const b = flatten(after, ctx.derefNew);
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object') return;
  const key = `${direction}:${where}`;
  if (ctx.seen.has(key)) return;
  ctx.seen.add(key);

  const ta = types(a);
  const tb = types(b);
  if (ta && tb) {
    if (direction === 'request') {
      const lost = [...ta].filter((t) => !admits(tb, t));
      if (lost.length) ctx.breaking.push(`${where}: type narrowed (${[...ta].join('|')} → ${[...tb].join('|')})`);
    } else {
      const gained = [...tb].filter((t) => !admits(ta, t));
      if (gained.length) ctx.breaking.push(`${where}: response type widened (${[...ta].join('|')} → ${[...tb].join('|')})`);
    }
  }
  // `const: x` is a one-value enum.
  const ea = Array.isArray(a.enum) ? a.enum : a.const !== undefined ? [a.const] : undefined;
  const eb = Array.isArray(b.enum) ? b.enum : b.const !== undefined ? [b.const] : undefined;
  if (ea) {
    const after = eb;
    if (after) {
      for (const value of ea)
        if (!after.some((v) => JSON.stringify(v) === JSON.stringify(value)))
          ctx.breaking.push(`${where}: enum value ${JSON.stringify(value)} removed`);
    }
  } else if (eb && direction === 'request') {
    ctx.breaking.push(`${where}: now limited to an enum (${eb.map((v) => JSON.stringify(v)).join(', ')})`);
  }
  if (direction === 'request' && b.maxLength !== undefined && (a.maxLength === undefined || b.maxLength < a.maxLength)) {
    ctx.breaking.push(`${where}: maxLength narrowed (${a.maxLength ?? 'none'} → ${b.maxLength})`);
  }

  const pa = a.properties ?? {};
  const pb = b.properties ?? {};
  const ra = new Set(a.required ?? []);
  const rb = new Set(b.required ?? []);
  if (direction === 'response') {
    for (const name of Object.keys(pa)) {
      if (!(name in pb)) ctx.breaking.push(`${where}.${name}: response field removed`);
      else if (ra.has(name) && !rb.has(name)) ctx.breaking.push(`${where}.${name}: response field no longer always present`);
    }
  } else {
    for (const name of rb) {
      if (!ra.has(name)) ctx.breaking.push(`${where}.${name}: new required request field`);
    }
  }
  for (const name of Object.keys(pa)) if (name in pb) compareSchemas(pa[name], pb[name], direction, `${where}.${name}`, ctx, depth + 1);
  if (a.items && b.items) compareSchemas(a.items, b.items, direction, `${where}[]`, ctx, depth + 1);
  for (const combo of ['oneOf', 'anyOf']) {
    if (Array.isArray(a[combo]) && Array.isArray(b[combo]) && a[combo].length === b[combo].length) {
      a[combo].forEach((s, i) => compareSchemas(s, b[combo][i], direction, `${where}(${combo}${i})`, ctx, depth + 1));
    }
  }
}

function operations(spec) {
  const deref = resolver(spec);
  const out = new Map();
  for (const [p, item] of Object.entries(spec.paths ?? {})) {
    const pathItem = deref(item);
    for (const method of METHODS) {
      const op = pathItem?.[method];
      if (!op) continue;
      const parameters = [...(pathItem.parameters ?? []), ...(op.parameters ?? [])].map(deref);
      out.set(`${method.toUpperCase()} ${p}`, { op, parameters });
    }
  }
  return out;
}

/** Every breaking change from `oldSpec` to `newSpec` (parsed documents), and whether the major version rose. */
export function compareContracts(oldSpec, newSpec) {
  const ctx = { breaking: [], seen: new Set(), derefOld: resolver(oldSpec), derefNew: resolver(newSpec) };
  const before = operations(oldSpec);
  const after = operations(newSpec);
  for (const [key, { op: a, parameters: pa }] of before) {
    const found = after.get(key);
    if (!found) {
      ctx.breaking.push(`${key}${a.operationId ? ` (${a.operationId})` : ''}: operation removed`);
      continue;
    }
    const { op: b, parameters: pb } = found;
    const name = (p) => `${p.in}:${p.name}`;
    const oldParams = new Map(pa.map((p) => [name(p), p]));
    for (const p of pb) {
      const old = oldParams.get(name(p));
      if (p.required && !old?.required) ctx.breaking.push(`${key}: new required ${p.in} parameter ${p.name}`);
      if (old) compareSchemas(old.schema, p.schema, 'request', `${key} ${p.in} parameter ${p.name}`, ctx);
    }
    const bodyA = ctx.derefOld(a.requestBody);
    const bodyB = ctx.derefNew(b.requestBody);
    if (bodyB?.required && !bodyA?.required) ctx.breaking.push(`${key}: request body now required`);
    for (const [type, media] of Object.entries(bodyA?.content ?? {})) {
      const next = bodyB?.content?.[type];
      if (!next) ctx.breaking.push(`${key}: request body ${type} no longer accepted`);
      else compareSchemas(media.schema, next.schema, 'request', `${key} request body`, ctx);
    }
    for (const [status, response] of Object.entries(a.responses ?? {})) {
      const ra = ctx.derefOld(response);
      const rb = ctx.derefNew(b.responses?.[status]);
      if (!rb) continue;
      for (const [type, media] of Object.entries(ra?.content ?? {})) {
        const next = rb.content?.[type];
        if (!next) ctx.breaking.push(`${key} ${status}: response ${type} removed`);
        else compareSchemas(media.schema, next.schema, 'response', `${key} ${status}`, ctx);
      }
    }
  }
  const major = (spec) => Number(String(spec.info?.version ?? '0').split('.')[0]);
  return {
    breaking: ctx.breaking,
    majorRose: major(newSpec) > major(oldSpec),
    oldVersion: oldSpec.info?.version,
    newVersion: newSpec.info?.version,
  };
}

const git = (root, ...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
const tryGit = (root, ...args) => {
  try {
    return git(root, ...args);
  } catch {
    return undefined;
  }
};

/** The contract as it was at `ref` (its entry and every file under openapi/), bundled; undefined when it had none. */
function bundleAt(root, ref) {
  const files = tryGit(root, 'ls-tree', '-r', '--name-only', ref, '--', 'openapi.yaml', 'openapi');
  if (!files?.split('\n').includes('openapi.yaml')) return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kaggi-contract-'));
  try {
    for (const file of files.split('\n')) {
      mkdirSync(path.join(dir, path.dirname(file)), { recursive: true });
      writeFileSync(path.join(dir, file), execFileSync('git', ['show', `${ref}:${file}`], { cwd: root, maxBuffer: 64 << 20 }));
    }
    return bundleText(path.join(dir, 'openapi.yaml'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The version to compare with: CONTRACT_BASE if set; else the merge base with main (a branch's
 * starting point); when that is HEAD itself (CI on a fresh clone of main), the last tag before
 * HEAD (the last release); else HEAD~1 (the contract as the previous commit had it); else none.
 */
function pickBase(root) {
  if (process.env.CONTRACT_BASE) return { ref: process.env.CONTRACT_BASE, why: 'CONTRACT_BASE' };
  const head = tryGit(root, 'rev-parse', 'HEAD');
  for (const main of ['origin/main', 'main']) {
    const base = tryGit(root, 'merge-base', 'HEAD', main);
    if (base && base !== head) return { ref: base, why: `merge base with ${main}` };
  }
  const tag = tryGit(root, 'describe', '--tags', '--abbrev=0', 'HEAD~1');
  if (tag) return { ref: tag, why: 'last tag' };
  if (tryGit(root, 'rev-parse', '--verify', '--quiet', 'HEAD~1'))
    return { ref: 'HEAD~1', why: 'previous commit (HEAD is its own merge base, no tag)' };
  return undefined;
}

function main() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const args = process.argv.slice(2);
  let oldText;
  let newText;
  let label;
  if (args.length === 2 && !args[0].startsWith('--')) {
    [oldText, newText] = args.map((f) => bundleText(path.resolve(f)));
    label = `${args[0]} → ${args[1]}`;
  } else {
    const given = args[0] === '--base' ? { ref: args[1], why: '--base' } : pickBase(root);
    if (!given) {
      console.log('contract check: skipped, no earlier version to compare with (a single commit, no tag)');
      return;
    }
    oldText = bundleAt(root, given.ref);
    if (oldText === undefined) {
      console.log(`contract check: skipped, ${given.ref} (${given.why}) has no openapi.yaml`);
      return;
    }
    newText = bundleText(path.join(root, 'openapi.yaml'));
    label = `openapi.yaml (bundled) against ${given.ref} (${given.why})`;
  }
  const result = compareContracts(parse(oldText), parse(newText));
  const versions = `info.version ${result.oldVersion} → ${result.newVersion}`;
  if (result.breaking.length === 0) {
    console.log(`contract check: ${label}: no breaking change (${versions})`);
    return;
  }
  const list = result.breaking.map((b) => `  - ${b}`).join('\n');
  if (result.majorRose) {
    console.log(
      `contract check: ${label}: ${result.breaking.length} breaking change(s), allowed by the new major version (${versions}):\n${list}`,
    );
    return;
  }
  console.error(
    `contract check: ${label}: ${result.breaking.length} breaking change(s) without a new major version (${versions}):\n${list}\nKeep the old shape, or raise info.version's major number and say so in CHANGELOG.md.`,
  );
  process.exitCode = 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
