/**
 * From a parsed command line to a running machine: the glue shared by `tsemu-system-arm` and
 * the friendly `tsemu`. Everything here is a thin layer over the library (`createMachine`).
 *
 * GDB: `-gdb SPEC` (`-s` is `-gdb tcp::1234`) serves the GDB stub on that chardev; like QEMU,
 * a `tcp:` spec gets `,server=on,wait=off,nodelay=on` appended. `-S` starts stopped: the guest
 * runs when GDB continues (or on the monitor's `cont`); with a GDB stub, one line on stderr
 * says where GDB is awaited (QEMU prints nothing). HMP `gdbserver [DEVICE]` starts a stub at
 * run time (`none` stops it). GDB's `kill` ends the emulator with status 0.
 */
import { writeFileSync } from 'node:fs';
import type { Chardev } from '../chardev/chardev.js';
import {
  type ChardevOptions,
  ChardevRegistry,
  chardevHelpText,
  parseChardevOption,
  parseCharSpec,
} from '../chardev/spec.js';
import { UserError } from '../core/errors.js';
import { describeTiming, parseIcount } from '../core/icount.js';
import { Log, logHelpText } from '../core/log.js';
import type { Machine, RunMode } from '../core/machine.js';
import type { PropertyValue } from '../core/object.js';
import { createDeviceByType, deviceHelpText, findDeviceType, machineHelpText } from '../core/registry.js';
import { type GdbServer, startGdbServer } from '../gdbstub/server.js';
import { MicrobitLedMatrix } from '../hw/display/microbit-led-matrix.js';
import type { MicrobitButton } from '../hw/input/microbit-button.js';
import type { LoadedImage } from '../loader/image.js';
import { createMachine, type DeviceSpec } from '../machine/create.js';
import { type HumanMonitor, startHumanMonitor } from '../monitor/hmp/hmp.js';
import { eventHubFor } from '../monitor/qmp/events.js';
import { startQmpServer } from '../monitor/qmp/index.js';
import { startQtestServer } from '../qtest/server.js';
import {
  findWebUi,
  type RemoteDisplayConfig,
  remoteDisplayConfig,
  startRemoteDisplay,
  UiSerial,
  webUiArgs,
} from '../ui/remote.js';
import { attachTermKeyboard, TermDisplay, TermSerial } from '../ui/term-display.js';
import { systemHelpText, versionText } from './help.js';
import type { HelpRequest, SystemCommandLine } from './parse.js';

export interface SystemIo {
  program: string;
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Options the friendly front end adds to a command line. */
export interface StartExtras {
  /** Quit (status 0) when virtual time reaches this many ns. */
  stopAfterNs?: number;
  /** Fast, deterministic mode at the CPU's nominal rate (no -icount equivalent). */
  fast?: boolean;
  /** Images to place in memory besides the command line's (the friendly front end's .py). */
  images?: LoadedImage[];
}

/** What the caller must do after `startSystem`. */
export type StartResult =
  | { kind: 'exit'; status: number }
  | {
      kind: 'running';
      machine: Machine;
      chardevs: ChardevRegistry;
      done: Promise<number>;
      /** To run before the process exits (restore the terminal). */
      cleanups: Array<() => void>;
    };

/** Answers a help request; returns the text to print. */
export function helpText(req: HelpRequest, program: string): string {
  switch (req.option) {
    case 'help':
      return systemHelpText(program);
    case 'version':
      return versionText(program);
    case 'machine':
      return machineHelpText();
    case 'device':
      return req.subject ? devicePropertiesHelp(req.subject) : deviceHelpText();
    case 'd':
      return logHelpText();
    case 'chardev':
      return chardevHelpText();
    case 'icount':
      return `${describeTiming()}\n`;
    case 'accel':
      return 'Accelerators supported in tsemu:\ntcg\n';
    case 'cpu':
      return 'Available CPUs:\n  cortex-m0\n';
    case 'display':
      return 'Available display backend types:\nnone\nterm\nweb\nremote\n';
    default:
      return `No help available for -${req.option}\n`;
  }
}

/** `-device DRIVER,help`: the properties of one device type. */
function devicePropertiesHelp(driver: string): string {
  const type = findDeviceType(driver);
  if (!type?.create) throw new UserError(`'${driver}' is not a valid device model name`);
  const dev = createDeviceByType(driver);
  const lines = [`${driver} options:`];
  for (const p of dev.propertyDefs()) {
    const shown =
      typeof p.default === 'number' && p.default > 0xffff ? `0x${p.default.toString(16)}` : String(p.default);
    const def =
      p.default === undefined || p.default === null || p.default === '' ? '' : ` (default: ${shown})`;
    const desc = p.description ? ` - ${p.description}` : '';
    lines.push(`  ${p.name}=<${p.type}>${desc}${def}`);
  }
  return `${lines.join('\n')}\n`;
}

function propsRecord(props: Map<string, string>): Record<string, PropertyValue> {
  return Object.fromEntries(props);
}

function runModeOf(cmd: SystemCommandLine): { mode: RunMode; nsPerInstruction?: number } {
  if (cmd.accel.some((a) => a.name === 'qtest')) return { mode: 'qtest' };
  for (const a of cmd.accel) {
    if (a.name !== 'tcg') throw new UserError(`invalid accelerator ${a.name}`);
  }
  if (!cmd.icount) return { mode: 'realtime' };
  const timing = parseIcount(cmd.icount.spec);
  return timing.nsPerInstruction === 'auto'
    ? { mode: timing.mode }
    : { mode: timing.mode, nsPerInstruction: timing.nsPerInstruction };
}

/**
 * Builds and starts the machine described by `cmd`. Throws UserError for user mistakes
 * (the caller prints `program: message` and exits 1).
 */
export async function startSystem(
  cmd: SystemCommandLine,
  io: SystemIo,
  extra: StartExtras = {},
): Promise<StartResult> {
  if (cmd.helpRequests.length > 0) {
    for (const req of cmd.helpRequests) io.out(helpText(req, io.program));
    return { kind: 'exit', status: 0 };
  }

  const log = new Log();
  if (cmd.log.items !== undefined) log.configure(cmd.log.items);
  if (cmd.log.file !== undefined) log.setFile(cmd.log.file);
  for (const pattern of cmd.trace.enable) log.enableTrace(pattern);

  const timing = runModeOf(cmd);
  const { nsPerInstruction } = timing;
  const mode: RunMode = extra.fast && timing.mode !== 'qtest' ? 'fast' : timing.mode;
  const displayType = cmd.display?.type ?? 'none';
  if (!['none', 'term', 'web', 'remote'].includes(displayType)) {
    throw new UserError(`Display '${displayType}' is not available (tsemu offers: none, term, web, remote)`);
  }
  // -display web (a UI process serving the page) / remote,socket=PATH (tsemu-ui --connect PATH).
  const remote: RemoteDisplayConfig | null =
    displayType === 'web' || displayType === 'remote'
      ? remoteDisplayConfig(displayType, cmd.display?.props ?? new Map())
      : null;
  if (cmd.machine.type === undefined) {
    throw new UserError(
      'No machine specified, and there is no default (use -machine help to list supported machines)',
    );
  }

  let quitRequested: ((status: number) => void) | null = null;
  const chardevs = new ChardevRegistry({
    report: (line) => io.err(`${io.program}: ${line}\n`),
    onQuit: () => quitRequested?.(0),
  });
  for (const c of cmd.chardevs) {
    chardevs.create(c.id, chardevOptionsFromSpec(c.id, c.backend, c.props));
  }
  // Serial ports: -serial specs, or the default (QEMU: mon:stdio with -nographic).
  const serialSpecs = [...cmd.serial];
  if (serialSpecs.length === 0 && cmd.defaults.serial && cmd.nographic) serialSpecs.push('mon:stdio');
  const serials: Array<Chardev | null> = serialSpecs.map((spec, i) =>
    chardevs.fromSpec(`serial${i}`, spec, { permitMuxMonitor: true }),
  );
  // -display term: the LEDs at the top of the terminal and, unless -serial says otherwise, the
  // serial port below them.
  let term: TermDisplay | null = null;
  let termSerial: TermSerial | null = null;
  if (displayType === 'term') {
    const display = new TermDisplay({
      out: process.stdout,
      ansi: process.stdout.isTTY === true,
      title: io.program,
    });
    term = display;
    if (serials.length === 0) {
      termSerial = new TermSerial('serial0', (text) => display.serial(text));
      chardevs.add(termSerial);
      serials.push(termSerial);
    }
  }
  // -display web/remote: the UI gets the serial port unless -serial says otherwise.
  let uiSerial: UiSerial | null = null;
  if (remote && serials.length === 0) {
    uiSerial = new UiSerial('serial0');
    chardevs.add(uiSerial);
    serials.push(uiSerial);
  }
  // Monitors. Human monitors attach before the machine (and so before the serial port) because
  // a mux gives the input focus to the frontend that attached last: the serial port, as in QEMU.
  let powerdown: () => void = () => {};
  // HMP `gdbserver`: set once the machine exists (commands wait for the machine until then).
  let gdbserverCommand: (device: string) => Promise<void> = async () => {};
  const humanMonitors: HumanMonitor[] = [];
  const newHmp = (chardev: Chardev | null) =>
    startHumanMonitor({
      machine: null,
      chardev,
      onQuit: () => quitRequested?.(0),
      onPowerdown: () => powerdown(),
      startGdbServer: (device) => gdbserverCommand(device),
    });
  const qmpChardevs: Array<{ chardev: Chardev; pretty: boolean }> = [];
  for (const [i, m] of cmd.monitors.entries()) {
    const chardev =
      m.spec !== undefined
        ? chardevs.fromSpec(`compat_monitor${i}`, m.spec, { permitMuxMonitor: true })
        : chardevs.require(m.chardev!);
    if (!chardev) continue; // -monitor none / -qmp none
    if (m.mode === 'control') qmpChardevs.push({ chardev, pretty: m.pretty });
    else humanMonitors.push(newHmp(chardev));
  }
  // A `mon:` serial spec shares its mux with a human monitor (C-a c switches between them).
  for (const [i, spec] of serialSpecs.entries()) {
    const chardev = serials[i];
    if (
      chardev &&
      parseCharSpec(spec, { permitMuxMonitor: true }).kind === 'new' &&
      spec.startsWith('mon:')
    ) {
      humanMonitors.push(newHmp(chardev));
    }
  }
  const qtestChardev = cmd.qtest !== undefined ? chardevs.fromSpec('qtest', cmd.qtest) : null;
  const gdbChardev = cmd.gdb !== undefined ? chardevs.fromSpec('gdb', gdbChardevSpec(cmd.gdb)) : null;
  if (cmd.kernel?.append !== undefined || cmd.kernel?.initrd !== undefined) {
    io.err(
      `${io.program}: warning: -append and -initrd are ignored: the machine boots firmware, not Linux\n`,
    );
  }

  const devices: DeviceSpec[] = cmd.devices.map((d) => ({
    driver: d.driver,
    ...(d.id !== undefined ? { id: d.id } : {}),
    props: propsRecord(d.props),
  }));
  let machine: Machine;
  try {
    machine = createMachine(cmd.machine.type, {
      mode,
      ...(nsPerInstruction !== undefined ? { nsPerInstruction } : {}),
      log,
      ...(cmd.seed !== undefined ? { seed: cmd.seed } : {}),
      ...(cmd.memory?.size !== undefined ? { ramSize: cmd.memory.size } : {}),
      props: propsRecord(cmd.machine.props),
      noReboot: cmd.noReboot,
      noShutdown: cmd.noShutdown,
      chardevRegistry: chardevs,
      serial: serials,
      devices,
      ...(cmd.kernel ? { kernel: cmd.kernel.file } : {}),
      ...(extra.images ? { images: extra.images } : {}),
    });
    // Open after the machine is built: its serial port then holds a mux's focus, as in QEMU,
    // so a monitor sharing the mux stays quiet until C-a c.
    await chardevs.openAll();
  } catch (e) {
    await chardevs.closeAll();
    throw e;
  }
  const cleanups: Array<() => void> = [];
  for (const hmp of humanMonitors) hmp.setMachine(machine);
  // QMP's human-monitor-command runs on a monitor of its own, as in QEMU.
  const hmpForQmp = newHmp(null);
  hmpForQmp.setMachine(machine);
  if (remote) {
    const uiMonitor = newHmp(null);
    uiMonitor.setMachine(machine);
    const ui = remote.kind === 'web' ? findWebUi() : null;
    const display = await startRemoteDisplay({
      machine,
      serial: uiSerial,
      monitor: uiMonitor,
      ...(remote.kind === 'remote'
        ? { listen: remote.socket! }
        : { spawnUi: { command: ui!.command, args: [...ui!.args, ...webUiArgs(remote)] } }),
      quitOnExit: remote.quitOnExit,
      onQuit: () => quitRequested?.(0),
      report: (line) => io.err(`${io.program}: ${line}\n`),
    });
    cleanups.push(() => void display.close());
  }
  const qmpServers = qmpChardevs.map(({ chardev, pretty }) =>
    startQmpServer({
      machine,
      chardev,
      pretty,
      hmp: (line) => hmpForQmp.execute(line),
      onQuit: () => quitRequested?.(0),
    }),
  );
  if (qtestChardev) {
    const qtest = startQtestServer({
      machine,
      chardev: qtestChardev,
      ...(cmd.qtestLog !== undefined ? { log: cmd.qtestLog } : {}),
      accelQtest: mode === 'qtest',
    });
    cleanups.push(() => qtest.close());
  }
  // HMP system_powerdown reaches QMP clients as the POWERDOWN event.
  powerdown = () => eventHubFor(machine).emit('POWERDOWN');
  cleanups.push(() => {
    for (const q of qmpServers) q.close();
  });
  if (cmd.pidfile !== undefined) writeFileSync(cmd.pidfile, `${process.pid}\n`);
  if (term) {
    const leds = (machine as { display?: unknown }).display;
    if (!(leds instanceof MicrobitLedMatrix)) {
      await chardevs.closeAll();
      throw new UserError(`-display term: machine '${cmd.machine.type}' has no LED display`);
    }
    const display = term;
    leds.onFrame((f) => display.frame(MicrobitLedMatrix.levels(f)));
    display.start();
    cleanups.push(() => display.stop());
    if (termSerial) {
      const serial = termSerial;
      const board = machine as { buttonA?: MicrobitButton; buttonB?: MicrobitButton };
      cleanups.push(
        attachTermKeyboard({
          serial: (text) => serial.type(text),
          button: (which) => {
            // A click of 100 ms of virtual time: a press every runtime reliably sees.
            if (which !== 'b') board.buttonA?.click();
            if (which !== 'a') board.buttonB?.click();
          },
          quit: () => quitRequested?.(0),
        }),
      );
    }
  }

  const done = new Promise<number>((resolve) => {
    quitRequested = (status) => {
      machine.shutdown('host-signal');
      resolve(status);
    };
    machine.events.on('shutdown', (_guest, _reason) => {
      if (machine.runState === 'shutdown') resolve(0);
    });
  });
  if (extra.stopAfterNs !== undefined) {
    const t = machine.clock.createTimer('cli.stop-after', () => quitRequested?.(0));
    t.modAbs(extra.stopAfterNs);
  }
  if (!cmd.startStopped) machine.start();

  // The GDB stub starts after the machine so that a client already connected stops it.
  let gdbServer: GdbServer | null = null;
  /** The chardev HMP `gdbserver` created for the running stub (closed with it). */
  let gdbOwnedChardev: Chardev | null = null;
  const gdbMonitor = newHmp(null);
  gdbMonitor.setMachine(machine);
  const serveGdb = (chardev: Chardev, owned: boolean): void => {
    gdbServer = startGdbServer({
      machine,
      chardev,
      hmp: gdbMonitor,
      startStopped: cmd.startStopped,
      onKill: () => {
        io.err(`${io.program}: terminated via GDBstub\n`);
        quitRequested?.(0);
      },
    });
    gdbOwnedChardev = owned ? chardev : null;
  };
  const stopGdb = async (): Promise<void> => {
    const server = gdbServer as GdbServer | null;
    const owned = gdbOwnedChardev as Chardev | null;
    gdbServer = null;
    gdbOwnedChardev = null;
    server?.close();
    if (owned) {
      await owned.close();
      chardevs.removeChild(owned.id);
    }
  };
  if (gdbChardev) {
    serveGdb(gdbChardev, false);
    if (cmd.startStopped) {
      io.err(`${io.program}: waiting for GDB on ${cmd.gdb} (-S: the guest starts when GDB continues)\n`);
    }
  }
  gdbserverCommand = async (device) => {
    await stopGdb();
    if (device === 'none') return;
    const spec = gdbChardevSpec(device);
    const existing = parseCharSpec(spec).kind === 'chardev';
    let label = 'gdb';
    for (let i = 1; chardevs.get(label); i++) label = `gdb${i}`;
    const chardev = chardevs.fromSpec(label, spec);
    if (!chardev) return;
    if (!existing) {
      try {
        await chardev.open();
      } catch (e) {
        chardevs.removeChild(chardev.id);
        throw e;
      }
    }
    serveGdb(chardev, !existing);
  };
  cleanups.push(() => {
    void stopGdb();
  });
  return { kind: 'running', machine, chardevs, done, cleanups };
}

/** QEMU's rule: a `tcp:` GDB device always listens, does not wait, and disables Nagle. */
export function gdbChardevSpec(spec: string): string {
  return spec.startsWith('tcp:') ? `${spec},server=on,wait=off,nodelay=on` : spec;
}

/** `-chardev` key/values (already split by the parser) back to the chardev layer's options. */
function chardevOptionsFromSpec(id: string, backend: string, props: Map<string, string>): ChardevOptions {
  const text = [backend, `id=${id}`, ...[...props].map(([k, v]) => `${k}=${v.replaceAll(',', ',,')}`)].join(
    ',',
  );
  return parseChardevOption(text).options;
}
