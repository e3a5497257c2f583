/**
 * The memory layout shared by the golden-vector generator (writing it into QEMU's micro:bit) and
 * the replay harness (building the same state on our core): the micro:bit's nRF51 map (flash
 * 256 KiB at 0, RAM 16 KiB at 0x20000000), a vector table whose handlers are `b .` loops (so a
 * fault vector ends at a known address whether or not the handler's first instruction ran), and
 * the helper snippets the generator uses to reach registers QEMU 7.2's GDB stub does not expose.
 */
/** The core registers in GDB's (and QEMU's target.xml) order: r0-r12, sp, lr, pc. */
export const CORE_REG_NAMES = [...Array.from({ length: 13 }, (_, i) => `r${i}`), 'sp', 'lr', 'pc'] as const;

export const FLASH_BASE = 0x0000_0000;
export const FLASH_SIZE = 0x4_0000;
export const RAM_BASE = 0x2000_0000;
export const RAM_SIZE = 0x4000;
export const RAM_END = RAM_BASE + RAM_SIZE;

export const INITIAL_SP = RAM_END;
/** Reset handler (`b .`); the CPU sits here after a system reset. */
export const RESET_HANDLER = 0x100;
export const HARDFAULT_HANDLER = 0x80;
export const SVC_HANDLER = 0x84;
/** NMI, PendSV, SysTick and external interrupts (none should be taken). */
export const OTHER_HANDLER = 0x88;
export const VECTOR_COUNT = 48;

/**
 * Generator-only helpers in flash: `msr primask, r0; msr msp, r3; msr psp, r1; msr control, r2`
 * sets the special registers, `mrs r0, primask; mrs r1, control; mrs r2, msp; mrs r3, psp`
 * reads them back (QEMU 7.2 has no GDB register for them on M profile).
 */
export const SET_SPECIAL_ADDR = 0x200;
export const SET_SPECIAL_CODE = [0xf380, 0x8810, 0xf383, 0x8808, 0xf381, 0x8809, 0xf382, 0x8814];
export const GET_SPECIAL_ADDR = 0x240;
export const GET_SPECIAL_CODE = [0xf3ef, 0x8010, 0xf3ef, 0x8114, 0xf3ef, 0x8208, 0xf3ef, 0x8309];

/** Where vector code may be placed (away from the table and helpers). */
export const CODE_MIN = 0x1000;
export const CODE_MAX = FLASH_SIZE - 0x1000;

/** The low flash image: vector table and handlers (written to QEMU once, and to every replay). */
export function bootImage(): Uint8Array {
  const image = new Uint8Array(0x100 + 2);
  const view = new DataView(image.buffer);
  view.setUint32(0, INITIAL_SP, true);
  view.setUint32(4, RESET_HANDLER | 1, true);
  for (let i = 2; i < VECTOR_COUNT; i++) view.setUint32(i * 4, OTHER_HANDLER | 1, true);
  view.setUint32(3 * 4, HARDFAULT_HANDLER | 1, true);
  view.setUint32(11 * 4, SVC_HANDLER | 1, true);
  for (const handler of [HARDFAULT_HANDLER, SVC_HANDLER, OTHER_HANDLER, RESET_HANDLER]) {
    view.setUint16(handler, 0xe7fe, true); // b .
  }
  return image;
}
