/**
 * nRF51 RNG: the random number generator (nRF51 Series Reference Manual v3.0, chapter "RNG —
 * Random number generator"; instance at 0x4000D000, peripheral ID 13).
 *
 * Interface
 * - MMIO region 0: TASKS_START 0x000, TASKS_STOP 0x004, EVENTS_VALRDY 0x100, SHORTS 0x200
 *   (bit 0 VALRDY_STOP), INTENSET 0x304 / INTENCLR 0x308 (bit 0 VALRDY), CONFIG 0x504 (bit 0
 *   DERCEN, bias correction), VALUE 0x508 (bits 7:0, read-only), POWER 0xFFC.
 * - Lines: the IRQ, `event[0]` (VALRDY) for the PPI, `task[0..1]` (START, STOP).
 * - Property `seed` (string, default "0"): a 64-bit unsigned seed in decimal or 0x-hex. The
 *   machine passes its `-seed` here; the same seed always gives the same byte sequence. With no
 *   seed the machine chooses one (this device simply uses 0).
 *
 * Timing: while started, a new byte is written to VALUE and VALRDY is generated every 167 µs
 * without bias correction and every 677 µs with it (the nRF51822 product specification's
 * typical run time per byte), on the virtual clock.
 *
 * Accuracy: the bytes come from xoshiro128** seeded through splitmix64 (core/prng.ts), one
 * 32-bit draw per byte (its low 8 bits). They are uniformly distributed whether or not bias
 * correction is on; only the rate depends on DERCEN. The real chip's per-byte time varies; ours
 * is fixed. Everything else in the register interface is modelled; nothing is logged as
 * unimplemented.
 */
import type { Timer } from '../../core/clock.js';
import { isBool, isNum, isNumArray, type StateData, stateField } from '../../core/device.js';
import { parseSeed, Xoshiro128StarStar } from '../../core/prng.js';
import { registerDeviceType } from '../../core/registry.js';
import { Nrf51Peripheral, type NrfPeripheralLayout } from '../core/nrf51-peripheral.js';

/** ns per byte without bias correction. */
export const RNG_BYTE_NS = 167_000;
/** ns per byte with bias correction (CONFIG.DERCEN = 1). */
export const RNG_BYTE_DERCEN_NS = 677_000;

const EV_VALRDY = 0;
const CONFIG_DERCEN = 1;

export class Nrf51Rng extends Nrf51Peripheral {
  static readonly typeName = 'nrf51_soc.rng';
  private timer!: Timer;
  private prng = new Xoshiro128StarStar();
  private seed = 0n;
  private running = false;
  private configIndex = 0;
  private valueIndex = 0;

  constructor() {
    super(Nrf51Rng.typeName);
    this.declareProperty({
      name: 'seed',
      type: 'string',
      default: '0',
      description: '64-bit seed of the random byte sequence (decimal or 0x-hex; from -seed)',
    });
  }

  protected traceName(): string {
    return 'nrf51_rng';
  }

  protected layout(): NrfPeripheralLayout {
    return {
      tasks: [
        { name: 'START', offset: 0x000, run: () => this.start() },
        { name: 'STOP', offset: 0x004, run: () => this.stop() },
      ],
      events: [{ name: 'VALRDY', offset: 0x100 }],
      shorts: [{ bit: 0, event: 'VALRDY', task: 'STOP' }],
      hasPower: true,
      registers: [
        { name: 'CONFIG', offset: 0x504, writeMask: CONFIG_DERCEN },
        { name: 'VALUE', offset: 0x508, writeMask: 0 },
      ],
    };
  }

  protected override onRealizePeripheral(): void {
    this.seed = parseSeed(this.getString('seed'), `${this.path}: property 'seed'`);
    this.configIndex = this.regs.index('CONFIG');
    this.valueIndex = this.regs.index('VALUE');
    this.timer = this.clock.createTimer(`${this.path}:valrdy`, () => this.byteReady());
  }

  protected onResetPeripheral(): void {
    // Reset restarts the sequence, so a machine reset replays the same bytes.
    this.prng.reseed(this.seed);
    this.running = false;
    this.timer.cancel();
  }

  private bytePeriod(): number {
    return (this.regs.value(this.configIndex) & CONFIG_DERCEN) !== 0 ? RNG_BYTE_DERCEN_NS : RNG_BYTE_NS;
  }

  private start(): void {
    if (this.running) return;
    this.running = true;
    this.timer.modRel(this.bytePeriod());
  }

  private stop(): void {
    this.running = false;
    this.timer.cancel();
  }

  private byteReady(): void {
    this.regs.setValue(this.valueIndex, this.prng.nextU32() & 0xff);
    // Re-arm before generating the event: a VALRDY_STOP shortcut then cancels it.
    this.timer.modRel(this.bytePeriod());
    this.generateEvent(EV_VALRDY);
  }

  protected override savePeripheralState(): Record<string, StateData> {
    return {
      running: this.running,
      expires: this.timer.pending ? this.timer.expires : -1,
      prng: this.prng.getState(),
    };
  }

  protected override loadPeripheralState(state: StateData): void {
    this.running = stateField(state, 'running', isBool);
    this.prng.setState(stateField(state, 'prng', isNumArray));
    const expires = stateField(state, 'expires', isNum);
    if (expires >= 0) this.timer.modAbs(expires);
    else this.timer.cancel();
  }
}

registerDeviceType({
  name: Nrf51Rng.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 random number generator (seedable)',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51Rng(),
});
