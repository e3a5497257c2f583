/**
 * tsemu-testdev — a small test device that proves the core end to end (like QEMU's
 * `pc-testdev`/`edu`, but our own design). Not real hardware: its "datasheet" is this header.
 *
 * Interface
 * - MMIO region 0 (4 KiB), little-endian 32-bit registers:
 *     0x000 ID           RO   0x56445354 ("TSDV")
 *     0x004 VERSION      RO   1
 *     0x008 SCRATCH      RW   reset 0
 *     0x00C CTRL         RW   bit0 TIMER_EN, bit1 PERIODIC, bit2 ECHO (received bytes are sent back)
 *     0x010 PERIOD       RW   timer period in 1 MHz ticks (µs), reset 1000; 0 is treated as 1
 *     0x014 COUNTER      RO   1 MHz counter, runs while TIMER_EN (computed lazily from the clock)
 *     0x018 STATUS       W1C  bit0 EXPIRED; bit1 RXREADY (read-only, cleared by reading RXD)
 *     0x01C INTEN        RW   bit0 EXPIRED, bit1 RXREADY
 *     0x020 INTENSET     W1S  alias of INTEN
 *     0x024 INTENCLR     W1C  alias of INTEN
 *     0x028 TXD          WO   low byte is written to the chardev
 *     0x02C RXD          RO   the received byte; reading it frees the receiver for the next byte
 *     0x030 EXPIRIES     RO   number of timer expiries since reset
 *     0x034 TASK_CLEAR   task writing 1 clears COUNTER and EXPIRIES
 * - Trace events: `tsemu_testdev_read`, `tsemu_testdev_write` (`-d trace:tsemu_testdev_*`).
 * - Output line: unnamed-gpio-out[0] = IRQ, level (STATUS & INTEN) != 0.
 * - Input lines: unnamed-gpio-in[0..3] are latched into bits 0..3 of register 0x038 INPUTS (RO).
 * - Properties: `chardev` (string, the id of a -chardev to use as its serial port; optional),
 *   `addr` (where a machine that maps user devices, such as `none`, places region 0).
 *
 * Accuracy: fully modelled (it is defined by this file). The receiver holds one byte; while it
 * is full the device refuses input, so the chardev layer queues the rest (flow control).
 */
import type { Chardev, CharFrontend } from '../../chardev/chardev.js';
import type { Timer } from '../../core/clock.js';
import { ClockCounter } from '../../core/counter.js';
import { Device, isNum, isNumArray, type StateData, stateField } from '../../core/device.js';
import { UserError } from '../../core/errors.js';
import type { OutputLine } from '../../core/lines.js';
import type { MemoryRegion } from '../../core/memory.js';
import { RegisterBlock } from '../../core/registers.js';
import { registerDeviceType } from '../../core/registry.js';

export const TESTDEV_ID = 0x56445354;
const CTRL_TIMER_EN = 1 << 0;
const CTRL_PERIODIC = 1 << 1;
const CTRL_ECHO = 1 << 2;
const ST_EXPIRED = 1 << 0;
const ST_RXREADY = 1 << 1;

export class TestDevice extends Device implements CharFrontend {
  static readonly typeName = 'tsemu-testdev';
  private regs!: RegisterBlock;
  private timer!: Timer;
  private counter!: ClockCounter;
  private irq!: OutputLine;
  private chardev: Chardev | null = null;
  private rxByte = 0;
  private inputs = 0;

  constructor() {
    super(TestDevice.typeName);
    this.declareProperty({
      name: 'chardev',
      type: 'string',
      default: '',
      description: 'ID of the character device used as the serial port',
    });
    this.declareProperty({
      name: 'addr',
      type: 'uint',
      default: 0x4000_0000,
      max: 0xffff_f000,
      description: 'guest address of the register block (machines that map user devices)',
    });
  }

  protected onRealize(): void {
    this.regs = new RegisterBlock({
      name: this.path,
      size: 0x1000,
      log: () => this.log,
      trace: 'tsemu_testdev',
      registers: [
        { name: 'ID', offset: 0x000, reset: TESTDEV_ID, writeMask: 0 },
        { name: 'VERSION', offset: 0x004, reset: 1, writeMask: 0 },
        { name: 'SCRATCH', offset: 0x008 },
        { name: 'CTRL', offset: 0x00c, writeMask: 0x7, onWrite: (v, old) => this.ctrlWritten(v, old) },
        { name: 'PERIOD', offset: 0x010, reset: 1000 },
        { name: 'COUNTER', offset: 0x014, writeMask: 0, onRead: () => this.counter.value >>> 0 },
        {
          name: 'STATUS',
          offset: 0x018,
          writeMask: 0,
          w1c: ST_EXPIRED,
          onWrite: () => this.updateIrq(),
        },
        { name: 'INTEN', offset: 0x01c, writeMask: 0x3, onWrite: () => this.updateIrq() },
        { name: 'INTENSET', offset: 0x020, setOf: 'INTEN', onWrite: () => this.updateIrq() },
        { name: 'INTENCLR', offset: 0x024, clearOf: 'INTEN', onWrite: () => this.updateIrq() },
        { name: 'TXD', offset: 0x028, onWrite: (v) => this.transmit(v & 0xff) },
        { name: 'RXD', offset: 0x02c, writeMask: 0, onRead: () => this.readRxd() },
        { name: 'EXPIRIES', offset: 0x030, writeMask: 0 },
        { name: 'TASK_CLEAR', offset: 0x034, task: true, onWrite: () => this.clearTask() },
        { name: 'INPUTS', offset: 0x038, writeMask: 0, onRead: () => this.inputs },
      ],
    });
    this.addMmio(this.regs.toRegion(`${this.typeName}.regs`));
    this.irq = this.addGpioOut('', 1)[0]!;
    this.addGpioIn('', 4, (level, index) => {
      const bit = 1 << index;
      this.inputs = level > 0 ? this.inputs | bit : this.inputs & ~bit;
    });
    this.timer = this.clock.createTimer(`${this.path}.timer`, () => this.expire());
    this.counter = new ClockCounter(this.clock, 1_000_000);
    const id = this.getString('chardev');
    if (id !== '') {
      const node = this.resolve(`/chardevs/${id}`);
      if (!node) throw new UserError(`${TestDevice.typeName}: chardev '${id}' not found`);
      this.chardev = node as Chardev;
      this.chardev.attach(this);
    }
  }

  protected onReset(): void {
    this.regs.reset();
    this.timer.cancel();
    this.counter.stop();
    this.counter.set(0);
    this.inputs = 0;
    this.rxByte = 0;
    this.irq.set(0);
    this.chardev?.acceptInput();
  }

  /** The register block, for tests and HMP dumps. */
  get registers(): RegisterBlock {
    return this.regs;
  }

  get mmioRegion(): MemoryRegion {
    return this.mmio(0);
  }

  private periodNs(): number {
    return Math.max(1, this.regs.get('PERIOD')) * 1000;
  }

  private ctrlWritten(value: number, old: number): void {
    const wasOn = (old & CTRL_TIMER_EN) !== 0;
    const on = (value & CTRL_TIMER_EN) !== 0;
    if (on && !wasOn) {
      this.counter.start();
      this.timer.modRel(this.periodNs());
    } else if (!on && wasOn) {
      this.counter.stop();
      this.timer.cancel();
    }
    if (value & CTRL_ECHO) this.chardev?.acceptInput();
  }

  private expire(): void {
    this.regs.set('STATUS', this.regs.get('STATUS') | ST_EXPIRED);
    this.regs.set('EXPIRIES', (this.regs.get('EXPIRIES') + 1) >>> 0);
    const ctrl = this.regs.get('CTRL');
    if (ctrl & CTRL_PERIODIC) this.timer.modRel(this.periodNs());
    else {
      this.regs.set('CTRL', ctrl & ~CTRL_TIMER_EN);
      this.counter.stop();
    }
    this.updateIrq();
  }

  private clearTask(): void {
    this.counter.set(0);
    this.regs.set('EXPIRIES', 0);
  }

  private updateIrq(): void {
    const level = (this.regs.get('STATUS') & this.regs.get('INTEN')) !== 0 ? 1 : 0;
    if (level !== this.irq.level) this.irq.set(level);
  }

  private transmit(byte: number): void {
    this.chardev?.write(Uint8Array.of(byte));
  }

  private readRxd(): number {
    const status = this.regs.get('STATUS');
    if ((status & ST_RXREADY) === 0) return 0;
    const byte = this.rxByte;
    this.regs.set('STATUS', status & ~ST_RXREADY);
    this.updateIrq();
    // The receiver is free again: the chardev may hand over the next queued byte at once.
    this.chardev?.acceptInput();
    return byte;
  }

  // ---- CharFrontend: input from the chardev --------------------------------------------------

  canReceive(): number {
    if (!this.realized) return 0;
    if (this.regs.get('CTRL') & CTRL_ECHO) return 1;
    return this.regs.get('STATUS') & ST_RXREADY ? 0 : 1;
  }

  receive(data: Uint8Array): void {
    if (this.regs.get('CTRL') & CTRL_ECHO) {
      this.chardev?.write(data);
      return;
    }
    this.rxByte = data[0]!;
    this.regs.set('STATUS', this.regs.get('STATUS') | ST_RXREADY);
    this.updateIrq();
  }

  // ---- snapshot --------------------------------------------------------------------------------

  saveState(): StateData {
    return {
      regs: this.regs.saveState(),
      counter: this.counter.saveState(),
      timer: this.timer.pending ? this.timer.expires : -1,
      rxByte: this.rxByte,
      inputs: this.inputs,
    };
  }

  loadState(state: StateData): void {
    this.regs.loadState(stateField(state, 'regs', isNumArray));
    this.counter.loadState(stateField(state, 'counter', (v): v is StateData => v !== undefined));
    const expires = stateField(state, 'timer', isNum);
    if (expires >= 0) this.timer.modAbs(expires);
    else this.timer.cancel();
    this.rxByte = stateField(state, 'rxByte', isNum);
    this.inputs = stateField(state, 'inputs', isNum);
    this.updateIrq();
  }
}

registerDeviceType({
  name: TestDevice.typeName,
  parent: 'sys-bus-device',
  description: 'tsemu test device: registers, a timer, an IRQ and a serial port',
  userCreatable: true,
  category: 'Misc devices',
  create: () => new TestDevice(),
});
