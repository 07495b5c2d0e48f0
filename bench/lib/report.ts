import type { Measurement } from './load.js';
import { ratio } from './measure.js';
import type { Scenario } from './scenarios.js';
import { POINT_READS, TARGET_POINT_READ_CPU_MS, TARGET_VS_BARE, TARGET_VS_EXPRESS } from './targets.js';

export function pad(s: string | number, n: number, right = false): string {
  const t = String(s);
  return right ? t.padEnd(n) : t.padStart(n);
}

export type Row = {
  scenario: string;
  label: string;
  project: Measurement;
  express: Measurement;
  baseline: Measurement;
  /** project ÷ bare node:http req/s */
  ratio: number;
  /** project ÷ hand-written Express req/s */
  ratio_express: number;
  cpu_ratio: number;
  cpu_ratio_express: number;
  targets: string;
  pass: boolean;
};

/** A read scenario's targets, as its row of the table shows them. */
export function readTargets(name: string): string {
  return `≥${TARGET_VS_EXPRESS}× Express, ≥${TARGET_VS_BARE}× bare${POINT_READS.has(name) ? `, ≤${TARGET_POINT_READ_CPU_MS} ms CPU` : ''}`;
}

export function readRow(s: Scenario, m: { project: Measurement; express: Measurement; baseline: Measurement }): Row {
  const r = ratio(m.project.rps, m.baseline.rps);
  const rx = ratio(m.project.rps, m.express.rps);
  const point = POINT_READS.has(s.name);
  return {
    scenario: s.name,
    label: s.label,
    ...m,
    ratio: r,
    ratio_express: rx,
    cpu_ratio: ratio(m.project.cpu_ms_per_request, m.baseline.cpu_ms_per_request),
    cpu_ratio_express: ratio(m.project.cpu_ms_per_request, m.express.cpu_ms_per_request),
    targets: readTargets(s.name),
    pass: rx >= TARGET_VS_EXPRESS && r >= TARGET_VS_BARE && (!point || m.project.cpu_ms_per_request <= TARGET_POINT_READ_CPU_MS),
  };
}

export function printTable(rows: Row[]): void {
  const head =
    `${pad('scenario', 34, true)}${pad('project req/s', 14)}${pad('p50', 7)}${pad('p99', 7)}${pad('cpu/req', 8)}${pad('RSS', 5)}  ` +
    `${pad('express req/s', 14)}${pad('cpu/req', 8)}  ${pad('bare req/s', 11)}${pad('cpu/req', 8)}  ${pad('×express', 9)}${pad('×bare', 6)}  targets`;
  console.log(head);
  console.log('-'.repeat(head.length + 40));
  for (const r of rows) {
    console.log(
      `${pad(r.label, 34, true)}${pad(r.project.rps, 14)}${pad(r.project.p50, 7)}${pad(r.project.p99, 7)}${pad(r.project.cpu_ms_per_request, 8)}` +
        `${pad(Math.round(r.project.peak_rss_mb ?? 0), 5)}  ` +
        `${pad(r.express.rps, 14)}${pad(r.express.cpu_ms_per_request, 8)}  ${pad(r.baseline.rps, 11)}${pad(r.baseline.cpu_ms_per_request, 8)}  ` +
        `${pad(r.ratio_express.toFixed(2), 9)}${pad(r.ratio.toFixed(2), 6)}  ${r.targets}: ${r.pass ? 'ok' : 'MISSED'}`,
    );
  }
  console.log(
    "(req/s: responses per second; p50/p99: latency in ms; cpu/req: server process CPU ms per response; RSS: the project's peak " +
      'resident memory in the scenario, MB; ×express, ×bare: project req/s ÷ hand-written Express, ÷ bare node:http + pg. ' +
      "The bare baseline's bid is a plain lock-max-insert without the auction rules; Express applies them with the project's statements)",
  );
}
