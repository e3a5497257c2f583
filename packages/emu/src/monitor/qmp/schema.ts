/**
 * QMP's typed schema (QEMU's QAPI, reduced to what tsemu needs).
 *
 * Every command and event is declared once, with a typed description of its arguments and
 * return value. From that one declaration come:
 *  - argument validation with QEMU's error texts (`Parameter 'path' is missing`, `Invalid
 *    parameter type for 'x', expected: string`, `Parameter 'y' is unexpected`, `Parameter 'f'
 *    does not accept value 'gif'`), reporting nested members as QEMU does (`events[0].type`);
 *  - the TypeScript type of the arguments the handler receives (`Infer<...>`);
 *  - `query-qmp-schema` in QEMU's SchemaInfo format (meta-types builtin, enum, array, object,
 *    command, event). QEMU masks the names of non-builtin types with numbers; tsemu keeps them
 *    readable (`StatusInfo`, `qom-get-arg`), which clients must treat as opaque anyway. Commands
 *    without arguments use the empty object type `q_empty`, as QEMU's schema does;
 *  - `query-commands` and the Markdown reference (docs/qmp.md).
 *
 * Types: builtins `str`, `int`, `number`, `bool`, `any`, `null`; `array(T)`; named enums; named
 * objects (structs) with required and optional members; unions with a `type` tag (QEMU's
 * discriminated unions, e.g. InputEvent).
 */
import { UserError } from '../../core/errors.js';
import type { JsonValue } from './json-stream.js';

export type BuiltinName = 'str' | 'int' | 'number' | 'bool' | 'any' | 'null';

interface Phantom<T> {
  /** Never set: carries the TypeScript type of the values the schema type accepts. */
  readonly __value?: T;
}

export interface BuiltinType<T = unknown> extends Phantom<T> {
  readonly kind: 'builtin';
  readonly name: BuiltinName;
}
export interface ArrayType<T = unknown> extends Phantom<T> {
  readonly kind: 'array';
  readonly element: QType;
}
export interface EnumType<T = string> extends Phantom<T> {
  readonly kind: 'enum';
  readonly name: string;
  readonly values: readonly string[];
  readonly description?: string;
}
export interface ObjectType<T = unknown> extends Phantom<T> {
  readonly kind: 'object';
  readonly name: string;
  readonly members: Readonly<Record<string, Member>>;
  readonly description?: string;
}
export interface UnionType<T = unknown> extends Phantom<T> {
  readonly kind: 'union';
  readonly name: string;
  /** The tag member (always `type` here) and the object type each of its values selects. */
  readonly tag: EnumType;
  readonly variants: Readonly<Record<string, ObjectType>>;
  readonly description?: string;
}

export type QType<T = unknown> = BuiltinType<T> | ArrayType<T> | EnumType<T> | ObjectType<T> | UnionType<T>;

export interface Member<T = unknown, Opt extends boolean = boolean> {
  readonly type: QType<T>;
  readonly optional: Opt;
  readonly description?: string;
}

export type Infer<Q> = Q extends Phantom<infer T> ? T : never;

type RequiredKeys<M> = { [K in keyof M]: M[K] extends Member<unknown, false> ? K : never }[keyof M];
type OptionalKeys<M> = { [K in keyof M]: M[K] extends Member<unknown, false> ? never : K }[keyof M];
type Simplify<T> = { [K in keyof T]: T[K] };
/** The TypeScript shape of an object with members `M`. */
export type MembersValue<M> = Simplify<
  { [K in RequiredKeys<M>]: M[K] extends Member<infer T> ? T : never } & {
    [K in OptionalKeys<M>]?: M[K] extends Member<infer T> ? T : never;
  }
>;

// ---- builders -------------------------------------------------------------------------------

export const str: BuiltinType<string> = { kind: 'builtin', name: 'str' };
export const int: BuiltinType<number> = { kind: 'builtin', name: 'int' };
export const number: BuiltinType<number> = { kind: 'builtin', name: 'number' };
export const bool: BuiltinType<boolean> = { kind: 'builtin', name: 'bool' };
export const any: BuiltinType<JsonValue> = { kind: 'builtin', name: 'any' };
export const nullType: BuiltinType<null> = { kind: 'builtin', name: 'null' };

export function array<T>(element: QType<T>): ArrayType<T[]> {
  return { kind: 'array', element };
}

export function enumType<const V extends readonly string[]>(
  name: string,
  values: V,
  description?: string,
): EnumType<V[number]> {
  return { kind: 'enum', name, values, ...(description ? { description } : {}) };
}

export function object<M extends Record<string, Member>>(
  name: string,
  members: M,
  description?: string,
): ObjectType<MembersValue<M>> {
  return { kind: 'object', name, members, ...(description ? { description } : {}) };
}

/** A union selected by its `type` member; each variant adds its own members. */
export function union<V extends Record<string, ObjectType>>(
  name: string,
  variants: V,
  description?: string,
): UnionType<{ [K in keyof V]: Simplify<{ type: K } & Infer<V[K]>> }[keyof V]> {
  const tag = enumType(`${name}Kind`, Object.keys(variants));
  return { kind: 'union', name, tag, variants, ...(description ? { description } : {}) };
}

export function req<T>(type: QType<T>, description?: string): Member<T, false> {
  return { type, optional: false, ...(description ? { description } : {}) };
}

export function opt<T>(type: QType<T>, description?: string): Member<T, true> {
  return { type, optional: true, ...(description ? { description } : {}) };
}

// ---- commands and events --------------------------------------------------------------------

export interface CommandContextBase {
  /** True when the request came with `exec-oob`. */
  readonly oob: boolean;
}

export interface CommandDecl<Ctx = unknown, A = unknown, R = unknown> {
  readonly name: string;
  readonly description: string;
  /** The argument object type; absent for commands without arguments. */
  readonly args?: ObjectType<A>;
  /** The return type; absent: the command returns `{}`. */
  readonly returns?: QType<R>;
  /** May run out of band (`exec-oob`): it never blocks. */
  readonly allowOob?: boolean;
  /** Only on machines of this type (board-specific commands). */
  readonly machine?: string;
  /** Runs before capabilities negotiation (only qmp_capabilities). */
  readonly negotiation?: boolean;
  /** Extra paragraphs for the reference (behaviour notes). */
  readonly notes?: string;
  // Method syntax: a table of commands with different argument types is one array type.
  run(args: A, ctx: Ctx): R | Promise<R> | undefined | Promise<undefined>;
}

/** What `defineCommand` takes: the argument members inline (their object type is made for them). */
export interface CommandSpec<Ctx, M extends Record<string, Member>, R> {
  name: string;
  description: string;
  args?: M;
  returns?: QType<R>;
  allowOob?: boolean;
  machine?: string;
  negotiation?: boolean;
  notes?: string;
  run(args: MembersValue<M>, ctx: Ctx): R | Promise<R> | undefined | Promise<undefined>;
}

export function defineCommand<Ctx, M extends Record<string, Member>, R = undefined>(
  decl: CommandSpec<Ctx, M, R>,
): CommandDecl<Ctx, MembersValue<M>, R> {
  const { args, ...rest } = decl;
  return {
    ...rest,
    ...(args ? { args: object(`${decl.name}-arg`, args) } : {}),
  } as CommandDecl<Ctx, MembersValue<M>, R>;
}

export interface EventDecl<D = unknown> {
  readonly name: string;
  readonly description: string;
  readonly data?: ObjectType<D>;
  readonly machine?: string;
  readonly notes?: string;
}

export function defineEvent<M extends Record<string, Member>>(decl: {
  name: string;
  description: string;
  data?: M;
  machine?: string;
  notes?: string;
}): EventDecl<MembersValue<M>> {
  const { data, ...rest } = decl;
  return { ...rest, ...(data ? { data: object(`${decl.name}-data`, data) } : {}) } as EventDecl<
    MembersValue<M>
  >;
}

// ---- validation -----------------------------------------------------------------------------

const EXPECTED: Record<BuiltinName | 'array' | 'object', string> = {
  str: 'string',
  int: 'integer',
  number: 'number',
  bool: 'boolean',
  any: 'any',
  null: 'null',
  array: 'array',
  object: 'object',
};

/**
 * Checks a command's arguments against its schema and returns them (the same values: strings,
 * numbers and booleans are not converted). Throws UserError (GenericError) with QEMU's text.
 */
export function validateArguments<A>(type: ObjectType<A> | undefined, args: JsonValue | undefined): A {
  const value = args ?? {};
  if (!type) {
    checkUnexpected(value as Record<string, JsonValue>, {}, '');
    return {} as A;
  }
  return validateObject(type.members, value as Record<string, JsonValue>, '') as A;
}

function fullName(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

function validate(type: QType, value: JsonValue, path: string, leafName: string | null): JsonValue {
  switch (type.kind) {
    case 'builtin':
      return validateBuiltin(type.name, value, path);
    case 'array': {
      if (!Array.isArray(value)) throw typeError(path, 'array');
      return value.map((v, i) => validate(type.element, v, `${path}[${i}]`, null));
    }
    case 'enum': {
      if (typeof value !== 'string') throw typeError(path, 'str');
      if (!type.values.includes(value)) {
        // QEMU names the member here, not its full path ('null' for a list element).
        throw new UserError(`Parameter '${leafName ?? 'null'}' does not accept value '${value}'`);
      }
      return value;
    }
    case 'object': {
      if (!isPlainObject(value)) throw typeError(path, 'object');
      return validateObject(type.members, value, path);
    }
    case 'union': {
      if (!isPlainObject(value)) throw typeError(path, 'object');
      const tag = value.type;
      if (tag === undefined) throw new UserError(`Parameter '${fullName(path, 'type')}' is missing`);
      validate(type.tag, tag, fullName(path, 'type'), 'type');
      const variant = type.variants[tag as string]!;
      const members = { type: req(type.tag), ...variant.members };
      return validateObject(members, value, path);
    }
  }
}

function validateObject(
  members: Readonly<Record<string, Member>>,
  value: Record<string, JsonValue>,
  path: string,
): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [name, member] of Object.entries(members)) {
    const v = Object.hasOwn(value, name) ? value[name] : undefined;
    if (v === undefined) {
      if (!member.optional) throw new UserError(`Parameter '${fullName(path, name)}' is missing`);
      continue;
    }
    out[name] = validate(member.type, v, fullName(path, name), name);
  }
  checkUnexpected(value, members, path);
  return out;
}

function checkUnexpected(
  value: Record<string, JsonValue>,
  members: Readonly<Record<string, Member>>,
  path: string,
): void {
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(members, key)) throw new UserError(`Parameter '${fullName(path, key)}' is unexpected`);
  }
}

function validateBuiltin(name: BuiltinName, value: JsonValue, path: string): JsonValue {
  switch (name) {
    case 'any':
      return value;
    case 'str':
      if (typeof value !== 'string') throw typeError(path, name);
      return value;
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw typeError(path, name);
      return value;
    case 'number':
      if (typeof value !== 'number') throw typeError(path, name);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw typeError(path, name);
      return value;
    case 'null':
      if (value !== null) throw typeError(path, name);
      return value;
  }
}

function typeError(path: string, expected: keyof typeof EXPECTED): UserError {
  return new UserError(`Invalid parameter type for '${path}', expected: ${EXPECTED[expected]}`);
}

function isPlainObject(v: JsonValue): v is Record<string, JsonValue> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---- SchemaInfo (query-qmp-schema) ----------------------------------------------------------

export type SchemaInfo = Record<string, JsonValue>;

const BUILTIN_JSON_TYPE: Record<BuiltinName, string> = {
  str: 'string',
  int: 'int',
  number: 'number',
  bool: 'boolean',
  any: 'value',
  null: 'null',
};

/** The schema name of a type (builtins by name, arrays as `[T]`). */
export function typeName(type: QType): string {
  switch (type.kind) {
    case 'builtin':
      return type.name;
    case 'array':
      return `[${typeName(type.element)}]`;
    default:
      return type.name;
  }
}

export const EMPTY_OBJECT_NAME = 'q_empty';

/** The SchemaInfo list for `query-qmp-schema`: commands, events, then every type they use. */
export function buildSchemaInfo(
  commands: readonly CommandDecl[],
  events: readonly EventDecl[],
): SchemaInfo[] {
  const out: SchemaInfo[] = [];
  const types = new Map<string, SchemaInfo>();
  const addType = (type: QType): string => {
    const name = typeName(type);
    if (types.has(name)) return name;
    switch (type.kind) {
      case 'builtin':
        types.set(name, { name, 'meta-type': 'builtin', 'json-type': BUILTIN_JSON_TYPE[type.name] });
        break;
      case 'array': {
        types.set(name, { name, 'meta-type': 'array', 'element-type': name });
        const elem = addType(type.element);
        types.set(name, { name, 'meta-type': 'array', 'element-type': elem });
        break;
      }
      case 'enum':
        types.set(name, {
          name,
          'meta-type': 'enum',
          members: type.values.map((v) => ({ name: v })),
          values: [...type.values],
        });
        break;
      case 'object': {
        const info: SchemaInfo = { name, 'meta-type': 'object', members: [] };
        types.set(name, info);
        info.members = membersInfo(type.members, addType);
        break;
      }
      case 'union': {
        const info: SchemaInfo = { name, 'meta-type': 'object', members: [], tag: 'type', variants: [] };
        types.set(name, info);
        info.members = [{ name: 'type', type: addType(type.tag) }];
        info.variants = Object.entries(type.variants).map(([c, t]) => ({ case: c, type: addType(t) }));
        break;
      }
    }
    return name;
  };
  types.set(EMPTY_OBJECT_NAME, { name: EMPTY_OBJECT_NAME, 'meta-type': 'object', members: [] });
  for (const c of commands) {
    const info: SchemaInfo = {
      name: c.name,
      'meta-type': 'command',
      'arg-type': c.args ? addType(c.args) : EMPTY_OBJECT_NAME,
      'ret-type': c.returns ? addType(c.returns) : EMPTY_OBJECT_NAME,
    };
    if (c.allowOob) info['allow-oob'] = true;
    out.push(info);
  }
  for (const e of events) {
    out.push({
      name: e.name,
      'meta-type': 'event',
      'arg-type': e.data ? addType(e.data) : EMPTY_OBJECT_NAME,
    });
  }
  out.push(...types.values());
  return out;
}

function membersInfo(members: Readonly<Record<string, Member>>, addType: (t: QType) => string): JsonValue[] {
  return Object.entries(members).map(([name, m]) => {
    const info: Record<string, JsonValue> = { name, type: addType(m.type) };
    // QEMU marks optional members with "default": null.
    if (m.optional) info.default = null;
    return info;
  });
}
