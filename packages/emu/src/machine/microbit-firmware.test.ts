/**
 * Our own C test firmware (firmware/periph-test.c, built with arm-none-eabi-gcc) checks every
 * nRF51 peripheral from the guest's side and reports over UART0; the report must be all PASS.
 */
import { describe, expect, it } from 'vitest';
import { Log } from '../core/log.js';
import { requireFirmware } from '../loader/test-firmware.js';
import { createMachine } from './create.js';
import type { MicrobitMachine } from './microbit.js';

const CHECKS = [
  'CLOCK',
  'FICR',
  'GPIO',
  'GPIO_PULL',
  'GPIOTE',
  'PPI',
  'RTC1',
  'TIMER0',
  'RNG',
  'TEMP',
  'ADC',
  'ECB',
  'NVMC',
  'TWI0',
  'NVIC',
  'RADIO',
  'WDT',
  'UART',
];

function runToDone(file: string, log = new Log()): { m: MicrobitMachine; report: string } {
  const m = createMachine('microbit', {
    mode: 'fast',
    log,
    devices: [{ driver: 'loader', props: { file } }],
  }) as MicrobitMachine;
  for (let i = 0; i < 100 && !m.serialStream!.text().includes('DONE'); i++) m.runFor(10_000_000);
  m.runFor(1_000_000);
  return { m, report: m.serialStream!.text() };
}

describe('periph-test firmware on the micro:bit', () => {
  it('passes every peripheral check with nothing logged as unimplemented or as a guest error', () => {
    const log = new Log();
    const logged: string[] = [];
    log.sink = (l) => logged.push(l);
    log.configure('unimp,guest_errors');
    const { report } = runToDone(requireFirmware('periph-test.elf'), log);
    const lines = report.split('\n').map((l) => l.trim());
    expect(lines).toContain('BEGIN periph-test');
    for (const check of CHECKS) expect(lines).toContain(`TEST ${check} PASS`);
    expect(lines).toContain(`DONE ${CHECKS.length}/${CHECKS.length}`);
    expect(logged).toEqual([]);
  });

  it('runs the same from its Intel HEX and gives the same report twice (deterministic)', () => {
    const a = runToDone(requireFirmware('periph-test.hex'));
    const b = runToDone(requireFirmware('periph-test.elf'));
    expect(a.report).toBe(b.report);
    expect(a.m.clock.now).toBe(b.m.clock.now);
  });
});
