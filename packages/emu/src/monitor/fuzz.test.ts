/**
 * Fuzzing QMP and the human monitor (the qtest fuzzer is qtest/fuzz.test.ts): seeded random and
 * mutated input until `TSEMU_FUZZ_SECONDS` of CPU time are spent (5 s in `npm test`; run
 * `TSEMU_FUZZ_SECONDS=60 npx vitest run packages/emu/src/monitor/fuzz.test.ts` for the full
 * minute). After every batch the server must still answer, and nothing may throw out of it.
 *
 * Commands with effects outside the machine are left out: QMP `quit` and `screendump` (writes a
 * file), HMP `quit`/`q` and `logfile` (opens a file).
 */
import { describe, expect, it } from 'vitest';
import { RingbufChardev } from '../chardev/ringbuf.js';
import { Xoshiro128StarStar } from '../core/prng.js';
import { createMachine } from '../machine/create.js';
import { HMP_COMMANDS } from './hmp/commands.js';
import { HumanMonitor } from './hmp/hmp.js';
import { QMP_COMMANDS } from './qmp/commands.js';
import { QmpTestClient } from './qmp/testing.js';

const SECONDS = Number(process.env.TSEMU_FUZZ_SECONDS ?? '5');
const SEED = BigInt(process.env.TSEMU_FUZZ_SEED ?? '0x5eed');

class Gen {
  private readonly rng: Xoshiro128StarStar;
  constructor(seed: bigint) {
    this.rng = Xoshiro128StarStar.fromSeed(seed);
  }
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

function cpuClock(): () => number {
  const start = process.cpuUsage();
  return () => {
    const u = process.cpuUsage(start);
    return (u.user + u.system) / 1e6;
  };
}

/** Random JSON values of every type, nested a little. */
function value(g: Gen, depth = 0): unknown {
  switch (g.int(depth > 2 ? 6 : 8)) {
    case 0:
      return g.pick([0, 1, -1, 2 ** 31, 2 ** 53, -(2 ** 63), 1.5, 1e308]);
    case 1:
      return g.pick(['', 'a', '/machine', '/machine/nrf51/gpio', 'button-a', 'x'.repeat(g.int(2000))]);
    case 2:
      return g.chance(0.5);
    case 3:
      return null;
    case 4:
      return g.pick(['on', 'off', 'png', 'ppm', 'a', 'b', 'P0', 'microbit']);
    case 5:
      return g.int(1000);
    case 6:
      return Array.from({ length: g.int(4) }, () => value(g, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = g.int(4); i > 0; i--)
        o[
          g.pick([
            'path',
            'property',
            'value',
            'button',
            'x',
            'y',
            'z',
            'pin',
            'level',
            'typename',
            'command-line',
          ])
        ] = value(g, depth + 1);
      return o;
    }
  }
}

const QMP_NAMES = QMP_COMMANDS.map((c) => c.name).filter((n) => n !== 'quit' && n !== 'screendump');
const HMP_NAMES = HMP_COMMANDS.flatMap((c) => c.name.split('|')).filter(
  (n) => !['quit', 'q', 'logfile'].includes(n),
);

function qmpMessage(g: Gen): string {
  const msg: Record<string, unknown> = {
    execute: g.chance(0.95) ? g.pick(QMP_NAMES) : g.pick(['nope', '', 'quit_', 'exec']),
  };
  if (g.chance(0.7)) msg.arguments = value(g, 1);
  if (g.chance(0.3)) msg.id = value(g, 2);
  if (g.chance(0.05)) msg[g.pick(['exec-oob', 'control', 'extra'])] = value(g, 2);
  if (msg.execute === 'human-monitor-command' && g.chance(0.8)) {
    msg.arguments = { 'command-line': hmpLine(g) };
  }
  let text = JSON.stringify(msg);
  if (g.chance(0.3)) text = mutate(g, text);
  return text;
}

function hmpLine(g: Gen): string {
  const words = [g.pick(HMP_NAMES)];
  for (let i = g.int(4); i > 0; i--) {
    words.push(
      g.pick([
        'status',
        'registers',
        'mtree',
        'qtree',
        'qom-tree',
        'irq',
        'version',
        'chardev',
        '/10x',
        '/4wx',
        '/b',
        '0',
        '0x20000000',
        '$pc',
        '-1',
        '0xffffffff',
        'unimp',
        'none',
        '%',
        '(',
        'tcp::1234',
      ]),
    );
  }
  const line = words.join(' ');
  return g.chance(0.3) ? mutate(g, line) : line;
}

function mutate(g: Gen, text: string): string {
  let s = text;
  for (let i = 1 + g.int(3); i > 0; i--) {
    const at = g.int(s.length + 1);
    switch (g.int(5)) {
      case 0:
        s = s.slice(0, at);
        break;
      case 1:
        s = s.slice(0, at) + String.fromCharCode(g.int(256)) + s.slice(at);
        break;
      case 2:
        s = s.slice(0, at) + g.pick(['{', '}', '[', ']', '"', "'", ',', ':', '\\', '\u0000']) + s.slice(at);
        break;
      case 3:
        s = s.slice(0, at) + s.slice(at + 1 + g.int(8));
        break;
      default:
        s = s + s.slice(0, at);
    }
  }
  return s;
}

describe('monitor fuzz', () => {
  it(`QMP survives ${SECONDS / 2} s of CPU time of random and mutated messages (seed ${SEED})`, async () => {
    const g = new Gen(SEED);
    const machine = createMachine('microbit', { mode: 'fast' });
    const client = new QmpTestClient(machine, { hmp: (line) => hmpOf(machine).execute(line) });
    await client.ready();
    const cpu = cpuClock();
    let batches = 0;
    while (cpu() < SECONDS / 2) {
      const parts: string[] = [];
      for (let i = 10 + g.int(30); i > 0; i--) parts.push(qmpMessage(g));
      const text = parts.join(g.pick(['\n', '', ' ', '\r\n']));
      for (let at = 0; at < text.length; ) {
        const n = 1 + g.int(512);
        client.sendRaw(text.slice(at, at + n));
        at += n;
      }
      client.rawText();
      // Abandon whatever the batch left open the way QEMU's clients do (0xFF can appear in no
      // JSON token, so the lexer resynchronises), then the server must answer a plain request.
      client.sendRaw(Uint8Array.of(0xff, 0x0a));
      client.rawText();
      client.send({ execute: 'query-status', id: 'alive' });
      // Requests run in order, and human-monitor-command answers asynchronously: give the queue
      // a few turns of the event loop.
      let replies: ReturnType<typeof client.drain> = [];
      for (let turn = 0; turn < 1000 && replies.length === 0; turn++) {
        replies = client.drain().filter((m) => m.id === 'alive');
        if (replies.length === 0) await new Promise((r) => setImmediate(r));
      }
      expect(replies, `seed ${SEED}, batch ${batches}`).toHaveLength(1);
      expect(replies[0]).toHaveProperty('return');
      batches++;
    }
    expect(batches).toBeGreaterThan(0);
  }, 120_000);

  it(`the human monitor survives ${SECONDS / 2} s of CPU time of random command lines and keystrokes`, async () => {
    const g = new Gen(SEED + 1n);
    const machine = createMachine('microbit', { mode: 'fast' });
    const mon = hmpOf(machine);
    const chr = new RingbufChardev('mon0', 1 << 20);
    await chr.open();
    mon.attachReadline(chr);
    const cpu = cpuClock();
    let batches = 0;
    while (cpu() < SECONDS / 2) {
      for (let i = 10 + g.int(20); i > 0; i--) {
        const out = await mon.execute(hmpLine(g));
        expect(typeof out).toBe('string');
      }
      // Keystrokes, escape sequences and garbage through the line editor.
      const keys = Array.from({ length: g.int(200) }, () =>
        g.pick([
          '\x1b[A',
          '\x1b[B',
          '\x1b[C',
          '\x1b[D',
          '\x7f',
          '\t',
          '\r',
          '\x15',
          '\x0b',
          'a',
          'info ',
          String.fromCharCode(g.int(256)),
        ]),
      ).join('');
      chr.inject(keys.replaceAll('quit', 'qu1t').replaceAll('logfile', 'l0gfile'));
      chr.readAll();
      expect(await mon.execute('info status'), `seed ${SEED}, batch ${batches}`).toMatch(/^VM status: /);
      batches++;
    }
    expect(batches).toBeGreaterThan(0);
  }, 120_000);
});

const monitors = new WeakMap<object, HumanMonitor>();
function hmpOf(machine: ReturnType<typeof createMachine>): HumanMonitor {
  let m = monitors.get(machine);
  if (!m) {
    m = new HumanMonitor({ machine, onQuit: () => {} });
    monitors.set(machine, m);
  }
  return m;
}
