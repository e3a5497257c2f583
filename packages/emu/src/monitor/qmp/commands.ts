/**
 * The QMP commands tsemu serves, each declared once (see schema.ts): QEMU's commands with
 * QEMU's argument names, results and error texts, and the micro:bit board commands
 * (`microbit-*`, `query-microbit`), tsemu's own, named without QEMU's `x-` experimental prefix
 * because they are a supported interface.
 */
import { writeFileSync } from 'node:fs';
import { describeSystemError, UserError } from '../../core/errors.js';
import type { Machine } from '../../core/machine.js';
import {
  knownTypes,
  type ObjectNode,
  type PropertyDef,
  type PropertyValue,
  typeAncestry,
  typeParent,
} from '../../core/object.js';
import { findDeviceType, listMachineTypes } from '../../core/registry.js';
import { CpuNode } from '../../cpu/arm/cpu-node.js';
import { microPythonLevel } from '../../hw/display/microbit-led-matrix.js';
import { MicrobitMachine } from '../../machine/microbit.js';
import { EDGE_PINS } from '../../machine/microbit-pins.js';
import { QMP_EVENTS, type QmpEventHub } from './events.js';
import { encodePng, encodePpm, renderLedMatrix } from './image.js';
import type { JsonValue } from './json-stream.js';
import {
  any,
  array,
  bool,
  buildSchemaInfo,
  type CommandDecl,
  type CommandSpec,
  defineCommand,
  type EventDecl,
  enumType,
  int,
  type Member,
  number,
  object,
  opt,
  req,
  str,
  union,
} from './schema.js';

/** The HMP behind `human-monitor-command`: runs one command line, returns its output. */
export type HmpHandler = (commandLine: string) => Promise<string> | string;

export interface QmpVersionInfo {
  qemu: { major: number; minor: number; micro: number };
  package: string;
}

/** What a command handler may use. */
export interface QmpCommandContext {
  readonly machine: Machine;
  readonly hub: QmpEventHub;
  readonly hmp: HmpHandler | undefined;
  readonly version: QmpVersionInfo;
  /** The commands and events available on this machine. */
  readonly commands: readonly CommandDecl<QmpCommandContext>[];
  readonly events: readonly EventDecl[];
  /** The connection's session (capabilities). */
  readonly session: { negotiate(enable: readonly string[]): void };
  /** Runs `fn` once the command's response has been written (quit). */
  afterResponse(fn: () => void): void;
  /** Asks the owner of the process to exit with status 0 (the command line's onQuit). */
  quit(): void;
}

type Cmd = CommandDecl<QmpCommandContext>;
const cmd = <M extends Record<string, Member>, R = undefined>(
  spec: CommandSpec<QmpCommandContext, M, R>,
): Cmd => defineCommand(spec) as Cmd;

// ---- types ----------------------------------------------------------------------------------

const QMPCapability = enumType('QMPCapability', ['oob'] as const, 'A QMP capability a client may enable.');
const RunState = enumType('RunState', [
  'debug',
  'inmigrate',
  'internal-error',
  'io-error',
  'paused',
  'postmigrate',
  'prelaunch',
  'finish-migrate',
  'restore-vm',
  'running',
  'save-vm',
  'shutdown',
  'suspended',
  'watchdog',
  'guest-panicked',
  'colo',
] as const);
const StatusInfo = object('StatusInfo', {
  running: req(bool, 'true while emulation runs'),
  singlestep: req(bool, 'always false'),
  status: req(RunState, 'the run state'),
});
const VersionTriple = object('VersionTriple', { major: req(int), minor: req(int), micro: req(int) });
const VersionInfo = object('VersionInfo', {
  qemu: req(VersionTriple, 'the QEMU version whose interfaces tsemu follows'),
  package: req(str, "'tsemu X.Y.Z': tsemu's own version"),
});
const CommandInfo = object('CommandInfo', { name: req(str) });
const MachineInfo = object('MachineInfo', {
  name: req(str),
  alias: opt(str),
  'is-default': opt(bool),
  'cpu-max': req(int),
  'hotpluggable-cpus': req(bool),
  'numa-mem-supported': req(bool),
  deprecated: req(bool),
  'default-cpu-type': opt(str),
  'default-ram-id': opt(str),
});
const CpuInfoFast = object('CpuInfoFast', {
  'cpu-index': req(int),
  'qom-path': req(str),
  'thread-id': req(int),
  target: req(str),
});
const TargetInfo = object('TargetInfo', { arch: req(str) });
const ObjectTypeInfo = object('ObjectTypeInfo', {
  name: req(str),
  abstract: opt(bool),
  parent: opt(str),
});
const ObjectPropertyInfo = object('ObjectPropertyInfo', {
  name: req(str),
  type: req(str),
  description: opt(str),
  'default-value': opt(any),
});
const ImageFormat = enumType('ImageFormat', ['ppm', 'png'] as const);
const QKeyCode = enumType('QKeyCode', [...'abcdefghijklmnopqrstuvwxyz'.split(''), 'spc', 'ret'] as const);
const KeyValue = union('KeyValue', {
  number: object('IntWrapper', { data: req(int) }),
  qcode: object('QKeyCodeWrapper', { data: req(QKeyCode) }),
});
const InputKeyEvent = object('InputKeyEvent', { key: req(KeyValue), down: req(bool) });
const InputButton = enumType('InputButton', [
  'left',
  'middle',
  'right',
  'wheel-up',
  'wheel-down',
  'side',
  'extra',
  'wheel-left',
  'wheel-right',
] as const);
const InputBtnEvent = object('InputBtnEvent', { button: req(InputButton), down: req(bool) });
const InputAxis = enumType('InputAxis', ['x', 'y'] as const);
const InputMoveEvent = object('InputMoveEvent', { axis: req(InputAxis), value: req(int) });
const InputEvent = union('InputEvent', {
  key: object('InputKeyEventWrapper', { data: req(InputKeyEvent) }),
  btn: object('InputBtnEventWrapper', { data: req(InputBtnEvent) }),
  rel: object('InputMoveEventWrapper', { data: req(InputMoveEvent) }),
  abs: object('InputMoveEventWrapperAbs', { data: req(InputMoveEvent) }),
});
const MicrobitButtonName = enumType('MicrobitButtonName', ['a', 'b'] as const);
const MicrobitPinInfo = object('MicrobitPinInfo', {
  name: req(str, 'edge-connector pin, P0..P20'),
  output: req(int, 'what the chip drives: 0, 1, or -1 when it does not drive the pin'),
  level: req(int, 'the logic level the chip reads'),
});
const MicrobitState = object('MicrobitState', {
  display: req(array(int), "25 LED levels on MicroPython's 0..9 scale, row-major"),
  'button-a': req(bool),
  'button-b': req(bool),
  accelerometer: req(array(number), 'x, y, z in milli-g (1/1024 g)'),
  compass: req(array(number), 'x, y, z in nT'),
  pins: req(array(MicrobitPinInfo)),
});

// ---- helpers --------------------------------------------------------------------------------

/** Resolves a QOM path as QEMU does: absolute, or a partial path that must match one object. */
export function resolveQomPath(machine: Machine, path: string): ObjectNode {
  const root = machine.root;
  if (path.startsWith('/')) {
    const node = root.resolve(path);
    if (node) return node;
    throw new UserError(`Device '${path}' not found`, 'DeviceNotFound');
  }
  const matches: ObjectNode[] = [];
  const suffix = `/${path.replace(/\/+$/, '')}`;
  for (const node of root.walk()) if (node.path.endsWith(suffix)) matches.push(node);
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw new UserError(`Path '${path}' is ambiguous`);
  throw new UserError(`Device '${path}' not found`, 'DeviceNotFound');
}

/** Types QEMU declares abstract that tsemu's registry does not mark. */
const ABSTRACT_TYPES = new Set(['object', 'device', 'sys-bus-device', 'machine', 'cpu', 'chardev']);

function isAbstractType(name: string): boolean {
  return findDeviceType(name)?.abstract ?? ABSTRACT_TYPES.has(name);
}

function qomPropertyType(def: PropertyDef): string {
  switch (def.type) {
    case 'bool':
      return 'bool';
    case 'int':
      return 'int64';
    case 'uint':
      return 'uint64';
    case 'string':
    case 'enum':
      return 'str';
    case 'link':
      return `link<${def.linkType ?? 'object'}>`;
  }
}

/** QOM path of CPU `index`: the CpuNode with that index in the object tree. */
export function cpuQomPath(machine: Machine, index: number): string {
  for (const node of machine.walk()) if (node instanceof CpuNode && node.index === index) return node.path;
  return `/machine/unattached/device[${index}]`;
}

function microbit(ctx: QmpCommandContext): MicrobitMachine {
  if (!(ctx.machine instanceof MicrobitMachine)) throw new UserError('This machine is not a micro:bit');
  return ctx.machine;
}

// ---- commands -------------------------------------------------------------------------------

export const QMP_COMMANDS: readonly Cmd[] = [
  cmd({
    name: 'qmp_capabilities',
    description: 'Ends capabilities negotiation and enables the listed capabilities.',
    args: { enable: opt(array(QMPCapability), "capabilities to enable; tsemu offers 'oob'") },
    negotiation: true,
    notes:
      'Before it, every other command fails with CommandNotFound "Expecting capabilities ' +
      "negotiation with 'qmp_capabilities'\"; after it, a second qmp_capabilities fails with " +
      'CommandNotFound "Capabilities negotiation is already complete, command ignored".',
    run: (args, ctx) => {
      ctx.session.negotiate(args.enable ?? []);
      return undefined;
    },
  }),
  cmd({
    name: 'query-status',
    description: 'The run state of the machine.',
    returns: StatusInfo,
    allowOob: true,
    run: (_args, ctx) => {
      const status = ctx.machine.runState;
      return { status, singlestep: false, running: status === 'running' };
    },
  }),
  cmd({
    name: 'stop',
    description: 'Pauses emulation. Emits STOP (before the return) when it was running.',
    allowOob: true,
    run: (_args, ctx) => {
      ctx.machine.stop();
      return undefined;
    },
  }),
  cmd({
    name: 'cont',
    description: 'Starts or resumes emulation. Emits RESUME (before the return) when it was not running.',
    run: (_args, ctx) => {
      const state = ctx.machine.runState;
      if (state === 'shutdown' || state === 'internal-error') {
        throw new UserError('Resetting the Virtual Machine is required');
      }
      ctx.machine.start();
      return undefined;
    },
  }),
  cmd({
    name: 'system_reset',
    description: 'Resets the machine. Emits RESET {"guest": false, "reason": "host-qmp-system-reset"}.',
    run: (_args, ctx) => {
      ctx.machine.reset('host-qmp-system-reset');
      return undefined;
    },
  }),
  cmd({
    name: 'system_powerdown',
    description: 'Requests a power-button press. Emits POWERDOWN.',
    notes:
      'The micro:bit has no power button (its reset button is the only one, and the nRF51 has ' +
      'no power-off request line), so nothing else happens: the machine keeps running, as a ' +
      'QEMU machine without ACPI does.',
    run: (_args, ctx) => {
      ctx.hub.emit('POWERDOWN');
      return undefined;
    },
  }),
  cmd({
    name: 'quit',
    description: 'Shuts the machine down and ends tsemu with exit status 0.',
    notes:
      'Emits SHUTDOWN {"guest": false, "reason": "host-qmp-quit"}, then returns, then the process exits.',
    run: (_args, ctx) => {
      ctx.hub.quitting = true;
      try {
        ctx.machine.shutdown('host-qmp-quit');
      } finally {
        ctx.hub.quitting = false;
      }
      ctx.afterResponse(() => ctx.quit());
      return undefined;
    },
  }),
  cmd({
    name: 'query-version',
    description: "The version: the QEMU release whose interfaces tsemu follows, and tsemu's own.",
    returns: VersionInfo,
    run: (_args, ctx) => ({ qemu: { ...ctx.version.qemu }, package: ctx.version.package }),
  }),
  cmd({
    name: 'query-commands',
    description: 'The commands this server accepts (on this machine).',
    returns: array(CommandInfo),
    run: (_args, ctx) => ctx.commands.map((c) => ({ name: c.name })),
  }),
  cmd({
    name: 'query-machines',
    description: 'The machine types tsemu can build.',
    returns: array(MachineInfo),
    run: () =>
      listMachineTypes().map((m) => ({
        'hotpluggable-cpus': false,
        name: m.name,
        ...(m.alias ? { alias: m.alias } : {}),
        ...(m.isDefault ? { 'is-default': true } : {}),
        'numa-mem-supported': false,
        'cpu-max': m.cpuMax,
        ...(m.defaultCpuType ? { 'default-cpu-type': m.defaultCpuType } : {}),
        ...(m.defaultRamId ? { 'default-ram-id': m.defaultRamId } : {}),
        deprecated: m.deprecated ?? false,
      })),
  }),
  cmd({
    name: 'query-cpus-fast',
    description: 'The CPUs of the machine.',
    returns: array(CpuInfoFast),
    notes:
      "thread-id is the process id (all CPUs run on the main thread). The micro:bit's CPU is " +
      "reported at QEMU's path /machine/nrf51/armv6m/cpu.",
    run: (_args, ctx) =>
      ctx.machine.runner.executorList.map((_cpu, i) => ({
        'thread-id': process.pid,
        'qom-path': cpuQomPath(ctx.machine, i),
        'cpu-index': i,
        target: 'arm',
      })),
  }),
  cmd({
    name: 'query-target',
    description: 'The target architecture.',
    returns: TargetInfo,
    run: () => ({ arch: 'arm' }),
  }),
  cmd({
    name: 'qom-list-types',
    description: 'The object types, optionally only those implementing a type.',
    args: {
      implements: opt(str, 'only types that are or derive from this one'),
      abstract: opt(bool, 'include abstract types (default false)'),
    },
    returns: array(ObjectTypeInfo),
    run: (args) => {
      const out: Array<{ name: string; parent?: string; abstract?: boolean }> = [];
      for (const name of knownTypes().sort()) {
        const abstract = isAbstractType(name);
        if (abstract && !args.abstract) continue;
        if (args.implements !== undefined && !typeAncestry(name).includes(args.implements)) continue;
        const parent = typeParent(name);
        out.push({ name, ...(parent ? { parent } : {}), ...(abstract ? { abstract: true } : {}) });
      }
      return out;
    },
  }),
  cmd({
    name: 'qom-list',
    description: 'The properties of an object, its children as child<TYPE>.',
    args: { path: req(str, 'absolute path, or a partial path matching one object') },
    returns: array(ObjectPropertyInfo),
    run: (args, ctx) => resolveQomPath(ctx.machine, args.path).listProperties(),
  }),
  cmd({
    name: 'qom-get',
    description: 'The value of an object property.',
    args: { path: req(str), property: req(str) },
    returns: any,
    notes: "A child<...> property's value is the child's path; 'type' is the object's type name.",
    run: (args, ctx) => {
      const node = resolveQomPath(ctx.machine, args.path);
      if (args.property === 'type') return node.typeName;
      const child = node.child(args.property);
      if (child && !node.hasProperty(args.property)) return child.path;
      return node.getProperty(args.property) as JsonValue;
    },
  }),
  cmd({
    name: 'qom-set',
    description: 'Sets an object property. After realize, only run-time properties accept writes.',
    args: { path: req(str), property: req(str), value: req(any) },
    notes:
      'Board inputs are such properties, e.g. `qom-set /machine/button-a pressed true`, ' +
      '`/machine/accelerometer` x/y/z, `/machine/light-sensor` light-level.',
    run: (args, ctx) => {
      const node = resolveQomPath(ctx.machine, args.path);
      const v = args.value;
      if (v !== null && typeof v === 'object') {
        throw new UserError(`Invalid parameter type for '${args.property}', expected: scalar value`);
      }
      // QMP values are typed JSON: unlike the command line, text is not parsed into numbers or
      // booleans (QEMU's QMP input visitor is strict the same way).
      const def = node.hasProperty(args.property)
        ? node.propertyDefs().find((d) => d.name === args.property)
        : undefined;
      if (def) {
        const expected =
          def.type === 'bool' ? 'boolean' : def.type === 'int' || def.type === 'uint' ? 'number' : 'string';
        const ok = def.type === 'link' ? v === null || typeof v === 'string' : typeof v === expected;
        if (!ok) {
          const name = expected === 'number' ? 'integer' : expected;
          throw new UserError(`Invalid parameter type for '${args.property}', expected: ${name}`);
        }
      }
      node.setProperty(args.property, v as PropertyValue);
      return undefined;
    },
  }),
  cmd({
    name: 'device-list-properties',
    description: 'The properties of a device type.',
    args: { typename: req(str) },
    returns: array(ObjectPropertyInfo),
    run: (args) => {
      const t = findDeviceType(args.typename);
      if (!t) throw new UserError(`Device '${args.typename}' not found`, 'DeviceNotFound');
      if (t.abstract || !t.create) {
        throw new UserError("Parameter 'typename' expects a non-abstract device type");
      }
      const instance = t.create();
      return instance.propertyDefs().map((def) => ({
        name: def.name,
        type: qomPropertyType(def),
        ...(def.description ? { description: def.description } : {}),
        ...(def.default !== undefined ? { 'default-value': def.default } : {}),
      }));
    },
  }),
  cmd({
    name: 'human-monitor-command',
    description: 'Runs an HMP command line and returns its output.',
    args: {
      'command-line': req(str, 'e.g. "info registers"'),
      'cpu-index': opt(int, 'the CPU HMP commands refer to (only 0 exists on the micro:bit)'),
    },
    returns: str,
    run: async (args, ctx) => {
      const index = args['cpu-index'];
      if (index !== undefined && (index < 0 || index >= ctx.machine.runner.executorList.length)) {
        throw new UserError(`Parameter 'cpu-index' expects a valid CPU index`);
      }
      if (!ctx.hmp) throw new UserError('The human monitor is not available');
      return await ctx.hmp(args['command-line']);
    },
  }),
  cmd({
    name: 'query-qmp-schema',
    description: "The schema of this server's commands, events and types (QEMU's SchemaInfo).",
    returns: array(any),
    notes: 'Type names are readable rather than masked with numbers as QEMU does; treat them as opaque.',
    run: (_args, ctx) => buildSchemaInfo(ctx.commands, ctx.events),
  }),
  cmd({
    name: 'screendump',
    description: 'Writes the display to an image file.',
    args: {
      filename: req(str, 'the file to write'),
      device: opt(str, "the display device's id or path (default: the board's display)"),
      head: opt(int, 'display head (only 0)'),
      format: opt(ImageFormat, 'ppm (default, as QEMU) or png'),
    },
    notes:
      'On the micro:bit the picture is the 5x5 LED matrix, 160x160 pixels: each LED a red square ' +
      'on black, brighter with its duty cycle over the last display frame.',
    run: (args, ctx) => {
      const brightness = ctx.hub.displayBrightness();
      if (!brightness || !(ctx.machine instanceof MicrobitMachine)) {
        throw new UserError('There is no console to take a screendump from');
      }
      const display = ctx.machine.display;
      if (args.device !== undefined && args.device !== display.name && args.device !== display.path) {
        throw new UserError(`Device '${args.device}' not found`, 'DeviceNotFound');
      }
      if (args.head !== undefined && args.head !== 0) {
        throw new UserError(`Device '${args.device ?? display.name}' does not have head ${args.head}`);
      }
      const img = renderLedMatrix(brightness);
      const bytes = args.format === 'png' ? encodePng(img) : encodePpm(img);
      try {
        writeFileSync(args.filename, bytes);
      } catch (e) {
        throw new UserError(`Could not open '${args.filename}': ${describeSystemError(e)}`);
      }
      return undefined;
    },
  }),
  cmd({
    name: 'input-send-event',
    description: 'Sends input events (keys, buttons, pointer motion).',
    args: {
      device: opt(str, 'accepted, ignored: events go to the board'),
      head: opt(int, 'accepted, ignored'),
      events: req(array(InputEvent)),
    },
    notes:
      'On the micro:bit, keys `a` and `b` (qcode, or number 30 and 48) press and release buttons ' +
      'A and B: a convenience for user interfaces. Other events are accepted and ignored.',
    run: (args, ctx) => {
      const board = ctx.machine instanceof MicrobitMachine ? ctx.machine : null;
      for (const ev of args.events) {
        if (ev.type !== 'key' || !board) continue;
        const key = ev.data.key;
        const name =
          key.type === 'qcode' ? key.data : key.data === 30 ? 'a' : key.data === 48 ? 'b' : undefined;
        const button = name === 'a' ? board.buttonA : name === 'b' ? board.buttonB : null;
        if (!button) continue;
        if (ev.data.down) button.press();
        else button.release();
      }
      return undefined;
    },
  }),
  // ---- micro:bit board ----
  cmd({
    name: 'microbit-button',
    machine: 'microbit',
    description: 'Presses or releases button A or B.',
    args: { button: req(MicrobitButtonName), pressed: req(bool) },
    run: (args, ctx) => {
      const b = microbit(ctx)[args.button === 'a' ? 'buttonA' : 'buttonB'];
      if (args.pressed) b.press();
      else b.release();
      return undefined;
    },
  }),
  cmd({
    name: 'microbit-set-accelerometer',
    machine: 'microbit',
    description: 'Sets the acceleration the MMA8653FC measures, in milli-g (1/1024 g; 1024 = 1 g).',
    args: { x: req(number), y: req(number), z: req(number) },
    run: (args, ctx) => {
      microbit(ctx).accelerometer.set(args.x, args.y, args.z);
      return undefined;
    },
  }),
  cmd({
    name: 'microbit-set-compass',
    machine: 'microbit',
    description: 'Sets the magnetic field the MAG3110 measures, in nT.',
    args: { x: req(number), y: req(number), z: req(number) },
    run: (args, ctx) => {
      microbit(ctx).compass.set(args.x, args.y, args.z);
      return undefined;
    },
  }),
  cmd({
    name: 'microbit-set-pin',
    machine: 'microbit',
    description: 'Drives an edge-connector pin from outside, or releases it.',
    args: {
      pin: req(str, 'P0..P16, P19, P20'),
      level: opt(int, 'digital level 0 or 1'),
      volts: opt(number, 'a voltage, on analog-capable pins (P0-P4, P10)'),
    },
    notes: 'Give `level` or `volts`; with neither, the pin is released (floats).',
    run: (args, ctx) => {
      const pins = microbit(ctx).pins;
      if (!Object.hasOwn(EDGE_PINS, args.pin.toUpperCase())) {
        throw new UserError(`Parameter 'pin' does not accept value '${args.pin}'`);
      }
      if (args.level !== undefined && args.volts !== undefined) {
        throw new UserError("Parameters 'level' and 'volts' are mutually exclusive");
      }
      if (args.level !== undefined) {
        if (args.level !== 0 && args.level !== 1) throw new UserError("Parameter 'level' expects 0 or 1");
        pins.setDigital(args.pin, args.level);
      } else if (args.volts !== undefined) {
        pins.setAnalog(args.pin, args.volts);
      } else {
        pins.release(args.pin);
      }
      return undefined;
    },
  }),
  cmd({
    name: 'microbit-set-temperature',
    machine: 'microbit',
    description: 'Sets the die temperature the TEMP peripheral measures, in degrees Celsius.',
    args: { celsius: req(number) },
    run: (args, ctx) => {
      microbit(ctx).setTemperature(args.celsius);
      return undefined;
    },
  }),
  cmd({
    name: 'microbit-set-light-level',
    machine: 'microbit',
    description: 'Sets the ambient light the LED matrix senses, 0 (dark) to 255 (bright).',
    args: { level: req(int) },
    run: (args, ctx) => {
      microbit(ctx).setLightLevel(args.level);
      return undefined;
    },
  }),
  cmd({
    name: 'query-microbit',
    machine: 'microbit',
    description: "The micro:bit board's outputs and inputs: display, buttons, sensors, pins.",
    returns: MicrobitState,
    allowOob: true,
    run: (_args, ctx) => {
      const board = microbit(ctx);
      const brightness = ctx.hub.displayBrightness() ?? new Float32Array(25);
      return {
        display: Array.from(brightness, (d) => microPythonLevel(d)),
        'button-a': board.buttonA.isPressed,
        'button-b': board.buttonB.isPressed,
        accelerometer: board.accelerometer.values,
        compass: board.compass.values,
        pins: Object.keys(EDGE_PINS).map((name) => ({
          name,
          output: board.pins.output(name),
          level: board.pins.level(name),
        })),
      };
    },
  }),
];

/** The commands available on `machine` (board commands only on their board). */
export function commandsFor(machine: Machine): Cmd[] {
  return QMP_COMMANDS.filter((c) => !c.machine || machine.typeName === `${c.machine}-machine`);
}

/** The events that can occur on `machine`. */
export function eventsFor(machine: Machine): EventDecl[] {
  return QMP_EVENTS.filter((e) => !e.machine || machine.typeName === `${e.machine}-machine`);
}
