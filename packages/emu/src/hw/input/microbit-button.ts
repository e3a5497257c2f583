/**
 * A micro:bit push button (A on P0.17, B on P0.26 on the v1 board; schematic v1.3/v1.5).
 *
 * Interface
 * - Output line `pin[0]`: the level the button puts on its GPIO pin. The board has an external
 *   pull-up, so the pin reads 1 while released and 0 while pressed (active low).
 * - Mutable property `pressed` (bool), so QMP `qom-set` and the UI can press it.
 * - Methods `press()`, `release()`, and `click(holdNs)` which releases after `holdNs` of
 *   virtual time (a press firmware sees for exactly that long).
 *
 * Accuracy: no contact bounce (the runtimes debounce in software anyway; a clean edge is what
 * a well-behaved button gives them).
 */
import type { Timer } from '../../core/clock.js';
import { Device, isBool, isNum, type StateData, stateField } from '../../core/device.js';
import type { OutputLine } from '../../core/lines.js';
import { registerDeviceType } from '../../core/registry.js';

export class MicrobitButton extends Device {
  static readonly typeName = 'microbit.button';
  private line!: OutputLine;
  private releaseTimer!: Timer;
  private down = false;

  constructor() {
    super(MicrobitButton.typeName);
    this.declareProperty({
      name: 'pressed',
      type: 'bool',
      mutable: true,
      description: 'whether the button is held down',
      get: () => this.down,
      set: (v) => (v ? this.press() : this.release()),
    });
  }

  protected onRealize(): void {
    this.line = this.addGpioOut('pin', 1)[0]!;
    this.releaseTimer = this.clock.createTimer(`${this.path}.release`, () => this.release());
  }

  protected onReset(): void {
    // A button is mechanical: a chip reset does not release it.
    this.line.set(this.down ? 0 : 1);
  }

  get isPressed(): boolean {
    return this.down;
  }

  press(): void {
    this.releaseTimer?.cancel();
    this.down = true;
    this.line?.set(0);
  }

  release(): void {
    this.releaseTimer?.cancel();
    this.down = false;
    this.line?.set(1);
  }

  /** Presses now and releases after `holdNs` of virtual time (default 100 ms). */
  click(holdNs = 100_000_000): void {
    this.press();
    this.releaseTimer.modRel(holdNs);
  }

  saveState(): StateData {
    return { down: this.down, release: this.releaseTimer.pending ? this.releaseTimer.expires : -1 };
  }

  loadState(state: StateData): void {
    this.down = stateField(state, 'down', isBool);
    const at = stateField(state, 'release', isNum);
    if (at >= 0) this.releaseTimer.modAbs(at);
    else this.releaseTimer.cancel();
    this.line.set(this.down ? 0 : 1);
  }
}

registerDeviceType({
  name: MicrobitButton.typeName,
  parent: 'device',
  description: 'micro:bit push button (active low, external pull-up)',
  userCreatable: false,
  category: 'Input devices',
  create: () => new MicrobitButton(),
});
