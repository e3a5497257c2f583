/**
 * Fuzz test of the control plane (issue 5 acceptance): random and mutated input thrown at the
 * qtest server must never crash or hang the emulator, and the server must keep answering.
 *
 * Runs for TSEMU_FUZZ_SECONDS of CPU time (default 5 here, to keep `npm test` short). The
 * acceptance run is a full minute:
 *
 *   TSEMU_FUZZ_SECONDS=60 npx vitest run packages/emu/src/qtest/fuzz.test.ts
 *
 * Inputs come from a seeded generator (TSEMU_FUZZ_SEED, default 0x5eed), so a failure names the
 * seed and batch that reproduce it. Each batch mixes grammar-based requests (valid commands with
 * random arguments), mutations of them (truncation, inserted and replaced bytes, doubled spaces,
 * `\r`), binary garbage, huge numbers and long lines, delivered in random-sized chunks. After
 * each batch the server must answer `endianness` with `OK little`, every line it wrote must be a
 * well-formed reply or IRQ line, and no request may have hit an internal error.
 *
 * QMP and the human monitor have their own fuzzer in monitor/fuzz.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Xoshiro128StarStar } from '../core/prng.js';
import { createMachine } from '../machine/create.js';
import { connectQtest, type QtestConnection } from './testing.js';

const SECONDS = Number(process.env.TSEMU_FUZZ_SECONDS ?? '5');
const SEED = BigInt(process.env.TSEMU_FUZZ_SEED ?? '0x5eed');

class Gen {
  private readonly rng: Xoshiro128StarStar;
  constructor(seed: bigint) {
    this.rng = Xoshiro128StarStar.fromSeed(seed);
  }
  u32(): number {
    return this.rng.nextU32();
  }
  /** 0 <= n < max */
  int(max: number): number {
    return Math.floor((this.rng.nextU32() / 0x1_0000_0000) * max);
  }
  chance(p: number): boolean {
    return this.rng.nextU32() / 0x1_0000_0000 < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** How a number word is written: the bases QEMU reads, and things it must refuse. */
function numberWord(g: Gen, value: number): string {
  switch (g.int(12)) {
    case 0:
      return String(value);
    case 1:
      return `0${value.toString(8)}`;
    case 2:
      return `-${value}`;
    case 3:
      return `0x${'f'.repeat(1 + g.int(40))}`;
    case 4:
      return String(g.u32()) + String(g.u32()) + String(g.u32());
    case 5:
      return g.pick(['', '0x', '-', '+', '08', '0xg', 'nan', '1e9', ' 1', '\t0x10', '0x1\r']);
    default:
      return `0x${value.toString(16)}`;
  }
}

interface Target {
  name: string;
  conn: QtestConnection;
  /** An address worth touching on this machine. */
  address: (g: Gen) => number;
  /** Largest clock_step the grammar produces. */
  maxStep: number;
  paths: readonly string[];
}

function request(g: Gen, t: Target): string {
  const addr = () => numberWord(g, t.address(g));
  const small = () => numberWord(g, g.chance(0.9) ? g.int(64) : g.int(4096));
  const value = () => numberWord(g, g.u32());
  const path = () =>
    g.chance(0.85) ? g.pick(t.paths) : g.pick(['', '/', 'nope', '//machine', '/machine/..']);
  const hexData = () =>
    `0x${Array.from({ length: g.int(40) }, () => g.pick([...'0123456789abcdefABCDEFxz'])).join('')}`;
  const b64 = () => Buffer.from(Array.from({ length: g.int(40) }, () => g.int(256))).toString('base64');
  switch (g.int(22)) {
    case 0:
      return `${g.pick(['readb', 'readw', 'readl', 'readq'])} ${addr()}`;
    case 1:
    case 2:
      return `${g.pick(['writeb', 'writew', 'writel', 'writeq'])} ${addr()} ${value()}`;
    case 3:
      return `read ${addr()} ${small()}`;
    case 4:
      return `b64read ${addr()} ${small()}`;
    case 5:
      return `write ${addr()} ${small()} ${hexData()}`;
    case 6:
      return `b64write ${addr()} ${small()} ${b64()}`;
    case 7:
      return `memset ${addr()} ${small()} ${value()}`;
    case 8:
      return `${g.pick(['inb', 'inw', 'inl'])} ${numberWord(g, g.int(0x20000))}`;
    case 9:
      return `${g.pick(['outb', 'outw', 'outl'])} ${numberWord(g, g.int(0x20000))} ${value()}`;
    case 10:
      return 'endianness';
    case 11:
      return `${g.pick(['irq_intercept_in', 'irq_intercept_out'])} ${path()}`;
    case 12:
    case 13:
      return `set_irq_in ${path()} ${g.pick(['unnamed-gpio-in', 'row', 'col', 'lfclk', 'x'])} ${numberWord(g, g.int(40))} ${g.pick(['0', '1', '-1', '2', value()])}`;
    case 14:
      return g.chance(0.3) ? 'clock_step' : `clock_step ${numberWord(g, g.int(t.maxStep))}`;
    case 15:
      return `clock_set ${numberWord(g, g.int(t.maxStep))}`;
    case 16:
      return `module_load ${g.pick(['accel', 'block', ''])} ${g.pick(['qtest', 'x'])}`;
    case 17:
      return g.pick(['', ' ', 'READL 0', 'rtas', 'qom-list', '{"execute":"quit"}', 'help', 'info status']);
    case 18:
      return Array.from({ length: g.int(8) }, () => g.pick(['readl', 'OK', 'IRQ', '0x1', ''])).join(' ');
    default:
      return `${g.pick(['readl', 'writel'])} ${addr()} ${value()}`;
  }
}

function mutate(g: Gen, line: string): string {
  let s = line;
  const n = 1 + g.int(3);
  for (let i = 0; i < n; i++) {
    const at = g.int(s.length + 1);
    switch (g.int(7)) {
      case 0:
        s = s.slice(0, at);
        break;
      case 1:
        s = s.slice(0, at) + String.fromCharCode(g.int(256)) + s.slice(at);
        break;
      case 2:
        s = s.slice(0, at) + s.slice(at + 1 + g.int(4));
        break;
      case 3:
        s = s.replace(' ', '  ');
        break;
      case 4:
        s = `${s}\r`;
        break;
      case 5:
        s = s.slice(0, at) + String.fromCharCode(g.int(256)) + s.slice(at + 1);
        break;
      default:
        s = s.split(' ').reverse().join(' ');
    }
  }
  return s;
}

function garbage(g: Gen): string {
  const len = g.chance(0.05) ? 100_000 + g.int(400_000) : g.int(200);
  const bytes = new Uint8Array(len);
  for (let i = 0; i < len; i++) bytes[i] = g.chance(0.02) ? 0x0a : g.int(256);
  return Buffer.from(bytes).toString('latin1');
}

/** One batch of input text (latin1: one byte per character). */
function batch(g: Gen, t: Target): string {
  const parts: string[] = [];
  const count = 20 + g.int(60);
  for (let i = 0; i < count; i++) {
    const kind = g.int(10);
    let line: string;
    if (kind < 5) line = request(g, t);
    else if (kind < 8) line = mutate(g, request(g, t));
    else if (kind < 9) line = garbage(g);
    else line = `${request(g, t)} ${'9'.repeat(g.int(3000))}`;
    // Clock moves on the micro:bit stay bounded so that the run measures robustness, not how
    // long a busy board takes to simulate days of virtual time.
    if (t.maxStep < 1e12 && /^clock_/.test(line)) line = `clock_step ${g.int(t.maxStep)}`;
    parts.push(line);
  }
  return `${parts.join('\n')}\n`;
}

/** Sends `text` in random-sized chunks; returns everything written back. */
function deliver(g: Gen, conn: QtestConnection, text: string): string {
  let out = '';
  let at = 0;
  while (at < text.length) {
    const n = 1 + g.int(g.chance(0.5) ? 16 : 4096);
    conn.chardev.send(text.slice(at, at + n));
    out += conn.chardev.take();
    at += n;
  }
  return out;
}

const REPLY_LINE = /^(OK|FAIL|ERR|IRQ (raise|lower) \d+)( |$)/s;

async function targets(): Promise<Target[]> {
  const none = createMachine('none', { mode: 'qtest', ramSize: 0x10000 });
  const microbit = createMachine('microbit', { mode: 'qtest' });
  const silent = { logSink: () => {} };
  return [
    {
      name: 'none',
      conn: await connectQtest(none, silent),
      address: (g) => (g.chance(0.8) ? g.int(0x10010) : g.u32()),
      maxStep: 2 ** 62,
      paths: ['/machine', '/machine/unattached', '/chardevs/qtest', 'machine'],
    },
    {
      name: 'microbit',
      conn: await connectQtest(microbit, silent),
      address: (g) => {
        const base = g.pick([0x40000000 + g.int(32) * 0x1000, 0x50000000, 0x20000000, 0x10000000, 0x0]);
        return base + (g.int(0x1000) & ~(g.chance(0.8) ? 3 : 0));
      },
      maxStep: 10_000_000,
      paths: ['/machine/nrf51', '/machine/nrf51/gpio', 'nrf51', '/machine/nrf51/uart', '/machine/display'],
    },
  ];
}

describe('qtest fuzz', () => {
  it(
    `survives ${SECONDS} s of CPU time of random and mutated requests (seed ${SEED})`,
    async () => {
      const g = new Gen(SEED);
      const list = await targets();
      const start = process.cpuUsage();
      const cpuSeconds = () => {
        const u = process.cpuUsage(start);
        return (u.user + u.system) / 1e6;
      };
      let batches = 0;
      let requests = 0;
      while (cpuSeconds() < SECONDS) {
        const t = list[batches % list.length]!;
        const text = batch(g, t);
        const where = `seed ${SEED}, batch ${batches}, target ${t.name}`;
        const out = deliver(g, t.conn, text);
        requests += text.split('\n').length - 1;
        // Terminate any partial line, then check that the server still answers.
        t.conn.chardev.send('\n');
        t.conn.chardev.take();
        const alive = t.conn
          .request('endianness')
          .split('\n')
          .filter((l) => !l.startsWith('IRQ '));
        expect(alive, where).toEqual(['OK little', '']);
        for (const line of out.split('\n').slice(0, -1)) {
          if (!REPLY_LINE.test(line))
            expect.fail(`${where}: malformed output line ${JSON.stringify(line.slice(0, 200))}`);
        }
        expect(t.conn.server.internalErrors, where).toBe(0);
        batches++;
      }
      expect(batches).toBeGreaterThan(0);
      console.log(
        `qtest fuzz: ${batches} batches, ${requests} requests, ${cpuSeconds().toFixed(1)} s CPU, seed ${SEED}`,
      );
    },
    SECONDS * 1000 * 3 + 60_000,
  );
});
