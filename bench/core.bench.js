/**
 * Benchmarks of the emulator core: guest memory accesses, the virtual clock and its timers,
 * the runner, and the Intel HEX loader. Each group measures a plain-JavaScript reference in
 * the same process, so the ratios say what the engine's abstraction costs on this host.
 *
 * Run with `npm run bench` (all) or `npm run bench -- memory` (groups whose name matches).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { AddressSpace } from '../packages/emu/dist/core/address-space.js';
import { VirtualClock } from '../packages/emu/dist/core/clock.js';
import { ClockCounter } from '../packages/emu/dist/core/counter.js';
import { Log } from '../packages/emu/dist/core/log.js';
import { MemoryRegion } from '../packages/emu/dist/core/memory.js';
import { RegisterBlock } from '../packages/emu/dist/core/registers.js';
import { Runner } from '../packages/emu/dist/core/runner.js';
import { parseIntelHex } from '../packages/emu/dist/loader/ihex.js';

/** Results are folded into this so the JIT cannot drop the measured work. */
export let sink = 0;

// ---- memory -----------------------------------------------------------------------------------

const RAM_BASE = 0x2000_0000;
const MMIO_BASE = 0x4000_0000;
const UNIMP_BASE = 0x5000_0000;
/** Accesses walk 4096 words (16 KiB), which stays in the host's caches. */
const WORD_MASK = 4095;

/** One address space with RAM, a register block and an unimplemented window, built on first use. */
let memorySetup = null;
function memory() {
  if (memorySetup) return memorySetup;
  const log = new Log(); // every category off: logging must cost nothing here
  const system = MemoryRegion.container('system', 2 ** 32);
  const ram = MemoryRegion.ram('ram', 64 * 1024);
  system.addSubregion(RAM_BASE, ram);
  const regs = new RegisterBlock({
    name: 'bench-dev',
    size: 0x1000,
    log: () => log,
    registers: [
      { name: 'CTRL', offset: 0x000, reset: 1 },
      { name: 'STATUS', offset: 0x004, writeMask: 0 },
      { name: 'VALUE', offset: 0x010, reset: 0x1234_5678 },
      { name: 'INTEN', offset: 0x300, w1s: 0xff },
    ],
  });
  system.addSubregion(MMIO_BASE, regs.toRegion('bench-dev'));
  system.addSubregion(UNIMP_BASE, MemoryRegion.unimplemented('bench-unimp', 0x1000));
  const space = new AddressSpace('memory', system, log);
  // Fill RAM with a pattern so reads return varied values.
  const words = new Uint32Array(ram.data.buffer, ram.data.byteOffset, ram.data.byteLength >>> 2);
  for (let i = 0; i < words.length; i++) words[i] = Math.imul(i, 0x9e37_79b9) >>> 0;
  space.read32(RAM_BASE); // build the flat view outside the measurement
  memorySetup = { space, ram, words };
  return memorySetup;
}

const memoryGroup = {
  name: 'memory (32-bit accesses/s)',
  reference: 'raw Uint32Array read loop',
  cases: [
    {
      name: 'raw Uint32Array read loop',
      setup() {
        const { words } = memory();
        return (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s = (s + words[i & WORD_MASK]) | 0;
          sink ^= s;
        };
      },
    },
    {
      name: 'DataView.getUint32 loop (little-endian)',
      setup() {
        const { ram } = memory();
        const view = new DataView(ram.data.buffer, ram.data.byteOffset, ram.data.byteLength);
        return (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s = (s + view.getUint32((i & WORD_MASK) << 2, true)) | 0;
          sink ^= s;
        };
      },
    },
    {
      name: 'AddressSpace.read32 on RAM',
      setup() {
        const { space } = memory();
        return (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s = (s + space.read32(RAM_BASE + ((i & WORD_MASK) << 2))) | 0;
          sink ^= s;
        };
      },
    },
    {
      name: 'raw Uint32Array write loop',
      setup() {
        const { words } = memory();
        return (n) => {
          for (let i = 0; i < n; i++) words[i & WORD_MASK] = i;
          sink ^= words[0];
        };
      },
    },
    {
      name: 'AddressSpace.write32 on RAM',
      setup() {
        const { space } = memory();
        return (n) => {
          let rc = 0;
          for (let i = 0; i < n; i++) rc |= space.write32(RAM_BASE + ((i & WORD_MASK) << 2), i);
          sink ^= rc;
        };
      },
    },
    {
      name: 'AddressSpace.read32 on MMIO RegisterBlock',
      setup() {
        const { space } = memory();
        return (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s = (s + space.read32(MMIO_BASE + 0x10)) | 0;
          sink ^= s;
        };
      },
    },
    {
      name: 'AddressSpace.read32 unimplemented, log off',
      setup() {
        const { space } = memory();
        return (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) s = (s + space.read32(UNIMP_BASE + ((i & 0xff) << 2))) | 0;
          sink ^= s;
        };
      },
    },
  ],
};

// ---- time -------------------------------------------------------------------------------------

const TIMER_COUNT = 1000;

/** Period of timer i in ns: spread over 1000..1996 so expiries interleave and rarely tie. */
function periodOf(i) {
  return 1000 + ((i * 37) % 499) * 2;
}

/**
 * Builds `run(n)` that fires n timer events (cumulatively: an advance that fires a few more than
 * asked is paid back by the next call), from a scheduler given as `fireNext()` returning the
 * number of events it fired.
 */
function eventLoop(fireNext, count) {
  let target = 0;
  return (n) => {
    target += n;
    while (count() < target) fireNext();
  };
}

const timersGroup = {
  name: 'time: timers (events/s, 1000 periodic timers)',
  reference: 'plain array: push + sort',
  cases: [
    {
      // The obvious scheduler: push the re-armed expiry and sort the array again.
      name: 'plain array: push + sort',
      setup() {
        const pending = [];
        let now = 0;
        let fired = 0;
        for (let i = 0; i < TIMER_COUNT; i++) pending.push({ expires: periodOf(i), period: periodOf(i) });
        const latestFirst = (a, b) => b.expires - a.expires;
        pending.sort(latestFirst);
        return eventLoop(
          () => {
            const t = pending.pop();
            now = t.expires;
            fired++;
            t.expires = now + t.period;
            pending.push(t);
            pending.sort(latestFirst);
          },
          () => fired,
        );
      },
    },
    {
      // A stronger simple baseline: keep the array sorted, insert with binary search + splice.
      name: 'sorted array: binary search + splice',
      setup() {
        const pending = [];
        let now = 0;
        let fired = 0;
        for (let i = 0; i < TIMER_COUNT; i++) pending.push({ expires: periodOf(i), period: periodOf(i) });
        pending.sort((a, b) => b.expires - a.expires);
        return eventLoop(
          () => {
            const t = pending.pop();
            now = t.expires;
            fired++;
            t.expires = now + t.period;
            // Latest first: find the first index whose expiry is earlier than t's.
            let lo = 0;
            let hi = pending.length;
            while (lo < hi) {
              const mid = (lo + hi) >>> 1;
              if (pending[mid].expires >= t.expires) lo = mid + 1;
              else hi = mid;
            }
            pending.splice(lo, 0, t);
          },
          () => fired,
        );
      },
    },
    {
      name: 'VirtualClock: Timer.modRel from the callback',
      setup() {
        const clock = new VirtualClock();
        let fired = 0;
        for (let i = 0; i < TIMER_COUNT; i++) {
          const period = periodOf(i);
          const timer = clock.createTimer(`t${i}`, () => {
            fired++;
            timer.modRel(period);
          });
          timer.modRel(period);
        }
        return eventLoop(
          () => clock.advanceTo(clock.nextDeadline()),
          () => fired,
        );
      },
    },
  ],
};

const counterGroup = {
  name: 'time: counters (reads/s)',
  reference: 'VirtualClock.now',
  cases: [
    {
      name: 'VirtualClock.now',
      setup() {
        const clock = new VirtualClock();
        return (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) {
            // Move time now and then so reads do not see one constant.
            if ((i & 1023) === 0) clock.advanceBy(62);
            s += clock.now;
          }
          sink ^= s;
        };
      },
    },
    ...[16_000_000, 32_768].map((hz) => ({
      name: `ClockCounter.value at ${hz} Hz`,
      setup() {
        const clock = new VirtualClock();
        const counter = new ClockCounter(clock, hz);
        counter.start();
        return (n) => {
          let s = 0;
          for (let i = 0; i < n; i++) {
            if ((i & 1023) === 0) clock.advanceBy(62);
            s += counter.value;
          }
          sink ^= s;
        };
      },
    })),
  ],
};

// ---- runner -----------------------------------------------------------------------------------

/** A CPU stand-in whose instructions are one step of a trivial loop. */
class LoopExecutor {
  name = 'bench-cpu';
  sleeping = false;
  halted = false;
  acc = 1;

  execute(maxInstructions) {
    let acc = this.acc;
    for (let i = 0; i < maxInstructions; i++) acc = (acc + i) ^ (acc << 1);
    this.acc = acc;
    return maxInstructions;
  }
}

/** `run(n)` executing n instructions through a fast-mode runner at `nsPerInstruction`. */
function throughRunner(nsPerInstruction, timerPeriodNs) {
  const cpu = new LoopExecutor();
  const clock = new VirtualClock();
  const runner = new Runner(clock, { mode: 'fast', nsPerInstruction, executors: [cpu] });
  if (timerPeriodNs !== undefined) {
    const timer = clock.createTimer('bench-tick', () => timer.modRel(timerPeriodNs));
    timer.modRel(timerPeriodNs);
  }
  return (n) => {
    runner.runFor(n * nsPerInstruction);
    sink ^= cpu.acc;
  };
}

const runnerGroup = {
  name: 'runner (instructions/s, fast mode)',
  reference: 'executor.execute(n) called directly',
  cases: [
    {
      name: 'executor.execute(n) called directly',
      setup() {
        const cpu = new LoopExecutor();
        return (n) => {
          cpu.execute(n);
          sink ^= cpu.acc;
        };
      },
    },
    { name: 'Runner.runFor, 1 ns/insn, no timers', setup: () => throughRunner(1) },
    { name: 'Runner.runFor, 62.5 ns/insn, no timers', setup: () => throughRunner(62.5) },
    { name: 'Runner.runFor, 1 ns/insn, 1 us timer', setup: () => throughRunner(1, 1000) },
  ],
};

// ---- loaders ----------------------------------------------------------------------------------

const MICROPYTHON_HEX = '/usr/share/firmware-microbit-micropython/firmware.hex';

function loadersGroup() {
  const group = {
    name: 'loaders (MicroPython firmware.hex parses/s)',
    reference: 'Buffer.from(hex digits only, "hex")',
    cases: [],
  };
  if (!existsSync(MICROPYTHON_HEX)) {
    group.skipped = `${MICROPYTHON_HEX} not found (Debian package firmware-microbit-micropython)`;
    return group;
  }
  group.bytesPerOp = statSync(MICROPYTHON_HEX).size;
  const text = readFileSync(MICROPYTHON_HEX, 'latin1');
  // The same digits without ':' and line ends: the least work any hex reader must do.
  const digitsOnly = text.replace(/[:\r\n]/g, '');
  group.cases = [
    {
      name: 'Buffer.from(hex digits only, "hex")',
      run: (n) => {
        for (let i = 0; i < n; i++) sink ^= Buffer.from(digitsOnly, 'hex').length;
      },
    },
    {
      name: 'split lines + Buffer.from per record',
      run: (n) => {
        for (let i = 0; i < n; i++) {
          let total = 0;
          for (const line of text.split('\n')) {
            if (line.startsWith(':')) total += Buffer.from(line.slice(1).trimEnd(), 'hex').length;
          }
          sink ^= total;
        }
      },
    },
    {
      name: 'parseIntelHex (full parse, checksums)',
      run: (n) => {
        for (let i = 0; i < n; i++) sink ^= parseIntelHex(text, MICROPYTHON_HEX).segments.length;
      },
    },
  ];
  return group;
}

/** The groups of this file, built when the runner asks for them. */
export function groups() {
  return [memoryGroup, timersGroup, counterGroup, runnerGroup, loadersGroup()];
}
