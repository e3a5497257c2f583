/**
 * The `tsemu-system-arm` command line, parsed the way QEMU's `qemu-system-*` parses it.
 *
 * `parseSystemCommandLine(argv)` turns the words after the program name into a typed
 * `SystemCommandLine`; it has no side effects. Like QEMU it works in two passes: the first checks
 * that every option exists and has its argument (so `-h -foo` still reports `-foo`), the second
 * interprets the options in order. Later options override earlier ones where QEMU keeps one value
 * (`-gdb`, `-d`, `-kernel`, ...); options QEMU merges (`-machine`, `-smp`, `-m`, `-rtc`) merge.
 *
 * Help requests (`-h`, `-version`, `-machine help`, `-device loader,help`, `-d help`, ...) are
 * recorded in `helpRequests`, not acted on. QEMU acts on some of them the moment it meets them
 * (`-h`, `-version`, `-accel help`, `-display help`, `-audio help`, `-trace help`): parsing stops
 * there, so later mistakes are not reported, as with QEMU. The others QEMU handles once the whole
 * line is read, so parsing goes on.
 *
 * Errors are `UserError`s whose message is QEMU's text with the error location QEMU prints
 * (`-m 16X: Parameter 'size' expects ...`) but without the program name, which the caller adds.
 */
import { UserError } from '../core/errors.js';
import { isHelpOption, type Keyval, parseBool, parseKeyval, parseSize } from '../core/keyval.js';
import { findOption, type OptionDef, takesArgument } from './options.js';

export type Props = Map<string, string>;

export interface MachineSpec {
  /** Machine type name (`microbit`, `none`); undefined when not given (the default machine). */
  type?: string;
  /** Every other `-machine` property, merged over all `-machine` options (`accel` excluded). */
  props: Props;
}

export interface AccelSpec {
  name: string;
  props: Props;
}

export interface DeviceSpec {
  driver: string;
  id?: string;
  /** Properties other than `driver` and `id`, as text. */
  props: Props;
  /** Given in the JSON form. */
  json: boolean;
}

export interface ChardevSpec {
  id: string;
  /** `socket`, `stdio`, `null`, `file`, `ringbuf`, ... */
  backend: string;
  /** Properties other than `id` and `backend`. */
  props: Props;
}

export type MonitorMode = 'readline' | 'control';

/**
 * A monitor. `-monitor SPEC`, `-qmp SPEC` and `-qmp-pretty SPEC` give a character device spec
 * in `spec` (as for `-serial`: `stdio`, `unix:PATH,server=on,wait=off`, `chardev:ID`, ...);
 * `-mon chardev=ID` names a `-chardev` in `chardev`. Exactly one of the two is set.
 */
export interface MonitorSpec {
  spec?: string;
  chardev?: string;
  mode: MonitorMode;
  pretty: boolean;
}

export interface DisplaySpec {
  type: string;
  props: Props;
}

export interface LogSpec {
  /** `-d` argument: comma-separated categories and `trace:PATTERN` entries. */
  items?: string;
  /** `-D` file. */
  file?: string;
  /** `-dfilter` ranges, unparsed. */
  dfilter?: string;
}

export interface IcountSpec {
  /** The argument as given (`shift=6,sleep=off`, `6`, `auto`). */
  spec: string;
  /** Its keys; a bare first value is `shift`. */
  props: Props;
}

export interface KernelSpec {
  file: string;
  append?: string;
  initrd?: string;
}

export interface TraceSpec {
  /** Event name patterns to enable (`-trace PATTERN`, `-trace enable=PATTERN`), in order. */
  enable: string[];
  /** Files listing events to enable (`-trace events=FILE`). */
  eventsFiles: string[];
  /** Output file for trace events (`-trace file=FILE`). */
  file?: string;
}

export interface MemorySpec {
  /** RAM size in bytes; undefined when not given or given as 0 (the machine's default). */
  size?: number;
  /** `slots`, `maxmem` and anything else, unparsed. */
  props: Props;
}

export interface GlobalSpec {
  driver: string;
  property: string;
  value: string;
}

export interface ObjectSpec {
  qomType: string;
  id: string;
  /** Properties other than `qom-type` and `id`. */
  props: Props;
  json: boolean;
}

export interface AudioSpec {
  driver?: string;
  props: Props;
}

/**
 * A request for help. `option` is the canonical name of the option that asked (`help` for `-h`,
 * `version`, `machine`, `device`, `cpu`, `accel`, `display`, `chardev`, `d`, `object`, `trace`,
 * `audio`, `drive`, ...); `subject` narrows it (`loader` for `-device loader,help`).
 */
export interface HelpRequest {
  option: string;
  subject?: string;
}

/** Which default devices QEMU would still create (each is cleared by its option or -nodefaults). */
export interface DefaultDevices {
  serial: boolean;
  parallel: boolean;
  monitor: boolean;
}

export interface SystemCommandLine {
  machine: MachineSpec;
  /** Accelerators in order of preference (`-accel`, or the legacy `-machine accel=a:b`). */
  accel: AccelSpec[];
  cpu?: string;
  smp?: Props;
  memory?: MemorySpec;
  devices: DeviceSpec[];
  globals: GlobalSpec[];
  drives: Props[];
  objects: ObjectSpec[];
  chardevs: ChardevSpec[];
  /** `-serial` specs in order (`stdio`, `none`, `chardev:s0`, `mon:stdio`, ...). */
  serial: string[];
  parallel: string[];
  monitors: MonitorSpec[];
  /** GDB server spec (`-gdb SPEC`; `-s` means `tcp::1234`). */
  gdb?: string;
  /** `-S`: do not start the CPU. */
  startStopped: boolean;
  noReboot: boolean;
  noShutdown: boolean;
  nographic: boolean;
  nodefaults: boolean;
  defaults: DefaultDevices;
  /** `-display`; `-nographic` sets type `none`. */
  display?: DisplaySpec;
  log: LogSpec;
  icount?: IcountSpec;
  /** `-seed`: an unsigned 64-bit integer. */
  seed?: bigint;
  kernel?: KernelSpec;
  bios?: string;
  boot?: Props;
  /** `-qtest` chardev spec. */
  qtest?: string;
  /** `-qtest-log` file, or `none`. */
  qtestLog?: string;
  trace: TraceSpec;
  /** Guest name (`-name NAME` or `-name guest=NAME`). */
  name?: string;
  rtc?: Props;
  runWith?: Props;
  audio?: AudioSpec;
  vga?: string;
  usb: boolean;
  snapshot: boolean;
  loadvm?: string;
  pidfile?: string;
  /** `-L` directories in order. */
  dataDirs: string[];
  helpRequests: HelpRequest[];
}

/** Creates the structure for an empty command line. */
export function emptySystemCommandLine(): SystemCommandLine {
  return {
    machine: { props: new Map() },
    accel: [],
    devices: [],
    globals: [],
    drives: [],
    objects: [],
    chardevs: [],
    serial: [],
    parallel: [],
    monitors: [],
    startStopped: false,
    noReboot: false,
    noShutdown: false,
    nographic: false,
    nodefaults: false,
    defaults: { serial: true, parallel: true, monitor: true },
    log: {},
    trace: { enable: [], eventsFiles: [] },
    usb: false,
    snapshot: false,
    dataDirs: [],
    helpRequests: [],
  };
}

/**
 * Parses the `-seed` value as QEMU does (decimal, `0x` hexadecimal or `0` octal; unsigned
 * 64-bit). Throws `Invalid seed number: TEXT`.
 */
export function parseSeed(text: string): bigint {
  let value: bigint | undefined;
  if (/^0[xX][0-9a-fA-F]+$/.test(text) || /^[1-9][0-9]*$/.test(text)) value = BigInt(text);
  else if (/^0[0-7]*$/.test(text)) value = BigInt(`0o${text.slice(1) || '0'}`);
  if (value === undefined || value >= 1n << 64n) throw new UserError(`Invalid seed number: ${text}`);
  return value;
}

/** QEMU's rule for ids: a letter, then letters, digits, `-`, `.` or `_`. */
function checkId(id: string): void {
  if (!/^[A-Za-z][A-Za-z0-9\-._]*$/.test(id)) {
    throw new UserError(
      "Parameter 'id' expects an identifier\nIdentifiers consist of letters, digits, '-', '.', '_', starting with a letter.",
    );
  }
}

function missing(param: string): UserError {
  return new UserError(`Parameter '${param}' is missing`);
}

/** Copies a keyval map without the listed keys. */
function without(map: Props, ...keys: string[]): Props {
  const out = new Map(map);
  for (const key of keys) out.delete(key);
  return out;
}

function mergeInto(target: Props | undefined, source: Props): Props {
  const out = target ?? new Map<string, string>();
  for (const [key, value] of source) out.set(key, value);
  return out;
}

/** Stops the second pass: QEMU acts on this request at once and exits. */
class StopParsing {}

interface ParseState {
  cl: SystemCommandLine;
  accelOptionGiven: boolean;
  machineAccel: AccelSpec[] | undefined;
  append: string | undefined;
  initrd: string | undefined;
  chardevIds: Set<string>;
  deviceIds: Set<string>;
}

/**
 * Parses `argv` (the words after the program name, e.g. `process.argv.slice(2)`).
 * Throws UserError with QEMU's message, without the program-name prefix.
 */
export function parseSystemCommandLine(argv: readonly string[]): SystemCommandLine {
  // First pass: every option must exist and have its argument.
  for (let i = 0; i < argv.length; ) {
    const word = argv[i]!;
    if (!word.startsWith('-')) {
      i++;
      continue;
    }
    const def = findOption(word);
    if (def === undefined) throw new UserError(`${word}: invalid option`);
    if (takesArgument(def)) {
      if (i + 1 >= argv.length) throw new UserError(`${word}: requires an argument`);
      i += 2;
    } else {
      i++;
    }
  }

  const state: ParseState = {
    cl: emptySystemCommandLine(),
    accelOptionGiven: false,
    machineAccel: undefined,
    append: undefined,
    initrd: undefined,
    chardevIds: new Set(),
    deviceIds: new Set(),
  };

  // Second pass: interpret in order.
  try {
    for (let i = 0; i < argv.length; ) {
      const word = argv[i]!;
      if (!word.startsWith('-')) {
        throw new UserError(
          `${word}: disk image arguments are not supported; to run a firmware file use ` +
            `'tsemu ${word}', '-kernel ${word}' or '-device loader,file=${word}'`,
        );
      }
      const def = findOption(word)!;
      const arg = takesArgument(def) ? argv[i + 1]! : undefined;
      i += arg === undefined ? 1 : 2;
      const location = arg === undefined ? `${word}: ` : `${word} ${arg}: `;
      try {
        applyOption(state, def, arg ?? '');
      } catch (e) {
        if (e instanceof UserError) throw new UserError(location + e.message, e.qmpClass);
        throw e;
      }
    }
  } catch (e) {
    if (e instanceof StopParsing) return state.cl;
    throw e;
  }

  return finish(state);
}

/** Checks that need the whole command line. */
function finish(state: ParseState): SystemCommandLine {
  const { cl } = state;
  if (state.machineAccel !== undefined) {
    if (state.accelOptionGiven) {
      throw new UserError('The -accel and "-machine accel=" options are incompatible');
    }
    cl.accel.push(...state.machineAccel);
  }
  if (cl.kernel === undefined) {
    if (state.append !== undefined) throw new UserError('-append only allowed with -kernel option');
    if (state.initrd !== undefined) throw new UserError('-initrd only allowed with -kernel option');
  } else {
    if (state.append !== undefined) cl.kernel.append = state.append;
    if (state.initrd !== undefined) cl.kernel.initrd = state.initrd;
  }
  return cl;
}

function keyval(arg: string, impliedKey?: string, json = false): Keyval {
  return parseKeyval(arg, impliedKey === undefined ? { option: '', json } : { option: '', impliedKey, json });
}

/** Records a help request that QEMU handles once the whole line is read. */
function askHelp(cl: SystemCommandLine, request: HelpRequest): void {
  cl.helpRequests.push(request);
}

/** Records a help request that QEMU acts on at once; the caller throws the result to stop parsing. */
function stopForHelp(cl: SystemCommandLine, request: HelpRequest): StopParsing {
  cl.helpRequests.push(request);
  return new StopParsing();
}

function applyOption(state: ParseState, def: OptionDef, arg: string): void {
  const { cl } = state;

  switch (def.name) {
    case 'help':
      throw stopForHelp(cl, { option: 'help' });
    case 'version':
      throw stopForHelp(cl, { option: 'version' });

    case 'machine': {
      const kv = keyval(arg, 'type');
      const type = kv.map.get('type');
      if (kv.help || (type !== undefined && isHelpOption(type))) {
        askHelp(
          cl,
          type === undefined || isHelpOption(type)
            ? { option: 'machine' }
            : { option: 'machine', subject: type },
        );
        return;
      }
      if (type !== undefined) cl.machine.type = type;
      const accel = kv.map.get('accel');
      if (accel !== undefined) {
        state.machineAccel = accel.split(':').map((name) => ({ name, props: new Map() }));
      }
      mergeInto(cl.machine.props, without(kv.map, 'type', 'accel'));
      return;
    }

    case 'cpu':
      if (isHelpOption(arg)) {
        askHelp(cl, { option: 'cpu' });
        return;
      }
      cl.cpu = arg;
      return;

    case 'accel': {
      state.accelOptionGiven = true;
      const kv = keyval(arg, 'accel');
      const name = kv.map.get('accel');
      if (kv.help || name === undefined || isHelpOption(name)) throw stopForHelp(cl, { option: 'accel' });
      cl.accel.push({ name, props: without(kv.map, 'accel') });
      return;
    }

    case 'smp': {
      const kv = keyval(arg, 'cpus');
      if (kv.help) {
        askHelp(cl, { option: 'smp' });
        return;
      }
      cl.smp = mergeInto(cl.smp, kv.map);
      return;
    }

    case 'm': {
      const kv = keyval(arg, 'size');
      // QEMU reads `-m ?` as a bad size, not as a help request.
      if (kv.help) parseSize('?', 'size');
      const memory: MemorySpec = cl.memory ?? { props: new Map() };
      for (const [key, value] of kv.map) {
        if (key !== 'size') {
          memory.props.set(key, value);
          continue;
        }
        // A size without a unit is in MiB (QEMU's legacy rule for -m).
        const bytes = parseSize(/[0-9]$/.test(value) ? `${value}M` : value, 'size');
        if (bytes !== 0) memory.size = bytes;
      }
      cl.memory = memory;
      return;
    }

    case 'name': {
      const kv = keyval(arg, 'guest');
      const guest = kv.map.get('guest');
      if (guest !== undefined) cl.name = guest;
      return;
    }

    case 'rtc': {
      const kv = keyval(arg);
      if (kv.help) {
        askHelp(cl, { option: 'rtc' });
        return;
      }
      cl.rtc = mergeInto(cl.rtc, kv.map);
      return;
    }

    case 'audio': {
      const kv = keyval(arg, 'driver');
      const driver = kv.map.get('driver');
      if (kv.help || (driver !== undefined && isHelpOption(driver)))
        throw stopForHelp(cl, { option: 'audio' });
      cl.audio =
        driver === undefined ? { props: without(kv.map) } : { driver, props: without(kv.map, 'driver') };
      return;
    }

    case 'device': {
      const kv = keyval(arg, 'driver', true);
      const driver = kv.map.get('driver');
      if (kv.help) {
        askHelp(cl, driver === undefined ? { option: 'device' } : { option: 'device', subject: driver });
        return;
      }
      if (driver === undefined) throw missing('driver');
      const id = kv.map.get('id');
      if (id !== undefined) {
        if (!kv.json) checkId(id);
        if (state.deviceIds.has(id)) throw new UserError(`Duplicate ID '${id}' for device`);
        state.deviceIds.add(id);
      }
      const device: DeviceSpec = { driver, props: without(kv.map, 'driver', 'id'), json: kv.json };
      if (id !== undefined) device.id = id;
      cl.devices.push(device);
      return;
    }

    case 'global': {
      // The legacy form DRIVER.PROP=VALUE, else driver=D,property=P,value=V.
      const legacy = /^([^.=]+)\.([^=]+)=(.*)$/s.exec(arg);
      if (legacy !== null) {
        cl.globals.push({ driver: legacy[1]!, property: legacy[2]!, value: legacy[3]! });
        return;
      }
      const kv = keyval(arg);
      const driver = kv.map.get('driver');
      const property = kv.map.get('property');
      const value = kv.map.get('value');
      if (driver === undefined) throw missing('driver');
      if (property === undefined) throw missing('property');
      if (value === undefined) throw missing('value');
      cl.globals.push({ driver, property, value });
      return;
    }

    case 'drive': {
      const kv = keyval(arg);
      if (kv.help) {
        askHelp(cl, { option: 'drive' });
        return;
      }
      const id = kv.map.get('id');
      if (id !== undefined) checkId(id);
      cl.drives.push(kv.map);
      return;
    }

    case 'object': {
      const kv = keyval(arg, 'qom-type', true);
      const qomType = kv.map.get('qom-type');
      if (kv.help) {
        askHelp(cl, qomType === undefined ? { option: 'object' } : { option: 'object', subject: qomType });
        return;
      }
      if (qomType === undefined) throw missing('qom-type');
      if (isHelpOption(qomType)) {
        askHelp(cl, { option: 'object' });
        return;
      }
      const id = kv.map.get('id');
      if (id === undefined) throw missing('id');
      cl.objects.push({ qomType, id, props: without(kv.map, 'qom-type', 'id'), json: kv.json });
      return;
    }

    case 'nodefaults':
      cl.nodefaults = true;
      cl.defaults = { serial: false, parallel: false, monitor: false };
      return;

    case 'no-user-config':
      return;

    case 'run-with': {
      const kv = keyval(arg);
      const exitWithParent = kv.map.get('exit-with-parent');
      if (exitWithParent !== undefined) parseBool(exitWithParent, 'exit-with-parent');
      cl.runWith = mergeInto(cl.runWith, kv.map);
      return;
    }

    case 'L':
      cl.dataDirs.push(arg);
      return;

    case 'snapshot':
      cl.snapshot = true;
      return;

    case 'usb':
      cl.usb = true;
      return;

    case 'display': {
      const kv = keyval(arg, 'type');
      const type = kv.map.get('type');
      if (kv.help || (type !== undefined && isHelpOption(type))) throw stopForHelp(cl, { option: 'display' });
      if (type === undefined) throw missing('type');
      cl.display = { type, props: without(kv.map, 'type') };
      return;
    }

    case 'nographic':
      cl.nographic = true;
      cl.display = { type: 'none', props: new Map() };
      return;

    case 'vga':
      cl.vga = arg;
      return;

    case 'kernel':
      cl.kernel = { file: arg };
      return;
    case 'append':
      state.append = arg;
      return;
    case 'initrd':
      state.initrd = arg;
      return;
    case 'bios':
      cl.bios = arg;
      return;
    case 'boot': {
      const kv = keyval(arg, 'order');
      cl.boot = mergeInto(cl.boot, kv.map);
      return;
    }

    case 'chardev': {
      const kv = keyval(arg, 'backend');
      const backend = kv.map.get('backend');
      if (kv.help || (backend !== undefined && isHelpOption(backend))) {
        askHelp(
          cl,
          backend === undefined || isHelpOption(backend)
            ? { option: 'chardev' }
            : { option: 'chardev', subject: backend },
        );
        return;
      }
      const id = kv.map.get('id');
      if (id === undefined) throw missing('id');
      checkId(id);
      if (backend === undefined) throw missing('backend');
      if (state.chardevIds.has(id)) throw new UserError(`Duplicate ID '${id}' for chardev`);
      state.chardevIds.add(id);
      cl.chardevs.push({ id, backend, props: without(kv.map, 'id', 'backend') });
      return;
    }

    case 'serial':
      cl.serial.push(arg);
      cl.defaults.serial = false;
      return;

    case 'parallel':
      cl.parallel.push(arg);
      cl.defaults.parallel = false;
      return;

    case 'monitor':
      cl.defaults.monitor = false;
      // QEMU skips any argument starting with "none".
      if (!arg.startsWith('none')) cl.monitors.push({ spec: arg, mode: 'readline', pretty: false });
      return;

    case 'qmp':
    case 'qmp-pretty':
      cl.defaults.monitor = false;
      cl.monitors.push({ spec: arg, mode: 'control', pretty: def.name === 'qmp-pretty' });
      return;

    case 'mon': {
      const kv = keyval(arg, 'chardev');
      if (kv.help) {
        askHelp(cl, { option: 'mon' });
        return;
      }
      const chardev = kv.map.get('chardev');
      if (chardev === undefined) throw missing('chardev');
      const modeText = kv.map.get('mode') ?? 'readline';
      if (modeText !== 'readline' && modeText !== 'control') {
        throw new UserError("Parameter 'mode' expects 'readline' or 'control'");
      }
      const prettyText = kv.map.get('pretty');
      const pretty = prettyText === undefined ? false : parseBool(prettyText, 'pretty');
      cl.defaults.monitor = false;
      cl.monitors.push({ chardev, mode: modeText, pretty });
      return;
    }

    case 'S':
      cl.startStopped = true;
      return;
    case 's':
      cl.gdb = 'tcp::1234';
      return;
    case 'gdb':
      cl.gdb = arg;
      return;

    case 'd':
      if (isHelpOption(arg)) {
        askHelp(cl, { option: 'd' });
        return;
      }
      cl.log.items = arg;
      return;
    case 'D':
      cl.log.file = arg;
      return;
    case 'dfilter':
      cl.log.dfilter = arg;
      return;

    case 'trace': {
      const kv = keyval(arg, 'enable');
      const enable = kv.map.get('enable');
      if (kv.help || (enable !== undefined && isHelpOption(enable)))
        throw stopForHelp(cl, { option: 'trace' });
      if (enable !== undefined) cl.trace.enable.push(enable);
      const events = kv.map.get('events');
      if (events !== undefined) cl.trace.eventsFiles.push(events);
      const file = kv.map.get('file');
      if (file !== undefined) cl.trace.file = file;
      return;
    }

    case 'icount': {
      const kv = keyval(arg, 'shift');
      if (kv.help) {
        askHelp(cl, { option: 'icount' });
        return;
      }
      cl.icount = { spec: arg, props: kv.map };
      return;
    }

    case 'seed':
      cl.seed = parseSeed(arg);
      return;

    case 'no-reboot':
      cl.noReboot = true;
      return;
    case 'no-shutdown':
      cl.noShutdown = true;
      return;

    case 'qtest':
      cl.qtest = arg;
      return;
    case 'qtest-log':
      cl.qtestLog = arg;
      return;

    case 'loadvm':
      cl.loadvm = arg;
      return;
    case 'pidfile':
      cl.pidfile = arg;
      return;

    default:
      if (def.unsupported !== undefined) throw new UserError(def.unsupported);
      // Every option in the table has a case above; reaching here is a bug in this file.
      throw new Error(`option -${def.name} has no handler`);
  }
}
