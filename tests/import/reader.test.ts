import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Decimal128, Int32, Long, ObjectId } from 'bson';
import { afterAll, describe, expect, it } from 'vitest';
import { JsonValueSplitter, LineSplitter, detectFormat, readDocuments, type ParsedItem } from '../../src/import/reader.js';

const dir = mkdtempSync(path.join(tmpdir(), 'kaggi-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
function file(content: string | Buffer): string {
  fileNo += 1;
  const p = path.join(dir, `f${fileNo}.json`);
  writeFileSync(p, content);
  return p;
}

async function readAll(p: string, highWaterMark?: number): Promise<{ items: ParsedItem[]; format?: string }> {
  const items: ParsedItem[] = [];
  let format: string | undefined;
  for await (const item of readDocuments(p, { highWaterMark }, (f) => (format = f))) items.push(item);
  return { items, format };
}

const docs = (items: ParsedItem[]) => items.filter((i): i is Extract<ParsedItem, { ok: true }> => i.ok).map((i) => i.doc);
const errors = (items: ParsedItem[]) => items.filter((i): i is Extract<ParsedItem, { ok: false }> => !i.ok);

describe('format detection', () => {
  it('tells arrays, pretty documents and JSON lines apart', () => {
    expect(detectFormat('[{"a":1}]', true)).toBe('array');
    expect(detectFormat('\uFEFF  \n [', false)).toBe('array');
    expect(detectFormat('{\n\t"a": 1\n}', true)).toBe('pretty');
    expect(detectFormat('{"a":1}\n{"a":2}\n', true)).toBe('lines');
    expect(detectFormat('{"a":1', false)).toBeUndefined(); // first line not complete yet
    expect(detectFormat('   ', true)).toBe('empty');
  });
});

describe('JSON lines', () => {
  it('reads canonical and relaxed Extended JSON with exact BSON types', async () => {
    const p = file(
      [
        '{"_id":{"$oid":"65e1a0000000000000000001"},"year":{"$numberInt":"2018"},"big":{"$numberLong":"9007199254740993"},"price":{"$numberDecimal":"12.50"},"at":{"$date":{"$numberLong":"1709283600000"}}}',
        '{"_id":{"$oid":"65e1a0000000000000000002"},"year":2018,"at":{"$date":"2024-03-01T09:00:00Z"}}',
      ].join('\n'),
    );
    const { items, format } = await readAll(p);
    expect(format).toBe('lines');
    const [canonical, relaxed] = docs(items);
    expect(canonical._id).toBeInstanceOf(ObjectId);
    expect(canonical.year).toBeInstanceOf(Int32);
    // never rounded to 9007199254740992
    expect((canonical.big as Long).toString()).toBe('9007199254740993');
    expect(canonical.price).toBeInstanceOf(Decimal128);
    expect((canonical.at as Date).toISOString()).toBe('2024-03-01T09:00:00.000Z');
    expect(relaxed.at).toEqual(canonical.at);
    expect(items.map((i) => i.pos.line)).toEqual([1, 2]);
  });

  it('costs a broken line exactly that line, with its number', async () => {
    const p = file('{"a":1}\r\n\r\n{"a":2,\n{"a":[1,2}\n[1]\n{"a": {"$oid": "zz"}}\n{"a":3}');
    const { items } = await readAll(p);
    expect(docs(items).map((d) => (d.a as Int32).value)).toEqual([1, 3]);
    const broken = errors(items);
    expect(broken.map((e) => [e.pos.line, e.rule])).toEqual([
      [3, 'malformed'],
      [4, 'malformed'],
      [5, 'not_a_document'],
      [6, 'malformed'],
    ]);
    // blank lines are not documents and do not shift numbering
    expect(items.find((i) => i.ok && i.pos.line === 7)).toBeTruthy();
  });

  it('keeps Icelandic letters whole when a chunk boundary falls inside one', async () => {
    const names = ['Þórður', 'Guðrún Ævarsdóttir', 'Ásdís Ýr', 'ÞÓR12', 'Öxará'];
    const p = file(`\uFEFF${names.map((n) => JSON.stringify({ name: n })).join('\n')}\n`);
    for (const hwm of [1, 2, 3, 5, 7]) {
      const { items } = await readAll(p, hwm);
      expect(docs(items).map((d) => d.name)).toEqual(names);
    }
  });

  it('refuses a line longer than the limit without keeping it', () => {
    const s = new LineSplitter(10);
    const out = [...s.feed('{"a":"0123456789"}\n{"b":1}\n'), ...s.end()];
    expect(out[0]).toMatchObject({ error: expect.stringMatching(/longer than 10/) });
    expect(out[1]).toMatchObject({ text: '{"b":1}', pos: { line: 2 } });
  });
});

describe('--jsonArray files', () => {
  const three = [
    { _id: { $oid: '65e1a0000000000000000001' }, name: 'Guðrún', note: 'a "quoted" , ] } { [ \\ text' },
    { _id: { $oid: '65e1a0000000000000000002' }, nested: { list: [1, [2, { x: ']' }]] } },
    { _id: { $oid: '65e1a0000000000000000003' }, name: 'Þór' },
  ];

  it('splits a one-line array (mongoexport writes no newlines) however it is chunked', async () => {
    const p = file(`[${three.map((d) => JSON.stringify(d)).join(',')}]\n`);
    for (const hwm of [1, 3, 16, 64 * 1024]) {
      const { items, format } = await readAll(p, hwm);
      expect(format).toBe('array');
      expect(errors(items)).toEqual([]);
      expect(docs(items).map((d) => String(d._id))).toEqual(three.map((d) => d._id.$oid));
      expect(items.map((i) => i.pos.element)).toEqual([1, 2, 3]);
      expect(docs(items)[0].note).toBe('a "quoted" , ] } { [ \\ text');
    }
  });

  it('reads --pretty arrays and pretty documents without an array', async () => {
    const pretty = `[${three.map((d) => JSON.stringify(d, null, '\t')).join(',\n')}]\n`;
    const { items, format } = await readAll(file(pretty));
    expect(format).toBe('array');
    expect(docs(items)).toHaveLength(3);
    expect(items.map((i) => i.pos.line)).toEqual([1, 8, 24]);

    const concatenated = `${three.map((d) => JSON.stringify(d, null, 2)).join('\n')}\n`;
    const second = await readAll(file(concatenated));
    expect(second.format).toBe('pretty');
    expect(docs(second.items)).toHaveLength(3);
  });

  it('recovers from a broken element and reports it with its position', async () => {
    const good = (n: number) => `{\n\t"n": ${n}\n}`;
    // element 2 lacks its closing brace; element 4 has a line ending inside a string
    const text = `[${good(1)},\n{\n\t"n": 2,\n\t"x": [1\n,\n${good(3)},\n{\n\t"s": "broken\n\t"more": 1\n},\n${good(5)}]`;
    const { items } = await readAll(file(text));
    expect(docs(items).map((d) => (d.n as Int32).value)).toEqual([1, 3, 5]);
    expect(errors(items).map((e) => [e.pos.element, e.error])).toEqual([
      [2, 'incomplete document (a new document starts before it is closed)'],
      [4, 'unterminated string (line ends inside a string)'],
    ]);
  });

  it('reports a truncated file and elements that are not documents', async () => {
    const { items } = await readAll(file('[{"a":1},42,"x",{"a":{"$numberInt":"2"}},{"a":3,"b":'));
    expect(docs(items)).toHaveLength(2);
    expect(errors(items).map((e) => [e.pos.element, e.rule])).toEqual([
      [2, 'not_a_document'],
      [3, 'not_a_document'],
      [5, 'malformed'],
    ]);
    expect(errors(items)[2].error).toMatch(/truncated/);
  });

  it('never holds more than one element: an over-long one is refused and reading goes on', () => {
    const s = new JsonValueSplitter(20);
    const out = [...s.feed('[{"a":"'), ...s.feed('x'.repeat(100)), ...s.feed('"},{"b":1}]'), ...s.end()];
    expect(out[0]).toMatchObject({ error: expect.stringMatching(/longer than 20/) });
    expect(out[1]).toMatchObject({ text: '{"b":1}' });
  });

  it('reads empty files and empty arrays as no documents', async () => {
    expect((await readAll(file(''))).items).toEqual([]);
    expect((await readAll(file('[]\n'))).items).toEqual([]);
    expect((await readAll(file('\n\n'))).items).toEqual([]);
  });
});
