import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/**
 * The regular expressions written in src/, and the shapes of them that
 * backtrack: a regex engine like V8's pays for those with super-linear time
 * on a long input, which holds the event loop.
 */

export type RegexLiteral = { file: string; line: number; source: string; flags: string };

function* tsFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* tsFiles(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

export function regexLiterals(root: string): RegexLiteral[] {
  const found: RegexLiteral[] = [];
  for (const path of tsFiles(join(root, 'src'))) {
    const text = readFileSync(path, 'utf8');
    const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node) => {
      if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
        const literal = node.getText(source);
        const end = literal.lastIndexOf('/');
        found.push({
          file: relative(root, path),
          line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1,
          source: literal.slice(1, end),
          flags: literal.slice(end + 1),
        });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

type Atom = { containsUnbounded: boolean };

/**
 * What in `source` makes it backtrack:
 * - `nested`: an unbounded quantifier on a group that itself holds one (`(a+)+`, `(?:\w*\s)*`),
 *   exponential on a near-miss;
 * - `leading`: an unanchored pattern that starts with an unbounded quantifier and goes on
 *   (`[^@]+@…`): tried again from every start, it scans the same run each time, quadratic.
 */
export function backtrackingShapes(source: string): { nested: boolean; leading: boolean } {
  let nested = false;
  // one entry per open group: does it hold an unbounded quantifier?
  const groups: boolean[] = [false];
  let atoms = 0;
  let firstUnbounded: boolean | undefined;
  // anything (an anchor too) after the first atom: the match can fail after scanning a run
  let goesOn = false;
  let anchored = false;
  let leading = false;
  let i = 0;
  const quantifierAt = (j: number): { unbounded: boolean; length: number } | undefined => {
    const c = source[j];
    if (c === '*' || c === '+') return { unbounded: true, length: source[j + 1] === '?' ? 2 : 1 };
    if (c === '?') return { unbounded: false, length: source[j + 1] === '?' ? 2 : 1 };
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}\??/.exec(source.slice(j, j + 24));
      if (m) return { unbounded: m[2] !== undefined && m[3] === '', length: m[0].length };
    }
    return undefined;
  };
  const atomDone = (atom: Atom) => {
    const q = quantifierAt(i);
    const unbounded = q?.unbounded ?? false;
    if (q) i += q.length;
    if (unbounded && atom.containsUnbounded) nested = true;
    if (unbounded) groups[groups.length - 1] = true;
    if (atom.containsUnbounded) groups[groups.length - 1] = true;
    if (groups.length > 1) return;
    atoms += 1;
    if (atoms === 1) firstUnbounded = unbounded && !anchored;
    else goesOn = true;
  };
  while (i < source.length) {
    const c = source[i];
    if (c === '\\') {
      i +=
        source[i + 1] === 'u' && source[i + 2] === '{'
          ? source.indexOf('}', i) + 1 - i
          : source[i + 1] === 'u'
            ? 6
            : source[i + 1] === 'x'
              ? 4
              : 2;
      atomDone({ containsUnbounded: false });
    } else if (c === '[') {
      let j = i + 1;
      if (source[j] === '^') j++;
      if (source[j] === ']') j++;
      while (j < source.length && source[j] !== ']') j += source[j] === '\\' ? 2 : 1;
      i = j + 1;
      atomDone({ containsUnbounded: false });
    } else if (c === '(') {
      if (atoms > 0 && groups.length === 1) goesOn = true;
      groups.push(false);
      i +=
        source.startsWith('(?<=', i) || source.startsWith('(?<!', i)
          ? 4
          : source.startsWith('(?<', i)
            ? source.indexOf('>', i) + 1 - i
            : source[i + 1] === '?'
              ? 3
              : 1;
    } else if (c === ')') {
      const inner = groups.pop() ?? false;
      i += 1;
      atomDone({ containsUnbounded: inner });
    } else if (c === '|' && groups.length === 1) {
      // each top-level alternative is tried from every start on its own
      i += 1;
      leading ||= firstUnbounded === true && goesOn;
      atoms = 0;
      anchored = goesOn = false;
      firstUnbounded = undefined;
    } else if (c === '|' || c === '^' || c === '$') {
      i += 1;
      if (c === '^' && atoms === 0) anchored = true;
      else if (atoms > 0) goesOn = true;
    } else {
      i += 1;
      atomDone({ containsUnbounded: false });
    }
  }
  return { nested, leading: leading || (firstUnbounded === true && goesOn) };
}
