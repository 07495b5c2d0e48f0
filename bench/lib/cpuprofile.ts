import { readFileSync } from 'node:fs';

/** The parts of V8's .cpuprofile (node --cpu-prof) that are read here. */
type CpuProfile = {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  startTime: number;
  samples: number[];
  timeDeltas: number[];
};

export type ProfileWindow = {
  /** sampled main-thread time in the window that was not idle, µs */
  busyUs: number;
  /** self time by where the code comes from: an npm package, node:<module>, the project's file, or V8 ((garbage collector), (program)) */
  byPackage: Map<string, number>;
  /** self time by function (name, package-relative file and line) */
  byFunction: Map<string, number>;
};

function packageOf(url: string, functionName: string): string {
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return dependency[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const own = /\/(?:dist|src|bench)\/(.+)$/.exec(url);
  if (own) return `kaggi:${own[1]}`;
  // V8's own entries: (garbage collector), (program); functions without a script are native code
  return url ? url : functionName.startsWith('(') ? functionName : '(native)';
}

/**
 * Self time of the samples taken between `fromUs` and `toUs`. V8 stamps
 * samples on the same monotonic clock as `process.hrtime` (µs), so another
 * process can mark the window of a measured run; start-up and warm-up fall
 * outside it.
 */
export function profileWindow(file: string, fromUs: number, toUs: number): ProfileWindow {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busyUs = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i += 1) {
    t += profile.timeDeltas[i];
    // a sample stands for the time until the next one
    const us = profile.timeDeltas[i + 1] ?? 0;
    const frame = frames.get(profile.samples[i])!;
    if (t < fromUs || t > toUs || frame.functionName === '(idle)') continue;
    busyUs += us;
    const pkg = packageOf(frame.url, frame.functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    const where = frame.url.replace(/.*node_modules\//, '').replace(/.*\/(dist|src|bench)\//, '$1/');
    const key = `${frame.functionName || '(anonymous)'} ${where || pkg}:${frame.lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  return { busyUs, byPackage, byFunction };
}
