import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMachine } from '../machine/create.js';
import { connectQtest } from './testing.js';

const RAM = 0x10000;

async function noneMachine(options: Parameters<typeof connectQtest>[1] = {}) {
  const machine = createMachine('none', { mode: 'qtest', ramSize: RAM });
  return { machine, ...(await connectQtest(machine, options)) };
}

describe('qtest framing and dispatch', () => {
  it('answers endianness with little', async () => {
    const q = await noneMachine();
    expect(q.request('endianness')).toBe('OK little\n');
  });

  it('processes every complete line of a chunk in order and keeps a partial line for later', async () => {
    const q = await noneMachine();
    q.chardev.send('writel 0x0 0x11\nreadl 0x0\nread');
    expect(q.chardev.take()).toBe('OK\nOK 0x0000000000000011\n');
    q.chardev.send('b 0x0');
    expect(q.chardev.take()).toBe('');
    q.chardev.send('\n');
    expect(q.chardev.take()).toBe('OK 0x0000000000000011\n');
  });

  it('keeps a final \\r, so the number before it is malformed (QEMU would abort; we FAIL)', async () => {
    const q = await noneMachine();
    expect(q.reply('readl 0x0\r')).toBe("FAIL readl: ADDR '0x0\r' is not a number");
  });

  it('splits on single spaces: two spaces make an empty word', async () => {
    const q = await noneMachine();
    expect(q.reply('readl  0x0')).toBe("FAIL readl: ADDR '' is not a number");
  });

  it('ignores words after the ones a command uses', async () => {
    const q = await noneMachine();
    expect(q.reply('readb 0x0 extra words')).toBe('OK 0x0000000000000000');
  });

  it("answers unknown commands with FAIL Unknown command '<cmd>', the empty line included", async () => {
    const q = await noneMachine();
    expect(q.reply('frobnicate 1 2')).toBe("FAIL Unknown command 'frobnicate'");
    expect(q.reply('READL 0x0')).toBe("FAIL Unknown command 'READL'");
    expect(q.reply('')).toBe("FAIL Unknown command ''");
    expect(q.reply('rtas foo 0 0 0')).toBe("FAIL Unknown command 'rtas'");
  });

  it('answers module_load with FAIL (no loadable modules)', async () => {
    const q = await noneMachine();
    expect(q.reply('module_load accel qtest')).toBe('FAIL');
    expect(q.reply('module_load accel')).toBe('FAIL module_load: missing NAME');
  });

  it('answers missing arguments and bad numbers with FAIL and a reason', async () => {
    const q = await noneMachine();
    expect(q.reply('readl')).toBe('FAIL readl: missing ADDR');
    expect(q.reply('writel 0x0')).toBe('FAIL writel: missing VALUE');
    expect(q.reply('writel 0x0 zz')).toBe("FAIL writel: VALUE 'zz' is not a number");
    expect(q.reply('readl 0x')).toBe("FAIL readl: ADDR '0x' is not a number");
    expect(q.reply('readl 08')).toBe("FAIL readl: ADDR '08' is not a number");
    expect(q.reply('readl 0x10000000000000000')).toBe(
      "FAIL readl: ADDR '0x10000000000000000' is out of range",
    );
    expect(q.reply('set_irq_in /machine')).toBe('FAIL set_irq_in: missing NAME');
    expect(q.reply('endianness')).toBe('OK little');
  });

  it('drops a request longer than the line limit and answers it with FAIL', async () => {
    const q = await noneMachine();
    const chunk = 'x'.repeat(1 << 20);
    for (let i = 0; i < 65; i++) q.chardev.send(chunk);
    expect(q.chardev.take()).toBe('');
    q.chardev.send('tail\nendianness\n');
    expect(q.chardev.take()).toBe(
      `FAIL request longer than ${64 * 1024 * 1024} bytes; discarded\nOK little\n`,
    );
  });
});

describe('qtest memory commands', () => {
  it('reads back what writeb/w/l/q wrote, always as 16 lowercase hex digits', async () => {
    const q = await noneMachine();
    expect(q.reply('writel 0x100 0xDEADBEEF')).toBe('OK');
    expect(q.reply('readl 0x100')).toBe('OK 0x00000000deadbeef');
    expect(q.reply('readw 0x100')).toBe('OK 0x000000000000beef');
    expect(q.reply('readb 0x103')).toBe('OK 0x00000000000000de');
    expect(q.reply('writeq 0x200 0xfedcba9876543210')).toBe('OK');
    expect(q.reply('readq 0x200')).toBe('OK 0xfedcba9876543210');
    expect(q.reply('readl 0x204')).toBe('OK 0x00000000fedcba98');
    expect(q.reply('readb 0x200')).toBe('OK 0x0000000000000010');
  });

  it('combines readq from memory in little-endian order', async () => {
    const q = await noneMachine();
    expect(q.reply('write 0x300 0x8 0x0102030405060708')).toBe('OK');
    expect(q.reply('readq 0x300')).toBe('OK 0x0807060504030201');
  });

  it('truncates write values to the access width', async () => {
    const q = await noneMachine();
    q.reply('writel 0x0 0xffffffff');
    expect(q.reply('writew 0x0 0x12345')).toBe('OK');
    expect(q.reply('readl 0x0')).toBe('OK 0x00000000ffff2345');
    expect(q.reply('writeb 0x0 0x1ff')).toBe('OK');
    expect(q.reply('readl 0x0')).toBe('OK 0x00000000ffff23ff');
  });

  it('reads numbers in base 0: 0x hex, leading-0 octal, decimal, and negatives wrap', async () => {
    const q = await noneMachine();
    q.reply('writeb 010 65');
    expect(q.reply('readb 8')).toBe('OK 0x0000000000000041');
    q.reply('writel 0X10 -1');
    expect(q.reply('readl 16')).toBe('OK 0x00000000ffffffff');
    expect(q.reply('readb +0x10')).toBe('OK 0x00000000000000ff');
  });

  it('handles unaligned accesses', async () => {
    const q = await noneMachine();
    q.reply('writel 0x401 0xa1b2c3d4');
    expect(q.reply('read 0x400 0x6')).toBe('OK 0x00d4c3b2a100');
    expect(q.reply('readl 0x401')).toBe('OK 0x00000000a1b2c3d4');
    expect(q.reply('readw 0x403')).toBe('OK 0x000000000000a1b2');
  });

  it('ignores bus errors as QEMU does: unmapped memory reads 0 and takes no writes', async () => {
    const q = await noneMachine();
    expect(q.reply('writel 0x20000000 0x12345678')).toBe('OK');
    expect(q.reply('readl 0x20000000')).toBe('OK 0x0000000000000000');
    expect(q.reply('readq 0xfffffffc')).toBe('OK 0x0000000000000000');
    expect(q.reply('readl 0x100000000')).toBe('OK 0x0000000000000000');
    expect(q.reply('writeq 0xffffffffffffff00 1')).toBe('OK');
    // A read across the end of RAM: the mapped bytes come through.
    q.reply(`writel ${RAM - 2} 0xaabbccdd`);
    expect(q.reply(`readl ${RAM - 2}`)).toBe('OK 0x000000000000ccdd');
  });

  it('reads bytes as 0x plus two hex digits per byte, in memory order', async () => {
    const q = await noneMachine();
    q.reply('writel 0x10 0x44332211');
    expect(q.reply('read 0x10 4')).toBe('OK 0x11223344');
    expect(q.reply('read 0x10 0')).toBe('FAIL read: SIZE must not be 0');
  });

  it('writes hex data, zero-filling what is missing, and answers ERR for data under 3 characters', async () => {
    const q = await noneMachine();
    q.reply('memset 0x20 8 0xee');
    expect(q.reply('write 0x20 4 0xa1b2')).toBe('OK');
    expect(q.reply('read 0x20 8')).toBe('OK 0xa1b20000eeeeeeee');
    expect(q.reply('write 0x20 4 0x')).toBe('ERR invalid argument size');
    expect(q.reply('write 0x20 1 0xF')).toBe('OK');
    expect(q.reply('read 0x20 1')).toBe('OK 0x00');
    // A digit that is not hex gives QEMU's hex2nib value (-1) in the byte.
    expect(q.reply('write 0x20 1 0xzz')).toBe('OK');
    expect(q.reply('read 0x20 1')).toBe('OK 0xff');
  });

  it('reads and writes base64 (standard alphabet, = padding)', async () => {
    const q = await noneMachine();
    expect(q.reply('b64write 0x40 5 aGVsbG8=')).toBe('OK');
    expect(q.reply('read 0x40 5')).toBe('OK 0x68656c6c6f');
    expect(q.reply('b64read 0x40 5')).toBe('OK aGVsbG8=');
    expect(q.reply('b64read 0x40 0')).toBe('OK ');
    expect(q.reply('b64write 0x40 5 aG')).toBe('ERR invalid argument size');
  });

  it('writes SIZE bytes on a b64write length mismatch (zero-filled) and logs the mismatch', async () => {
    const q = await noneMachine({ hostNow: () => 0 });
    q.reply('memset 0x40 4 0x55');
    expect(q.reply('b64write 0x40 4 aGk=')).toBe('OK');
    expect(q.reply('read 0x40 4')).toBe('OK 0x68690000');
    expect(q.log()).toContain('[S +0.000000] b64write: data length mismatch (told 4, found 2)\n');
  });

  it('memsets with the low byte of VALUE, and accepts SIZE 0', async () => {
    const q = await noneMachine();
    expect(q.reply('memset 0x50 3 0x1a5')).toBe('OK');
    expect(q.reply('read 0x50 4')).toBe('OK 0xa5a5a500');
    expect(q.reply('memset 0x50 0 0x11')).toBe('OK');
    expect(q.reply('read 0x50 1')).toBe('OK 0xa5');
  });

  it('refuses bulk transfers above 16 MiB instead of allocating them', async () => {
    const q = await noneMachine();
    expect(q.reply('read 0x0 0x1000001')).toBe(
      "FAIL read: SIZE 0x1000001 is above tsemu's limit of 16777216 bytes",
    );
    expect(q.reply('memset 0x0 0xffffffffffffffff 0')).toMatch(/^FAIL memset: SIZE/);
  });
});

describe('qtest I/O ports (an empty I/O space)', () => {
  it('reads all ones at the access width with at least 4 hex digits', async () => {
    const q = await noneMachine();
    expect(q.reply('inb 0x0')).toBe('OK 0x00ff');
    expect(q.reply('inw 0x10')).toBe('OK 0xffff');
    expect(q.reply('inl 0xffff')).toBe('OK 0xffffffff');
  });

  it('accepts writes', async () => {
    const q = await noneMachine();
    expect(q.reply('outb 0x80 0x1')).toBe('OK');
    expect(q.reply('outw 0x80 0xffff')).toBe('OK');
    expect(q.reply('outl 0xcf8 0x80000000')).toBe('OK');
  });

  it('answers ports above 0xffff with FAIL (QEMU asserts)', async () => {
    const q = await noneMachine();
    expect(q.reply('inb 0x10000')).toBe('FAIL inb: port 0x10000 is above 0xffff');
    expect(q.reply('outl 0x10000 1')).toBe('FAIL outl: port 0x10000 is above 0xffff');
  });
});

describe('qtest clock', () => {
  it('steps by NS and answers the new time in decimal', async () => {
    const q = await noneMachine();
    expect(q.reply('clock_step 1000')).toBe('OK 1000');
    expect(q.reply('clock_step 0x10')).toBe('OK 1016');
    expect(q.reply('clock_step -5')).toBe('OK 1016');
  });

  it('jumps to the next deadline without NS, firing it; with none pending the clock stays (7.2)', async () => {
    const q = await noneMachine();
    const fired: number[] = [];
    const t = q.machine.clock.createTimer('test', () => fired.push(q.machine.clock.now));
    t.modAbs(5000);
    expect(q.reply('clock_step')).toBe('OK 5000');
    expect(fired).toEqual([5000]);
    expect(q.reply('clock_step')).toBe('OK 5000');
  });

  it('fires timers in order while stepping', async () => {
    const q = await noneMachine();
    const fired: string[] = [];
    q.machine.clock.createTimer('b', () => fired.push('b')).modAbs(300);
    q.machine.clock.createTimer('a', () => fired.push('a')).modAbs(100);
    expect(q.reply('clock_step 1000')).toBe('OK 1000');
    expect(fired).toEqual(['a', 'b']);
  });

  it('sets the clock forward only', async () => {
    const q = await noneMachine();
    expect(q.reply('clock_set 123456')).toBe('OK 123456');
    expect(q.reply('clock_set 100')).toBe('OK 123456');
  });

  it('refuses to move the clock past 2^53 ns and bad numbers with FAIL', async () => {
    const q = await noneMachine();
    expect(q.reply('clock_set 0x7fffffffffffffff')).toBe(
      'FAIL clock_set: 0x7fffffffffffffff ns is past 2^53 ns',
    );
    expect(q.reply('clock_set 0x8000000000000000')).toBe(
      "FAIL clock_set: NS '0x8000000000000000' is out of range",
    );
    expect(q.reply('clock_step x')).toBe("FAIL clock_step: NS 'x' is not a number");
    expect(q.reply('clock_set')).toBe('FAIL clock_set: missing NS');
    expect(q.reply('clock_step 0')).toBe('OK 0');
  });

  it('answers clock commands as unknown when the CPU runs (not -accel qtest), as QEMU does', async () => {
    const machine = createMachine('none', { mode: 'fast', ramSize: RAM });
    const q = await connectQtest(machine);
    expect(q.server.accelQtest).toBe(false);
    expect(q.reply('clock_step 10')).toBe("FAIL Unknown command 'clock_step'");
    expect(q.reply('clock_set 10')).toBe("FAIL Unknown command 'clock_set'");
    expect(q.reply('readl 0x0')).toBe('OK 0x0000000000000000');
  });
});

describe('qtest log', () => {
  it('logs OPENED, requests and replies with elapsed host seconds; ERR replies without a prefix', async () => {
    let now = 1000;
    const q = await noneMachine({ hostNow: () => now });
    now = 1001.5;
    q.reply('readl 0x0');
    q.reply('write 0x0 1 0');
    q.chardev.close();
    expect(q.log()).toBe(
      [
        '[I 0.000000] OPENED',
        '[R +0.001500] readl 0x0',
        '[S +0.001500] OK 0x0000000000000000',
        '[R +0.001500] write 0x0 1 0',
        'ERR invalid argument size',
        '[I +0.001500] CLOSED',
        '',
      ].join('\n'),
    );
  });

  it('truncates a log file and writes to it; none logs nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsemu-qtest-'));
    const file = join(dir, 'qtest.log');
    writeFileSync(file, 'old content that must go\n'.repeat(10));
    const q = await noneMachine({ log: file });
    q.reply('endianness');
    q.server.close();
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(
      /^\[I 0\.0000\d\d\] OPENED\n\[R \+\d+\.\d{6}\] endianness\n\[S \+\d+\.\d{6}\] OK little\n$/,
    );
    const quiet = await noneMachine({ log: 'none' });
    quiet.reply('endianness');
    expect(quiet.log()).toBe('');
  });

  it('throws a UserError naming the file when the log cannot be opened', async () => {
    await expect(noneMachine({ log: '/nonexistent-dir/qtest.log' })).rejects.toThrow(
      /-qtest-log: cannot open '\/nonexistent-dir\/qtest.log'/,
    );
  });
});

// ---- micro:bit: QEMU's tests/qtest/microbit-test.c assertions, through our server ----

const GPIO = 0x50000000;
const OUT = GPIO + 0x504;
const OUTSET = GPIO + 0x508;
const OUTCLR = GPIO + 0x50c;
const IN = GPIO + 0x510;
const DIR = GPIO + 0x514;
const DIRSET = GPIO + 0x518;
const DIRCLR = GPIO + 0x51c;
const CNF0 = GPIO + 0x700;
const CNF31 = GPIO + 0x77c;

async function microbit() {
  const machine = createMachine('microbit', { mode: 'qtest' });
  const q = await connectQtest(machine);
  const readl = (addr: number): number => {
    const r = q.reply(`readl 0x${addr.toString(16)}`);
    expect(r).toMatch(/^OK 0x[0-9a-f]{16}$/);
    return Number.parseInt(r.slice(5), 16);
  };
  const writel = (addr: number, value: number): string =>
    q.request(`writel 0x${addr.toString(16)} 0x${value.toString(16)}`);
  return { machine, ...q, readl, writel };
}

describe('qtest on the micro:bit: IRQ interception', () => {
  it('reports GPIO outputs of /machine/nrf51 as IRQ lines before the OK of the write (QEMU order)', async () => {
    const q = await microbit();
    expect(q.reply('irq_intercept_out /machine/nrf51')).toBe('OK');
    expect(q.writel(CNF0, 0b0011)).toBe('OK\n');
    expect(q.writel(OUTSET, 1)).toBe('IRQ raise 0\nOK\n');
    // Only changes are reported.
    expect(q.writel(OUTSET, 1)).toBe('OK\n');
    expect(q.writel(OUTCLR, 1)).toBe('IRQ lower 0\nOK\n');
    q.writel(CNF31, 0b0011);
    expect(q.writel(OUTSET, 0x80000001)).toBe('IRQ raise 0\nIRQ raise 31\nOK\n');
  });

  it('allows one intercepted device per run: the same one again is OK, another FAILs', async () => {
    const q = await microbit();
    expect(q.reply('irq_intercept_out /machine/nope')).toBe('FAIL Unknown device');
    expect(q.reply('irq_intercept_out /machine/nrf51')).toBe('OK');
    expect(q.reply('irq_intercept_out /machine/nrf51')).toBe('OK');
    expect(q.reply('irq_intercept_in /machine/nrf51')).toBe('OK');
    expect(q.reply('irq_intercept_in /machine/nrf51/gpio')).toBe('FAIL IRQ intercept already enabled');
    // The machine object is not a device (QEMU's DEVICE() cast would abort).
    expect(q.reply('irq_intercept_in /machine')).toBe("FAIL irq_intercept_in: '/machine' is not a device");
  });

  it('resolves partial QOM paths as object_resolve_path does', async () => {
    const q = await microbit();
    expect(q.reply('irq_intercept_out nrf51')).toBe('OK');
    expect(q.reply('irq_intercept_out /machine/nrf51')).toBe('OK');
    expect(q.reply('irq_intercept_out no-such-thing')).toBe('FAIL Unknown device');
  });

  it('answers objects that are not devices with FAIL', async () => {
    const q = await microbit();
    expect(q.reply('irq_intercept_in /machine/peripheral')).toBe(
      "FAIL irq_intercept_in: '/machine/peripheral' is not a device",
    );
  });

  it('reports intercepted inputs and still delivers them to the device (qemu_irq_intercept_in)', async () => {
    const q = await microbit();
    expect(q.reply('irq_intercept_in /machine/nrf51')).toBe('OK');
    q.writel(CNF0, 0x00);
    // Level 0 is the reset level of irq_levels: no line.
    expect(q.request('set_irq_in /machine/nrf51 unnamed-gpio-in 0 0')).toBe('OK\n');
    expect(q.request('set_irq_in /machine/nrf51 unnamed-gpio-in 0 1')).toBe('IRQ raise 0\nOK\n');
    expect(q.readl(IN) & 1).toBe(1);
    // -1 (not driven) is non-zero: "raise" (it is a change from 1).
    expect(q.request('set_irq_in /machine/nrf51 unnamed-gpio-in 0 -1')).toBe('IRQ raise 0\nOK\n');
    expect(q.request('set_irq_in /machine/nrf51 unnamed-gpio-in 0 0')).toBe('IRQ lower 0\nOK\n');
    expect(q.readl(IN) & 1).toBe(0);
  });

  it('forgets reported levels when a client connects', async () => {
    const q = await microbit();
    q.reply('irq_intercept_out /machine/nrf51');
    q.writel(CNF0, 0b0011);
    expect(q.writel(OUTSET, 1)).toBe('IRQ raise 0\nOK\n');
    await q.chardev.close();
    await q.chardev.open();
    q.chardev.take();
    // The line goes low, but the new connection's irq_levels already say 0: nothing to report.
    expect(q.writel(OUTCLR, 1)).toBe('OK\n');
    expect(q.writel(OUTSET, 1)).toBe('IRQ raise 0\nOK\n');
  });

  it('answers set_irq_in errors with FAIL', async () => {
    const q = await microbit();
    expect(q.reply('set_irq_in /machine/nope unnamed-gpio-in 0 1')).toBe('FAIL Unknown device');
    expect(q.reply('set_irq_in /machine/nrf51 unnamed-gpio-in 32 1')).toBe(
      "FAIL set_irq_in: '/machine/nrf51' has no input line unnamed-gpio-in[32]",
    );
    expect(q.reply('set_irq_in /machine/nrf51 nosuch 0 1')).toBe(
      "FAIL set_irq_in: '/machine/nrf51' has no input line nosuch[0]",
    );
    expect(q.reply('set_irq_in /machine/nrf51 unnamed-gpio-in 0 0x80000000')).toBe(
      "FAIL set_irq_in: LEVEL '0x80000000' is out of range",
    );
  });
});

describe('qtest on the micro:bit: QEMU microbit-test sequences', () => {
  it('gpio: reset state, DIR/CNF consistency, input propagation, pulls, output, self-stimulation', async () => {
    const q = await microbit();
    for (const reg of [OUT, OUTSET, OUTCLR, IN, DIR, DIRSET, DIRCLR]) expect(q.readl(reg)).toBe(0);
    for (let i = 0; i < 32; i++) expect(q.readl(CNF0 + i * 4)).toBe(0x02);

    q.writel(DIRSET, 0x80000001);
    expect(q.readl(DIR)).toBe(0x80000001);
    expect(q.readl(CNF0) & 1).toBe(1);
    expect(q.readl(CNF31) & 1).toBe(1);
    q.writel(DIRCLR, 0x80000001);
    expect(q.readl(DIR)).toBe(0);
    expect(q.readl(CNF0) & 1).toBe(0);
    expect(q.readl(CNF31) & 1).toBe(0);
    q.writel(DIR, 0x80000001);
    expect(q.readl(DIR)).toBe(0x80000001);
    expect(q.readl(CNF0) & 1).toBe(1);
    expect(q.readl(CNF31) & 1).toBe(1);
    q.writel(DIR, 0);

    // Input propagates.
    q.writel(CNF0, 0x00);
    expect(q.reply('set_irq_in /machine/nrf51 unnamed-gpio-in 0 0')).toBe('OK');
    expect(q.readl(IN) & 1).toBe(0);
    q.reply('set_irq_in /machine/nrf51 unnamed-gpio-in 0 1');
    expect(q.readl(IN) & 1).toBe(1);
    q.reply('set_irq_in /machine/nrf51 unnamed-gpio-in 0 -1');
    expect(q.readl(IN) & 1).toBe(1);
    q.writel(CNF0, 0x02);

    // Pull-up.
    q.reply('set_irq_in /machine/nrf51 unnamed-gpio-in 0 0');
    q.writel(CNF0, 0b0000);
    expect(q.readl(IN) & 1).toBe(0);
    q.writel(CNF0, 0b1110);
    expect(q.readl(IN) & 1).toBe(1);
    q.writel(CNF0, 0x02);

    // Pull-down.
    q.reply('set_irq_in /machine/nrf51 unnamed-gpio-in 0 1');
    q.writel(CNF0, 0b0000);
    expect(q.readl(IN) & 1).toBe(1);
    q.writel(CNF0, 0b0110);
    expect(q.readl(IN) & 1).toBe(0);
    q.writel(CNF0, 0x02);
    q.reply('set_irq_in /machine/nrf51 unnamed-gpio-in 0 -1');

    // Output propagates (libqtest's qtest_get_irq reads the IRQ lines).
    expect(q.reply('irq_intercept_out /machine/nrf51')).toBe('OK');
    q.writel(CNF0, 0b0011);
    expect(q.writel(OUTSET, 1)).toBe('IRQ raise 0\nOK\n');
    expect(q.writel(OUTCLR, 1)).toBe('IRQ lower 0\nOK\n');

    // Self-stimulation: an output with its input buffer connected reads back.
    q.writel(CNF0, 0b01);
    q.writel(OUTSET, 1);
    expect(q.readl(IN) & 1).toBe(1);
    q.writel(OUTCLR, 1);
    expect(q.readl(IN) & 1).toBe(0);

    // Short circuit: only a guest error; the server carries on.
    q.writel(CNF0, 0b01);
    q.writel(OUTSET, 1);
    expect(q.reply('set_irq_in /machine/nrf51 unnamed-gpio-in 0 0')).toBe('OK');
    expect(q.server.internalErrors).toBe(0);
  });

  it('timer: compare events fire as clock_step moves a 16 MHz 16-bit TIMER0', async () => {
    const q = await microbit();
    const T = 0x40008000;
    const task = (off: number) => q.writel(T + off, 1);
    const events = () => [0, 1, 2, 3].map((i) => q.readl(T + 0x140 + i * 4));
    const clearEvents = () => {
      for (let i = 0; i < 4; i++) q.writel(T + 0x140 + i * 4, 0);
    };
    task(0x004); // STOP
    task(0x00c); // CLEAR
    clearEvents();
    q.writel(T + 0x508, 0); // BITMODE 16-bit
    q.writel(T + 0x510, 0); // PRESCALER 0: 16 MHz
    q.writel(T + 0x540, 2); // swept over in the first step
    q.writel(T + 0x544, 162); // barely missed in the first step
    q.writel(T + 0x548, 480); // spot on at the third step
    expect(events()).toEqual([0, 0, 0, 0]);
    task(0x000); // START
    expect(q.reply('clock_step 10000')).toBe('OK 10000');
    expect(events()).toEqual([1, 0, 0, 0]);
    q.writel(T + 0x54c, 114); // swept over at the first overflow
    q.reply('clock_step 10000');
    expect(events()).toEqual([1, 1, 0, 0]);
    q.reply('clock_step 10000');
    expect(events()).toEqual([1, 1, 1, 0]);
    for (let i = 0; i < 408; i++) {
      expect(events()).toEqual([1, 1, 1, 0]);
      q.reply('clock_step 10000');
    }
    expect(events()).toEqual([1, 1, 1, 1]);
    clearEvents();
    expect(events()).toEqual([0, 0, 0, 0]);
    task(0x004);
  });

  it('nvmc: always ready, CONFIG read/write, page erase and fill, erase all, UICR', async () => {
    const q = await microbit();
    const NVMC = 0x4001e000;
    const READY = NVMC + 0x400;
    const CONFIG = NVMC + 0x504;
    const ERASEPCR1 = NVMC + 0x508;
    const ERASEALL = NVMC + 0x50c;
    const ERASEPCR0 = NVMC + 0x510;
    const ERASEUICR = NVMC + 0x514;
    const PAGE = 1024;
    const FLASH = 256 * PAGE;
    const UICR = 0x10001000;
    const UICR_SIZE = 0x100;
    /** All bytes of [addr, addr + len) through b64read. */
    const bytes = (addr: number, len: number) =>
      Buffer.from(q.reply(`b64read 0x${addr.toString(16)} 0x${len.toString(16)}`).slice(3), 'base64');

    expect(q.readl(READY) & 1).toBe(1);
    q.writel(CONFIG, 0x03);
    expect(q.readl(CONFIG)).toBe(0x03);
    q.writel(CONFIG, 0x00);
    expect(q.readl(CONFIG)).toBe(0x00);

    const fillAndErase = (base: number, size: number, reg: number) => {
      q.writel(CONFIG, 0x02);
      q.writel(reg, base);
      q.writel(CONFIG, 0x00);
      for (let i = 0; i < size / 4; i++) expect(q.readl(base + i * 4)).toBe(0xffffffff);
      q.writel(CONFIG, 0x01);
      for (let i = 0; i < size / 4; i++) {
        q.writel(base + i * 4, i);
        expect(q.readl(base + i * 4)).toBe(i);
      }
      q.writel(CONFIG, 0x00);
    };
    fillAndErase(0, PAGE, ERASEPCR0);
    fillAndErase(PAGE, PAGE, ERASEPCR0);
    fillAndErase(0, PAGE, ERASEPCR1);
    fillAndErase(PAGE, PAGE, ERASEPCR1);

    q.writel(CONFIG, 0x02);
    q.writel(ERASEALL, 0x01);
    q.writel(CONFIG, 0x00);
    expect(bytes(0, FLASH).every((b) => b === 0xff)).toBe(true);
    q.writel(CONFIG, 0x01);
    for (let i = 0; i < FLASH / 4; i += 997) {
      q.writel(i * 4, i);
      expect(q.readl(i * 4)).toBe(i);
    }
    q.writel(CONFIG, 0x00);
    q.writel(CONFIG, 0x02);
    q.writel(ERASEALL, 0x01);
    q.writel(CONFIG, 0x00);
    expect(bytes(0, FLASH).every((b) => b === 0xff)).toBe(true);

    for (let round = 0; round < 2; round++) {
      q.writel(CONFIG, 0x02);
      q.writel(ERASEUICR, 0x01);
      q.writel(CONFIG, 0x00);
      expect(bytes(UICR, UICR_SIZE).every((b) => b === 0xff)).toBe(true);
      if (round === 1) break;
      q.writel(CONFIG, 0x01);
      for (let i = 0; i < UICR_SIZE / 4; i++) {
        q.writel(UICR + i * 4, i);
        expect(q.readl(UICR + i * 4)).toBe(i);
      }
      q.writel(CONFIG, 0x00);
    }
  });

  it('uart: receives serial input after STARTRX and sends TXD to the serial port', async () => {
    const q = await microbit();
    const U = 0x40002000;
    const serial = q.machine.serialBackend(0) as unknown as {
      send(text: string): void;
      text(): string;
    };
    /**
     * QEMU's test polls the event register without clock_step (its UART is instant); tsemu's
     * UART takes a character time, and under -accel qtest time only moves with clock_step.
     */
    const waitEvent = (addr: number): boolean => {
      for (let i = 0; i < 1000; i++) {
        if (q.readl(addr) === 1) {
          q.writel(addr, 0);
          return true;
        }
        q.reply('clock_step 10000');
      }
      return false;
    };
    // Unlike QEMU's test, select the board's serial pins: tsemu's UART only reaches the serial
    // port through P0.24 (TXD) and P0.25 (RXD), as on the real board.
    q.writel(U + 0x50c, 24);
    q.writel(U + 0x514, 25);
    serial.send('c');
    expect(q.readl(U + 0x518)).toBe(0x00);
    q.writel(U + 0x500, 0x04); // ENABLE
    q.writel(U + 0x000, 0x01); // STARTRX
    expect(waitEvent(U + 0x108)).toBe(true); // RXDRDY
    expect(q.readl(U + 0x518)).toBe(0x63);
    q.writel(U + 0x304, 0x04);
    expect(q.readl(U + 0x300)).toBe(0x04);
    q.writel(U + 0x308, 0x04);
    expect(q.readl(U + 0x300)).toBe(0x00);

    serial.send('hello');
    let got = '';
    for (let i = 0; i < 5; i++) {
      expect(waitEvent(U + 0x108)).toBe(true);
      got += String.fromCharCode(q.readl(U + 0x518));
    }
    expect(got).toBe('hello');

    q.writel(U + 0x008, 0x01); // STARTTX
    q.writel(U + 0x51c, 0x64); // TXD 'd'
    expect(waitEvent(U + 0x11c)).toBe(true); // TXDRDY
    expect(serial.text()).toBe('d');
  });
});
