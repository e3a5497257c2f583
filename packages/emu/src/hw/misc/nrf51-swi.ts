/**
 * nRF51 SWI0-SWI5: the software interrupts (nRF51 Series Reference Manual v3.0, chapter "SWI —
 * Software interrupts"; instances at 0x40014000-0x40019000, peripheral IDs 20-25).
 *
 * These "peripherals" exist only to own an interrupt number: firmware pends their IRQ through
 * the NVIC (ISPR/STIR) and uses the handler, and the SoftDevice uses some as event channels.
 * They have no registers and no hardware events.
 *
 * Interface: one device per instance, MMIO region 0 = its 4 KiB block, which reads 0, ignores
 * writes and logs every access under -d unimp (there is nothing to model there). No lines: the
 * NVIC line of the instance is only ever pended by software.
 *
 * Accuracy: complete (the block has no function beyond its interrupt number).
 */
import { Device, type StateData } from '../../core/device.js';
import { MemoryRegion } from '../../core/memory.js';
import { registerDeviceType } from '../../core/registry.js';

export class Nrf51Swi extends Device {
  static readonly typeName = 'nrf51_soc.swi';

  constructor() {
    super(Nrf51Swi.typeName);
  }

  protected onRealize(): void {
    // Named after the instance (swi0-swi5) so that -d unimp lines say which one was touched.
    this.addMmio(
      MemoryRegion.unimplemented(this.name !== '' ? `nrf51_soc.${this.name}` : 'nrf51_soc.swi', 0x1000),
    );
  }

  protected onReset(): void {}

  saveState(): StateData {
    return {};
  }

  loadState(_state: StateData): void {}
}

registerDeviceType({
  name: Nrf51Swi.typeName,
  parent: 'sys-bus-device',
  description: 'nRF51 software interrupt block (no registers)',
  userCreatable: false,
  category: 'Misc devices',
  create: () => new Nrf51Swi(),
});
