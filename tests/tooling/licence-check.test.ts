import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript, no declarations
import { allowed, refused } from '../../scripts/check-licences.mjs';

/** The licence allow-list of CI (scripts/check-licences.mjs) on CycloneDX components. */
describe('licence check', () => {
  it('reads SPDX expressions: OR needs one allowed side, AND both', () => {
    expect(allowed('MIT')).toBe(true);
    expect(allowed('(MIT OR CC0-1.0)')).toBe(true);
    expect(allowed('(GPL-3.0-only OR MIT)')).toBe(true);
    expect(allowed('MIT AND GPL-3.0-only')).toBe(false);
    expect(allowed('GPL-3.0-only')).toBe(false);
    expect(allowed('SSPL-1.0')).toBe(false);
  });

  it('refuses a component outside the list, and one with no licence unless read by hand', () => {
    const sbom = {
      components: [
        { name: 'ok', version: '1.0.0', licenses: [{ license: { id: 'MIT' } }] },
        { name: 'dual', version: '1.0.0', licenses: [{ expression: '(MIT OR CC0-1.0)' }] },
        { name: 'copyleft', version: '2.0.0', licenses: [{ license: { id: 'AGPL-3.0-only' } }] },
        { name: 'bare', version: '0.1.0' },
        { group: '@scope', name: 'pkg', version: '1.0.0', licenses: [{ license: { name: 'SEE LICENSE IN LICENSE' } }] },
        { name: 'get-stack-trace', version: '3.1.1' },
        { name: 'get-stack-trace', version: '3.2.0' },
      ],
    };
    expect(refused(sbom)).toEqual([
      'copyleft@2.0.0: AGPL-3.0-only',
      'bare@0.1.0: no licence declared',
      '@scope/pkg@1.0.0: SEE LICENSE IN LICENSE',
      'get-stack-trace@3.2.0: no licence declared',
    ]);
  });
});
