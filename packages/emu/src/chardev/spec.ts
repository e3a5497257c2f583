/**
 * Chardev option syntaxes, the factory and the registry of chardevs by id.
 *
 *  - `-chardev BACKEND,id=ID[,key=val...]`: QEMU's key=value list. Items are comma-separated; a
 *    literal comma inside a value is written `,,`; a bare `key` means `key=on` and a bare `nokey`
 *    means `key=off` (the old `server,nowait` style); when a key repeats, the last one wins.
 *  - The short forms of `-serial`, `-monitor`, `-qmp`, `-gdb`, `-qtest`: `none`, `null`, `stdio`,
 *    `mon:SPEC`, `file:PATH`, `pipe:PATH`, `tcp:[HOST]:PORT[,opts]`, `telnet:...`,
 *    `unix:PATH[,opts]`, `chardev:ID`.
 *
 * Both produce one normalized `ChardevOptions`; `createChardev` builds the backend from it.
 */
import { UserError } from '../core/errors.js';
import { parseKeyval, parseBool as parseKeyvalBool } from '../core/keyval.js';
import { ObjectNode, parseIntegerText } from '../core/object.js';
import type { Chardev } from './chardev.js';
import { FileChardev } from './file.js';
import { MuxChardev } from './mux.js';
import { NullChardev } from './null.js';
import { PipeChardev } from './pipe.js';
import { RINGBUF_DEFAULT_SIZE, RingbufChardev } from './ringbuf.js';
import { type SocketAddress, SocketChardev } from './socket.js';
import { StdioChardev } from './stdio.js';

export type { SocketAddress } from './socket.js';

/** Options every backend takes. */
export interface ChardevCommonSpec {
  /** `mux=on`: share the chardev among several frontends (C-a escapes). */
  mux: boolean;
  logfile?: string;
  logappend: boolean;
}

export type ChardevOptions =
  | (ChardevCommonSpec & { backend: 'null' })
  | (ChardevCommonSpec & { backend: 'ringbuf'; size: number; memoryAlias?: boolean })
  | (ChardevCommonSpec & { backend: 'file'; path: string; inputPath?: string; append: boolean })
  | (ChardevCommonSpec & { backend: 'pipe'; path: string })
  | (ChardevCommonSpec & { backend: 'stdio'; signal: boolean })
  | (ChardevCommonSpec & {
      backend: 'socket';
      address: SocketAddress;
      server: boolean;
      /** Only meaningful for servers; false for clients. */
      wait: boolean;
      nodelay: boolean;
      /** Client reconnect interval in ms; 0 = none. */
      reconnectMs: number;
      telnet: boolean;
    });

export type ChardevBackendName = ChardevOptions['backend'];

/** A `-chardev` definition. */
export interface ChardevDefinition {
  id: string;
  options: ChardevOptions;
}

/** What a short form names. */
export type CharSpec =
  | { kind: 'none' }
  | { kind: 'chardev'; id: string }
  /** `monitor`: the `mon:` prefix was used; the caller also puts an HMP monitor on the mux. */
  | { kind: 'new'; options: ChardevOptions; monitor: boolean };

/** Backends tsemu implements, as `-chardev help` lists them. */
export const CHARDEV_BACKENDS: readonly string[] = [
  'file',
  'memory',
  'null',
  'pipe',
  'ringbuf',
  'socket',
  'stdio',
];

/** QEMU backends that tsemu knows by name but does not provide. */
const UNSUPPORTED_BACKENDS = new Set([
  'udp',
  'vc',
  'spicevmc',
  'spiceport',
  'msmouse',
  'wctablet',
  'braille',
  'testdev',
  'pty',
  'serial',
  'tty',
  'parallel',
  'parport',
  'console',
  'dbus',
  'qemu-vdagent',
  'hub',
  'mux',
]);

/** Every key QEMU's -chardev accepts (others are rejected with QEMU's message). */
const CHARDEV_KEYS = new Set([
  'backend',
  'id',
  'path',
  'input-path',
  'host',
  'port',
  'fd',
  'localaddr',
  'localport',
  'to',
  'ipv4',
  'ipv6',
  'wait',
  'server',
  'delay',
  'nodelay',
  'reconnect',
  'reconnect-ms',
  'telnet',
  'tn3270',
  'tls-creds',
  'tls-authz',
  'websocket',
  'width',
  'height',
  'cols',
  'rows',
  'mux',
  'signal',
  'name',
  'debug',
  'size',
  'chardev',
  'append',
  'logfile',
  'logappend',
  'mouse',
  'clipboard',
  'tight',
  'abstract',
]);

/** Keys whose feature tsemu lacks; an error is better than silently doing something else. */
const UNSUPPORTED_KEYS = new Set([
  'fd',
  'tls-creds',
  'tls-authz',
  'websocket',
  'tn3270',
  'abstract',
  'localaddr',
  'localport',
]);

/** True for `-chardev help` / `-chardev ?`. */
export function isChardevHelp(text: string): boolean {
  const first = text.split(',')[0];
  return first === 'help' || first === '?';
}

/** The `-chardev help` text. */
export function chardevHelpText(): string {
  return `Available chardev backend types: ${CHARDEV_BACKENDS.map((b) => `\n  ${b}`).join('')}\n`;
}

// ---- key=value lists ----------------------------------------------------------------------

/**
 * Splits a QEMU option list into [key, value] pairs in order (QemuOpts syntax, see
 * core/keyval.ts). `impliedKey` names the first item when it has no `=` (`socket,...` →
 * backend=socket; `unix:PATH,...` → path=PATH).
 */
export function parseKeyValueList(text: string, impliedKey?: string): Array<[string, string]> {
  return parseKeyval(text, impliedKey === undefined ? { option: '' } : { option: '', impliedKey }).entries;
}

function parseBool(key: string, value: string): boolean {
  return parseKeyvalBool(value, key);
}

function parseNumber(key: string, value: string): number {
  const n = /^[0-9]+$/.test(value) ? Number.parseInt(value, 10) : null;
  if (n === null || !Number.isSafeInteger(n)) throw new UserError(`Parameter '${key}' expects a number`);
  return n;
}

function parseSize(key: string, value: string): number {
  const n = parseIntegerText(value);
  if (n === null || n < 0) throw new UserError(`Parameter '${key}' expects a non-negative number below 2^64`);
  return n;
}

function parsePort(value: string): number {
  if (!/^[0-9]+$/.test(value) || Number.parseInt(value, 10) > 65535) {
    throw new UserError(`chardev: socket: invalid port '${value}' (expected a number from 0 to 65535)`);
  }
  return Number.parseInt(value, 10);
}

function isIdentifier(id: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_.-]*$/.test(id);
}

/** Builds options for `backend` from parsed keys (QEMU's per-backend parse functions). */
function optionsFromKeys(backend: string, keys: Map<string, string>): ChardevOptions {
  for (const k of keys.keys()) {
    if (!CHARDEV_KEYS.has(k)) throw new UserError(`Invalid parameter '${k}'`);
  }
  if (UNSUPPORTED_BACKENDS.has(backend)) {
    throw new UserError(`chardev backend '${backend}' is not supported by tsemu`);
  }
  if (!CHARDEV_BACKENDS.includes(backend))
    throw new UserError(`'${backend}' is not a valid char driver name`);
  for (const k of UNSUPPORTED_KEYS) {
    const v = keys.get(k);
    if (v === undefined) continue;
    // Boolean features are only a problem when switched on.
    if ((k === 'websocket' || k === 'tn3270' || k === 'abstract') && !parseBool(k, v)) continue;
    throw new UserError(`chardev option '${k}' is not supported by tsemu`);
  }

  const bool = (k: string, dflt: boolean): boolean => {
    const v = keys.get(k);
    return v === undefined ? dflt : parseBool(k, v);
  };
  const common: ChardevCommonSpec = { mux: bool('mux', false), logappend: bool('logappend', false) };
  const logfile = keys.get('logfile');
  if (logfile !== undefined) common.logfile = logfile;

  switch (backend) {
    case 'null':
      return { ...common, backend: 'null' };
    case 'ringbuf':
    case 'memory': {
      const sizeText = keys.get('size');
      const size = sizeText === undefined ? 0 : parseSize('size', sizeText);
      const effective = size === 0 ? RINGBUF_DEFAULT_SIZE : size;
      if ((effective & (effective - 1)) !== 0 || effective > 2 ** 30) {
        throw new UserError('size of ringbuf chardev must be power of two');
      }
      return backend === 'memory'
        ? { ...common, backend: 'ringbuf', size: effective, memoryAlias: true }
        : { ...common, backend: 'ringbuf', size: effective };
    }
    case 'file': {
      const path = keys.get('path');
      if (path === undefined) throw new UserError('chardev: file: no filename given');
      const inputPath = keys.get('input-path');
      return inputPath === undefined
        ? { ...common, backend: 'file', path, append: bool('append', false) }
        : { ...common, backend: 'file', path, inputPath, append: bool('append', false) };
    }
    case 'pipe': {
      const path = keys.get('path');
      if (path === undefined) throw new UserError('chardev: pipe: no device path given');
      return { ...common, backend: 'pipe', path };
    }
    case 'stdio':
      return { ...common, backend: 'stdio', signal: bool('signal', true) };
    default:
      return socketOptions(common, keys, bool);
  }
}

function socketOptions(
  common: ChardevCommonSpec,
  keys: Map<string, string>,
  bool: (k: string, dflt: boolean) => boolean,
): ChardevOptions {
  const path = keys.get('path');
  const host = keys.get('host');
  const port = keys.get('port');
  if (path !== undefined && host !== undefined) {
    throw new UserError("None or one of 'path', 'fd' or 'host' option required.");
  }
  if (host !== undefined && port === undefined) throw new UserError('chardev: socket: no port given');
  if (path === undefined && host === undefined) {
    throw new UserError("chardev: socket: 'path' or 'host' and 'port' required");
  }
  if (keys.has('delay') && keys.has('nodelay')) {
    throw new UserError("'delay' and 'nodelay' are mutually exclusive");
  }
  const nodelay = keys.has('delay') ? !bool('delay', true) : bool('nodelay', false);
  const server = bool('server', false);
  if (!server && keys.has('wait')) {
    throw new UserError("'wait' option is incompatible with socket in client connect mode");
  }
  const wait = server && bool('wait', true);
  const hasReconnect = keys.has('reconnect');
  const hasReconnectMs = keys.has('reconnect-ms');
  if (server && (hasReconnect || hasReconnectMs)) {
    throw new UserError("'reconnect' option is incompatible with socket in server listen mode");
  }
  if (hasReconnect && hasReconnectMs) {
    throw new UserError("'reconnect' and 'reconnect-ms' are mutually exclusive");
  }
  let reconnectMs = 0;
  if (hasReconnect) reconnectMs = parseNumber('reconnect', keys.get('reconnect')!) * 1000;
  else if (hasReconnectMs) reconnectMs = parseNumber('reconnect-ms', keys.get('reconnect-ms')!);
  const address: SocketAddress =
    path !== undefined ? { type: 'unix', path } : { type: 'inet', host: host!, port: parsePort(port!) };
  return {
    ...common,
    backend: 'socket',
    address,
    server,
    wait,
    nodelay,
    reconnectMs,
    telnet: bool('telnet', false),
  };
}

/** Parses the argument of `-chardev`. */
export function parseChardevOption(text: string): ChardevDefinition {
  const keys = new Map<string, string>();
  for (const [k, v] of parseKeyValueList(text, 'backend')) keys.set(k, v);
  const id = keys.get('id');
  keys.delete('id');
  if (id === undefined) throw new UserError('chardev: no id specified');
  if (!isIdentifier(id)) throw new UserError("Parameter 'id' expects an identifier");
  const backend = keys.get('backend');
  keys.delete('backend');
  if (backend === undefined) throw new UserError(`chardev: "${id}" missing backend`);
  return { id, options: optionsFromKeys(backend, keys) };
}

/**
 * Parses a short form (`-serial`, `-monitor`, `-qmp`, `-gdb`, `-qtest` arguments).
 * `permitMuxMonitor` is false where QEMU refuses `mon:` (e.g. `-qtest`).
 */
export function parseCharSpec(text: string, opts: { permitMuxMonitor?: boolean } = {}): CharSpec {
  if (text === 'none') return { kind: 'none' };
  if (text.startsWith('chardev:')) return { kind: 'chardev', id: text.slice('chardev:'.length) };
  let rest = text;
  let monitor = false;
  if (rest.startsWith('mon:')) {
    if (opts.permitMuxMonitor === false) throw new UserError("mon: isn't supported in this context");
    monitor = true;
    rest = rest.slice(4);
  }
  const keys = new Map<string, string>();
  const set = (pairs: Array<[string, string]>): void => {
    for (const [k, v] of pairs) keys.set(k, v);
  };
  let backend: string;
  if (rest === 'null' || rest === 'stdio') {
    backend = rest;
    // Muxed with the monitor, Ctrl-C goes to the guest instead of stopping the emulator (QEMU
    // does this for the compat syntax only, like -nographic).
    if (monitor && rest === 'stdio') keys.set('signal', 'off');
  } else if (rest.startsWith('file:')) {
    backend = 'file';
    keys.set('path', rest.slice(5));
  } else if (rest.startsWith('pipe:')) {
    backend = 'pipe';
    keys.set('path', rest.slice(5));
  } else if (rest.startsWith('tcp:') || rest.startsWith('telnet:')) {
    // telnet: is served as plain TCP: tsemu does no telnet option negotiation, and a telnet
    // client copes with a raw stream well enough for a console.
    backend = 'socket';
    const isTelnet = rest.startsWith('telnet:');
    const addr = rest.slice(isTelnet ? 7 : 4);
    const m = /^([^:]*):([^,]+)(,.*)?$/.exec(addr);
    if (!m) throw new UserError(`'${text}' is not a valid char driver`);
    keys.set('host', m[1]!);
    keys.set('port', m[2]!);
    if (m[3]) set(parseKeyValueList(m[3].slice(1)));
    if (isTelnet) keys.set('telnet', 'on');
  } else if (rest.startsWith('unix:')) {
    backend = 'socket';
    set(parseKeyValueList(rest.slice(5), 'path'));
  } else if (
    rest === 'vc' ||
    rest.startsWith('vc:') ||
    rest === 'pty' ||
    rest.startsWith('pty:') ||
    rest.startsWith('udp:') ||
    rest.startsWith('tn3270:') ||
    rest.startsWith('websocket:') ||
    rest.startsWith('/dev/') ||
    rest.startsWith('COM') ||
    rest === 'con:' ||
    ['msmouse', 'wctablet', 'braille', 'testdev'].includes(rest)
  ) {
    const name = rest.startsWith('/dev/') || rest.startsWith('COM') ? 'serial' : rest.replace(/:.*$/, '');
    throw new UserError(`chardev backend '${name === 'con' ? 'console' : name}' is not supported by tsemu`);
  } else {
    throw new UserError(`'${text}' is not a valid char driver`);
  }
  if (monitor) keys.set('mux', 'on');
  return { kind: 'new', options: optionsFromKeys(backend, keys), monitor };
}

// ---- factory and registry -----------------------------------------------------------------

/** Hooks the chardevs need from their surroundings. */
export interface ChardevEnv {
  /** Informational lines (a server waiting for its client, reconnect failures). */
  report?: (line: string) => void;
  /** C-a x on a mux. */
  onQuit?: () => void;
  /** Wall clock in ms for mux timestamps. */
  now?: () => number;
}

/** Creates the chardev (not yet opened). With `mux`, returns the mux; its base is `ID-base`. */
export function createChardev(id: string, options: ChardevOptions, env: ChardevEnv = {}): Chardev {
  const common = { logfile: options.logfile, logappend: options.logappend };
  const baseId = options.mux ? `${id}-base` : id;
  let chr: Chardev;
  switch (options.backend) {
    case 'null':
      chr = new NullChardev(baseId, common);
      break;
    case 'ringbuf':
      chr = new RingbufChardev(
        baseId,
        options.size,
        common,
        options.memoryAlias ? 'chardev-memory' : 'chardev-ringbuf',
      );
      break;
    case 'file':
      chr = new FileChardev(baseId, {
        ...common,
        path: options.path,
        append: options.append,
        ...(options.inputPath !== undefined ? { inputPath: options.inputPath } : {}),
      });
      break;
    case 'pipe':
      chr = new PipeChardev(baseId, { ...common, path: options.path });
      break;
    case 'stdio':
      chr = new StdioChardev(baseId, { ...common, signal: options.signal });
      break;
    case 'socket':
      chr = new SocketChardev(baseId, {
        ...common,
        address: options.address,
        server: options.server,
        wait: options.wait,
        nodelay: options.nodelay,
        reconnectMs: options.reconnectMs,
        telnet: options.telnet,
        ...(env.report ? { report: env.report } : {}),
      });
      break;
  }
  if (!options.mux) return chr;
  return new MuxChardev(id, chr, {
    ...(env.onQuit ? { onQuit: env.onQuit } : {}),
    ...(env.now ? { now: env.now } : {}),
  });
}

/** All chardevs by id (QEMU's `/chardevs` container). */
export class ChardevRegistry extends ObjectNode {
  private readonly env: ChardevEnv;
  /** ids of chardevs opened and closed through their mux. */
  private readonly muxBases = new Set<string>();

  constructor(env: ChardevEnv = {}) {
    super('container', 'chardevs');
    this.env = env;
  }

  /** Registers a chardev (and a mux's base). Ids must be unique. */
  add(chr: Chardev): void {
    const ids = chr instanceof MuxChardev ? [chr.id, chr.base.id] : [chr.id];
    for (const id of ids) {
      if (this.child(id)) throw new UserError(`Duplicate ID '${id}' for chardev`);
    }
    this.addChild(chr.id, chr);
    if (chr instanceof MuxChardev) {
      this.addChild(chr.base.id, chr.base);
      this.muxBases.add(chr.base.id);
    }
  }

  /** Creates and registers a chardev from options. */
  create(id: string, options: ChardevOptions): Chardev {
    if (this.child(id)) throw new UserError(`Duplicate ID '${id}' for chardev`);
    const chr = createChardev(id, options, this.env);
    this.add(chr);
    return chr;
  }

  /** Handles one `-chardev` argument. */
  define(text: string): Chardev {
    const def = parseChardevOption(text);
    return this.create(def.id, def.options);
  }

  /**
   * Resolves a short form for a frontend: null for `none`, the named chardev for `chardev:ID`,
   * else a new chardev registered under `label` (`serial0`, `monitor0`, `qtest`, `gdb`, ...).
   */
  fromSpec(label: string, text: string, opts: { permitMuxMonitor?: boolean } = {}): Chardev | null {
    const spec = parseCharSpec(text, opts);
    switch (spec.kind) {
      case 'none':
        return null;
      case 'chardev':
        return this.require(spec.id);
      case 'new':
        return this.create(label, spec.options);
    }
  }

  get(id: string): Chardev | undefined {
    return this.child(id) as Chardev | undefined;
  }

  require(id: string): Chardev {
    const chr = this.get(id);
    if (!chr) throw new UserError(`Chardev '${id}' not found`);
    return chr;
  }

  list(): Chardev[] {
    return [...this.children] as Chardev[];
  }

  /** HMP `info chardev`, one line per chardev. */
  info(): string {
    return this.list()
      .map((c) => `${c.info()}\n`)
      .join('');
  }

  /** Opens every chardev in creation order (a mux opens its base). */
  async openAll(): Promise<void> {
    for (const c of this.list()) if (!this.muxBases.has(c.id)) await c.open();
  }

  async closeAll(): Promise<void> {
    for (const c of this.list().reverse()) if (!this.muxBases.has(c.id)) await c.close();
  }
}
