import { describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.js';
import { parseBool, parseKeyval, parseSize } from './keyval.js';

function entries(text: string, impliedKey?: string): Array<[string, string]> {
  return parseKeyval(text, impliedKey === undefined ? { option: '-x' } : { option: '-x', impliedKey })
    .entries;
}

describe('parseKeyval (QemuOpts syntax)', () => {
  it('splits key=value pairs on commas, in order', () => {
    expect(entries('file=x.hex,addr=0x1000,cpu-num=0')).toEqual([
      ['file', 'x.hex'],
      ['addr', '0x1000'],
      ['cpu-num', '0'],
    ]);
  });

  it('reads a doubled comma as a literal comma inside a value', () => {
    expect(entries('path=a,,b,,,id=c')).toEqual([
      ['path', 'a,b,'],
      ['id', 'c'],
    ]);
  });

  it('keeps "=" inside a value', () => {
    expect(entries('append=console=ttyS0 root=/dev/vda')).toEqual([
      ['append', 'console=ttyS0 root=/dev/vda'],
    ]);
  });

  it('gives a first element without "=" to the implied key', () => {
    expect(entries('microbit,accel=qtest', 'type')).toEqual([
      ['type', 'microbit'],
      ['accel', 'qtest'],
    ]);
    expect(entries('6', 'shift')).toEqual([['shift', '6']]);
    expect(entries('loader,file=x', 'driver')[0]).toEqual(['driver', 'loader']);
  });

  it('uses the implied key only for the first element, and not when it has "="', () => {
    expect(entries('accel=qtest', 'type')).toEqual([['accel', 'qtest']]);
    expect(entries('socket,server', 'backend')).toEqual([
      ['backend', 'socket'],
      ['server', 'on'],
    ]);
  });

  it('unescapes doubled commas in the implied value too', () => {
    expect(entries('a,,b,x=1', 'type')).toEqual([
      ['type', 'a,b'],
      ['x', '1'],
    ]);
  });

  it('reads bare flags as on, and a "no" prefix as off', () => {
    expect(entries('socket,id=c,server,nowait,nodelay', 'backend')).toEqual([
      ['backend', 'socket'],
      ['id', 'c'],
      ['server', 'on'],
      ['wait', 'off'],
      ['delay', 'off'],
    ]);
  });

  it('lets the last of duplicate keys win in the map and keeps all in entries', () => {
    const kv = parseKeyval('a=1,b=2,a=3', { option: '-x' });
    expect(kv.map.get('a')).toBe('3');
    expect(kv.entries).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['a', '3'],
    ]);
  });

  it('ignores a trailing comma and accepts empty values', () => {
    expect(entries('a=1,')).toEqual([['a', '1']]);
    expect(entries('a=')).toEqual([['a', '']]);
    expect(entries('')).toEqual([]);
  });

  it('treats "help" and "?" as help requests, not keys', () => {
    const first = parseKeyval('help', { option: '-device', impliedKey: 'driver' });
    expect(first.help).toBe(true);
    expect(first.entries).toEqual([]);
    const later = parseKeyval('loader,?', { option: '-device', impliedKey: 'driver' });
    expect(later.help).toBe(true);
    expect(later.map.get('driver')).toBe('loader');
  });

  it("rejects an empty key with QEMU's message and the option as location", () => {
    expect(() => parseKeyval('loader,=x', { option: '-device', impliedKey: 'driver' })).toThrow(
      "-device loader,=x: Invalid parameter ''",
    );
    expect(() => parseKeyval('no', { option: '-x' })).toThrow("-x no: Invalid parameter ''");
  });

  it('leaves the location out when no option is named', () => {
    expect(() => parseKeyval('=x', { option: '' })).toThrow(/^Invalid parameter ''$/);
  });
});

describe('parseKeyval (JSON form)', () => {
  it('reads a double-quoted JSON object when allowed', () => {
    const kv = parseKeyval('{"driver":"virtio-mouse-pci","bus":"b1","id":"dev0"}', {
      option: '-device',
      json: true,
    });
    expect(kv.json).toBe(true);
    expect(kv.entries).toEqual([
      ['driver', 'virtio-mouse-pci'],
      ['bus', 'b1'],
      ['id', 'dev0'],
    ]);
  });

  it("reads single-quoted strings, as QEMU's JSON parser does", () => {
    const kv = parseKeyval("{'driver':'virtio-mouse-pci', 'bus': 'b1', 'id': 'dev0', 'q': 'it\\'s'}", {
      option: '-device',
      json: true,
    });
    expect(kv.map.get('driver')).toBe('virtio-mouse-pci');
    expect(kv.map.get('q')).toBe("it's");
  });

  it('turns numbers, booleans and nested values into text', () => {
    const kv = parseKeyval(
      '{"driver":"d","addr":18446744073709551615,"on":true,"off":false,"n":{"a":[1,"x"]}}',
      {
        option: '-device',
        json: true,
      },
    );
    expect(kv.map.get('addr')).toBe('18446744073709551615');
    expect(kv.map.get('on')).toBe('on');
    expect(kv.map.get('off')).toBe('off');
    expect(kv.map.get('n')).toBe('{"a":[1,"x"]}');
  });

  it('is not used unless the option allows JSON', () => {
    expect(parseKeyval('{a=1', { option: '-x' }).entries).toEqual([['{a', '1']]);
  });

  it('rejects duplicate keys, non-objects and malformed JSON', () => {
    expect(() => parseKeyval('{"a":1,"a":2}', { option: '-device', json: true })).toThrow(
      /duplicate key 'a'/,
    );
    expect(() => parseKeyval('{"a":1', { option: '-device', json: true })).toThrow(
      /^-device \{"a":1: JSON parse error/,
    );
    expect(() => parseKeyval('{"a":1} x', { option: '-device', json: true })).toThrow(/JSON parse error/);
    expect(() => parseKeyval('{"a":null}', { option: '-device', json: true })).toThrow(UserError);
  });
});

describe('parseSize', () => {
  it('reads units as powers of 1024, case-insensitively', () => {
    expect(parseSize('16M', 'size')).toBe(16 * 1024 * 1024);
    expect(parseSize('16m', 'size')).toBe(16 * 1024 * 1024);
    expect(parseSize('4k', 'size')).toBe(4096);
    expect(parseSize('1G', 'size')).toBe(2 ** 30);
    expect(parseSize('512', 'size')).toBe(512);
    expect(parseSize('8B', 'size')).toBe(8);
  });

  it('accepts fractions with a unit and hexadecimal integers', () => {
    expect(parseSize('1.5K', 'size')).toBe(1536);
    expect(parseSize('0x1000', 'size')).toBe(4096);
  });

  it("rejects bad sizes with QEMU's message and hint", () => {
    expect(() => parseSize('16X', 'size')).toThrow(
      "Parameter 'size' expects a non-negative number below 2^64\n" +
        'Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\n' +
        'and exabytes, respectively.',
    );
    expect(() => parseSize('-1', 'size')).toThrow(/expects a non-negative number/);
    expect(() => parseSize('1.5', 'size')).toThrow(/expects a non-negative number/);
    expect(() => parseSize('', 'size')).toThrow(/expects a non-negative number/);
  });

  it('rejects sizes of 2^64 or more as out of range', () => {
    expect(() => parseSize('16E', 'size')).toThrow("Value '16E' is out of range for parameter 'size'");
  });
});

describe('parseBool', () => {
  it('accepts on/off and their QEMU synonyms', () => {
    for (const text of ['on', 'yes', 'true', 'y']) expect(parseBool(text, 'p')).toBe(true);
    for (const text of ['off', 'no', 'false', 'n']) expect(parseBool(text, 'p')).toBe(false);
  });

  it('names the parameter when the value is not a boolean', () => {
    expect(() => parseBool('maybe', 'pretty')).toThrow("Parameter 'pretty' expects 'on' or 'off'");
  });
});
