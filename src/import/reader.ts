import { createReadStream } from 'node:fs';
import { EJSON } from 'bson';

/**
 * Streaming reader for the files `mongoexport` writes.
 *
 * - JSON lines (the default): one document per line. Each line is parsed on its
 *   own, so a broken line costs exactly that line.
 * - `--jsonArray`: `[{…},{…},…]`, by default on ONE line (mongoexport writes no
 *   newlines between elements), with `--pretty` spread over many. A character
 *   scanner splits the array into its elements without ever holding more than
 *   the current element, so memory stays flat however large the file is.
 * - `--pretty` without `--jsonArray`: pretty-printed documents one after the
 *   other; the same scanner splits them.
 *
 * The text of each document is parsed with the `bson` package's EJSON (canonical
 * and relaxed Extended JSON v2 alike), never by hand.
 */

export type FileFormat = 'lines' | 'array' | 'pretty' | 'empty';

export type Position = {
  /** Line where the document starts (1-based). */
  line: number;
  /** 1-based position of the document in an array / pretty file. */
  element?: number;
};

export type RawItem = { text: string; pos: Position } | { error: string; pos: Position };

export type ParsedItem =
  | { ok: true; doc: Record<string, unknown>; pos: Position }
  | { ok: false; error: string; pos: Position; rule: 'malformed' | 'not_a_document' | 'too_large' };

/** MongoDB's documents are at most 16 MB of BSON; their Extended JSON text stays well under this. */
export const DEFAULT_MAX_DOCUMENT_CHARS = 64 * 1024 * 1024;

export type ReadOptions = {
  maxDocumentChars?: number;
  /** Bytes per read; small values are for tests that split multi-byte letters across chunks. */
  highWaterMark?: number;
};

const NL = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const LBRACE = 123;
const RBRACE = 125;
const LBRACKET = 91;
const RBRACKET = 93;
const BOM = 0xfeff;

const isSpace = (c: number) => c === SPACE || c === NL || c === CR || c === TAB || c === BOM;

/** Splits text into lines; over-long lines become an error item instead of growing memory without bound. */
export class LineSplitter {
  private parts: string[] = [];
  private partChars = 0;
  private line = 1;
  private overflow = false;

  constructor(private readonly maxChars = DEFAULT_MAX_DOCUMENT_CHARS) {}

  feed(chunk: string): RawItem[] {
    const out: RawItem[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      if (nl === -1) break;
      this.take(chunk.slice(start, nl), out, true);
      start = nl + 1;
    }
    if (start < chunk.length) this.take(chunk.slice(start), out, false);
    return out;
  }

  end(): RawItem[] {
    const out: RawItem[] = [];
    if (this.partChars > 0 || this.overflow) this.emit(out);
    return out;
  }

  private take(piece: string, out: RawItem[], complete: boolean): void {
    if (!this.overflow) {
      this.parts.push(piece);
      this.partChars += piece.length;
      if (this.partChars > this.maxChars) {
        this.overflow = true;
        this.parts = [];
        this.partChars = 0;
      }
    }
    if (complete) this.emit(out);
  }

  private emit(out: RawItem[]): void {
    const pos = { line: this.line };
    if (this.overflow) {
      out.push({ error: `line longer than ${this.maxChars} characters`, pos });
    } else {
      // trim() also drops a byte-order mark and the \r of CRLF files
      const text = this.parts.join('').trim();
      if (text !== '') out.push({ text, pos });
    }
    this.parts = [];
    this.partChars = 0;
    this.overflow = false;
    this.line += 1;
  }
}

const enum Phase {
  Top,
  Array,
  Value,
  /** After a document broke inside a string: skip to the next `{` that starts a line. */
  Skip,
}

/**
 * Splits a stream of JSON text into top-level documents: the elements of
 * `[…]` arrays and documents written one after another. Tracks strings and
 * nesting only, leaving the real parsing to EJSON. Recovers from damage the
 * way a reader would: a raw newline inside a string, or a `{` at the start of
 * a line while a document is still open, ends the broken document there, and
 * reading resumes with the next document that starts a line.
 */
export class JsonValueSplitter {
  private phase = Phase.Top;
  private parent = Phase.Top;
  private skipParent = Phase.Top;
  private depth = 0;
  private inString = false;
  private escape = false;
  private scalar = false;
  private parts: string[] = [];
  private partChars = 0;
  private line = 1;
  private prevNewline = true;
  private valueLine = 0;
  private element = 0;
  private tooLarge = false;

  constructor(private readonly maxChars = DEFAULT_MAX_DOCUMENT_CHARS) {}

  feed(s: string): RawItem[] {
    const out: RawItem[] = [];
    let segStart = 0;
    for (let i = 0; i < s.length; i += 1) {
      const c = s.charCodeAt(i);
      const atLineStart = this.prevNewline;
      this.prevNewline = c === NL;
      if (c === NL) this.line += 1;

      if (this.phase === Phase.Value) {
        if (this.inString) {
          if (this.escape) this.escape = false;
          else if (c === BACKSLASH) this.escape = true;
          else if (c === QUOTE) {
            this.inString = false;
            if (this.depth === 0) {
              this.finish(out, s, segStart, i + 1, null);
              continue;
            }
          } else if (c === NL) {
            // JSON strings cannot contain a raw newline: the document is broken here,
            // and the rest of it is noise until the next document starts a line.
            this.finish(out, s, segStart, i, 'unterminated string (line ends inside a string)');
            this.skipParent = this.phase;
            this.phase = Phase.Skip;
          }
          continue;
        }
        if (this.scalar) {
          if (c === COMMA || c === RBRACKET || isSpace(c)) {
            this.finish(out, s, segStart, i, null);
            // the terminator belongs to the surrounding array: handled below
          } else {
            continue;
          }
        } else if (c === QUOTE) {
          this.inString = true;
          continue;
        } else if (c === LBRACE || c === LBRACKET) {
          if (c === LBRACE && atLineStart && this.depth > 0) {
            // A new document starts at the beginning of a line while this one is still open.
            this.finish(out, s, segStart, i, 'incomplete document (a new document starts before it is closed)');
            segStart = this.start(i);
            this.depth = 1;
            continue;
          }
          this.depth += 1;
          continue;
        } else if (c === RBRACE || c === RBRACKET) {
          this.depth -= 1;
          if (this.depth === 0) this.finish(out, s, segStart, i + 1, null);
          continue;
        } else {
          continue;
        }
      }

      if (this.phase === Phase.Skip) {
        if (c !== LBRACE || !atLineStart) continue;
        this.phase = this.skipParent;
        segStart = this.start(i);
        this.depth = 1;
        continue;
      }

      // Between documents.
      if (isSpace(c)) continue;
      if (this.phase === Phase.Array) {
        if (c === COMMA) continue;
        if (c === RBRACKET) {
          this.phase = Phase.Top;
          continue;
        }
      } else if (c === LBRACKET) {
        this.phase = Phase.Array;
        continue;
      }
      segStart = this.start(i);
      if (c === LBRACE || c === LBRACKET) this.depth = 1;
      else if (c === QUOTE) this.inString = true;
      else this.scalar = true;
    }
    if (this.phase === Phase.Value && !this.tooLarge) {
      this.keep(s.slice(segStart));
    }
    return out;
  }

  end(): RawItem[] {
    const out: RawItem[] = [];
    if (this.phase === Phase.Value) {
      const complete = this.scalar && !this.inString;
      this.finish(out, '', 0, 0, complete ? null : 'truncated: the file ends inside this document');
    }
    return out;
  }

  private start(i: number): number {
    this.parent = this.phase;
    this.phase = Phase.Value;
    this.depth = 0;
    this.inString = false;
    this.escape = false;
    this.scalar = false;
    this.parts = [];
    this.partChars = 0;
    this.tooLarge = false;
    this.element += 1;
    this.valueLine = this.line;
    return i;
  }

  private keep(piece: string): void {
    if (this.tooLarge) return;
    this.parts.push(piece);
    this.partChars += piece.length;
    if (this.partChars > this.maxChars) {
      this.tooLarge = true;
      this.parts = [];
      this.partChars = 0;
    }
  }

  private finish(out: RawItem[], s: string, from: number, to: number, error: string | null): void {
    const pos: Position = { line: this.valueLine, element: this.element };
    if (!this.tooLarge) this.keep(s.slice(from, to));
    if (this.tooLarge) out.push({ error: `document longer than ${this.maxChars} characters`, pos });
    else if (error) out.push({ error, pos });
    else out.push({ text: this.parts.join(''), pos });
    this.parts = [];
    this.partChars = 0;
    this.tooLarge = false;
    this.phase = this.parent;
    this.depth = 0;
    this.inString = false;
    this.escape = false;
    this.scalar = false;
  }
}

/**
 * Decides the layout from the start of the file: `[` → array, a first line
 * that is only `{` → pretty documents, anything else → JSON lines.
 */
export function detectFormat(head: string, complete: boolean): FileFormat | undefined {
  const text = head.replace(/^\uFEFF/, '');
  const first = text.search(/\S/);
  if (first === -1) return complete ? 'empty' : undefined;
  if (text[first] === '[') return 'array';
  const lineEnd = text.indexOf('\n', first);
  if (lineEnd === -1 && !complete) return undefined;
  const firstLine = text.slice(first, lineEnd === -1 ? undefined : lineEnd).trim();
  return firstLine === '{' ? 'pretty' : 'lines';
}

/** Raw document texts of one file, in order, with positions; format detection included. */
export async function* readRawDocuments(
  file: string,
  options: ReadOptions = {},
  onFormat?: (f: FileFormat) => void,
): AsyncGenerator<RawItem> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: options.highWaterMark ?? 256 * 1024 });
  let splitter: LineSplitter | JsonValueSplitter | undefined;
  let head = '';
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      if (!splitter) {
        head += chunk;
        const format = detectFormat(head, false);
        if (format === undefined && head.length < 1024 * 1024) continue;
        splitter = makeSplitter(format ?? 'lines', options, onFormat);
        yield* splitter.feed(head);
        head = '';
        continue;
      }
      yield* splitter.feed(chunk);
    }
    if (!splitter) {
      const format = detectFormat(head, true) ?? 'empty';
      splitter = makeSplitter(format, options, onFormat);
      yield* splitter.feed(head);
    }
    yield* splitter.end();
  } finally {
    stream.destroy();
  }
}

function makeSplitter(format: FileFormat, options: ReadOptions, onFormat?: (f: FileFormat) => void): LineSplitter | JsonValueSplitter {
  onFormat?.(format);
  return format === 'array' || format === 'pretty'
    ? new JsonValueSplitter(options.maxDocumentChars)
    : new LineSplitter(options.maxDocumentChars);
}

const plainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

/**
 * One document's text → the document, with BSON types kept exact
 * (`relaxed: false`: Int32/Long/Double/Decimal128 wrappers, so a 64-bit
 * number is never rounded before it is judged).
 */
export function parseDocument(text: string): { doc: Record<string, unknown> } | { error: string; rule: 'malformed' | 'not_a_document' } {
  let value: unknown;
  try {
    value = EJSON.parse(text, { relaxed: false });
  } catch (e) {
    return { error: `not valid Extended JSON: ${(e as Error).message}`, rule: 'malformed' };
  }
  if (!plainObject(value)) return { error: 'not a document (a JSON object was expected)', rule: 'not_a_document' };
  return { doc: value };
}

/** Parsed documents of one file; broken ones come out as errors with their position, never thrown. */
export async function* readDocuments(
  file: string,
  options: ReadOptions = {},
  onFormat?: (f: FileFormat) => void,
): AsyncGenerator<ParsedItem> {
  for await (const item of readRawDocuments(file, options, onFormat)) {
    if ('error' in item) {
      yield { ok: false, error: item.error, pos: item.pos, rule: /longer than/.test(item.error) ? 'too_large' : 'malformed' };
      continue;
    }
    const parsed = parseDocument(item.text);
    if ('error' in parsed) yield { ok: false, error: parsed.error, pos: item.pos, rule: parsed.rule };
    else yield { ok: true, doc: parsed.doc, pos: item.pos };
  }
}
