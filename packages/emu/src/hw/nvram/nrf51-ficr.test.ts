import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import { Log } from '../../core/log.js';
import { MemTx } from '../../core/memory.js';
import { findDeviceType } from '../../core/registry.js';
import { Nrf51Ficr } from './nrf51-ficr.js';

function make(props: Record<string, string> = {}, logSpec = ''): { ficr: Nrf51Ficr; lines: string[] } {
  const ficr = new Nrf51Ficr();
  for (const [k, v] of Object.entries(props)) ficr.setProperty(k, v);
  const log = new Log();
  const lines: string[] = [];
  log.sink = (l) => lines.push(l);
  if (logSpec) log.configure(logSpec);
  ficr.realize({ clock: new VirtualClock(), log });
  return { ficr, lines };
}

function read(ficr: Nrf51Ficr, offset: number, size: 1 | 2 | 4 = 4): number {
  return ficr.mmio(0).accessRead(offset, size, ficr.log);
}

describe('nRF51 FICR', () => {
  it('reports the nRF51822-QFAA memory geometry at the nrf51.h offsets', () => {
    const { ficr } = make();
    expect(read(ficr, 0x010)).toBe(1024); // CODEPAGESIZE
    expect(read(ficr, 0x014)).toBe(256); // CODESIZE
    expect(read(ficr, 0x028)).toBe(0xffffffff); // CLENR0
    expect(read(ficr, 0x02c)).toBe(0xffffffff); // PPFC
    expect(read(ficr, 0x034)).toBe(2); // NUMRAMBLOCK
    for (let i = 0; i < 4; i++) expect(read(ficr, 0x038 + 4 * i)).toBe(8192); // SIZERAMBLOCK[i]
    expect(read(ficr, 0x05c) & 0xffff).toBe(0x0072); // CONFIGID.HWID
    expect(read(ficr, 0x0a0)).toBe(1); // DEVICEADDRTYPE random
    expect(read(ficr, 0x0ac)).toBe(0xffffffff); // OVERRIDEEN: no overrides
  });

  it('has a deterministic default DEVICEID and DEVICEADDR', () => {
    const a = make().ficr;
    const b = make().ficr;
    for (const off of [0x060, 0x064, 0x0a4, 0x0a8, 0x080, 0x09c]) expect(read(a, off)).toBe(read(b, off));
    expect(read(a, 0x060)).toBe(0x75510001);
    expect(read(a, 0x064)).toBe(0x7473656d);
    expect(read(a, 0x0a4)).toBe(0x510add01);
    expect(read(a, 0x0a8)).toBe(0xffffe775);
  });

  it('takes DEVICEID and DEVICEADDR from the device-id and device-addr properties', () => {
    const { ficr } = make({ 'device-id': '0x0123456789ABCDEF', 'device-addr': 'c0:11:22:33:44:55' });
    expect(read(ficr, 0x060)).toBe(0x89abcdef);
    expect(read(ficr, 0x064)).toBe(0x01234567);
    expect(read(ficr, 0x0a4)).toBe(0x22334455);
    expect(read(ficr, 0x0a8)).toBe(0xffffc011);
    const other = make({ 'device-id': 'fedcba9876543210', 'device-addr': '0xc0ffee000001' }).ficr;
    expect(read(other, 0x064)).toBe(0xfedcba98);
    expect(read(other, 0x0a4)).toBe(0xee000001);
    expect(read(other, 0x080)).not.toBe(read(ficr, 0x080)); // ER follows the device ID
  });

  it('rejects malformed or oversized IDs with a UserError naming the property', () => {
    expect(() => make({ 'device-id': 'xyz' })).toThrow(/device-id.*hexadecimal/);
    expect(() => make({ 'device-id': '0x1_0000_0000_0000_0000' })).toThrow(/device-id/);
    expect(() => make({ 'device-id': '10000000000000000' })).toThrow(/fit in 64 bits/);
    expect(() => make({ 'device-addr': '1000000000000' })).toThrow(/fit in 48 bits/);
    expect(() => make({ 'device-addr': 'c0:11:22' })).toThrow(/colon-separated/);
  });

  it('serves byte and halfword reads from the word', () => {
    const { ficr } = make();
    expect(read(ficr, 0x010, 2)).toBe(1024);
    expect(read(ficr, 0x011, 1)).toBe(4);
    expect(read(ficr, 0x062, 2)).toBe(0x7551);
  });

  it('ignores writes and logs them under guest_errors', () => {
    const { ficr, lines } = make({}, 'guest_errors');
    expect(ficr.mmio(0).accessWrite(0x010, 0, 4, ficr.log)).toBe(MemTx.Ok);
    expect(read(ficr, 0x010)).toBe(1024);
    expect(lines).toEqual([
      'nrf51_soc.ficr: write to read-only FICR ignored: offset 0x010, size 4, value 0x0',
    ]);
  });

  it('reads undocumented words as erased flash and logs them under -d unimp', () => {
    const { ficr, lines } = make({}, 'unimp');
    expect(read(ficr, 0x100)).toBe(0xffffffff);
    expect(read(ficr, 0x010)).toBe(1024);
    expect(lines).toEqual(['nrf51_soc.ficr: read of undocumented FICR word at offset 0x100']);
  });

  it('is registered and round-trips its (empty) state', () => {
    expect(findDeviceType('nrf51_soc.ficr')?.userCreatable).toBe(false);
    const { ficr } = make();
    const state = JSON.parse(JSON.stringify(ficr.saveState()));
    const again = make().ficr;
    again.loadState(state);
    expect(read(again, 0x060)).toBe(read(ficr, 0x060));
  });
});
