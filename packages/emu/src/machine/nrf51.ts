/**
 * nRF51822 SoC (QFAA: 256 KiB flash, 16 KiB RAM): the Cortex-M0, its System Control Space and
 * every peripheral of the nRF51 Series Reference Manual v3.0, wired as on the chip.
 *
 * Interface (the `nrf51-soc` device at /machine/nrf51, QEMU's path and type name)
 * - Unnamed GPIO input lines 0..31: the board's drive on each pin (QEMU's convention, so
 *   qtest `set_irq_in /machine/nrf51 unnamed-gpio-in N LEVEL` works); unnamed output lines
 *   0..31: what the chip drives on each pin (-1 while it drives nothing).
 * - `peripheral(name)` and typed fields for the board: `gpio`, `uart`, `twi0`, `adc`, `temp`, ...
 * - Memory map: flash at 0 (NVMC), FICR 0x10000000, UICR 0x10001000, SRAM 0x20000000, the
 *   peripherals at 0x40000000 + ID * 0x1000, GPIO at 0x50000000, the SCS at 0xE000E000 and the
 *   ROM table's peripheral ID words at 0xF0000FE0. Unmodelled parts of the peripheral space are
 *   unimplemented regions that log under `-d unimp`.
 *
 * Accuracy: see each device's file. The ROM table words report an nRF51822 revision 3 (the
 * micro:bit's), so firmware skips the manual peripheral set-up older revisions need.
 */
import type { Chardev } from '../chardev/chardev.js';
import { Device, type StateData } from '../core/device.js';
import type { Machine } from '../core/machine.js';
import { MemoryRegion } from '../core/memory.js';
import { ObjectNode } from '../core/object.js';
import { registerDeviceType } from '../core/registry.js';
import { CortexM0 } from '../cpu/arm/cortex-m0.js';
import { CpuNode } from '../cpu/arm/cpu-node.js';
import { installScs, SystemControlSpace } from '../cpu/arm/system-control-space.js';
import { Nrf51Adc } from '../hw/adc/nrf51-adc.js';
import { Nrf51Uart } from '../hw/char/nrf51-uart.js';
import type { NrfPpiEndpoints } from '../hw/core/nrf51-peripheral.js';
import { Nrf51CcmAar } from '../hw/crypto/nrf51-ccm-aar.js';
import { Nrf51Ecb } from '../hw/crypto/nrf51-ecb.js';
import { Nrf51Gpio } from '../hw/gpio/nrf51-gpio.js';
import { connectGpiote, Nrf51Gpiote } from '../hw/gpio/nrf51-gpiote.js';
import { Nrf51Clock, RESETREAS_DOG, RESETREAS_SREQ } from '../hw/misc/nrf51-clock.js';
import { Nrf51Lpcomp } from '../hw/misc/nrf51-lpcomp.js';
import { Nrf51Ppi, peripheralResolver } from '../hw/misc/nrf51-ppi.js';
import { Nrf51Qdec } from '../hw/misc/nrf51-qdec.js';
import { Nrf51Rng } from '../hw/misc/nrf51-rng.js';
import { Nrf51SerialBox } from '../hw/misc/nrf51-serial-box.js';
import { Nrf51Swi } from '../hw/misc/nrf51-swi.js';
import { Nrf51Wdt } from '../hw/misc/nrf51-wdt.js';
import { Nrf51Ficr } from '../hw/nvram/nrf51-ficr.js';
import { Nrf51Nvmc } from '../hw/nvram/nrf51-nvmc.js';
import { Nrf51Radio } from '../hw/radio/nrf51-radio.js';
import type { RadioMedium } from '../hw/radio/radio-medium.js';
import { Nrf51Temp } from '../hw/sensor/nrf51-temp.js';
import { Nrf51Rtc } from '../hw/timer/nrf51-rtc.js';
import { Nrf51Timer } from '../hw/timer/nrf51-timer.js';

export const NRF51_FLASH_BASE = 0x0000_0000;
export const NRF51_FICR_BASE = 0x1000_0000;
export const NRF51_UICR_BASE = 0x1000_1000;
export const NRF51_SRAM_BASE = 0x2000_0000;
export const NRF51_SRAM_SIZE = 16 * 1024;
export const NRF51_APB_BASE = 0x4000_0000;
export const NRF51_GPIO_BASE = 0x5000_0000;
export const NRF51_ROM_TABLE_BASE = 0xf000_0000;
/** The nRF51's CPU clock (HFCLK). */
export const NRF51_CPU_HZ = 16_000_000;

/** Base address of the peripheral with ID `id`; its IRQ number is the same ID. */
const apb = (id: number): number => NRF51_APB_BASE + id * 0x1000;

export interface Nrf51Options {
  /** Backend of UART0 (the board's serial port), or null. */
  serial: Chardev | null;
  /** The GPIO pins the board wires the serial port to (unset: any). */
  serialPins?: { tx: number; rx: number };
  /** Seed for the RNG (`-seed`). */
  seed?: bigint;
  /** The radio medium the RADIO joins (boards that share one can talk). */
  radioMedium?: RadioMedium;
}

/** The SoC node: forwards the GPIO pins as its own unnamed lines, as QEMU's nrf51-soc does. */
export class Nrf51Soc extends Device {
  static readonly typeName = 'nrf51-soc';
  readonly cpu: CortexM0;
  scs!: SystemControlSpace;
  clock0!: Nrf51Clock;
  radio!: Nrf51Radio;
  uart!: Nrf51Uart;
  box0!: Nrf51SerialBox;
  box1!: Nrf51SerialBox;
  gpiote!: Nrf51Gpiote;
  adc!: Nrf51Adc;
  timers: Nrf51Timer[] = [];
  rtcs: Nrf51Rtc[] = [];
  temp!: Nrf51Temp;
  rng!: Nrf51Rng;
  ecb!: Nrf51Ecb;
  ccmAar!: Nrf51CcmAar;
  wdt!: Nrf51Wdt;
  qdec!: Nrf51Qdec;
  lpcomp!: Nrf51Lpcomp;
  nvmc!: Nrf51Nvmc;
  ficr!: Nrf51Ficr;
  ppi!: Nrf51Ppi;
  gpio!: Nrf51Gpio;

  constructor(cpu: CortexM0) {
    super(Nrf51Soc.typeName);
    this.cpu = cpu;
  }

  protected onRealize(): void {
    // The pins: inputs go to the GPIO's board drive, outputs mirror the GPIO's.
    this.addGpioIn('', 32, (level, pin) => this.gpio.gpioIn('', pin).set(level));
    this.addGpioOut('', 32);
  }

  protected onReset(): void {}

  saveState(): StateData {
    return {};
  }

  loadState(_state: StateData): void {}
}

/**
 * Builds the SoC inside `machine`: creates, realizes, maps and wires every block. The machine
 * adds the CPU to its runner and resets it after the devices (see MicrobitMachine).
 */
export function buildNrf51(machine: Machine, options: Nrf51Options): Nrf51Soc {
  const cpu = new CortexM0('cpu0', machine.addressSpace);
  const soc = new Nrf51Soc(cpu);
  const add = <T extends Device>(name: string, dev: T): T => machine.addDevice(name, dev, soc);
  machine.addDevice('nrf51', soc, machine);

  // Memory: flash and UICR belong to the NVMC, which handles their writes.
  const nvmc = new Nrf51Nvmc();
  soc.nvmc = add('nvm', nvmc);
  machine.addMemory(NRF51_FLASH_BASE, nvmc.flash);
  machine.addMemory(NRF51_UICR_BASE, nvmc.uicr);
  machine.addMemory(NRF51_SRAM_BASE, MemoryRegion.ram('nrf51.sram', NRF51_SRAM_SIZE));
  soc.ficr = add('ficr', new Nrf51Ficr());
  machine.mapMmio(soc.ficr, 0, NRF51_FICR_BASE);
  machine.sysmem.addSubregion(NRF51_ROM_TABLE_BASE, romTable());
  // Everything of the peripheral space no model claims logs under -d unimp.
  machine.sysmem.addSubregion(NRF51_APB_BASE, MemoryRegion.unimplemented('nrf51_soc.io', 0x2_0000), -1);
  machine.sysmem.addSubregion(NRF51_GPIO_BASE, MemoryRegion.unimplemented('nrf51_soc.ahb', 0x1000), -1);

  // The core and its System Control Space (no SysTick on the nRF51).
  // The core in the object tree at QEMU's path (/machine/nrf51/armv6m/cpu).
  soc.addChild('armv6m', new ObjectNode('armv6m')).addChild('cpu', new CpuNode(cpu));
  soc.scs = installScs(
    machine,
    new SystemControlSpace(cpu, { systick: false, cpuClockHz: NRF51_CPU_HZ }),
    'scs',
    soc,
  );
  machine.addExecutor(cpu);

  const blocks: Array<{ base: number; peripheral: NrfPpiEndpoints }> = [];
  const mapApb = <T extends Device>(id: number, name: string, dev: T, irq = true): T => {
    add(name, dev);
    machine.mapMmio(dev, 0, apb(id));
    if (irq) dev.gpioOut('', 0).connect(soc.scs.gpioIn('', id));
    const endpoints = dev as unknown as Partial<NrfPpiEndpoints>;
    if (typeof endpoints.eventIndexAt === 'function') {
      blocks.push({ base: apb(id), peripheral: dev as unknown as NrfPpiEndpoints });
    }
    return dev;
  };

  soc.clock0 = mapApb(0, 'clock', new Nrf51Clock());
  soc.radio = mapApb(1, 'radio', new Nrf51Radio());
  const uart = new Nrf51Uart();
  if (options.serial) uart.setProperty('chardev', options.serial.id);
  if (options.serialPins) {
    uart.setProperty('tx-pin', options.serialPins.tx);
    uart.setProperty('rx-pin', options.serialPins.rx);
  }
  soc.uart = mapApb(2, 'uart', uart);
  soc.box0 = mapApb(3, 'spi_twi0', new Nrf51SerialBox());
  soc.box1 = mapApb(4, 'spi_twi1', new Nrf51SerialBox());
  soc.gpiote = mapApb(6, 'gpiote', new Nrf51Gpiote());
  soc.adc = mapApb(7, 'adc', new Nrf51Adc());
  for (let i = 0; i < 3; i++) {
    const t = new Nrf51Timer();
    // Only TIMER0 counts beyond 16 bits on the nRF51.
    if (i > 0) t.setProperty('max-bit-width', 16);
    soc.timers.push(mapApb(8 + i, `timer[${i}]`, t));
  }
  const rtc0 = new Nrf51Rtc();
  rtc0.setProperty('cc-count', 3);
  soc.rtcs.push(mapApb(11, 'rtc[0]', rtc0));
  soc.temp = mapApb(12, 'temp', new Nrf51Temp());
  const rng = new Nrf51Rng();
  if (options.seed !== undefined) rng.setProperty('seed', options.seed.toString());
  soc.rng = mapApb(13, 'rng', rng);
  soc.ecb = mapApb(14, 'ecb', new Nrf51Ecb());
  soc.ccmAar = mapApb(15, 'ccm_aar', new Nrf51CcmAar());
  soc.wdt = mapApb(16, 'wdt', new Nrf51Wdt());
  soc.rtcs.push(mapApb(17, 'rtc[1]', new Nrf51Rtc()));
  soc.qdec = mapApb(18, 'qdec', new Nrf51Qdec());
  soc.lpcomp = mapApb(19, 'lpcomp', new Nrf51Lpcomp());
  for (let i = 0; i < 6; i++) mapApb(20 + i, `swi${i}`, new Nrf51Swi(), false);
  machine.mapMmio(soc.nvmc, 0, apb(30));
  soc.ppi = mapApb(31, 'ppi', new Nrf51Ppi(), false);
  soc.gpio = add('gpio', new Nrf51Gpio());
  machine.mapMmio(soc.gpio, 0, NRF51_GPIO_BASE);

  // Wiring between blocks.
  soc.ppi.setResolver(peripheralResolver(blocks));
  connectGpiote(soc.gpio, soc.gpiote);
  for (const rtc of soc.rtcs) soc.clock0.gpioOut('lfclk', 0).connect(rtc.gpioIn('lfclk', 0));
  soc.ecb.setDma(machine.addressSpace);
  soc.ccmAar.setDma(machine.addressSpace);
  soc.radio.setDma(machine.addressSpace);
  if (options.radioMedium) soc.radio.setMedium(options.radioMedium);
  for (let pin = 0; pin < 32; pin++) {
    const out = soc.gpioOut('', pin);
    soc.gpio.gpioOut('', pin).watch((level) => out.set(level));
  }

  // Resets and power-off requested by the chip.
  soc.scs.onSystemResetRequest = () => {
    soc.clock0.setResetReason(RESETREAS_SREQ);
    machine.requestGuestReset();
  };
  soc.wdt.gpioOut('reset', 0).watch((level) => {
    if (level <= 0) return;
    soc.clock0.setResetReason(RESETREAS_DOG);
    // The pulse comes from inside a timer callback: reset once it has returned.
    const t = machine.clock.createTimer('nrf51.wdt-reset', () => machine.requestGuestReset());
    t.modRel(0);
  });
  soc.clock0.onSystemOff = () => machine.shutdown('guest-shutdown');
  return soc;
}

/**
 * The CoreSight ROM table's peripheral ID words. 0xF0000FE0/FE4/FE8/FEC identify the chip
 * revision to Nordic's start-up code; these values are those of an nRF51822 revision 3.
 */
function romTable(): MemoryRegion {
  const rom = MemoryRegion.rom('nrf51_soc.rom-table', 0x1000);
  const view = new DataView(rom.data!.buffer);
  view.setUint32(0xfe0, 0x01, true);
  view.setUint32(0xfe4, 0x00, true);
  view.setUint32(0xfe8, 0x40, true);
  view.setUint32(0xfec, 0x00, true);
  return rom;
}

registerDeviceType({
  name: Nrf51Soc.typeName,
  parent: 'sys-bus-device',
  description: 'Nordic nRF51822 SoC (Cortex-M0)',
  userCreatable: false,
  category: 'Misc devices',
});
