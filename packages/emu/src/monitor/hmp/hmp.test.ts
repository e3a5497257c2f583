/**
 * The human monitor end to end: each command's output on a `none` machine with RAM and on a
 * micro:bit with MicroPython (QEMU 7.2 layouts, hand-checked), `execute`'s `\r\n` line ends,
 * the hooks (quit, powerdown, gdbserver), `info irq` counting, and the `(qemu) ` prompt over a
 * ring-buffer chardev and through the `mon:` mux with C-a c.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MuxChardev } from '../../chardev/mux.js';
import { RingbufChardev } from '../../chardev/ringbuf.js';
import { RecordingFrontend } from '../../chardev/testing.js';
import { LogCat } from '../../core/log.js';
import type { Machine } from '../../core/machine.js';
import { createMachine } from '../../machine/create.js';
import type { MicrobitMachine } from '../../machine/microbit.js';
import { HMP_PROMPT, HumanMonitor, startHumanMonitor } from './hmp.js';
import { TestTerminal } from './terminal.testing.js';

const FIRMWARE = '/usr/share/firmware-microbit-micropython/firmware.hex';
const HAVE_FIRMWARE = existsSync(FIRMWARE);

function noneMachine(): Machine {
  const m = createMachine('none', { ramSize: 0x10000 });
  const bytes = Uint8Array.from([0x00, 0x40, 0x00, 0x20, 0xd9, 0xcc, 0x01, 0x00, 0x41, 0x42]);
  m.addressSpace.writeDebug(0, bytes);
  return m;
}

function micropython(): MicrobitMachine {
  return createMachine('microbit', {
    mode: 'fast',
    devices: [{ driver: 'loader', props: { file: FIRMWARE } }],
  }) as MicrobitMachine;
}

/** Lets queued promise callbacks and I/O run until `done()` holds (bounded, no clock). */
async function settle(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setImmediate(r));
}

describe('commands on a none machine with RAM', () => {
  it('returns output with \\r\\n line ends, and empty output for silent commands', async () => {
    const mon = new HumanMonitor({ machine: noneMachine(), version: '1.2.3' });
    expect(await mon.execute('xp /2x 0')).toBe('0000000000000000: 0x20004000 0x0001ccd9\r\n');
    expect(await mon.execute('info version')).toBe('1.2.3\r\n');
    expect(await mon.execute('stop')).toBe('');
    expect(await mon.execute('')).toBe('');
  });

  it('dumps physical memory with xp in every format, and refuses x without a CPU', async () => {
    const mon = new HumanMonitor({ machine: noneMachine() });
    expect(await mon.execute('xp /10xb 0')).toBe(
      '0000000000000000: 0x00 0x40 0x00 0x20 0xd9 0xcc 0x01 0x00\r\n0000000000000008: 0x41 0x42\r\n',
    );
    expect(await mon.execute('xp /2c 8')).toBe("0000000000000008: 'A' 'B'\r\n");
    expect(await mon.execute('xp /1uh 0')).toBe('0000000000000000: 16384\r\n');
    expect(await mon.execute('xp /1xg 0')).toBe('0000000000000000: 0x0001ccd920004000\r\n');
    expect(await mon.execute('xp /1x 0x10000')).toBe('0000000000010000: Cannot access memory\r\n');
    expect(await mon.execute('x /4x 0')).toBe('Can not dump without CPU\r\n');
    expect(await mon.execute('xp /i 0')).toBe('Can not dump without CPU\r\n');
  });

  it('reports the run state as QEMU does', async () => {
    const m = noneMachine();
    const mon = new HumanMonitor({ machine: m });
    expect(await mon.execute('info status')).toBe('VM status: paused (prelaunch)\r\n');
    m.shutdown('guest-shutdown');
    expect(await mon.execute('info status')).toBe('VM status: paused (shutdown)\r\n');
    expect(await mon.execute('cont')).toBe('Error: The machine has been shut down; it cannot be resumed\r\n');
  });

  it('prints the memory tree and its flat view', async () => {
    const m = noneMachine();
    const mon = new HumanMonitor({ machine: m });
    expect(await mon.execute('info mtree')).toBe(m.addressSpace.mtree().replace(/\n/g, '\r\n'));
    expect(await mon.execute('info mtree -f')).toBe(
      'FlatView: address-space: memory, root: system\r\n  0000000000000000-000000000000ffff (ram): ram\r\n',
    );
  });

  it('prints the QOM tree from /machine or a path, and an unknown path', async () => {
    const mon = new HumanMonitor({ machine: noneMachine() });
    expect(await mon.execute('info qom-tree')).toBe(
      '/machine (none-machine)\r\n  /peripheral (container)\r\n  /peripheral-anon (container)\r\n  /unattached (container)\r\n',
    );
    expect(await mon.execute('info qom-tree /machine/peripheral')).toBe('/peripheral (container)\r\n');
    expect(await mon.execute('info qom-tree /nope')).toBe("Path '/nope' could not be resolved.\r\n");
  });

  it('prints an empty system bus for a machine without devices, and a user device on it', async () => {
    expect(await new HumanMonitor({ machine: noneMachine() }).execute('info qtree')).toBe(
      'bus: main-system-bus\r\n  type System\r\n',
    );
    const m = createMachine('none', {
      ramSize: 0x1000,
      devices: [{ driver: 'loader', id: 'ld', props: { addr: 16, data: 0x1234, 'data-len': 4 } }],
    });
    const text = await new HumanMonitor({ machine: m }).execute('info qtree');
    expect(text).toContain('  dev: loader, id "ld"\r\n    file = ""\r\n    addr = 16 (0x10)\r\n');
  });

  it('lists the chardevs as "id: filename=..."', async () => {
    const serial = new RingbufChardev('serial0');
    const m = createMachine('none', { chardevs: [serial] });
    expect(await new HumanMonitor({ machine: m }).execute('info chardev')).toBe(
      'serial0: filename=ringbuf\r\n',
    );
  });

  it('answers errors in QEMU words and never throws', async () => {
    const mon = new HumanMonitor({ machine: noneMachine() });
    expect(await mon.execute('foo')).toBe("unknown command: 'foo'\r\n");
    expect(await mon.execute('info foo')).toBe("unknown command: 'info foo'\r\n");
    expect(await mon.execute('x/4z 0')).toBe(
      `invalid char in format: 'z'\r\nTry "help x" for more information\r\n`,
    );
    expect(await mon.execute('info registers')).toBe('No CPU available\r\n');
    expect(await mon.execute('xp /99999999999999999999g 0')).toBe('xp: at most 1048576 bytes per dump\r\n');
  });

  it('lists the info subcommands for "info" alone', async () => {
    const text = await new HumanMonitor({ machine: noneMachine() }).execute('info');
    expect(text.split('\r\n').filter((l) => l !== '')).toHaveLength(8);
    expect(text).toContain(
      'info qom-tree [path] -- show the object composition tree from /machine or from [path]\r\n',
    );
  });

  it('changes the log items at run time and rejects unknown ones with the item list', async () => {
    const m = noneMachine();
    const mon = new HumanMonitor({ machine: m });
    expect(await mon.execute('log unimp,guest_errors')).toBe('');
    expect(m.log.on(LogCat.Unimp) && m.log.on(LogCat.GuestErrors)).toBe(true);
    expect(await mon.execute('log none')).toBe('');
    expect(m.log.mask).toBe(0);
    expect((await mon.execute('log bogus')).startsWith('Log items (comma separated):\r\nnone ')).toBe(true);
  });

  it('sends the log to a file with logfile, and reports a file it cannot open', async () => {
    const m = noneMachine();
    const mon = new HumanMonitor({ machine: m });
    const file = join(mkdtempSync(join(tmpdir(), 'hmp-')), 'log.txt');
    expect(await mon.execute(`logfile ${file}`)).toBe('');
    m.log.write('hello');
    m.log.close();
    expect(readFileSync(file, 'utf8')).toBe('hello\n');
    expect(await mon.execute('logfile /nonexistent/dir/x.log')).toMatch(
      /^Error: \/nonexistent\/dir\/x\.log: /,
    );
  });

  it('runs stop, cont, system_reset, system_powerdown and quit through the machine and hooks', async () => {
    const m = noneMachine();
    const events: string[] = [];
    m.events.on('reset', (guest, reason) => events.push(`reset ${guest} ${reason}`));
    m.events.on('shutdown', (guest, reason) => events.push(`shutdown ${guest} ${reason}`));
    const mon = new HumanMonitor({
      machine: m,
      onQuit: () => events.push('quit hook'),
      onPowerdown: () => events.push('powerdown hook'),
    });
    await mon.execute('system_reset');
    await mon.execute('system_powerdown');
    await mon.execute('q');
    expect(events).toEqual([
      'reset false host-qmp-system-reset',
      'powerdown hook',
      'shutdown false host-qmp-quit',
      'quit hook',
    ]);
    expect(m.runState).toBe('shutdown');
  });

  it('answers gdbserver with the hook, or says the stub is missing', async () => {
    const started: string[] = [];
    const withStub = new HumanMonitor({
      machine: noneMachine(),
      startGdbServer: (d) => {
        if (d === 'bad') throw new Error('cannot');
        started.push(d);
      },
    });
    expect(await withStub.execute('gdbserver')).toBe("Waiting for gdb connection on device 'tcp::1234'\r\n");
    expect(await withStub.execute('gdbserver unix:/tmp/g.sock')).toBe(
      "Waiting for gdb connection on device 'unix:/tmp/g.sock'\r\n",
    );
    expect(await withStub.execute('gdbserver none')).toBe('Disabled gdbserver\r\n');
    expect(await withStub.execute('gdbserver bad')).toBe("Could not open gdbserver on device 'bad'\r\n");
    expect(started).toEqual(['tcp::1234', 'unix:/tmp/g.sock', 'none']);
    const without = new HumanMonitor({ machine: noneMachine() });
    expect(await without.execute('gdbserver')).toBe(
      'gdbserver: the GDB stub is not available in this build of tsemu\r\n',
    );
  });

  it('waits for a machine given later before running commands', async () => {
    const mon = new HumanMonitor({ machine: null });
    const pending = mon.execute('info status');
    mon.setMachine(noneMachine());
    expect(await pending).toBe('VM status: paused (prelaunch)\r\n');
  });
});

describe.skipIf(!HAVE_FIRMWARE)('commands on a micro:bit with MicroPython', () => {
  it('prints the registers after reset as QEMU does for an M-profile core', async () => {
    const mon = new HumanMonitor({ machine: micropython() });
    // Reset state: SP and PC from the vector table (0x20004000, 0x0001ccd9), LR all ones,
    // xPSR with only the Thumb bit, thread mode.
    expect(await mon.execute('info registers')).toBe(
      '\r\nCPU#0\r\n' +
        'R00=00000000 R01=00000000 R02=00000000 R03=00000000\r\n' +
        'R04=00000000 R05=00000000 R06=00000000 R07=00000000\r\n' +
        'R08=00000000 R09=00000000 R10=00000000 R11=00000000\r\n' +
        'R12=00000000 R13=20004000 R14=ffffffff R15=0001ccd8\r\n' +
        'XPSR=01000000 ---- T priv-thread\r\n',
    );
    expect(await mon.execute('info registers -a')).toBe(await mon.execute('info registers 0'));
    expect(await mon.execute('info registers 1')).toBe('CPU#1 not available\r\n');
  });

  it('dumps the vector table with x and xp, and memory at a register with $sp', async () => {
    const m = micropython();
    const mon = new HumanMonitor({ machine: m });
    expect(await mon.execute('x /4x 0')).toBe('00000000: 0x20004000 0x0001ccd9 0x0001cd15 0x0001cd17\r\n');
    expect(await mon.execute('xp /2wx 0')).toBe('0000000000000000: 0x20004000 0x0001ccd9\r\n');
    expect(await mon.execute('x/2x $pc & ~3')).toMatch(/^0001ccd8: 0x[0-9a-f]{8} 0x[0-9a-f]{8}\r\n$/);
  });

  it('shows the flags and handler mode once the firmware runs', async () => {
    const m = micropython();
    m.cpu.xpsr = 0xf100_000b;
    const text = await new HumanMonitor({ machine: m }).execute('info registers');
    expect(text.split('\r\n')[6]).toBe('XPSR=f100000b NZCV T handler');
  });

  it('lists the SoC objects at QEMU paths and the devices on the system bus', async () => {
    const mon = new HumanMonitor({ machine: micropython() });
    const tree = await mon.execute('info qom-tree');
    expect(tree.startsWith('/machine (microbit-machine)\r\n')).toBe(true);
    expect(tree).toContain('\r\n  /nrf51 (nrf51-soc)\r\n');
    const qtree = await mon.execute('info qtree');
    expect(qtree).toContain('  dev: nrf51-soc, id ""\r\n    gpio-in "" 32\r\n    gpio-out "" 32\r\n');
    expect(qtree).toMatch(
      /dev: nrf51_soc\.uart, id ""\r\n(?: {4}.*\r\n)* {4}mmio 0000000040002000\/0000000000001000\r\n/,
    );
  });

  it('counts interrupt raises per NVIC input from the moment the monitor exists', async () => {
    const m = micropython();
    const mon = new HumanMonitor({ machine: m });
    expect(await mon.execute('info irq')).toBe('IRQ statistics for armv6m-scs:\r\n');
    // TEMP is peripheral 12: two rising edges on its interrupt line (a repeated high is not one).
    const line = m.soc.temp.gpioOut('', 0);
    line.set(1);
    line.set(1);
    line.set(0);
    line.set(1);
    expect(await mon.execute('info irq')).toBe('IRQ statistics for armv6m-scs:\r\n12: 2\r\n');
  });
});

describe('the (qemu) prompt on a chardev', () => {
  async function prompt(): Promise<{
    chr: RingbufChardev;
    term: TestTerminal;
    mon: HumanMonitor;
    type(t: string): Promise<void>;
  }> {
    const chr = new RingbufChardev('mon0');
    await chr.open();
    const term = new TestTerminal();
    const mon = startHumanMonitor({ machine: noneMachine(), chardev: chr, version: '0.1.0' });
    const pump = (): void => term.write(Buffer.from(chr.readAll()).toString('latin1'));
    pump();
    const type = async (t: string): Promise<void> => {
      chr.inject(t);
      await settle(() => {
        pump();
        return term.current === HMP_PROMPT || term.current.startsWith(HMP_PROMPT);
      });
      pump();
    };
    return { chr, term, mon, type };
  }

  it('greets with the banner and the prompt when the chardev opens', async () => {
    const { term } = await prompt();
    expect(term.lines).toEqual(["tsemu 0.1.0 monitor - type 'help' for more information", '(qemu) ']);
  });

  it('runs a typed command and prompts again', async () => {
    const { term, type } = await prompt();
    await type('info status\r');
    await settle(() => term.lines.length >= 4);
    expect(term.lines.slice(1)).toEqual(['(qemu) info status', 'VM status: paused (prelaunch)', '(qemu) ']);
  });

  it('edits with backspace and recalls the last command with the up arrow', async () => {
    const { term, type } = await prompt();
    await type('info versionn\x7f\r');
    await settle(() => term.lines.length >= 4);
    await type('\x1b[A');
    expect(term.current).toBe('(qemu) info version');
    await type('\r');
    await settle(() => term.lines.length >= 6);
    expect(term.lines.slice(1)).toEqual([
      '(qemu) info version',
      '0.1.0',
      '(qemu) info version',
      '0.1.0',
      '(qemu) ',
    ]);
  });

  it('keeps input typed while a command runs for after it', async () => {
    const { term, type } = await prompt();
    await type('info version\rinfo status\r');
    await settle(() => term.lines.length >= 6);
    expect(term.lines.slice(1)).toEqual([
      '(qemu) info version',
      '0.1.0',
      '(qemu) info status',
      'VM status: paused (prelaunch)',
      '(qemu) ',
    ]);
  });

  it('stops prompting after quit', async () => {
    const chr = new RingbufChardev('mon0');
    await chr.open();
    let quits = 0;
    startHumanMonitor({ machine: noneMachine(), chardev: chr, onQuit: () => quits++ });
    chr.readAll();
    chr.inject('quit\r');
    await settle(() => quits > 0);
    await settle(() => false);
    expect(quits).toBe(1);
    expect(Buffer.from(chr.readAll()).toString('latin1')).toBe('quit\r\n');
  });
});

describe('the monitor on a mon: mux', () => {
  async function muxed(): Promise<{ base: RingbufChardev; serial: RecordingFrontend; out(): string }> {
    const base = new RingbufChardev('serial0-base');
    const mux = new MuxChardev('serial0', base);
    await mux.open();
    // The monitor attaches first, the serial port last: the serial port has the focus.
    const mon = new HumanMonitor({ machine: null, version: '0.1.0' });
    mon.attachReadline(mux);
    const serial = new RecordingFrontend();
    mux.attach(serial);
    mon.setMachine(noneMachine());
    return { base, serial, out: () => Buffer.from(base.readAll()).toString('latin1') };
  }

  it('sends typing to the serial port until C-a c gives the monitor the focus', async () => {
    const { base, serial, out } = await muxed();
    // The mux was opened with the monitor focused; the serial port attaching takes the focus
    // ('mux-out'), on which the monitor ends its line as QEMU's does.
    expect(out()).toBe("tsemu 0.1.0 monitor - type 'help' for more information\r\n(qemu) \r\n");
    base.inject('abc\r');
    expect(serial.text).toBe('abc\r');
    base.inject('\x01cinfo status\r');
    let text = '';
    await settle(() => {
      text += out();
      return text.includes('VM status');
    });
    // Getting the focus back ('mux-in') reprints the prompt.
    expect(text).toBe('(qemu) info status\r\nVM status: paused (prelaunch)\r\n(qemu) ');
    expect(serial.text).toBe('abc\r');
    base.inject('\x01cxyz');
    expect(serial.text).toBe('abc\rxyz');
  });

  it('holds its output while the mux says the focus is elsewhere, and prompts on return', async () => {
    const chr = new RingbufChardev('mon0');
    await chr.open();
    const mon = new HumanMonitor({ machine: noneMachine(), version: '0.1.0' });
    const fe = mon.attachReadline(chr);
    chr.readAll();
    fe.event('mux-out');
    expect(Buffer.from(chr.readAll()).toString('latin1')).toBe('\r\n');
    fe.event('opened');
    expect(chr.count).toBe(0);
    fe.event('mux-in');
    expect(Buffer.from(chr.readAll()).toString('latin1')).toBe(
      "tsemu 0.1.0 monitor - type 'help' for more information\r\n(qemu) ",
    );
  });
});
