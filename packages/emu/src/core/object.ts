/**
 * The object tree (QEMU's QOM, reduced to what tsemu needs).
 *
 * Every machine, device, bus, CPU, chardev and memory region that a user may name is an
 * `ObjectNode`: it has a type name, a name in its parent, a path (`/machine/nrf51/uart0`), child
 * nodes and typed properties. QMP `qom-list/qom-get/qom-set`, HMP `info qom-tree`, qtest
 * `irq_intercept_*` and the library API all walk this one tree.
 *
 * Properties are declared once with a type and a default. They can be set until the owner is
 * realized; afterwards only properties declared `mutable` accept writes (e.g. a button state).
 */
import { UserError } from './errors.js';

export type PropertyType = 'bool' | 'int' | 'uint' | 'string' | 'link' | 'enum';
export type PropertyValue = boolean | number | string | null;

export interface PropertyDef {
  name: string;
  type: PropertyType;
  default?: PropertyValue;
  description?: string;
  /** Settable after realize (board inputs, run-time knobs). */
  mutable?: boolean;
  /** Lowest/highest accepted value for int/uint. */
  min?: number;
  max?: number;
  /** Accepted values for `enum`. */
  values?: readonly string[];
  /** For `link`: the type name (or ancestor type) the target must have. */
  linkType?: string;
  /** Computed properties: read through `get`, write through `set` (no stored value). */
  get?: () => PropertyValue;
  set?: (value: PropertyValue) => void;
}

interface PropertySlot {
  def: PropertyDef;
  value: PropertyValue;
  /** Set explicitly (not left at its default). */
  explicit: boolean;
}

/** Parses a property value given as text (command line `key=val`, HMP), as QEMU does. */
export function parsePropertyText(def: PropertyDef, text: string): PropertyValue {
  switch (def.type) {
    case 'bool':
      if (['on', 'yes', 'true', '1'].includes(text)) return true;
      if (['off', 'no', 'false', '0'].includes(text)) return false;
      throw new UserError(`Parameter '${def.name}' expects 'on' or 'off'`);
    case 'int':
    case 'uint': {
      const n = parseIntegerText(text);
      if (n === null) throw new UserError(`Parameter '${def.name}' expects an integer, got '${text}'`);
      return n;
    }
    case 'string':
    case 'enum':
      return text;
    case 'link':
      return text === '' ? null : text;
  }
}

/**
 * Integer text as QEMU's option parser takes it: decimal, 0x hex, 0 octal, with an optional
 * size suffix (k, M, G, T; binary multiples). Returns null when the text is not a number.
 */
export function parseIntegerText(text: string): number | null {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([kKmMgGtT]?)[bB]?$/.exec(text.trim());
  if (!m) return null;
  const digits = m[2]!;
  let n: number;
  if (/^0x/i.test(digits)) n = Number.parseInt(digits.slice(2), 16);
  else if (digits.length > 1 && digits.startsWith('0')) n = Number.parseInt(digits.slice(1), 8);
  else n = Number.parseInt(digits, 10);
  const suffix = (m[3] ?? '').toLowerCase();
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[suffix] ?? 1;
  n *= mult;
  if (!Number.isSafeInteger(n)) return null;
  return m[1] === '-' ? -n : n;
}

export class ObjectNode {
  readonly typeName: string;
  name: string;
  parent: ObjectNode | null = null;
  private readonly childNodes = new Map<string, ObjectNode>();
  private readonly props = new Map<string, PropertySlot>();
  realized = false;

  constructor(typeName: string, name = '') {
    this.typeName = typeName;
    this.name = name;
  }

  /** Full path from the root, e.g. `/machine/nrf51/uart0`. The root itself is `/`. */
  get path(): string {
    if (!this.parent) return this.name === '' ? '/' : `/${this.name}`;
    const p = this.parent.path;
    return p === '/' ? `/${this.name}` : `${p}/${this.name}`;
  }

  /** The root of the tree this node belongs to. */
  get root(): ObjectNode {
    let n: ObjectNode = this;
    while (n.parent) n = n.parent;
    return n;
  }

  addChild<T extends ObjectNode>(name: string, child: T): T {
    if (this.childNodes.has(name)) throw new Error(`${this.path}: duplicate child '${name}'`);
    if (child.parent) child.parent.removeChild(child.name);
    child.name = name;
    child.parent = this;
    this.childNodes.set(name, child);
    return child;
  }

  removeChild(name: string): ObjectNode | undefined {
    const c = this.childNodes.get(name);
    if (c) {
      this.childNodes.delete(name);
      c.parent = null;
    }
    return c;
  }

  child(name: string): ObjectNode | undefined {
    return this.childNodes.get(name);
  }

  get children(): IterableIterator<ObjectNode> {
    return this.childNodes.values();
  }

  /** Resolves an absolute (`/machine/x`) or relative (`x/y`) path; undefined when not found. */
  resolve(path: string): ObjectNode | undefined {
    let node: ObjectNode | undefined = path.startsWith('/') ? this.root : this;
    for (const part of path.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') node = node.parent ?? node;
      else node = node.childNodes.get(part);
      if (!node) return undefined;
    }
    return node;
  }

  /** Depth-first walk over this node and its descendants. */
  *walk(): Generator<ObjectNode> {
    yield this;
    for (const c of this.childNodes.values()) yield* c.walk();
  }

  /** True when this object's type is `typeName` or derives from it (see TypeRegistry). */
  isA(typeName: string): boolean {
    return this.typeChain().includes(typeName);
  }

  /** The type name followed by its ancestors; subclasses that register parents override. */
  typeChain(): string[] {
    return typeAncestry(this.typeName);
  }

  // ---- properties -------------------------------------------------------------------------

  declareProperty(def: PropertyDef): void {
    if (this.props.has(def.name)) throw new Error(`${this.path}: property '${def.name}' declared twice`);
    this.props.set(def.name, { def, value: def.default ?? defaultFor(def.type), explicit: false });
  }

  declareProperties(defs: readonly PropertyDef[]): void {
    for (const d of defs) this.declareProperty(d);
  }

  hasProperty(name: string): boolean {
    return this.props.has(name);
  }

  propertyDefs(): PropertyDef[] {
    return [...this.props.values()].map((s) => s.def);
  }

  getProperty(name: string): PropertyValue {
    const slot = this.props.get(name);
    if (!slot) throw new UserError(`Property '${this.typeName}.${name}' not found`);
    return slot.def.get ? slot.def.get() : slot.value;
  }

  /** Sets a property with type checking; text values are parsed as on the command line. */
  setProperty(name: string, value: PropertyValue): void {
    const slot = this.props.get(name);
    if (!slot) throw new UserError(`Property '${this.typeName}.${name}' not found`);
    const def = slot.def;
    if (this.realized && !def.mutable) {
      throw new UserError(
        `Attempt to set property '${name}' on device '${this.path}' (type '${this.typeName}') after it was realized`,
      );
    }
    const v = coerce(def, value);
    if (def.set) def.set(v);
    else slot.value = v;
    slot.explicit = true;
  }

  /** True when the property was set explicitly rather than left at its default. */
  isPropertySet(name: string): boolean {
    return this.props.get(name)?.explicit ?? false;
  }

  getInt(name: string): number {
    return this.getProperty(name) as number;
  }
  getBool(name: string): boolean {
    return this.getProperty(name) as boolean;
  }
  getString(name: string): string {
    return this.getProperty(name) as string;
  }

  /** Resolves a link property to its target node (null when unset). */
  getLink<T extends ObjectNode = ObjectNode>(name: string): T | null {
    const v = this.getProperty(name);
    if (v === null || v === '') return null;
    const target = this.resolve(String(v));
    if (!target) throw new UserError(`Property '${name}': no object at '${String(v)}'`);
    return target as T;
  }

  /** QOM-style property listing (`qom-list`): children first-class as `child<type>`. */
  listProperties(): Array<{ name: string; type: string; description?: string }> {
    const out: Array<{ name: string; type: string; description?: string }> = [
      { name: 'type', type: 'string' },
    ];
    for (const [name, c] of this.childNodes) out.push({ name, type: `child<${c.typeName}>` });
    for (const { def } of this.props.values()) {
      const type = def.type === 'link' ? `link<${def.linkType ?? 'object'}>` : qomTypeName(def.type);
      out.push(
        def.description ? { name: def.name, type, description: def.description } : { name: def.name, type },
      );
    }
    return out;
  }
}

function qomTypeName(t: PropertyType): string {
  switch (t) {
    case 'bool':
      return 'bool';
    case 'int':
      return 'int64';
    case 'uint':
      return 'uint64';
    case 'enum':
    case 'string':
      return 'str';
    case 'link':
      return 'link';
  }
}

function defaultFor(t: PropertyType): PropertyValue {
  switch (t) {
    case 'bool':
      return false;
    case 'int':
    case 'uint':
      return 0;
    case 'string':
    case 'enum':
      return '';
    case 'link':
      return null;
  }
}

function coerce(def: PropertyDef, value: PropertyValue): PropertyValue {
  if (typeof value === 'string' && def.type !== 'string' && def.type !== 'enum' && def.type !== 'link') {
    return coerce(def, parsePropertyText(def, value));
  }
  switch (def.type) {
    case 'bool':
      if (typeof value !== 'boolean')
        throw new UserError(`Invalid parameter type for '${def.name}', expected: boolean`);
      return value;
    case 'int':
    case 'uint': {
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        throw new UserError(`Invalid parameter type for '${def.name}', expected: integer`);
      }
      if (def.type === 'uint' && value < 0)
        throw new UserError(`Parameter '${def.name}' expects a non-negative integer`);
      if ((def.min !== undefined && value < def.min) || (def.max !== undefined && value > def.max)) {
        throw new UserError(
          `Property '${def.name}' value ${value} is out of range [${def.min ?? '-inf'}, ${def.max ?? 'inf'}]`,
        );
      }
      return value;
    }
    case 'enum':
      if (typeof value !== 'string' || !def.values?.includes(value)) {
        throw new UserError(
          `Parameter '${def.name}' does not accept value '${String(value)}' (expected one of: ${(def.values ?? []).join(', ')})`,
        );
      }
      return value;
    case 'string':
      if (typeof value !== 'string')
        throw new UserError(`Invalid parameter type for '${def.name}', expected: string`);
      return value;
    case 'link':
      if (value !== null && typeof value !== 'string') {
        throw new UserError(`Invalid parameter type for '${def.name}', expected: object path`);
      }
      return value;
  }
}

// ---- type hierarchy (names only; constructors live in the registry) -----------------------

const typeParents = new Map<string, string | null>([['object', null]]);

/** Records `name` as deriving from `parent` (QOM's `TypeInfo.parent`). */
export function declareType(name: string, parent: string): void {
  typeParents.set(name, parent);
}

export function typeParent(name: string): string | null | undefined {
  return typeParents.get(name);
}

export function typeAncestry(name: string): string[] {
  const chain: string[] = [];
  let t: string | null | undefined = name;
  while (t) {
    chain.push(t);
    t = typeParents.get(t);
  }
  return chain;
}

export function knownTypes(): string[] {
  return [...typeParents.keys()];
}

declareType('device', 'object');
declareType('sys-bus-device', 'device');
declareType('container', 'object');
declareType('machine', 'object');
declareType('cpu', 'device');
declareType('chardev', 'object');
