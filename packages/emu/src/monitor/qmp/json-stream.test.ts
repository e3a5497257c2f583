import { describe, expect, it } from 'vitest';
import { formatQmpJson, type JsonStreamLimits, JsonStreamParser, type JsonValue } from './json-stream.js';

type Out = { value: JsonValue } | { error: string };

function parser(limits?: JsonStreamLimits): { p: JsonStreamParser; out: Out[] } {
  const out: Out[] = [];
  const p = new JsonStreamParser((value, error) => {
    out.push(error !== undefined ? { error } : { value: value as JsonValue });
  }, limits);
  return { p, out };
}

describe('JsonStreamParser', () => {
  it('parses an object split across reads at every byte', () => {
    const text = '{"execute": "qom-get", "arguments": {"path": "/machine", "n": [1, -2.5e3, true, null]}}';
    const { p, out } = parser();
    for (const ch of text) p.feed(ch);
    expect(out).toEqual([
      { value: { execute: 'qom-get', arguments: { path: '/machine', n: [1, -2500, true, null] } } },
    ]);
  });

  it('parses several messages in one read with whitespace between them', () => {
    const { p, out } = parser();
    p.feed(' {"a": 1}\n\t{"b": 2}\r\n  {"c": {}}');
    expect(out).toEqual([{ value: { a: 1 } }, { value: { b: 2 } }, { value: { c: {} } }]);
  });

  it("accepts single-quoted strings and the \\' escape, as QEMU does", () => {
    const { p, out } = parser();
    p.feed(`{'execute': 'x', "q": 'say "hi"', "e": "it\\'s"}`);
    expect(out).toEqual([{ value: { execute: 'x', q: 'say "hi"', e: "it's" } }]);
  });

  it('decodes escapes, surrogate pairs and UTF-8', () => {
    const { p, out } = parser();
    p.feed('["\\u00e9\\n\\t\\/", "\\ud83d\\ude00", "caf\xc3\xa9"]');
    // The last string arrives as UTF-8 bytes.
    const { p: p2, out: out2 } = parser();
    p2.feed(Uint8Array.from([0x22, 0x63, 0xc3, 0xa9, 0x22, 0x0a]));
    expect(out[0]).toEqual({ value: ['é\n\t/', '😀', 'cafÃ©'] });
    expect(out2).toEqual([{ value: 'cé' }]);
  });

  it('completes a top-level scalar at the next byte', () => {
    const { p, out } = parser();
    p.feed('42');
    expect(out).toEqual([]);
    p.feed('\n');
    expect(out).toEqual([{ value: 42 }]);
  });

  it("reports a stray byte with QEMU's text and resynchronises", () => {
    const { p, out } = parser();
    p.feed('@garbage\n{"ok": true}');
    expect(out).toEqual([{ error: "JSON parse error, stray '@'" }, { value: { ok: true } }]);
  });

  it('reports a control character inside a string as stray, with the token so far', () => {
    const { p, out } = parser();
    p.feed('{"a": "x\ny"}\n{"b": 1}');
    expect(out[0]).toEqual({ error: `JSON parse error, stray '"x\n'` });
    expect(out.at(-1)).toEqual({ value: { b: 1 } });
  });

  it("reports syntax errors of a complete message with QEMU's wording", () => {
    const cases: Array<[string, string]> = [
      ['{"a" 1}', 'JSON parse error, missing : in object pair'],
      ['{"a": 1 "b": 2}', 'JSON parse error, expected separator in dict'],
      ['[1 2]', 'JSON parse error, expected separator in list'],
      ['{1: 2}', 'JSON parse error, key is not a string in object'],
      ['{"a": }', 'JSON parse error, expecting value'],
      ['{"a": 1, "a": 2}', 'JSON parse error, duplicate key'],
      ['{"a": nope}', "JSON parse error, invalid keyword 'nope'"],
      ['{"a": "\\q"}', 'JSON parse error, invalid escape sequence in string'],
      ['}', 'JSON parse error, expecting value'],
    ];
    for (const [text, error] of cases) {
      const { p, out } = parser();
      p.feed(`${text}\n`);
      expect(out, text).toEqual([{ error }]);
    }
  });

  it('rejects invalid UTF-8 in strings', () => {
    const { p, out } = parser();
    p.feed(Uint8Array.from([0x22, 0xc3, 0x28, 0x22]));
    expect(out).toEqual([{ error: 'JSON parse error, invalid UTF-8 sequence in string' }]);
  });

  it('answers an oversized message once, skips it and parses the next one', () => {
    const { p, out } = parser({ maxMessageBytes: 100 });
    p.feed(`{"execute": "x", "arguments": {"data": "${'z'.repeat(500)}", "more": [1, 2, {}]}}`);
    p.feed('{"execute": "ok"}');
    expect(out).toEqual([{ error: 'JSON token size limit exceeded' }, { value: { execute: 'ok' } }]);
  });

  it('limits the number of tokens in one message', () => {
    const { p, out } = parser({ maxTokens: 10 });
    p.feed(`[${Array(20).fill('1').join(',')}]{"x": 1}`);
    expect(out).toEqual([{ error: 'JSON token count limit exceeded' }, { value: { x: 1 } }]);
  });

  it("limits nesting at QEMU's depth of 1024 by default", () => {
    const { p, out } = parser();
    p.feed(`${'['.repeat(1024)}${']'.repeat(1024)}`);
    expect(out).toHaveLength(1);
    expect('value' in out[0]!).toBe(true);
    p.feed(`${'['.repeat(1025)}${']'.repeat(1025)}{"after": 1}`);
    expect(out.slice(1)).toEqual([{ error: 'JSON nesting depth limit exceeded' }, { value: { after: 1 } }]);
  });

  it('keeps a key named __proto__ as an ordinary member', () => {
    const { p, out } = parser();
    p.feed('{"__proto__": {"polluted": true}}');
    const v = (out[0] as { value: Record<string, JsonValue> }).value;
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('starts clean after reset', () => {
    const { p, out } = parser();
    p.feed('{"half": ');
    p.reset();
    p.feed('{"whole": 1}');
    expect(out).toEqual([{ value: { whole: 1 } }]);
  });
});

describe('formatQmpJson', () => {
  it("writes QEMU's layout: a space after ':' and ',', ASCII with \\u escapes", () => {
    expect(formatQmpJson({ return: {}, id: 'v1' })).toBe('{"return": {}, "id": "v1"}');
    expect(formatQmpJson({ a: [1, 'é', null, true], b: [] })).toBe(
      '{"a": [1, "\\u00E9", null, true], "b": []}',
    );
    expect(formatQmpJson('tab\there "q" \\')).toBe('"tab\\there \\"q\\" \\\\"');
  });

  it('indents by four spaces when pretty', () => {
    expect(formatQmpJson({ return: { a: 1 } }, true)).toBe('{\n    "return": {\n        "a": 1\n    }\n}');
  });
});
