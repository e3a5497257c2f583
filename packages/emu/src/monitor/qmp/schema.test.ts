import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import {
  any,
  array,
  buildSchemaInfo,
  defineCommand,
  defineEvent,
  enumType,
  int,
  number,
  object,
  opt,
  req,
  str,
  union,
  validateArguments,
} from './schema.js';

const Color = enumType('Color', ['red', 'green'] as const);
const Shape = union('Shape', {
  circle: object('Circle', { r: req(number) }),
  box: object('Box', { w: req(int), h: req(int) }),
});
const Args = object('args', {
  name: req(str),
  count: opt(int),
  colors: opt(array(Color)),
  color: opt(Color),
  shapes: opt(array(Shape)),
  extra: opt(any),
});

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof UserError) return `${e.qmpClass}: ${e.message}`;
    throw e;
  }
  return 'no error';
}

describe('validateArguments', () => {
  it('accepts valid arguments and returns them', () => {
    const v = validateArguments(Args, {
      name: 'x',
      count: 3,
      colors: ['red'],
      shapes: [{ type: 'box', w: 1, h: 2 }],
      extra: { any: [1] },
    });
    expect(v).toEqual({
      name: 'x',
      count: 3,
      colors: ['red'],
      shapes: [{ type: 'box', w: 1, h: 2 }],
      extra: { any: [1] },
    });
  });

  it("reports QEMU's texts with full member paths", () => {
    expect(errorOf(() => validateArguments(Args, {}))).toBe("GenericError: Parameter 'name' is missing");
    expect(errorOf(() => validateArguments(Args, { name: 1 }))).toBe(
      "GenericError: Invalid parameter type for 'name', expected: string",
    );
    expect(errorOf(() => validateArguments(Args, { name: 'x', count: 1.5 }))).toBe(
      "GenericError: Invalid parameter type for 'count', expected: integer",
    );
    expect(errorOf(() => validateArguments(Args, { name: 'x', colors: 'red' }))).toBe(
      "GenericError: Invalid parameter type for 'colors', expected: array",
    );
    expect(errorOf(() => validateArguments(Args, { name: 'x', bogus: 1 }))).toBe(
      "GenericError: Parameter 'bogus' is unexpected",
    );
    expect(errorOf(() => validateArguments(Args, { name: 'x', color: 'blue' }))).toBe(
      "GenericError: Parameter 'color' does not accept value 'blue'",
    );
    // QEMU names a list element 'null' in this one message.
    expect(errorOf(() => validateArguments(Args, { name: 'x', colors: ['blue'] }))).toBe(
      "GenericError: Parameter 'null' does not accept value 'blue'",
    );
  });

  it('validates union variants by their type tag', () => {
    expect(errorOf(() => validateArguments(Args, { name: 'x', shapes: [{ w: 1 }] }))).toBe(
      "GenericError: Parameter 'shapes[0].type' is missing",
    );
    expect(errorOf(() => validateArguments(Args, { name: 'x', shapes: [{ type: 'box', w: 1 }] }))).toBe(
      "GenericError: Parameter 'shapes[0].h' is missing",
    );
    expect(
      errorOf(() => validateArguments(Args, { name: 'x', shapes: [{ type: 'circle', r: 1, w: 2 }] })),
    ).toBe("GenericError: Parameter 'shapes[0].w' is unexpected");
    expect(errorOf(() => validateArguments(Args, { name: 'x', shapes: [{ type: 'tri' }] }))).toBe(
      "GenericError: Parameter 'type' does not accept value 'tri'",
    );
  });

  it('treats a command without arguments as taking an empty object', () => {
    expect(validateArguments(undefined, undefined)).toEqual({});
    expect(errorOf(() => validateArguments(undefined, { a: 1 }))).toBe(
      "GenericError: Parameter 'a' is unexpected",
    );
  });
});

describe('buildSchemaInfo', () => {
  it('describes commands, events, builtins, arrays, enums, objects and unions', () => {
    const cmd = defineCommand<unknown, { shapes: ReturnType<typeof req<unknown>> }, string[]>({
      name: 'draw',
      description: 'Draws.',
      args: { shapes: req(array(Shape)) },
      returns: array(str),
      allowOob: true,
      run: () => [],
    });
    const ev = defineEvent({ name: 'DRAWN', description: 'Drawn.', data: { n: req(int) } });
    const info = new Map(buildSchemaInfo([cmd], [ev]).map((s) => [s.name, s]));
    expect(info.get('draw')).toEqual({
      name: 'draw',
      'meta-type': 'command',
      'arg-type': 'draw-arg',
      'ret-type': '[str]',
      'allow-oob': true,
    });
    expect(info.get('DRAWN')).toEqual({ name: 'DRAWN', 'meta-type': 'event', 'arg-type': 'DRAWN-data' });
    expect(info.get('[str]')).toEqual({ name: '[str]', 'meta-type': 'array', 'element-type': 'str' });
    expect(info.get('Shape')).toEqual({
      name: 'Shape',
      'meta-type': 'object',
      members: [{ name: 'type', type: 'ShapeKind' }],
      tag: 'type',
      variants: [
        { case: 'circle', type: 'Circle' },
        { case: 'box', type: 'Box' },
      ],
    });
    expect(info.get('ShapeKind')).toEqual({
      name: 'ShapeKind',
      'meta-type': 'enum',
      members: [{ name: 'circle' }, { name: 'box' }],
      values: ['circle', 'box'],
    });
    expect(info.get('int')).toEqual({ name: 'int', 'meta-type': 'builtin', 'json-type': 'int' });
    expect(buildSchemaInfo([], []).find((s) => s.name === 'q_empty')).toBeDefined();
    // Optional members carry "default": null, as in QEMU's schema.
    const withOpt = defineCommand({
      name: 'c',
      description: '',
      args: { a: opt(str) },
      run: () => undefined,
    });
    expect(buildSchemaInfo([withOpt], []).find((s) => s.name === 'c-arg')).toEqual({
      name: 'c-arg',
      'meta-type': 'object',
      members: [{ name: 'a', type: 'str', default: null }],
    });
  });
});
