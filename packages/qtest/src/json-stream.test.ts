import { describe, expect, it } from 'vitest';
import { JsonStreamSplitter } from './json-stream.js';

function feedAll(chunks: string[]): { values: unknown[]; errors: string[] } {
  const splitter = new JsonStreamSplitter();
  const values: unknown[] = [];
  const errors: string[] = [];
  for (const c of chunks)
    splitter.feed(
      c,
      (v) => values.push(v),
      (bad) => errors.push(bad),
    );
  return { values, errors };
}

describe('JsonStreamSplitter', () => {
  it('joins an object split across reads', () => {
    expect(feedAll(['{"ret', 'urn": {"a": [1, ', '2]}}\r\n']).values).toEqual([{ return: { a: [1, 2] } }]);
  });

  it('splits several objects in one read, with whitespace between them', () => {
    expect(feedAll(['{"a":1}\r\n {"b":2}\n\t{"c":3}']).values).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
  });

  it('ignores braces and escaped quotes inside strings', () => {
    const text = '{"desc": "a } \\" { ]", "x": "\\\\"}';
    expect(feedAll([text.slice(0, 9), text.slice(9)]).values).toEqual([{ desc: 'a } " { ]', x: '\\' }]);
  });

  it('reports text that is not JSON and carries on', () => {
    const { values, errors } = feedAll(['x{"a":1}', '{"b":}{"c":3}']);
    expect(values).toEqual([{ a: 1 }, { c: 3 }]);
    expect(errors).toEqual(['x', '{"b":}']);
  });
});
