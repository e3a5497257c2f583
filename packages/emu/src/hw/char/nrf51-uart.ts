/**
 * nRF51 UART — universal asynchronous receiver/transmitter (nRF51 Series Reference Manual v3.0,
 * chapter "UART — Universal asynchronous receiver/transmitter"). UART0 sits at 0x40002000 (ID 2).
 *
 * Interface
 * - MMIO region 0 (4 KiB): tasks STARTRX 0x000, STOPRX 0x004, STARTTX 0x008, STOPTX 0x00C,
 *   SUSPEND 0x01C; events CTS 0x100, NCTS 0x104, RXDRDY 0x108, TXDRDY 0x11C, ERROR 0x124,
 *   RXTO 0x144; SHORTS 0x200 (CTS_STARTRX bit 3, NCTS_STOPRX bit 4); INTENSET/INTENCLR 0x304/0x308;
 *   ERRORSRC 0x480 (OVERRUN 0, PARITY 1, FRAMING 2, BREAK 3; write 1 to clear); ENABLE 0x500
 *   (4 = enabled); PSELRTS/PSELTXD/PSELCTS/PSELRXD 0x508-0x514 (reset 0xFFFFFFFF); RXD 0x518;
 *   TXD 0x51C; BAUDRATE 0x524 (reset 0x04000000, 250 kbaud); CONFIG 0x56C (HWFC bit 0, PARITY
 *   bits 3:1, 7 = parity included); POWER 0xFFC.
 * - Lines: the common nRF51 peripheral lines (IRQ `''[0]`, `event[i]` in the event order above,
 *   `task[i]` in the task order above).
 * - Property `chardev`: id of the character device (under /chardevs) the UART is the frontend of.
 *
 * Timing (virtual clock): one character is 10 bit times (start, 8 data, stop), 11 with parity.
 * The baud rate is the nominal rate of the BAUDRATE value the manual lists (115200 for
 * 0x01D7E000, ...), and BAUDRATE × 16 MHz / 2^32 for any other value; the character time is
 * rounded up to whole ns. A byte written to TXD while TX is started goes to the chardev and
 * generates TXDRDY one character time later. Received bytes also take one character time each
 * to arrive: the chardev hands over one byte at a time while a byte is not already "on the wire"
 * and the 6-byte RX FIFO has room, so a burst of input reaches firmware at the line rate.
 *
 * Reception never drops input: while RX is stopped or suspended, the UART is disabled or the FIFO
 * is full, the UART takes nothing and the chardev keeps the bytes queued (its flow control stands
 * in for RTS). Reading RXD pops the FIFO; when another byte is waiting it moves into RXD and
 * RXDRDY is generated again. STARTRX and reading RXD let the chardev deliver again.
 *
 * Accuracy
 * - Modelled: the tasks and events above, the 6-byte RX FIFO with RXDRDY per byte moved into RXD,
 *   TX with one holding byte (a TXD written while a byte is being shifted out is sent after it),
 *   TXDRDY after one character time, SUSPEND (TX finishes the byte in progress, then stops; RX
 *   stops taking bytes; STARTTX/STARTRX resume), STOPTX (aborts the byte in progress: it is not
 *   sent), STOPRX (RXTO once the byte on the wire, if any, has arrived), a break from the chardev
 *   (ERRORSRC.BREAK and ERROR while RX runs), parity's effect on the character time.
 * - Flow control: the host side always accepts output, so CTS counts as always active; CTS/NCTS
 *   events are never generated and their shortcuts never fire. RTS is the chardev's flow control.
 *   Because of that flow control the FIFO never overruns; ERRORSRC.OVERRUN, PARITY and FRAMING
 *   are never set.
 * - Pins: the chardev is wired to the pins named by the properties `tx-pin` and `rx-pin` (the
 *   board's serial connection; -1, the default, means any pin). Bytes reach the chardev only
 *   while PSELTXD selects `tx-pin`, and the chardev's input is taken only while PSELRXD selects
 *   `rx-pin` (until then it stays queued in the chardev). Bytes sent on other pins are not
 *   turned into pin levels (a serial bit stream on a GPIO is not modelled).
 */
import { Chardev, type CharEvent, type CharFrontend } from '../../chardev/chardev.js';
import type { Timer } from '../../core/clock.js';
import { mulDivCeil } from '../../core/counter.js';
import { isBool, isNum, isNumArray, type StateData, stateField } from '../../core/device.js';
import { UserError } from '../../core/errors.js';
import { LogCat } from '../../core/log.js';
import { registerDeviceType } from '../../core/registry.js';
import { Nrf51Peripheral, type NrfPeripheralLayout } from '../core/nrf51-peripheral.js';

export const NRF51_UART_FIFO_SIZE = 6;
const ENABLE_ENABLED = 4;
const ERRORSRC_BREAK = 1 << 3;
const CONFIG_PARITY_MASK = 0b1110;
/** The lowest rate the manual lists (1200 baud); smaller BAUDRATE values are clamped to it. */
const BAUDRATE_MIN = 0x0004_f000;

/** Nominal baud rate of each BAUDRATE value the manual lists. */
const NOMINAL_BAUD = new Map<number, number>([
  [0x0004_f000, 1200],
  [0x0009_d000, 2400],
  [0x0013_b000, 4800],
  [0x0027_5000, 9600],
  [0x003b_0000, 14400],
  [0x004e_a000, 19200],
  [0x0075_f000, 28800],
  [0x0080_0000, 31250],
  [0x009d_5000, 38400],
  [0x00e5_0000, 56000],
  [0x00eb_f000, 57600],
  [0x013a_9000, 76800],
  [0x01d7_e000, 115200],
  [0x03af_b000, 230400],
  [0x0400_0000, 250000],
  [0x075f_7000, 460800],
  [0x0ebe_dfa4, 921600],
  [0x1000_0000, 1000000],
]);

/** Event indices (layout order). */
const EV_RXDRDY = 2;
const EV_TXDRDY = 3;
const EV_ERROR = 4;
const EV_RXTO = 5;

/** Duration of one character of `bits` bits at BAUDRATE register value `baudrate`, in ns. */
export function nrf51UartCharNs(baudrate: number, bits: number): number {
  const nominal = NOMINAL_BAUD.get(baudrate);
  if (nominal !== undefined) return Math.ceil((bits * 1e9) / nominal);
  // baud = BAUDRATE · 16 MHz / 2^32, so one bit lasts 2^32 / (BAUDRATE · 16 MHz) s = 125 · 2^31 / BAUDRATE ns.
  return mulDivCeil(bits * 125, 2 ** 31, Math.max(baudrate, BAUDRATE_MIN));
}

export class Nrf51Uart extends Nrf51Peripheral implements CharFrontend {
  static readonly typeName = 'nrf51_soc.uart';
  private chardev: Chardev | null = null;
  private txTimer!: Timer;
  private rxTimer!: Timer;
  private enableIndex = 0;
  private errorsrcIndex = 0;
  private charNs = 0;
  private txStarted = false;
  private rxStarted = false;
  /** The byte being shifted out (valid while txTimer is pending). */
  private txShift = 0;
  /** A byte written to TXD that waits for the transmitter. */
  private txHolding = -1;
  /** The byte on the RX wire (valid while rxTimer is pending). */
  private rxWire = 0;
  /** STOPRX was triggered while a byte was on the wire: RXTO follows its arrival. */
  private rxtoPending = false;
  private readonly rxFifo = new Uint8Array(NRF51_UART_FIFO_SIZE);
  private rxHead = 0;
  private rxCount = 0;
  /** What RXD reads when the FIFO is empty (the last byte it held). */
  private rxdLast = 0;
  /** Reused for chardev writes (hot path: no allocation per byte). */
  private readonly txBuf = new Uint8Array(1);

  constructor() {
    super(Nrf51Uart.typeName);
    this.declareProperty({
      name: 'chardev',
      type: 'string',
      default: '',
      description: 'ID of the character device connected to the UART',
    });
    this.declareProperty({
      name: 'tx-pin',
      type: 'int',
      default: -1,
      min: -1,
      max: 31,
      description: 'GPIO pin the chardev listens on (-1: any)',
    });
    this.declareProperty({
      name: 'rx-pin',
      type: 'int',
      default: -1,
      min: -1,
      max: 31,
      description: 'GPIO pin the chardev drives (-1: any)',
    });
  }

  /** Whether PSEL register `reg` selects `pin` (or the pin is not constrained). */
  private routed(reg: 'PSELTXD' | 'PSELRXD', pin: number): boolean {
    return pin < 0 || this.regs.get(reg) === pin;
  }

  protected traceName(): string {
    return 'nrf51_uart';
  }

  protected layout(): NrfPeripheralLayout {
    return {
      tasks: [
        { name: 'STARTRX', offset: 0x000, run: () => this.startRx() },
        { name: 'STOPRX', offset: 0x004, run: () => this.stopRx() },
        { name: 'STARTTX', offset: 0x008, run: () => this.startTx() },
        { name: 'STOPTX', offset: 0x00c, run: () => this.stopTx() },
        { name: 'SUSPEND', offset: 0x01c, run: () => this.suspend() },
      ],
      events: [
        { name: 'CTS', offset: 0x100 },
        { name: 'NCTS', offset: 0x104 },
        { name: 'RXDRDY', offset: 0x108 },
        { name: 'TXDRDY', offset: 0x11c },
        { name: 'ERROR', offset: 0x124 },
        { name: 'RXTO', offset: 0x144 },
      ],
      shorts: [
        { bit: 3, event: 'CTS', task: 'STARTRX' },
        { bit: 4, event: 'NCTS', task: 'STOPRX' },
      ],
      hasPower: true,
      registers: [
        { name: 'ERRORSRC', offset: 0x480, writeMask: 0, w1c: 0xf },
        { name: 'ENABLE', offset: 0x500, writeMask: 0x7, onWrite: (v, old) => this.enableWritten(v, old) },
        { name: 'PSELRTS', offset: 0x508, reset: 0xffff_ffff },
        { name: 'PSELTXD', offset: 0x50c, reset: 0xffff_ffff },
        { name: 'PSELCTS', offset: 0x510, reset: 0xffff_ffff },
        { name: 'PSELRXD', offset: 0x514, reset: 0xffff_ffff, onWrite: () => this.chardev?.acceptInput() },
        { name: 'RXD', offset: 0x518, writeMask: 0, onRead: () => this.readRxd() },
        { name: 'TXD', offset: 0x51c, writeMask: 0xff, onWrite: (v) => this.writeTxd(v & 0xff) },
        { name: 'BAUDRATE', offset: 0x524, reset: 0x0400_0000, onWrite: () => this.updateCharTime() },
        { name: 'CONFIG', offset: 0x56c, writeMask: 0xf, onWrite: () => this.updateCharTime() },
      ],
    };
  }

  protected override onRealizePeripheral(): void {
    this.enableIndex = this.regs.index('ENABLE');
    this.errorsrcIndex = this.regs.index('ERRORSRC');
    this.txTimer = this.clock.createTimer(`${this.path}.tx`, () => this.txDone());
    this.rxTimer = this.clock.createTimer(`${this.path}.rx`, () => this.rxArrived());
    const id = this.getString('chardev');
    if (id !== '') {
      const node = this.resolve(`/chardevs/${id}`);
      if (!(node instanceof Chardev)) throw new UserError(`${this.typeName}: chardev '${id}' not found`);
      this.chardev = node;
      node.attach(this);
    }
  }

  protected onResetPeripheral(): void {
    this.txTimer.cancel();
    this.rxTimer.cancel();
    this.txStarted = false;
    this.rxStarted = false;
    this.txHolding = -1;
    this.rxtoPending = false;
    this.rxHead = 0;
    this.rxCount = 0;
    this.rxdLast = 0;
    this.updateCharTime();
  }

  /** One character time at the current BAUDRATE and CONFIG, in ns. */
  get characterTimeNs(): number {
    return this.charNs;
  }

  private enabled(): boolean {
    return (this.regs.value(this.enableIndex) & 7) === ENABLE_ENABLED;
  }

  private updateCharTime(): void {
    const parity = (this.regs.get('CONFIG') & CONFIG_PARITY_MASK) !== 0;
    this.charNs = nrf51UartCharNs(this.regs.get('BAUDRATE'), parity ? 11 : 10);
  }

  private enableWritten(value: number, old: number): void {
    if ((value & 7) !== ENABLE_ENABLED && (old & 7) === ENABLE_ENABLED) {
      // Disabling stops both directions; a byte being sent is lost, one being received lands.
      this.txStarted = false;
      this.rxStarted = false;
      this.txTimer.cancel();
    }
    if ((value & 7) === ENABLE_ENABLED && (old & 7) !== ENABLE_ENABLED) {
      // Tasks triggered before ENABLE take effect now.
      this.shiftNext();
      this.chardev?.acceptInput();
    }
    if ((value & 7) !== ENABLE_ENABLED && (value & 7) !== 0 && this.log.on(LogCat.GuestErrors)) {
      this.log.write(`${this.path}: ENABLE value ${value & 7} is reserved (4 enables the UART)`);
    }
  }

  // ---- transmitter -------------------------------------------------------------------------------

  private startTx(): void {
    this.txStarted = true;
    this.shiftNext();
  }

  private stopTx(): void {
    this.txStarted = false;
    this.txTimer.cancel();
  }

  private suspend(): void {
    // The byte being shifted out completes (txTimer stays armed); nothing follows it.
    this.txStarted = false;
    this.rxStarted = false;
  }

  private writeTxd(byte: number): void {
    if (this.txHolding >= 0 && this.log.on(LogCat.GuestErrors)) {
      this.log.write(`${this.path}: TXD written before the previous byte left the holding register`);
    }
    this.txHolding = byte;
    this.shiftNext();
  }

  /** Starts shifting out the held byte when the transmitter can. */
  private shiftNext(): void {
    if (!this.txStarted || this.txHolding < 0 || this.txTimer.pending || !this.enabled()) return;
    this.txShift = this.txHolding;
    this.txHolding = -1;
    this.txTimer.modRel(this.charNs);
  }

  private txDone(): void {
    if (this.chardev !== null && this.routed('PSELTXD', this.getInt('tx-pin'))) {
      this.txBuf[0] = this.txShift;
      this.chardev.write(this.txBuf);
    }
    this.generateEvent(EV_TXDRDY);
    this.shiftNext();
  }

  // ---- receiver ----------------------------------------------------------------------------------

  private startRx(): void {
    this.rxStarted = true;
    this.chardev?.acceptInput();
  }

  private stopRx(): void {
    this.rxStarted = false;
    if (this.rxTimer.pending) this.rxtoPending = true;
    else this.generateEvent(EV_RXTO);
  }

  canReceive(): number {
    if (!this.realized || !this.rxStarted || this.rxTimer.pending || !this.enabled()) return 0;
    if (!this.routed('PSELRXD', this.getInt('rx-pin'))) return 0;
    return this.rxCount < NRF51_UART_FIFO_SIZE ? 1 : 0;
  }

  receive(data: Uint8Array): void {
    if (data.length === 0) return;
    // The byte takes one character time to arrive.
    this.rxWire = data[0]!;
    this.rxTimer.modRel(this.charNs);
  }

  event(event: CharEvent): void {
    if (event !== 'break' || !this.realized || !this.rxStarted || !this.enabled()) return;
    this.regs.setValue(this.errorsrcIndex, this.regs.value(this.errorsrcIndex) | ERRORSRC_BREAK);
    this.generateEvent(EV_ERROR);
  }

  private rxArrived(): void {
    // canReceive kept the FIFO from filling, so there is room.
    this.rxFifo[(this.rxHead + this.rxCount) % NRF51_UART_FIFO_SIZE] = this.rxWire;
    this.rxCount++;
    if (this.rxCount === 1) this.generateEvent(EV_RXDRDY);
    if (this.rxtoPending) {
      this.rxtoPending = false;
      this.generateEvent(EV_RXTO);
    }
    this.chardev?.acceptInput();
  }

  private readRxd(): number {
    if (this.rxCount === 0) return this.rxdLast;
    const byte = this.rxFifo[this.rxHead]!;
    this.rxdLast = byte;
    this.rxHead = (this.rxHead + 1) % NRF51_UART_FIFO_SIZE;
    this.rxCount--;
    // The next waiting byte moves into RXD.
    if (this.rxCount > 0) this.generateEvent(EV_RXDRDY);
    this.chardev?.acceptInput();
    return byte;
  }

  /** Bytes waiting in the RX FIFO (including the one RXD shows). */
  get rxFifoLevel(): number {
    return this.rxCount;
  }

  // ---- snapshot ----------------------------------------------------------------------------------

  protected override savePeripheralState(): Record<string, StateData> {
    const fifo: number[] = [];
    for (let i = 0; i < this.rxCount; i++) fifo.push(this.rxFifo[(this.rxHead + i) % NRF51_UART_FIFO_SIZE]!);
    return {
      txStarted: this.txStarted,
      rxStarted: this.rxStarted,
      txShift: this.txShift,
      txHolding: this.txHolding,
      txDoneAt: this.txTimer.pending ? this.txTimer.expires : -1,
      rxWire: this.rxWire,
      rxArriveAt: this.rxTimer.pending ? this.rxTimer.expires : -1,
      rxtoPending: this.rxtoPending,
      rxFifo: fifo,
      rxdLast: this.rxdLast,
    };
  }

  protected override loadPeripheralState(state: StateData): void {
    const fifo = stateField(state, 'rxFifo', isNumArray);
    if (fifo.length > NRF51_UART_FIFO_SIZE) {
      throw new UserError(`snapshot: ${this.path} RX FIFO holds more than ${NRF51_UART_FIFO_SIZE} bytes`);
    }
    this.txStarted = stateField(state, 'txStarted', isBool);
    this.rxStarted = stateField(state, 'rxStarted', isBool);
    this.txShift = stateField(state, 'txShift', isNum) & 0xff;
    this.txHolding = stateField(state, 'txHolding', isNum);
    this.rxWire = stateField(state, 'rxWire', isNum) & 0xff;
    this.rxtoPending = stateField(state, 'rxtoPending', isBool);
    this.rxdLast = stateField(state, 'rxdLast', isNum) & 0xff;
    this.rxHead = 0;
    this.rxCount = fifo.length;
    for (let i = 0; i < fifo.length; i++) this.rxFifo[i] = fifo[i]! & 0xff;
    const txDoneAt = stateField(state, 'txDoneAt', isNum);
    if (txDoneAt >= 0) this.txTimer.modAbs(txDoneAt);
    else this.txTimer.cancel();
    const rxArriveAt = stateField(state, 'rxArriveAt', isNum);
    if (rxArriveAt >= 0) this.rxTimer.modAbs(rxArriveAt);
    else this.rxTimer.cancel();
    this.updateCharTime();
  }
}

registerDeviceType({
  name: Nrf51Uart.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 UART',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51Uart(),
});
