/**
 * The GDB stub: serves GDB's Remote Serial Protocol on a chardev (`-gdb`, `-s`, HMP
 * `gdbserver`), as QEMU's gdbstub does, so that a stock `gdb-multiarch` debugs the guest.
 *
 * Processes and threads (QEMU's multiprocess model):
 * - Each CPU cluster (an object of type `cpu-cluster` with an int property `cluster-id`, whose
 *   descendants include CPU nodes) is one GDB process with pid = cluster-id + 1, in pid order.
 *   CPUs outside any cluster form a default process with the next pid (the only one on a
 *   machine without clusters, such as the micro:bit); it is left out when it has no CPU.
 * - A CPU's thread id is its global cpu-index + 1, written `pPP.TT` once GDB has offered
 *   `multiprocess+` in qSupported, else `TT` (two hex digits at least).
 * - On connection the machine stops and only the first process is attached; `vAttach;PID`
 *   attaches another, `D;PID` detaches one (its breakpoints go), and when none is left
 *   attached the machine runs again. Each process has its own target description, made from
 *   its first CPU and kept.
 *
 * Run control is all-stop: the CPUs resumed by `c`/`vCont` run until one of them stops (a
 * breakpoint, a watchpoint, the end of a step); then every CPU is halted, the machine stops,
 * and that CPU's thread is reported. `s` steps the selected thread only; the others stay where
 * they are. A thread without a `vCont` action stays stopped (as QEMU does). Ctrl-C stops a
 * running machine and reports `T02`. The stop reply goes out when the CPU's `onDebugStop`
 * fires, from inside the runner's loop. Breakpoints and watchpoints are the CPU's own (free
 * while none is set, see cortex-m0.ts); they apply to the CPUs of the process of the current
 * `Hg` thread, the process GDB inserts them for.
 *
 * Two details make GDB show what it shows with QEMU: a CPU stopped from outside (Ctrl-C, the
 * connection, monitor `stop`) first runs on to the end of its basic block, as QEMU stops
 * between translated blocks; and the single step GDB makes after an ARM watchpoint hit (it
 * expects the stop *before* the access, as QEMU gives it) is answered at once, because the
 * CPU stops after the access (see resume).
 *
 * A client that goes away without detaching leaves no breakpoint behind; the machine then runs
 * again, except with `startStopped` (`-S`), where it stays stopped until `cont` or the next
 * GDB. Another client can connect at any time after. `k`/`vKill` end the emulator (`onKill`),
 * as in QEMU.
 *
 * Errors: malformed arguments get `E22` (EINVAL, as QEMU), memory that cannot be accessed
 * `E14` (EFAULT), unknown packets the empty reply.
 */
import type { Chardev, CharEvent, CharFrontend } from '../chardev/chardev.js';
import type { AddressSpace } from '../core/address-space.js';
import type { Machine } from '../core/machine.js';
import type { ObjectNode } from '../core/object.js';
import { CortexM0, type DebugStopEvent, type WatchKind } from '../cpu/arm/cortex-m0.js';
import { CpuNode } from '../cpu/arm/cpu-node.js';
import { PacketLink } from './packet.js';
import {
  eraseFlash,
  G_REGISTERS,
  memoryMap,
  memoryMapXml,
  registerByNumber,
  targetDescription,
  writeFlash,
} from './target.js';

/** What the stub needs of a human monitor (HumanMonitor fits). */
export interface GdbMonitor {
  execute(cmdline: string): Promise<string>;
}

export interface GdbServerOptions {
  machine: Machine;
  chardev: Chardev;
  /** Runs `monitor` commands (qRcmd); without one, qRcmd is unsupported. */
  hmp?: GdbMonitor | null;
  /** `k`/`vKill`: end the emulator. Default: shut the machine down. */
  onKill?: () => void;
  /** `-S`: the machine started stopped and stays stopped when a client leaves without detaching. */
  startStopped?: boolean;
  /** Erase block size of flash (ROM) regions in the memory map (default 1024: nRF51 pages). */
  flashBlockSize?: number;
  /** Run-length encode replies (default true). */
  rle?: boolean;
}

/** The largest packet GDB may send us (qSupported PacketSize), in bytes. */
export const PACKET_SIZE = 0x4000;
/** Most bytes one `m` reads (the reply holds two hex digits per byte). */
const MAX_READ = PACKET_SIZE / 2;
/** Most instructions an interrupted CPU runs on to reach the end of its basic block. */
const MAX_BLOCK = 64;
/** Bytes of monitor output per `O` packet. */
const CONSOLE_CHUNK = 1024;

export interface GdbProcess {
  pid: number;
  cpus: GdbCpu[];
  attached: boolean;
  /** The cluster node, or null for the default process. */
  cluster: ObjectNode | null;
  targetXml: string | null;
  /** Breakpoints inserted for this process: address → Z type (0 software, 1 hardware). */
  breakpoints: Map<number, number>;
  watchpoints: Array<{ addr: number; length: number; kind: WatchKind }>;
}

export interface GdbCpu {
  cpu: CortexM0;
  /** The CPU's object node (type and name for qThreadExtraInfo), when it has one. */
  node: ObjectNode | null;
  /** Global cpu index; the thread id is index + 1. */
  index: number;
  process: GdbProcess;
}

function isCluster(node: ObjectNode): boolean {
  return node.typeName === 'cpu-cluster' || node.isA('cpu-cluster');
}

/**
 * Finds the GDB processes of `machine`: one per CPU cluster, in pid order, then the default
 * process for CPUs outside clusters (when it has any).
 */
export function discoverProcesses(machine: Machine): GdbProcess[] {
  const nodes: CpuNode[] = [];
  for (const n of machine.walk()) if (n instanceof CpuNode) nodes.push(n);
  const entries: Array<{
    cpu: CortexM0;
    node: ObjectNode | null;
    index: number;
    cluster: ObjectNode | null;
  }> = [];
  if (nodes.length > 0) {
    for (const node of nodes) {
      let cluster: ObjectNode | null = null;
      for (let p = node.parent; p && p !== machine; p = p.parent) {
        if (isCluster(p)) {
          cluster = p;
          break;
        }
      }
      entries.push({ cpu: node.cpu, node, index: node.index, cluster });
    }
  } else {
    // CPUs without object nodes: the runner's, in order.
    let i = 0;
    for (const ex of machine.runner.executorList) {
      if (ex instanceof CortexM0) entries.push({ cpu: ex, node: null, index: i++, cluster: null });
    }
  }
  entries.sort((a, b) => a.index - b.index);
  const clusters = new Map<ObjectNode, GdbProcess>();
  const processes: GdbProcess[] = [];
  const newProcess = (pid: number, cluster: ObjectNode | null): GdbProcess => ({
    pid,
    cpus: [],
    attached: false,
    cluster,
    targetXml: null,
    breakpoints: new Map(),
    watchpoints: [],
  });
  let maxPid = 0;
  for (const e of entries) {
    if (!e.cluster || clusters.has(e.cluster)) continue;
    const id = e.cluster.hasProperty('cluster-id') ? e.cluster.getInt('cluster-id') : clusters.size;
    const proc = newProcess(id + 1, e.cluster);
    clusters.set(e.cluster, proc);
    processes.push(proc);
    maxPid = Math.max(maxPid, proc.pid);
  }
  processes.sort((a, b) => a.pid - b.pid);
  const fallback = newProcess(maxPid + 1, null);
  for (const e of entries) {
    const proc = e.cluster ? clusters.get(e.cluster)! : fallback;
    proc.cpus.push({ cpu: e.cpu, node: e.node, index: e.index, process: proc });
  }
  if (fallback.cpus.length > 0) processes.push(fallback);
  return processes;
}

/** A parsed thread id: pid/tid 0 mean "any", -1 "all"; pid 0 also when GDB gave none. */
interface ThreadId {
  pid: number;
  tid: number;
}

function parseIdPart(text: string): number | null {
  if (text === '-1') return -1;
  if (!/^[0-9a-fA-F]{1,8}$/.test(text)) return null;
  return Number.parseInt(text, 16);
}

/** `pP.T`, `pP` (all threads of P), `T`, `-1`, `0`; null when malformed. */
export function parseThreadId(text: string): ThreadId | null {
  if (text.startsWith('p')) {
    const dot = text.indexOf('.');
    const pid = parseIdPart(dot < 0 ? text.slice(1) : text.slice(1, dot));
    const tid = dot < 0 ? -1 : parseIdPart(text.slice(dot + 1));
    if (pid === null || tid === null) return null;
    return { pid, tid };
  }
  const tid = parseIdPart(text);
  return tid === null ? null : { pid: tid === -1 ? -1 : 0, tid };
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function parseHexNumber(text: string): number | null {
  if (!/^[0-9a-fA-F]{1,8}$/.test(text)) return null;
  return Number.parseInt(text, 16);
}

/** A 32-bit value as target (little-endian) bytes in hex. */
function u32Hex(v: number): string {
  return hex2(v & 0xff) + hex2((v >>> 8) & 0xff) + hex2((v >>> 16) & 0xff) + hex2((v >>> 24) & 0xff);
}

function parseU32Hex(text: string): number | null {
  if (!/^[0-9a-fA-F]{8}$/.test(text)) return null;
  let v = 0;
  for (let i = 3; i >= 0; i--) v = v * 256 + Number.parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return v >>> 0;
}

function hexToBytes(text: string): Uint8Array | null {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

/**
 * Thumb instructions after which QEMU ends a translation block: branches (B, B<cond>, BX,
 * BLX, BL), writes of the PC (POP {pc}, MOV/ADD pc), SVC, WFI/WFE, and 32-bit system
 * instructions.
 */
function endsBlock(insn: number): boolean {
  if ((insn & 0xf000) === 0xd000) return true; // B<cond>, UDF, SVC
  if ((insn & 0xf800) === 0xe000) return true; // B
  if ((insn & 0xff00) === 0x4700) return true; // BX, BLX
  if ((insn & 0xf800) >= 0xe800) return true; // 32-bit: BL, MSR, MRS, barriers
  if ((insn & 0xff00) === 0xbd00) return true; // POP {..., pc}
  if ((insn & 0xfc87) === 0x4487) return true; // ADD/MOV pc, Rm
  return insn === 0xbf20 || insn === 0xbf30; // WFE, WFI
}

const WATCH_KINDS: Record<number, WatchKind> = { 2: 'write', 3: 'read', 4: 'access' };
const WATCH_STOP_KEY: Record<WatchKind, string> = { write: 'watch', read: 'rwatch', access: 'awatch' };

const ERR_INVAL = 'E22';
const ERR_FAULT = 'E14';

type Action = 'c' | 's';
/** A reply, none (c, s, k: later or never), or a monitor command's reply to come. */
type Reply = string | null | Promise<string | null>;

export class GdbServer implements CharFrontend {
  readonly machine: Machine;
  readonly chardev: Chardev;
  readonly processes: GdbProcess[];
  private readonly cpus: GdbCpu[];
  private readonly options: GdbServerOptions;
  private readonly link: PacketLink;
  private readonly flashBlockSize: number;
  private readonly savedHandlers = new Map<CortexM0, CortexM0['onDebugStop']>();
  private readonly unsubscribe: Array<() => void> = [];

  private connected = false;
  private multiprocess = false;
  private reportSwbreak = false;
  private reportHwbreak = false;
  /** The thread of `g`/`G`/`p`/`m`... (Hg) and of `c`/`s` (Hc); null when none is attached. */
  private gCpu: GdbCpu | null = null;
  private cCpu: GdbCpu | null = null;
  /** GDB waits for a stop reply (after c/s/vCont). */
  private waiting = false;
  /** >0 while the stub halts CPUs itself: their stop events are not GDB stops. */
  private suppressStops = 0;
  /** True while the stub starts or stops the machine (its run-state events are ours). */
  private ownRunChange = false;
  /** The CPUs the last resume let go (the candidates for an interrupt's report). */
  private resumed: GdbCpu[] = [];
  /** The CPU whose stop GDB was last told was a watchpoint (see resume). */
  private watchStopped: GdbCpu | null = null;
  /** qsThreadInfo position. */
  private threadCursor = 0;
  /** Packets (and 'interrupt') waiting while a monitor command runs. */
  private readonly pending: Array<Uint8Array | 'interrupt'> = [];
  private busy = false;
  private closed = false;

  constructor(options: GdbServerOptions) {
    this.options = options;
    this.machine = options.machine;
    this.chardev = options.chardev;
    this.flashBlockSize = options.flashBlockSize ?? 1024;
    this.processes = discoverProcesses(options.machine);
    this.cpus = this.processes.flatMap((p) => p.cpus).sort((a, b) => a.index - b.index);
    this.link = new PacketLink({
      write: (data) => this.chardev.write(data),
      onPacket: (payload) => this.enqueue(payload),
      onInterrupt: () => this.enqueue('interrupt'),
      maxPayload: PACKET_SIZE + 256,
      ...(options.rle !== undefined ? { rle: options.rle } : {}),
    });
    for (const c of this.cpus) {
      const previous = c.cpu.onDebugStop;
      this.savedHandlers.set(c.cpu, previous);
      c.cpu.onDebugStop = (event) => {
        previous?.(event);
        this.onCpuStop(c, event);
      };
    }
    const onStop = (): void => this.onMachineStop();
    const onResume = (): void => this.onMachineResume();
    this.machine.events.on('stop', onStop);
    this.machine.events.on('resume', onResume);
    this.unsubscribe.push(
      () => this.machine.events.off('stop', onStop),
      () => this.machine.events.off('resume', onResume),
    );
    this.chardev.attach(this);
  }

  /** True while a GDB client is connected. */
  get clientConnected(): boolean {
    return this.connected;
  }

  /** Stops serving: breakpoints go, the CPUs are released, the chardev is free again. */
  close(): void {
    if (this.closed) return;
    if (this.connected) this.onDisconnect();
    this.closed = true;
    this.chardev.detach(this);
    for (const [cpu, handler] of this.savedHandlers) cpu.onDebugStop = handler;
    for (const u of this.unsubscribe) u();
  }

  // ---- CharFrontend ------------------------------------------------------------------------

  canReceive(): number {
    return 0x10000;
  }

  receive(data: Uint8Array): void {
    if (this.closed) return;
    this.link.feed(data);
  }

  event(event: CharEvent): void {
    if (this.closed) return;
    if (event === 'opened') this.onConnect();
    else if (event === 'closed') this.onDisconnect();
  }

  // ---- connection ----------------------------------------------------------------------------

  private onConnect(): void {
    if (this.connected) this.onDisconnect();
    this.connected = true;
    this.link.reset();
    this.multiprocess = false;
    this.reportSwbreak = false;
    this.reportHwbreak = false;
    this.waiting = false;
    for (const [i, p] of this.processes.entries()) p.attached = i === 0;
    this.cCpu = this.firstAttachedCpu();
    this.gCpu = this.cCpu;
    const running = this.machine.runner.running ? this.cpus.filter((c) => !c.cpu.debugStopped) : [];
    this.stopVm();
    // Like an interrupt, the connection stops running CPUs between basic blocks (QEMU's TBs).
    for (const c of running) this.finishBlock(c.cpu);
  }

  private onDisconnect(): void {
    if (!this.connected) return;
    this.connected = false;
    this.waiting = false;
    this.link.reset();
    for (const p of this.processes) {
      this.removeAllPoints(p);
      p.attached = false;
    }
    this.gCpu = null;
    this.cCpu = null;
    this.releaseVm(!this.options.startStopped);
  }

  // ---- run control ---------------------------------------------------------------------------

  /** Halts every CPU for the debugger and stops the machine (all-stop). */
  private stopVm(): void {
    this.suppressStops++;
    try {
      for (const c of this.cpus) if (!c.cpu.debugStopped) c.cpu.halt();
    } finally {
      this.suppressStops--;
    }
    if (this.machine.runner.running) {
      this.ownRunChange = true;
      try {
        this.machine.stop('debug');
      } finally {
        this.ownRunChange = false;
      }
    }
  }

  /** Lets every CPU go and, when `run`, starts the machine (GDB detached or gone). */
  private releaseVm(run: boolean): void {
    for (const c of this.cpus) if (c.cpu.debugStopped) c.cpu.resume();
    if (run) this.startMachine();
  }

  private startMachine(): boolean {
    if (this.machine.runState === 'shutdown') return false;
    this.ownRunChange = true;
    try {
      this.machine.start();
    } finally {
      this.ownRunChange = false;
    }
    this.machine.runner.kick();
    return true;
  }

  /** Resumes the CPUs with an action (the others stay stopped) and waits for a stop. */
  private resume(actions: Map<GdbCpu, Action>): void {
    const watched = this.watchStopped;
    this.watchStopped = null;
    if (watched && actions.get(watched) === 's') {
      // GDB steps over the access it believes is still to come (ARM watchpoints stop before
      // the access in its model and in QEMU's); here the CPU stopped after it, so that step
      // is already done. Answering at once puts GDB where QEMU would.
      this.cCpu = watched;
      this.gCpu = watched;
      this.link.send(`T05thread:${this.threadId(watched)};`);
      return;
    }
    this.resumed = [...actions.keys()];
    for (const [c, action] of actions) {
      if (action === 's') c.cpu.step();
      else c.cpu.resume();
    }
    this.waiting = true;
    if (!this.startMachine()) {
      // The machine is gone for good: say so instead of leaving GDB waiting.
      this.waiting = false;
      this.stopVm();
      this.link.send('W00');
    }
  }

  /** A CPU stopped for the debugger (breakpoint, watchpoint, step, or a halt by someone else). */
  private onCpuStop(c: GdbCpu, event: DebugStopEvent): void {
    if (this.suppressStops > 0 || !this.connected) return;
    this.stopVm();
    if (c.process.attached) {
      this.cCpu = c;
      this.gCpu = c;
    }
    if (!this.waiting) return;
    this.waiting = false;
    if (event.reason === 'watchpoint') this.watchStopped = c;
    this.link.send(this.stopReply(c, event));
  }

  private onMachineStop(): void {
    if (this.ownRunChange || !this.connected) return;
    // Stopped from outside (monitor `stop`, QMP, shutdown): halt the CPUs too; GDB hears SIGINT.
    this.stopVm();
    if (!this.waiting) return;
    this.waiting = false;
    this.reportInterrupted();
  }

  private onMachineResume(): void {
    if (this.ownRunChange || !this.connected) return;
    // Resumed from outside (monitor `cont`): the CPUs run; a later stop is reported if GDB waits.
    this.releaseVm(false);
  }

  /** Ctrl-C: stop a running machine and report SIGINT. */
  private interrupt(): void {
    if (!this.connected || !this.waiting) return;
    this.waiting = false;
    this.stopVm();
    this.reportInterrupted();
  }

  /**
   * Reports a machine stopped from outside (Ctrl-C, monitor `stop`): the current thread when it
   * was running, else the first thread that was. That CPU first runs on to the end of its basic
   * block, as QEMU stops between translated blocks, so GDB shows the start of a block (the top
   * of a loop) rather than any instruction in the middle of one.
   */
  private reportInterrupted(): void {
    const c = this.cCpu && this.resumed.includes(this.cCpu) ? this.cCpu : (this.resumed[0] ?? this.cCpu);
    if (!c) {
      this.link.send('S02');
      return;
    }
    const hit = this.finishBlock(c.cpu);
    this.cCpu = c;
    this.gCpu = c;
    if (hit?.reason === 'watchpoint') this.watchStopped = c;
    this.link.send(this.stopReply(c, hit ?? { reason: 'halt' }));
  }

  /**
   * Steps a debug-stopped CPU until it has executed a branch (or anything that leaves the
   * straight line), at most MAX_BLOCK instructions. Returns the breakpoint or watchpoint stop
   * met on the way, else null. The instructions run outside the runner, so the virtual clock
   * does not count them (a few instructions at most, only when GDB interrupts).
   */
  private finishBlock(cpu: CortexM0): DebugStopEvent | null {
    this.suppressStops++;
    try {
      for (let i = 0; i < MAX_BLOCK; i++) {
        if (!cpu.debugStopped || cpu.sleeping || cpu.lockup) return null;
        const pc = cpu.pc;
        const insn = cpu.bus.read16(pc);
        cpu.step();
        const executed = cpu.execute(1);
        // A stop that did not come (an exception entry into a sleeping state): stop again.
        if (!cpu.debugStopped) cpu.halt();
        const event = cpu.lastDebugStop;
        if (event && (event.reason === 'breakpoint' || event.reason === 'watchpoint')) return event;
        if (executed === 0) return null;
        const next = cpu.pc;
        const size = (insn & 0xf800) >= 0xe800 ? 4 : 2;
        if (next !== pc + size || endsBlock(insn)) return null;
      }
      return null;
    } finally {
      this.suppressStops--;
    }
  }

  private stopReply(c: GdbCpu, event: DebugStopEvent): string {
    const signal = event.reason === 'halt' ? '02' : '05';
    let reply = `T${signal}thread:${this.threadId(c)};`;
    if (event.reason === 'watchpoint' && event.watchKind) {
      // The first watched byte the access touched: inside both the access and the watchpoint.
      const hit = Math.max(event.addr ?? 0, event.accessAddr ?? 0) >>> 0;
      reply += `${WATCH_STOP_KEY[event.watchKind]}:${hit.toString(16)};`;
    } else if (event.reason === 'breakpoint') {
      const type = c.process.breakpoints.get(((event.addr ?? c.cpu.pc) & ~1) >>> 0);
      if (type === 1 && this.reportHwbreak) reply += 'hwbreak:;';
      else if (type !== 1 && this.reportSwbreak) reply += 'swbreak:;';
    }
    return reply;
  }

  // ---- threads -------------------------------------------------------------------------------

  private threadId(c: GdbCpu): string {
    const tid = hex2(c.index + 1);
    return this.multiprocess ? `p${hex2(c.process.pid)}.${tid}` : tid;
  }

  private attachedCpus(): GdbCpu[] {
    return this.cpus.filter((c) => c.process.attached);
  }

  private firstAttachedCpu(): GdbCpu | null {
    for (const p of this.processes) if (p.attached && p.cpus.length > 0) return p.cpus[0]!;
    return null;
  }

  private processByPid(pid: number): GdbProcess | undefined {
    return this.processes.find((p) => p.pid === pid);
  }

  /** QEMU's gdb_get_cpu: one thread of an attached process (tid 0: its first). */
  private cpuFor(id: ThreadId): GdbCpu | null {
    if (id.tid === -1 || id.pid === -1) return null;
    if (id.pid === 0) {
      if (id.tid === 0) return this.firstAttachedCpu();
      const c = this.cpus.find((x) => x.index + 1 === id.tid);
      return c?.process.attached ? c : null;
    }
    const proc = this.processByPid(id.pid);
    if (!proc?.attached) return null;
    if (id.tid === 0) return proc.cpus[0] ?? null;
    return proc.cpus.find((x) => x.index + 1 === id.tid) ?? null;
  }

  private matches(id: ThreadId | null, c: GdbCpu): boolean {
    if (id === null || id.pid === -1) return true;
    if (id.pid !== 0 && id.pid !== c.process.pid) return false;
    return id.tid === -1 || id.tid === 0 || id.tid === c.index + 1;
  }

  // ---- packets -------------------------------------------------------------------------------

  /**
   * Packets and interrupts are handled in arrival order, synchronously while nothing waits; a
   * monitor command (qRcmd) is asynchronous, and what arrives meanwhile waits for it.
   */
  private enqueue(item: Uint8Array | 'interrupt'): void {
    this.pending.push(item);
    if (!this.busy) this.drain();
  }

  private drain(): void {
    while (this.pending.length > 0 && !this.busy && !this.closed) {
      const item = this.pending.shift()!;
      if (item === 'interrupt') {
        this.interrupt();
        continue;
      }
      const later = this.handle(item);
      if (later) {
        this.busy = true;
        void later.then(() => {
          this.busy = false;
          this.drain();
        });
      }
    }
  }

  private handle(payload: Uint8Array): Promise<void> | undefined {
    if (!this.connected) return undefined;
    const text = Buffer.from(payload).toString('latin1');
    let reply: Reply;
    try {
      reply = this.dispatch(text, payload);
    } catch (e) {
      reply = this.failure(e);
    }
    if (reply instanceof Promise) {
      return reply.then(
        (r) => this.sendReply(r),
        (e: unknown) => this.sendReply(this.failure(e)),
      );
    }
    this.sendReply(reply);
    return undefined;
  }

  /** A packet never takes the emulator down; arguments the CPU refuses read as EINVAL. */
  private failure(e: unknown): string {
    return e instanceof RangeError ? ERR_INVAL : 'E01';
  }

  private sendReply(reply: string | null): void {
    if (reply !== null && this.connected) this.link.send(reply);
  }

  /** Handles one packet; returns the reply, or null when there is none yet (c, s, k). */
  private dispatch(text: string, payload: Uint8Array): Reply {
    const head = text[0];
    const args = text.slice(1);
    switch (head) {
      case '?':
        return this.haltReason();
      case '!':
        return 'OK';
      case 'g':
        return this.readRegisters();
      case 'G':
        return this.writeRegisters(args);
      case 'p':
        return this.readRegister(args);
      case 'P':
        return this.writeRegister(args);
      case 'm':
        return this.readMemory(args);
      case 'M':
        return this.writeMemory(args);
      case 'X':
        return this.writeMemoryBinary(payload);
      case 'c':
      case 's':
        return this.continueOrStep(head, args);
      case 'C':
      case 'S': {
        // The signal is ignored (nothing to deliver it to); an address may follow `;`.
        const semi = args.indexOf(';');
        if (parseHexNumber(semi < 0 ? args : args.slice(0, semi)) === null) return ERR_INVAL;
        return this.continueOrStep(head === 'C' ? 'c' : 's', semi < 0 ? '' : args.slice(semi + 1));
      }
      case 'Z':
      case 'z':
        return this.breakpoint(head === 'Z', args);
      case 'H':
        return this.setThread(args);
      case 'T':
        return this.threadAlive(args);
      case 'D':
        return this.detach(args);
      case 'k':
        this.kill();
        return null;
      case 'q':
        return this.query(text);
      case 'Q':
        if (text === 'QStartNoAckMode') {
          this.link.send('OK');
          this.link.setNoAck();
          return null;
        }
        return '';
      case 'v':
        return this.vPacket(text, payload);
      default:
        return '';
    }
  }

  private haltReason(): string {
    // GDB asks at connection: start from a clean slate (QEMU does the same).
    for (const p of this.processes) this.removeAllPoints(p);
    const c = this.cCpu ?? this.firstAttachedCpu();
    return c ? `T05thread:${this.threadId(c)};` : 'W00';
  }

  private readRegisters(): string {
    const c = this.gCpu;
    if (!c) return ERR_INVAL;
    let out = '';
    for (const r of G_REGISTERS) out += u32Hex(c.cpu.readRegister(r.cpuReg));
    return out;
  }

  private writeRegisters(hex: string): string {
    const c = this.gCpu;
    if (!c) return ERR_INVAL;
    if (hex.length % 8 !== 0 || hex.length > G_REGISTERS.length * 8 || !/^[0-9a-fA-F]*$/.test(hex)) {
      return ERR_INVAL;
    }
    for (let i = 0; i * 8 < hex.length; i++) {
      c.cpu.writeRegister(G_REGISTERS[i]!.cpuReg, parseU32Hex(hex.slice(i * 8, i * 8 + 8))!);
    }
    return 'OK';
  }

  private readRegister(args: string): string {
    const c = this.gCpu;
    const n = parseHexNumber(args);
    if (!c || n === null) return ERR_INVAL;
    const reg = registerByNumber(n);
    if (!reg) return ERR_FAULT;
    return u32Hex(c.cpu.readRegister(reg.cpuReg));
  }

  private writeRegister(args: string): string {
    const c = this.gCpu;
    const eq = args.indexOf('=');
    if (!c || eq < 0) return ERR_INVAL;
    const n = parseHexNumber(args.slice(0, eq));
    const value = parseU32Hex(args.slice(eq + 1));
    if (n === null || value === null) return ERR_INVAL;
    const reg = registerByNumber(n);
    if (!reg) return ERR_FAULT;
    c.cpu.writeRegister(reg.cpuReg, value);
    return 'OK';
  }

  /** `addr,len` → numbers (null when malformed or past the end of the 32-bit space). */
  private parseRange(text: string): { addr: number; length: number } | null {
    const m = /^([0-9a-fA-F]{1,8}),([0-9a-fA-F]{1,8})$/.exec(text);
    if (!m) return null;
    const addr = Number.parseInt(m[1]!, 16);
    const length = Number.parseInt(m[2]!, 16);
    if (addr + length > 2 ** 32) return null;
    return { addr, length };
  }

  /**
   * The memory GDB sees: the current thread's CPU's view (it may hold private devices such as
   * its own System Control Space), else the machine's.
   */
  private get memory(): AddressSpace {
    return (this.gCpu ?? this.firstAttachedCpu())?.cpu.bus ?? this.machine.addressSpace;
  }

  private readMemory(args: string): string {
    const r = this.parseRange(args);
    if (!r || r.length > MAX_READ) return ERR_INVAL;
    const data = this.memory.readDebug(r.addr, r.length);
    if (!data) return ERR_FAULT;
    return Buffer.from(data).toString('hex');
  }

  private writeMemory(args: string): string {
    const colon = args.indexOf(':');
    if (colon < 0) return ERR_INVAL;
    const r = this.parseRange(args.slice(0, colon));
    const data = hexToBytes(args.slice(colon + 1));
    if (!r || !data || data.length !== r.length) return ERR_INVAL;
    if (r.length === 0) return 'OK';
    return this.memory.writeDebug(r.addr, data) ? 'OK' : ERR_FAULT;
  }

  private writeMemoryBinary(payload: Uint8Array): string {
    const colon = payload.indexOf(0x3a);
    if (colon < 0) return ERR_INVAL;
    const r = this.parseRange(Buffer.from(payload.subarray(1, colon)).toString('latin1'));
    const data = payload.subarray(colon + 1);
    if (!r || data.length !== r.length) return ERR_INVAL;
    // `X addr,0:` is GDB's probe for X support.
    if (r.length === 0) return 'OK';
    return this.memory.writeDebug(r.addr, data) ? 'OK' : ERR_FAULT;
  }

  private continueOrStep(action: Action, addrText: string): string | null {
    const c = this.cCpu ?? this.firstAttachedCpu();
    if (!c) return ERR_INVAL;
    if (addrText !== '') {
      const addr = parseHexNumber(addrText);
      if (addr === null) return ERR_INVAL;
      c.cpu.writeRegister(15, addr);
    }
    const actions = new Map<GdbCpu, Action>();
    if (action === 's') {
      actions.set(c, 's');
    } else {
      // Plain `c` runs the whole machine (QEMU: vm_start).
      for (const x of this.cpus) actions.set(x, 'c');
    }
    this.resume(actions);
    return null;
  }

  private vCont(args: string): string | null {
    // args: `;action[:thread-id]` repeated.
    if (!args.startsWith(';')) return ERR_INVAL;
    const parsed: Array<{ action: Action; id: ThreadId | null }> = [];
    for (const item of args.slice(1).split(';')) {
      const m = /^([cCsS])([0-9a-fA-F]{2})?(?::(.+))?$/.exec(item);
      if (!m) return ERR_INVAL;
      const letter = m[1]!;
      if ((letter === 'C' || letter === 'S') !== (m[2] !== undefined)) return ERR_INVAL;
      let id: ThreadId | null = null;
      if (m[3] !== undefined) {
        id = parseThreadId(m[3]);
        if (!id) return ERR_INVAL;
      }
      parsed.push({ action: letter.toLowerCase() as Action, id });
    }
    // Each attached thread takes the leftmost action that names it; the others stay stopped.
    const actions = new Map<GdbCpu, Action>();
    for (const c of this.attachedCpus()) {
      const hit = parsed.find((p) => this.matches(p.id, c));
      if (hit) actions.set(c, hit.action);
    }
    if (actions.size === 0) return ERR_INVAL;
    this.resume(actions);
    return null;
  }

  private breakpoint(insert: boolean, args: string): string {
    const m = /^([0-9]),([0-9a-fA-F]{1,8}),([0-9a-fA-F]{1,8})(;.*)?$/.exec(args);
    if (!m) return ERR_INVAL;
    const type = Number(m[1]);
    if (type > 4) return '';
    const addr = Number.parseInt(m[2]!, 16) >>> 0;
    const kind = Number.parseInt(m[3]!, 16);
    const proc = (this.gCpu ?? this.firstAttachedCpu())?.process;
    if (!proc?.attached) return ERR_INVAL;
    if (type <= 1) {
      const key = (addr & ~1) >>> 0;
      if (insert) {
        proc.breakpoints.set(key, type);
        for (const c of proc.cpus) c.cpu.addBreakpoint(key);
        return 'OK';
      }
      if (!proc.breakpoints.delete(key)) return ERR_INVAL;
      for (const c of proc.cpus) c.cpu.removeBreakpoint(key);
      return 'OK';
    }
    const watchKind = WATCH_KINDS[type]!;
    if (kind < 1) return ERR_INVAL;
    if (insert) {
      proc.watchpoints.push({ addr, length: kind, kind: watchKind });
      for (const c of proc.cpus) c.cpu.addWatchpoint(addr, kind, watchKind);
      return 'OK';
    }
    const i = proc.watchpoints.findIndex((w) => w.addr === addr && w.length === kind && w.kind === watchKind);
    if (i < 0) return ERR_INVAL;
    proc.watchpoints.splice(i, 1);
    for (const c of proc.cpus) c.cpu.removeWatchpoint(addr, kind, watchKind);
    return 'OK';
  }

  private removeAllPoints(proc: GdbProcess): void {
    if (proc.breakpoints.size === 0 && proc.watchpoints.length === 0) return;
    for (const c of proc.cpus) {
      for (const addr of proc.breakpoints.keys()) c.cpu.removeBreakpoint(addr);
      for (const w of proc.watchpoints) c.cpu.removeWatchpoint(w.addr, w.length, w.kind);
    }
    proc.breakpoints.clear();
    proc.watchpoints.length = 0;
  }

  private setThread(args: string): string {
    const op = args[0];
    const id = parseThreadId(args.slice(1));
    if ((op !== 'g' && op !== 'c') || !id) return ERR_INVAL;
    // "All threads" selects nothing in particular (QEMU answers OK and keeps its choice).
    if (id.tid === -1 || id.pid === -1) return 'OK';
    const c = this.cpuFor(id);
    if (!c) return ERR_INVAL;
    if (op === 'g') this.gCpu = c;
    else this.cCpu = c;
    return 'OK';
  }

  private threadAlive(args: string): string {
    const id = parseThreadId(args);
    if (!id) return ERR_INVAL;
    return this.cpuFor(id) ? 'OK' : ERR_INVAL;
  }

  private detach(args: string): string {
    let targets: GdbProcess[];
    if (args.startsWith(';')) {
      const pid = parseHexNumber(args.slice(1));
      const proc = pid === null ? undefined : this.processByPid(pid);
      if (!proc) return ERR_INVAL;
      targets = [proc];
    } else if (args === '') {
      if (this.multiprocess) return ERR_INVAL;
      targets = this.processes;
    } else {
      return ERR_INVAL;
    }
    for (const p of targets) {
      this.removeAllPoints(p);
      p.attached = false;
    }
    if (this.cCpu && !this.cCpu.process.attached) this.cCpu = this.firstAttachedCpu();
    if (this.gCpu && !this.gCpu.process.attached) this.gCpu = this.firstAttachedCpu();
    if (!this.firstAttachedCpu()) {
      // Nothing left to debug: the machine runs on (QEMU resumes the VM here).
      this.waiting = false;
      this.releaseVm(true);
    }
    return 'OK';
  }

  private kill(): void {
    for (const p of this.processes) {
      this.removeAllPoints(p);
      p.attached = false;
    }
    this.waiting = false;
    this.connected = false;
    const onKill = this.options.onKill ?? (() => this.machine.shutdown('host-qmp-quit'));
    onKill();
  }

  // ---- q / v packets -------------------------------------------------------------------------

  private query(text: string): Reply {
    if (text.startsWith('qSupported')) return this.supported(text);
    if (text === 'qAttached' || text.startsWith('qAttached:')) return '1';
    if (text === 'qC') {
      const c = this.gCpu ?? this.firstAttachedCpu();
      const first = c?.process.cpus[0];
      return first ? `QC${this.threadId(first)}` : ERR_INVAL;
    }
    if (text === 'qfThreadInfo') {
      this.threadCursor = 0;
      return this.nextThreadInfo();
    }
    if (text === 'qsThreadInfo') return this.nextThreadInfo();
    if (text.startsWith('qThreadExtraInfo,'))
      return this.threadExtraInfo(text.slice('qThreadExtraInfo,'.length));
    if (text.startsWith('qXfer:features:read:'))
      return this.xferFeatures(text.slice('qXfer:features:read:'.length));
    if (text.startsWith('qXfer:memory-map:read:')) {
      return this.xferMemoryMap(text.slice('qXfer:memory-map:read:'.length));
    }
    if (text === 'qRcmd' || text.startsWith('qRcmd,')) return this.monitorCommand(text.slice(6));
    return '';
  }

  private supported(text: string): string {
    const features = text.startsWith('qSupported:') ? text.slice('qSupported:'.length).split(';') : [];
    this.multiprocess = features.includes('multiprocess+');
    this.reportSwbreak = features.includes('swbreak+');
    this.reportHwbreak = features.includes('hwbreak+');
    return [
      `PacketSize=${PACKET_SIZE.toString(16)}`,
      'qXfer:features:read+',
      'qXfer:memory-map:read+',
      'vContSupported+',
      'multiprocess+',
      'swbreak+',
      'hwbreak+',
      'QStartNoAckMode+',
    ].join(';');
  }

  private nextThreadInfo(): string {
    const list = this.attachedCpus();
    const c = list[this.threadCursor];
    if (!c) return 'l';
    this.threadCursor++;
    return `m${this.threadId(c)}`;
  }

  private threadExtraInfo(args: string): string {
    const id = parseThreadId(args);
    const c = id ? this.cpuFor(id) : null;
    if (!c) return ERR_INVAL;
    const cpu = c.cpu;
    const state = cpu.sleeping || (cpu.halted && !cpu.debugStopped) ? 'halted ' : 'running';
    const text =
      this.processes.length > 1
        ? `${c.node?.typeName ?? 'cortex-m0-arm-cpu'} ${c.node?.name ?? cpu.name} [${state}]`
        : `CPU#${c.index} [${state}]`;
    return Buffer.from(text, 'latin1').toString('hex');
  }

  /** `annex:offset,length` of a qXfer read → the `m`/`l` reply. */
  private xferSlice(document: string, range: string): string {
    const m = /^([0-9a-fA-F]{1,8}),([0-9a-fA-F]{1,8})$/.exec(range);
    if (!m) return ERR_INVAL;
    const offset = Number.parseInt(m[1]!, 16);
    const length = Math.min(Number.parseInt(m[2]!, 16), PACKET_SIZE - 8);
    if (offset >= document.length) return 'l';
    const chunk = document.slice(offset, offset + length);
    return (offset + chunk.length >= document.length ? 'l' : 'm') + chunk;
  }

  private xferFeatures(rest: string): string {
    const colon = rest.indexOf(':');
    if (colon < 0) return ERR_INVAL;
    const annex = rest.slice(0, colon);
    if (annex !== 'target.xml') return 'E00';
    const c = this.gCpu ?? this.firstAttachedCpu();
    if (!c) return ERR_INVAL;
    const proc = c.process;
    proc.targetXml ??= targetDescription(c.node?.typeName ?? 'cortex-m0-arm-cpu');
    return this.xferSlice(proc.targetXml, rest.slice(colon + 1));
  }

  private xferMemoryMap(rest: string): string {
    if (!rest.startsWith(':')) return 'E00';
    const xml = memoryMapXml(memoryMap(this.memory, this.flashBlockSize));
    return this.xferSlice(xml, rest.slice(1));
  }

  private async monitorCommand(hex: string): Promise<string> {
    const hmp = this.options.hmp;
    if (!hmp) return '';
    const bytes = hexToBytes(hex);
    if (!bytes) return ERR_INVAL;
    const output = (await hmp.execute(Buffer.from(bytes).toString('utf8'))).replace(/\r\n/g, '\n');
    const data = Buffer.from(output, 'utf8');
    for (let i = 0; i < data.length && this.connected; i += CONSOLE_CHUNK) {
      this.link.send(`O${data.subarray(i, i + CONSOLE_CHUNK).toString('hex')}`);
    }
    return 'OK';
  }

  private vPacket(text: string, payload: Uint8Array): string | null {
    if (text === 'vCont?') return 'vCont;c;C;s;S';
    if (text.startsWith('vCont;') || text === 'vCont') return this.vCont(text.slice(5));
    if (text.startsWith('vAttach;')) return this.attach(text.slice('vAttach;'.length));
    if (text.startsWith('vKill')) {
      this.link.send('OK');
      this.kill();
      return null;
    }
    if (text.startsWith('vFlashErase:')) {
      const r = this.parseRange(text.slice('vFlashErase:'.length));
      if (!r) return ERR_INVAL;
      const map = memoryMap(this.memory, this.flashBlockSize);
      return eraseFlash(this.memory, map, r.addr, r.length) ? 'OK' : ERR_FAULT;
    }
    if (text.startsWith('vFlashWrite:')) {
      const start = 'vFlashWrite:'.length;
      const colon = payload.indexOf(0x3a, start);
      const addr = colon < 0 ? null : parseHexNumber(text.slice(start, colon));
      if (addr === null) return ERR_INVAL;
      const data = payload.subarray(colon + 1);
      const map = memoryMap(this.memory, this.flashBlockSize);
      if (addr + data.length > 2 ** 32) return ERR_INVAL;
      return writeFlash(this.memory, map, addr, data) ? 'OK' : 'E.memtype';
    }
    if (text === 'vFlashDone') return 'OK';
    // vMustReplyEmpty and everything unknown.
    return '';
  }

  private attach(args: string): string {
    const pid = parseHexNumber(args);
    const proc = pid === null ? undefined : this.processByPid(pid);
    const first = proc?.cpus[0];
    if (!proc || !first) return ERR_INVAL;
    proc.attached = true;
    this.gCpu = first;
    this.cCpu = first;
    // The machine is stopped while GDB is connected; a CPU released since stops again.
    this.stopVm();
    return `T05thread:${this.threadId(first)};`;
  }
}

/** Starts a GDB stub on `chardev` (already created; it may be opened before or after). */
export function startGdbServer(options: GdbServerOptions): GdbServer {
  return new GdbServer(options);
}
