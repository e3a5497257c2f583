import { describe, expect, it } from 'vitest';
import { UserError } from './errors.js';
import {
  declareType,
  knownTypes,
  ObjectNode,
  type PropertyDef,
  parseIntegerText,
  parsePropertyText,
  typeAncestry,
  typeParent,
} from './object.js';

/** `/machine/soc/{uart0,timer0}` and `/chardevs`, under an unnamed root. */
function makeTree() {
  const root = new ObjectNode('container');
  const machine = root.addChild('machine', new ObjectNode('machine'));
  const soc = machine.addChild('soc', new ObjectNode('container'));
  const uart = soc.addChild('uart0', new ObjectNode('device'));
  const timer = soc.addChild('timer0', new ObjectNode('device'));
  const chardevs = root.addChild('chardevs', new ObjectNode('container'));
  return { root, machine, soc, uart, timer, chardevs };
}

describe('ObjectNode paths', () => {
  it('names the unnamed root "/" and children by their chain of names', () => {
    const { root, machine, uart } = makeTree();
    expect(root.path).toBe('/');
    expect(machine.path).toBe('/machine');
    expect(uart.path).toBe('/machine/soc/uart0');
  });

  it('gives a parentless named node a path of its own name', () => {
    expect(new ObjectNode('device', 'lonely').path).toBe('/lonely');
  });

  it('finds the root from any node', () => {
    const { root, uart } = makeTree();
    expect(uart.root).toBe(root);
    expect(root.root).toBe(root);
  });

  it('resolves absolute paths from any node', () => {
    const { root, uart, timer, chardevs } = makeTree();
    expect(timer.resolve('/machine/soc/uart0')).toBe(uart);
    expect(uart.resolve('/chardevs')).toBe(chardevs);
    expect(uart.resolve('/')).toBe(root);
  });

  it('resolves relative paths from the node itself', () => {
    const { machine, soc, uart } = makeTree();
    expect(machine.resolve('soc/uart0')).toBe(uart);
    expect(machine.resolve('soc')).toBe(soc);
    expect(soc.resolve('')).toBe(soc);
    expect(soc.resolve('.')).toBe(soc);
  });

  it('resolves ".." to the parent and stops at the root', () => {
    const { root, machine, uart, timer, chardevs } = makeTree();
    expect(uart.resolve('..')).toBe(uart.parent);
    expect(uart.resolve('../timer0')).toBe(timer);
    expect(uart.resolve('../../..')).toBe(root);
    expect(uart.resolve('../../../chardevs')).toBe(chardevs);
    expect(root.resolve('..')).toBe(root);
    expect(machine.resolve('/machine/soc/../..')).toBe(root);
  });

  it('ignores empty and "." segments', () => {
    const { machine, uart } = makeTree();
    expect(machine.resolve('/machine//soc/./uart0/')).toBe(uart);
  });

  it('returns undefined for a path that does not exist', () => {
    const { machine, uart } = makeTree();
    expect(machine.resolve('/machine/nope')).toBeUndefined();
    expect(machine.resolve('soc/uart0/deeper')).toBeUndefined();
    expect(uart.resolve('nope/..')).toBeUndefined();
  });

  it('rejects a duplicate child name', () => {
    const { soc } = makeTree();
    expect(() => soc.addChild('uart0', new ObjectNode('device'))).toThrow(
      "/machine/soc: duplicate child 'uart0'",
    );
  });

  it('moves a child that is added to another parent', () => {
    const { soc, machine, chardevs, uart } = makeTree();
    chardevs.addChild('moved', uart);
    expect(soc.child('uart0')).toBeUndefined();
    expect(uart.name).toBe('moved');
    expect(uart.path).toBe('/chardevs/moved');
    expect(machine.resolve('/chardevs/moved')).toBe(uart);
  });

  it('detaches a removed child', () => {
    const { soc, uart } = makeTree();
    expect(soc.removeChild('uart0')).toBe(uart);
    expect(uart.parent).toBeNull();
    expect(soc.child('uart0')).toBeUndefined();
    expect(soc.removeChild('uart0')).toBeUndefined();
  });

  it('walks depth-first, parents before children, in insertion order', () => {
    const { root } = makeTree();
    expect([...root.walk()].map((n) => n.path)).toEqual([
      '/',
      '/machine',
      '/machine/soc',
      '/machine/soc/uart0',
      '/machine/soc/timer0',
      '/chardevs',
    ]);
  });
});

describe('parseIntegerText', () => {
  it('reads decimal, 0x hexadecimal and leading-zero octal', () => {
    expect(parseIntegerText('42')).toBe(42);
    expect(parseIntegerText('0x1F')).toBe(31);
    expect(parseIntegerText('0XfF')).toBe(255);
    expect(parseIntegerText('010')).toBe(8);
    expect(parseIntegerText('0')).toBe(0);
  });

  it('applies binary size suffixes k, M, G, T in either case', () => {
    expect(parseIntegerText('4k')).toBe(4096);
    expect(parseIntegerText('4K')).toBe(4096);
    expect(parseIntegerText('16M')).toBe(16 * 1024 * 1024);
    expect(parseIntegerText('2g')).toBe(2 * 1024 ** 3);
    expect(parseIntegerText('1T')).toBe(1024 ** 4);
    expect(parseIntegerText('0x10k')).toBe(16 * 1024);
  });

  it('accepts a sign and surrounding spaces', () => {
    expect(parseIntegerText('-5')).toBe(-5);
    expect(parseIntegerText('+7')).toBe(7);
    expect(parseIntegerText('-0x10')).toBe(-16);
    expect(parseIntegerText(' 12 ')).toBe(12);
  });

  it('returns null for text that is not an integer', () => {
    for (const text of ['', 'abc', '1.5', '08', '0x', '12q', '1 2', '1kk']) {
      expect(parseIntegerText(text), text).toBeNull();
    }
  });

  it('returns null when the value is not a safe integer', () => {
    expect(parseIntegerText('9007199254740993')).toBeNull();
    expect(parseIntegerText('0x7fffffffffffffffT')).toBeNull();
  });
});

describe('parsePropertyText', () => {
  const bool: PropertyDef = { name: 'flag', type: 'bool' };

  it('reads bool as on/off, yes/no, true/false, 1/0', () => {
    for (const t of ['on', 'yes', 'true', '1']) expect(parsePropertyText(bool, t), t).toBe(true);
    for (const t of ['off', 'no', 'false', '0']) expect(parsePropertyText(bool, t), t).toBe(false);
  });

  it('rejects other bool text naming the parameter', () => {
    expect(() => parsePropertyText(bool, 'maybe')).toThrow(UserError);
    expect(() => parsePropertyText(bool, 'maybe')).toThrow("Parameter 'flag' expects 'on' or 'off'");
  });

  it('rejects non-numeric integer text with the text in the message', () => {
    expect(() => parsePropertyText({ name: 'count', type: 'int' }, 'ten')).toThrow(
      "Parameter 'count' expects an integer, got 'ten'",
    );
  });

  it('keeps string and enum text as is and maps an empty link to null', () => {
    expect(parsePropertyText({ name: 's', type: 'string' }, '0x10')).toBe('0x10');
    expect(parsePropertyText({ name: 'e', type: 'enum', values: ['a'] }, 'a')).toBe('a');
    expect(parsePropertyText({ name: 'l', type: 'link' }, '')).toBeNull();
    expect(parsePropertyText({ name: 'l', type: 'link' }, '/machine')).toBe('/machine');
  });
});

describe('ObjectNode properties', () => {
  function node(defs: PropertyDef[]): ObjectNode {
    const n = new ObjectNode('test-dev', 'dev');
    n.declareProperties(defs);
    return n;
  }

  it('starts at the declared default, or the type default when none is given', () => {
    const n = node([
      { name: 'freq', type: 'uint', default: 16_000_000 },
      { name: 'on', type: 'bool', default: true },
      { name: 'b', type: 'bool' },
      { name: 'i', type: 'int' },
      { name: 's', type: 'string' },
      { name: 'e', type: 'enum', values: ['x'] },
      { name: 'l', type: 'link' },
    ]);
    expect(n.getInt('freq')).toBe(16_000_000);
    expect(n.getBool('on')).toBe(true);
    expect(n.getProperty('b')).toBe(false);
    expect(n.getProperty('i')).toBe(0);
    expect(n.getProperty('s')).toBe('');
    expect(n.getProperty('e')).toBe('');
    expect(n.getProperty('l')).toBeNull();
  });

  it('refuses to declare the same property twice', () => {
    const n = node([{ name: 'x', type: 'int' }]);
    expect(() => n.declareProperty({ name: 'x', type: 'bool' })).toThrow("property 'x' declared twice");
  });

  it('reports an unknown property with the type name', () => {
    const n = node([]);
    expect(n.hasProperty('nope')).toBe(false);
    expect(() => n.getProperty('nope')).toThrow("Property 'test-dev.nope' not found");
    expect(() => n.setProperty('nope', 1)).toThrow(UserError);
  });

  it('parses text values as the command line does', () => {
    const n = node([
      { name: 'size', type: 'uint' },
      { name: 'flag', type: 'bool' },
      { name: 'off', type: 'int' },
    ]);
    n.setProperty('size', '64k');
    n.setProperty('flag', 'yes');
    n.setProperty('off', '-0x20');
    expect(n.getInt('size')).toBe(65536);
    expect(n.getBool('flag')).toBe(true);
    expect(n.getInt('off')).toBe(-32);
    n.setProperty('flag', 'no');
    expect(n.getBool('flag')).toBe(false);
  });

  it('checks the JS type of non-text values', () => {
    const n = node([
      { name: 'count', type: 'int' },
      { name: 'flag', type: 'bool' },
      { name: 'label', type: 'string' },
      { name: 'peer', type: 'link' },
    ]);
    expect(() => n.setProperty('count', true)).toThrow(
      "Invalid parameter type for 'count', expected: integer",
    );
    expect(() => n.setProperty('count', 1.5)).toThrow(
      "Invalid parameter type for 'count', expected: integer",
    );
    expect(() => n.setProperty('flag', 1)).toThrow("Invalid parameter type for 'flag', expected: boolean");
    expect(() => n.setProperty('label', 5)).toThrow("Invalid parameter type for 'label', expected: string");
    expect(() => n.setProperty('peer', false)).toThrow(
      "Invalid parameter type for 'peer', expected: object path",
    );
    // A failed set leaves the value alone.
    expect(n.getInt('count')).toBe(0);
    expect(n.isPropertySet('count')).toBe(false);
  });

  it('rejects negative values for uint', () => {
    const n = node([{ name: 'n', type: 'uint' }]);
    expect(() => n.setProperty('n', -1)).toThrow("Parameter 'n' expects a non-negative integer");
    expect(() => n.setProperty('n', '-1')).toThrow("Parameter 'n' expects a non-negative integer");
  });

  it('enforces min and max, inclusive', () => {
    const n = node([
      { name: 'level', type: 'int', min: -1, max: 255 },
      { name: 'low', type: 'uint', min: 8 },
    ]);
    n.setProperty('level', 255);
    n.setProperty('level', -1);
    expect(n.getInt('level')).toBe(-1);
    expect(() => n.setProperty('level', 256)).toThrow("Property 'level' value 256 is out of range [-1, 255]");
    expect(() => n.setProperty('level', '0x100')).toThrow('out of range');
    expect(() => n.setProperty('low', 7)).toThrow("Property 'low' value 7 is out of range [8, inf]");
  });

  it('accepts only the listed enum values and lists them in the error', () => {
    const n = node([{ name: 'mode', type: 'enum', values: ['fast', 'realtime'] }]);
    n.setProperty('mode', 'realtime');
    expect(n.getString('mode')).toBe('realtime');
    expect(() => n.setProperty('mode', 'slow')).toThrow(
      "Parameter 'mode' does not accept value 'slow' (expected one of: fast, realtime)",
    );
  });

  it('is read-only after realize unless declared mutable', () => {
    const n = node([
      { name: 'fixed', type: 'int' },
      { name: 'button', type: 'bool', mutable: true },
    ]);
    n.setProperty('fixed', 1);
    n.realized = true;
    expect(() => n.setProperty('fixed', 2)).toThrow(
      "Attempt to set property 'fixed' on device '/dev' (type 'test-dev') after it was realized",
    );
    expect(n.getInt('fixed')).toBe(1);
    n.setProperty('button', true);
    expect(n.getBool('button')).toBe(true);
  });

  it('tells an explicitly set property from one left at its default', () => {
    const n = node([
      { name: 'a', type: 'int', default: 3 },
      { name: 'b', type: 'int', default: 3 },
    ]);
    expect(n.isPropertySet('a')).toBe(false);
    n.setProperty('a', 3);
    expect(n.isPropertySet('a')).toBe(true);
    expect(n.isPropertySet('b')).toBe(false);
    expect(n.isPropertySet('unknown')).toBe(false);
  });

  it('reads and writes computed properties through get/set', () => {
    let backing = 7;
    const writes: unknown[] = [];
    const n = node([
      {
        name: 'live',
        type: 'uint',
        mutable: true,
        get: () => backing,
        set: (v) => {
          writes.push(v);
          backing = v as number;
        },
      },
    ]);
    expect(n.getInt('live')).toBe(7);
    n.realized = true;
    n.setProperty('live', '0x10');
    expect(writes).toEqual([16]);
    expect(n.getInt('live')).toBe(16);
    expect(n.isPropertySet('live')).toBe(true);
  });

  it('resolves link properties to nodes of the tree', () => {
    const { machine, uart } = makeTree();
    const n = machine.addChild('user', new ObjectNode('test-dev'));
    n.declareProperty({ name: 'peer', type: 'link', linkType: 'device' });
    expect(n.getLink('peer')).toBeNull();
    n.setProperty('peer', '/machine/soc/uart0');
    expect(n.getLink('peer')).toBe(uart);
    n.setProperty('peer', 'soc/uart0');
    expect(() => n.getLink('peer')).toThrow("Property 'peer': no object at 'soc/uart0'");
    n.setProperty('peer', '../soc/timer0');
    expect(n.getLink('peer')?.path).toBe('/machine/soc/timer0');
    n.setProperty('peer', null);
    expect(n.getLink('peer')).toBeNull();
  });

  it('lists properties in qom-list shape: type, then children, then declared properties', () => {
    const n = new ObjectNode('test-dev', 'dev');
    n.addChild('bus', new ObjectNode('container'));
    n.addChild('irq-in', new ObjectNode('device'));
    n.declareProperties([
      { name: 'freq', type: 'uint', description: 'clock in Hz' },
      { name: 'offset', type: 'int' },
      { name: 'on', type: 'bool' },
      { name: 'label', type: 'string' },
      { name: 'mode', type: 'enum', values: ['a', 'b'] },
      { name: 'peer', type: 'link', linkType: 'chardev' },
      { name: 'any', type: 'link' },
    ]);
    expect(n.listProperties()).toEqual([
      { name: 'type', type: 'string' },
      { name: 'bus', type: 'child<container>' },
      { name: 'irq-in', type: 'child<device>' },
      { name: 'freq', type: 'uint64', description: 'clock in Hz' },
      { name: 'offset', type: 'int64' },
      { name: 'on', type: 'bool' },
      { name: 'label', type: 'str' },
      { name: 'mode', type: 'str' },
      { name: 'peer', type: 'link<chardev>' },
      { name: 'any', type: 'link<object>' },
    ]);
  });

  it('returns the declarations in declaration order', () => {
    const n = node([
      { name: 'b', type: 'bool' },
      { name: 'a', type: 'int' },
    ]);
    expect(n.propertyDefs().map((d) => d.name)).toEqual(['b', 'a']);
  });
});

describe('type ancestry', () => {
  it('knows the built-in hierarchy', () => {
    expect(typeAncestry('sys-bus-device')).toEqual(['sys-bus-device', 'device', 'object']);
    expect(typeAncestry('cpu')).toEqual(['cpu', 'device', 'object']);
    expect(typeParent('object')).toBeNull();
    expect(typeParent('never-declared-type')).toBeUndefined();
    expect(knownTypes()).toEqual(expect.arrayContaining(['object', 'device', 'machine', 'chardev']));
  });

  it('answers isA for the type itself and every ancestor, and nothing else', () => {
    declareType('test-object-uart', 'sys-bus-device');
    const n = new ObjectNode('test-object-uart');
    expect(n.typeChain()).toEqual(['test-object-uart', 'sys-bus-device', 'device', 'object']);
    for (const t of ['test-object-uart', 'sys-bus-device', 'device', 'object'])
      expect(n.isA(t), t).toBe(true);
    expect(n.isA('cpu')).toBe(false);
    expect(n.isA('machine')).toBe(false);
  });

  it('treats an undeclared type name as its own only ancestor', () => {
    expect(typeAncestry('test-object-undeclared')).toEqual(['test-object-undeclared']);
    expect(new ObjectNode('test-object-undeclared').isA('object')).toBe(false);
  });
});
