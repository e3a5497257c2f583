/**
 * Shared pieces of the nRF51 peripheral tests: register addresses (nRF51 Series Reference
 * Manual v3.0, "Instantiation" table and each chapter's register table), a micro:bit session
 * on the real tsemu-system-arm, and clock helpers. Not part of the published library.
 */
import { QTestConnectionError } from '../errors.js';
import type { QTestClient } from '../qtest.js';
import { QTestSession } from '../session.js';

export const CLOCK = 0x4000_0000;
export const UART0 = 0x4000_2000;
export const TWI0 = 0x4000_3000;
export const GPIOTE = 0x4000_6000;
export const ADC = 0x4000_7000;
export const TIMER0 = 0x4000_8000;
export const TIMER1 = 0x4000_9000;
export const RTC0 = 0x4000_b000;
export const TEMP = 0x4000_c000;
export const RNG = 0x4000_d000;
export const RTC1 = 0x4001_1000;
export const NVMC = 0x4001_e000;
export const PPI = 0x4001_f000;
export const GPIO = 0x5000_0000;
export const UICR = 0x1000_1000;

/** The QOM path of the SoC (QEMU's), whose unnamed GPIO lines are the 32 pins. */
export const SOC = '/machine/nrf51';

/**
 * A micro:bit under `-accel qtest`. The handshake timeout is short so that an emulator that does
 * not serve qtest fails the test with that message rather than the test runner's timeout.
 */
export async function startMicrobit(
  options: { serial?: boolean; args?: string[] } = {},
): Promise<QTestSession> {
  // Once the emulator has failed to serve qtest, the other tests of this file fail at once with
  // the same reason instead of waiting for the handshake timeout again.
  if (handshakeFailure !== null) throw new Error(`(as for an earlier test) ${handshakeFailure.message}`);
  try {
    return await QTestSession.start({
      machine: 'microbit',
      connectTimeoutMs: 10_000,
      ...(options.serial !== undefined ? { serial: options.serial } : {}),
      ...(options.args !== undefined ? { args: options.args } : {}),
    });
  } catch (e) {
    if (e instanceof QTestConnectionError && e.message.includes('did not complete the qtest handshake')) {
      handshakeFailure = e;
    }
    throw e;
  }
}
let handshakeFailure: Error | null = null;

/** Steps the virtual clock forward to the next multiple of `grid` ns; returns the new time. */
export async function alignClock(qtest: QTestClient, grid: number): Promise<number> {
  const now = await qtest.clockStep(0);
  const rest = now % grid;
  return rest === 0 ? now : qtest.clockStep(grid - rest);
}

/**
 * Steps the clock by `stepNs` until `done()` holds, at most `maxSteps` times; returns whether it
 * held. For input that travels on another socket (serial), whose arrival is asynchronous.
 */
export async function stepUntil(
  qtest: QTestClient,
  done: () => Promise<boolean>,
  stepNs: number,
  maxSteps: number,
): Promise<boolean> {
  for (let i = 0; i < maxSteps; i++) {
    if (await done()) return true;
    await qtest.clockStep(stepNs);
  }
  return done();
}
