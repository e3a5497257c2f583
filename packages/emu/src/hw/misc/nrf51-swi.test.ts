import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import { Log, LogCat } from '../../core/log.js';
import { ObjectNode } from '../../core/object.js';
import { findDeviceType } from '../../core/registry.js';
import { Nrf51Swi } from './nrf51-swi.js';

function make(mask: number) {
  const log = new Log();
  const lines: string[] = [];
  log.sink = (l) => lines.push(l);
  log.mask = mask;
  const soc = new ObjectNode('container', 'soc');
  const swi = soc.addChild('swi3', new Nrf51Swi());
  swi.realize({ clock: new VirtualClock(), log });
  return { swi, log, lines };
}

describe('nRF51 SWI', () => {
  it('exports one 4 KiB region that reads 0 and ignores writes', () => {
    const { swi, log } = make(0);
    const region = swi.mmio(0);
    expect(region.size).toBe(0x1000);
    expect(region.accessWrite(0x10, 0xffff_ffff, 4, log)).toBe(0);
    expect(region.accessRead(0x10, 4, log)).toBe(0);
  });

  it('logs every access under -d unimp, naming the instance', () => {
    const { swi, log, lines } = make(LogCat.Unimp);
    swi.mmio(0).accessRead(0x0, 4, log);
    swi.mmio(0).accessWrite(0x4, 1, 4, log);
    expect(lines.length).toBe(2);
    expect(lines[0]).toContain('swi3');
    expect(lines[0]).toContain('read');
    expect(lines[1]).toContain('write');
  });

  it('has no lines and an empty state', () => {
    const { swi } = make(0);
    expect(() => swi.gpioOut('', 0)).toThrow();
    expect(swi.saveState()).toEqual({});
    swi.loadState({});
  });

  it('is registered as nrf51_soc.swi', () => {
    expect(findDeviceType('nrf51_soc.swi')?.create?.()).toBeInstanceOf(Nrf51Swi);
  });
});
