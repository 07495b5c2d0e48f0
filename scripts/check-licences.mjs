#!/usr/bin/env node
// Every runtime dependency (what `npm ci --omit=dev` installs) must carry a licence on the
// allow-list below; CI fails on any other, or on none.
//   node scripts/check-licences.mjs [sbom.cdx.json]   (without a file it asks `npm sbom`)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ALLOWED = new Set([
  'MIT',
  'MIT-0',
  'ISC',
  '0BSD',
  'BSD-2-Clause',
  'BSD-3-Clause',
  'Apache-2.0',
  'BlueOak-1.0.0',
  'CC0-1.0',
  'PSF-2.0',
  'Python-2.0',
  'Unlicense',
]);

/**
 * Packages whose package.json names no licence although the package has one, each checked by
 * hand in its LICENSE file. Keyed by name@version: a new version is looked at again.
 */
export const READ_BY_HAND = new Map([
  ['get-stack-trace@3.1.1', 'BSD-3-Clause (LICENSE file; package.json has no license field; through slonik)'],
  // libvips, sharp's prebuilt shared library: LGPL-3.0-or-later allows a program to load an
  // unmodified LGPL library dynamically (it stays a separate, replaceable .so file).
  ['@img/sharp-libvips-linux-x64@1.3.4', 'LGPL-3.0-or-later, used as an unmodified shared library (through sharp)'],
]);

/** True when an SPDX expression is satisfied by the allow-list (OR: either side; AND: both). */
export function allowed(expression) {
  const e = expression
    .trim()
    .replace(/^\((.*)\)$/, '$1')
    .trim();
  if (/\sOR\s/i.test(e)) return e.split(/\s+OR\s+/i).some(allowed);
  if (/\sAND\s/i.test(e)) return e.split(/\s+AND\s+/i).every(allowed);
  return ALLOWED.has(e.replace(/^\(|\)$/g, ''));
}

/** The components of a CycloneDX SBOM whose licence is not allowed, as `name@version: licence`. */
export function refused(sbom) {
  const out = [];
  for (const c of sbom.components ?? []) {
    const id = `${c.group ? `${c.group}/` : ''}${c.name}@${c.version}`;
    if (READ_BY_HAND.has(id)) continue;
    const licences = (c.licenses ?? []).map((l) => l.expression ?? l.license?.id ?? l.license?.name).filter(Boolean);
    if (licences.length === 0) out.push(`${id}: no licence declared`);
    else if (!licences.every(allowed)) out.push(`${id}: ${licences.join(', ')}`);
  }
  return out;
}

function main() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const file = process.argv[2];
  const text = file
    ? readFileSync(file, 'utf8')
    : execFileSync('npm', ['sbom', '--sbom-format', 'cyclonedx', '--omit', 'dev'], {
        cwd: root,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
  const sbom = JSON.parse(text);
  const bad = refused(sbom);
  if (bad.length) {
    console.error(
      `licence check: ${bad.length} runtime dependenc${bad.length === 1 ? 'y' : 'ies'} outside the allow-list (scripts/check-licences.mjs):\n${bad.map((b) => `  - ${b}`).join('\n')}`,
    );
    process.exitCode = 1;
    return;
  }
  console.log(
    `licence check: ${sbom.components.length} runtime dependencies, every licence on the allow-list (${READ_BY_HAND.size} read by hand)`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
