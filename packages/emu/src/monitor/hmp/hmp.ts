/**
 * The human monitor (QEMU's HMP): `HumanMonitor.execute(line)` runs one command and returns its
 * output (what QMP's `human-monitor-command` returns), and `attachReadline(chardev)` serves the
 * interactive `(qemu) ` prompt on a chardev (`-monitor stdio`, a socket, or the `mon:stdio` mux).
 *
 * Compatibility choices:
 * - The prompt is `(qemu) `, not `(tsemu) `: expect scripts, libvirt and test harnesses wait for
 *   that exact string. The banner names tsemu: `tsemu X.Y.Z monitor - type 'help' for more
 *   information`, printed each time the chardev opens (each new socket client), as QEMU does.
 * - Output lines end in `\r\n` on the chardev and in `execute`'s result, as QEMU's monitor turns
 *   every `\n` into `\r\n` before output (so `info registers` gives `\r\nCPU#0\r\nR00=...`).
 * - While a command runs, input waits in the chardev (QEMU suspends the monitor likewise).
 * - On a mux, QEMU's monitor holds its output while the other frontend has the focus and shows
 *   the prompt again when it gets it back. The frontend does the same when the chardev sends it
 *   `mux-out` / `mux-in` events; a mux that sends none gets its output at once.
 */
import type { Chardev, CharEvent, CharFrontend } from '../../chardev/chardev.js';
import { packageVersion } from '../../cli/help.js';
import { UserError } from '../../core/errors.js';
import type { Machine } from '../../core/machine.js';
import { DebugReg } from '../../cpu/arm/cortex-m0.js';
import { completions, type HmpSession, machineCpus, parseCommandLine } from './commands.js';
import type { MemoryFormat } from './dump.js';
import { irqStatsFor } from './irq-stats.js';
import { LineEditor } from './readline.js';

export const HMP_PROMPT = '(qemu) ';

export interface HumanMonitorOptions {
  /** The machine; may be given later with `setMachine` (commands wait for it). */
  machine?: Machine | null;
  /** `quit`: called after `machine.shutdown('host-qmp-quit')`; the embedder ends the process. */
  onQuit?: () => void;
  /**
   * `gdbserver [device]` (device defaults to `tcp::1234`, `none` stops the stub). Throw to
   * report that the device could not be opened. Absent: the command says the stub is missing.
   */
  startGdbServer?: (device: string) => void | Promise<void>;
  /** `system_powerdown`: emit QMP's POWERDOWN event (boards without ACPI do nothing else). */
  onPowerdown?: () => void;
  /** Version in the banner and `info version` (default: the package's). */
  version?: string;
}

/** Turns monitor text into what goes out: every `\n` becomes `\r\n`. */
function toWire(text: string): string {
  return text.replace(/\n/g, '\r\n');
}

export class HumanMonitor {
  readonly version: string;
  private machineRef: Machine | null = null;
  private readonly machineWaiters: Array<() => void> = [];
  /** Commands run one at a time, whichever frontend sent them. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly fmtDefaults: { format: MemoryFormat['format']; size: number } = { format: 'x', size: 4 };
  private readonly frontends = new Set<ReadlineFrontend>();

  constructor(private readonly options: HumanMonitorOptions = {}) {
    this.version = options.version ?? packageVersion();
    if (options.machine) this.setMachine(options.machine);
  }

  get machine(): Machine | null {
    return this.machineRef;
  }

  /** Gives the monitor its machine (when it had to be created before the machine). */
  setMachine(machine: Machine): void {
    this.machineRef = machine;
    // Interrupt counting starts now, at start-up, so that `info irq` covers the whole run.
    irqStatsFor(machine);
    for (const w of this.machineWaiters.splice(0)) w();
  }

  /**
   * Runs one command line and returns its output with `\r\n` line ends ('' when it prints
   * nothing), as QMP `human-monitor-command` returns it. Never rejects for a bad command: the
   * error text is the output.
   */
  async execute(cmdline: string): Promise<string> {
    return toWire((await this.runQueued(cmdline)).text);
  }

  /** Serves a `(qemu) ` prompt on `chardev`; returns the frontend (`detach()` to stop). */
  attachReadline(chardev: Chardev): ReadlineFrontend {
    const fe = new ReadlineFrontend(this, chardev);
    this.frontends.add(fe);
    chardev.attach(fe);
    return fe;
  }

  /** @internal */
  forget(fe: ReadlineFrontend): void {
    this.frontends.delete(fe);
  }

  /** Runs `cmdline` after the commands before it; `quit` says whether it was a quit. */
  runQueued(cmdline: string): Promise<{ text: string; quit: boolean }> {
    const run = this.queue.then(() => this.runNow(cmdline));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async waitForMachine(): Promise<Machine> {
    if (this.machineRef) return this.machineRef;
    await new Promise<void>((resolve) => this.machineWaiters.push(resolve));
    return this.machineRef!;
  }

  private async runNow(cmdline: string): Promise<{ text: string; quit: boolean }> {
    const machine = await this.waitForMachine();
    let text = '';
    let quit = false;
    const session: HmpSession = {
      machine,
      print: (t) => {
        text += t;
      },
      fmtDefaults: this.fmtDefaults,
      version: this.version,
      irqStats: () => irqStatsFor(machine),
      quit: () => {
        quit = true;
        machine.shutdown('host-qmp-quit');
        this.options.onQuit?.();
      },
      powerdown: () => this.options.onPowerdown?.(),
      startGdbServer: this.options.startGdbServer,
    };
    const parsed = parseCommandLine(cmdline, {
      fmtDefaults: this.fmtDefaults,
      register: (name) => registerValue(machine, name),
    });
    if (parsed.kind === 'empty') return { text, quit };
    if (parsed.kind === 'error') return { text: parsed.text, quit };
    try {
      await parsed.command.run?.(session, parsed.args);
    } catch (e) {
      // A command never takes the emulator down; user mistakes read as QEMU's "Error: ...".
      const message = e instanceof UserError ? e.message : `internal error: ${(e as Error)?.message ?? e}`;
      text += `Error: ${message}\n`;
    }
    return { text, quit };
  }
}

/** `$name` in `x`/`xp` expressions: the first CPU's registers (a tsemu extension; QEMU's ARM has none). */
function registerValue(machine: Machine, name: string): bigint | undefined {
  const cpu = machineCpus(machine)[0];
  if (!cpu) return undefined;
  const n = name.toLowerCase();
  const gpr = /^r(\d{1,2})$/.exec(n);
  let reg: number | undefined;
  if (gpr) reg = Number(gpr[1]);
  else reg = { sp: 13, lr: 14, pc: 15, xpsr: DebugReg.XPSR, msp: DebugReg.MSP, psp: DebugReg.PSP }[n];
  if (reg === undefined || reg > DebugReg.PSP) return undefined;
  return BigInt(cpu.readRegister(reg) >>> 0);
}

const BUSY_ROOM = 0;
const IDLE_ROOM = 4096;

/**
 * One `(qemu) ` prompt on one chardev. Input is edited by a LineEditor; a finished line runs
 * through the monitor's queue, and input that arrives meanwhile waits.
 */
export class ReadlineFrontend implements CharFrontend {
  readonly editor: LineEditor;
  private busy = false;
  private pending: number[] = [];
  private greeted = false;
  private muxOut = false;
  private held: string[] = [];
  private closed = false;

  constructor(
    private readonly monitor: HumanMonitor,
    private readonly chardev: Chardev,
  ) {
    this.editor = new LineEditor({
      write: (text) => this.send(Buffer.from(text, 'latin1')),
      onLine: (line) => this.runLine(line),
      complete: (before) => completions(Buffer.from(before, 'latin1').toString('utf8')),
    });
  }

  canReceive(): number {
    return this.busy || this.closed ? BUSY_ROOM : IDLE_ROOM;
  }

  receive(data: Uint8Array): void {
    for (const b of data) this.pending.push(b);
    this.drain();
  }

  event(event: CharEvent | 'mux-in' | 'mux-out'): void {
    switch (event) {
      case 'opened':
        this.print(`tsemu ${this.monitor.version} monitor - type 'help' for more information\n`);
        this.greeted = true;
        if (!this.muxOut && !this.busy) this.editor.start(HMP_PROMPT);
        break;
      case 'mux-out':
        if (this.muxOut) break;
        if (this.greeted && !this.busy) this.send(Buffer.from('\r\n'));
        this.muxOut = true;
        break;
      case 'mux-in':
        if (!this.muxOut) break;
        this.muxOut = false;
        for (const chunk of this.held.splice(0)) this.chardev.write(Buffer.from(chunk, 'latin1'));
        if (this.greeted && !this.busy) this.editor.showPrompt();
        break;
      default:
        break;
    }
  }

  /** Stops serving the chardev. */
  detach(): void {
    this.closed = true;
    this.chardev.detach(this);
    this.monitor.forget(this);
  }

  private drain(): void {
    while (!this.busy && this.pending.length > 0) {
      const b = this.pending.shift()!;
      this.editor.handleByte(b);
    }
  }

  private runLine(line: string): void {
    this.busy = true;
    const text = Buffer.from(line, 'latin1').toString('utf8');
    void this.monitor.runQueued(text).then(({ text: out, quit }) => {
      this.print(out);
      if (quit) {
        this.closed = true;
        return;
      }
      this.busy = false;
      this.editor.start(HMP_PROMPT);
      this.drain();
      if (!this.busy) this.chardev.acceptInput();
    });
  }

  /** Command output (UTF-8 text with `\n` line ends). */
  private print(text: string): void {
    if (text !== '') this.send(Buffer.from(toWire(text), 'utf8'));
  }

  private send(bytes: Buffer): void {
    if (this.muxOut) this.held.push(bytes.toString('latin1'));
    else this.chardev.write(bytes);
  }
}

export interface StartHumanMonitorOptions extends HumanMonitorOptions {
  /** Serve a `(qemu) ` prompt on this chardev; without one the monitor only serves `execute`. */
  chardev?: Chardev | null;
}

/**
 * Creates the human monitor of a machine and, when `chardev` is given, its prompt there.
 *
 * Command line wiring: `-monitor SPEC` / `-mon chardev=ID,mode=readline` / the `mon:` prefix
 * each get `startHumanMonitor({ machine, chardev, onQuit, startGdbServer })`; QMP's
 * `human-monitor-command` uses one monitor without a chardev (`monitor.execute(line)`). On a
 * `mon:` mux, attach the monitor before the serial port so that the serial port has the focus
 * (the last frontend attached gets it): start it with `machine: null` before the machine is
 * created and call `setMachine(machine)` once it is.
 */
export function startHumanMonitor(options: StartHumanMonitorOptions): HumanMonitor {
  const monitor = new HumanMonitor(options);
  if (options.chardev) monitor.attachReadline(options.chardev);
  return monitor;
}
