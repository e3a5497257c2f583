import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AddressSpace } from '../../core/address-space.js';
import { VirtualClock } from '../../core/clock.js';
import { Log, LogCat } from '../../core/log.js';
import { MemoryRegion } from '../../core/memory.js';
import { findDeviceType } from '../../core/registry.js';
import {
  AAR_NS_PER_IRK,
  CCM_KSGEN_NS,
  CCM_NS_PER_BYTE,
  ENABLE_AAR,
  ENABLE_CCM,
  Nrf51CcmAar,
} from './nrf51-ccm-aar.js';

const START_KSGEN = 0x000;
const CRYPT = 0x004;
const STOP = 0x008;
const EV0 = 0x100; // END / ENDKSGEN
const EV1 = 0x104; // RESOLVED / ENDCRYPT
const EV2 = 0x108; // NOTRESOLVED / ERROR
const SHORTS = 0x200;
const INTENSET = 0x304;
const STATUS = 0x400;
const ENABLE = 0x500;
const NIRK_MODE = 0x504;
const IRKPTR_CNFPTR = 0x508;
const INPTR = 0x50c;
const ADDRPTR_OUTPTR = 0x510;
const SCRATCHPTR = 0x514;

const RAM = 0x2000_0000;
const CNF = RAM + 0x000;
const IN = RAM + 0x100;
const OUT = RAM + 0x200;
const OUT2 = RAM + 0x300;

function make() {
  const clock = new VirtualClock();
  const log = new Log();
  const lines: string[] = [];
  log.sink = (l) => lines.push(l);
  log.mask = LogCat.GuestErrors;
  const root = MemoryRegion.container('system', 2 ** 32);
  root.addSubregion(RAM, MemoryRegion.ram('ram', 0x4000));
  const as = new AddressSpace('cpu', root, log);
  const dev = new Nrf51CcmAar();
  dev.realize({ clock, log });
  dev.setDma(as);
  const w = (o: number, v: number) => dev.registers.write(o, v, 4);
  const r = (o: number) => dev.registers.read(o, 4);
  return { dev, clock, as, lines, w, r };
}

function aesBlock(key: Uint8Array, block: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  return new Uint8Array(c.update(block));
}

/** CCM (RFC 3610, M = 4, L = 2) built by hand from single AES blocks, as an independent check. */
function referenceCcm(key: Uint8Array, nonce: Uint8Array, aad: number, plain: Uint8Array) {
  const xor = (a: Uint8Array, b: Uint8Array) => a.map((x, i) => x ^ (b[i] ?? 0));
  const b0 = new Uint8Array(16);
  b0[0] = 0x40 | (((4 - 2) / 2) << 3) | (2 - 1); // Adata, M' = 1, L' = 1
  b0.set(nonce, 1);
  b0[14] = plain.length >> 8;
  b0[15] = plain.length & 0xff;
  let x = aesBlock(key, b0);
  const b1 = new Uint8Array(16);
  b1[1] = 1; // l(a) = 1
  b1[2] = aad;
  x = aesBlock(key, xor(x, b1));
  for (let i = 0; i < plain.length; i += 16) x = aesBlock(key, xor(x, plain.subarray(i, i + 16)));
  const ctr = (i: number) => {
    const a = new Uint8Array(16);
    a[0] = 1;
    a.set(nonce, 1);
    a[15] = i;
    return aesBlock(key, a);
  };
  const cipher = new Uint8Array(plain.length);
  for (let i = 0; i < plain.length; i++) cipher[i] = plain[i]! ^ ctr(1 + (i >> 4))[i & 15]!;
  const mic = xor(x.subarray(0, 4), ctr(0).subarray(0, 4));
  return { cipher, mic };
}

const KEY = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const IV = Uint8Array.of(0x24, 0xab, 0xdc, 0xba, 0xbe, 0xba, 0xaf, 0xde);

/** Writes the CCM data structure: key, 39-bit counter, direction, IV. */
function writeCnf(as: AddressSpace, counter: number, direction: number): void {
  const cnf = new Uint8Array(33);
  cnf.set(KEY, 0);
  for (let i = 0; i < 5; i++) cnf[16 + i] = Math.floor(counter / 2 ** (8 * i)) & 0xff;
  cnf[20]! |= 0x80; // bit 7 of octet 4 is ignored by the hardware
  cnf[24] = direction;
  cnf.set(IV, 25);
  as.writeDebug(CNF, cnf);
}

function nonceFor(counter: number, direction: number): Uint8Array {
  const n = new Uint8Array(13);
  for (let i = 0; i < 5; i++) n[i] = Math.floor(counter / 2 ** (8 * i)) & 0xff;
  n[4] = (n[4]! & 0x7f) | (direction << 7);
  n.set(IV, 5);
  return n;
}

describe('nRF51 CCM/AAR registers', () => {
  it('reset: ENABLE 0, NIRK/MODE 1, POWER 1 (writable), the rest 0', () => {
    const { r, w } = make();
    expect(r(ENABLE)).toBe(0);
    expect(r(NIRK_MODE)).toBe(1);
    for (const o of [
      EV0,
      EV1,
      EV2,
      SHORTS,
      INTENSET,
      STATUS,
      IRKPTR_CNFPTR,
      INPTR,
      ADDRPTR_OUTPTR,
      SCRATCHPTR,
    ])
      expect(r(o)).toBe(0);
    expect(r(0xffc)).toBe(1);
    w(0xffc, 0);
    expect(r(0xffc)).toBe(0);
    w(0xffc, 1);
    expect(r(0xffc)).toBe(1);
  });

  it('does nothing (and logs) when a task runs with neither block enabled', () => {
    const { clock, lines, w, r } = make();
    w(START_KSGEN, 1);
    w(CRYPT, 1);
    clock.advanceBy(1_000_000);
    expect([r(EV0), r(EV1), r(EV2)]).toEqual([0, 0, 0]);
    expect(lines.length).toBe(2);
  });
});

describe('nRF51 CCM', () => {
  function setupCcm(mode: number) {
    const t = make();
    writeCnf(t.as, 0x12_3456_789a, 1);
    t.w(ENABLE, ENABLE_CCM);
    t.w(NIRK_MODE, mode);
    t.w(IRKPTR_CNFPTR, CNF);
    t.w(INPTR, IN);
    t.w(ADDRPTR_OUTPTR, OUT);
    return t;
  }

  it('generates ENDKSGEN 20 µs after KSGEN', () => {
    const { clock, w, r } = setupCcm(0);
    w(START_KSGEN, 1);
    clock.advanceTo(CCM_KSGEN_NS - 1);
    expect(r(EV0)).toBe(0);
    clock.advanceTo(CCM_KSGEN_NS);
    expect(r(EV0)).toBe(1);
  });

  it('encrypts a packet with the Bluetooth nonce and header mask, appending the MIC', () => {
    const { as, clock, w, r } = setupCcm(0);
    const payload = Uint8Array.from({ length: 20 }, (_, i) => i * 7);
    as.writeDebug(IN, Uint8Array.of(0x0f, payload.length, 0, ...payload));
    w(SHORTS, 1); // ENDKSGEN → CRYPT
    w(START_KSGEN, 1);
    clock.advanceTo(CCM_KSGEN_NS);
    expect(r(EV0)).toBe(1);
    const cryptNs = CCM_NS_PER_BYTE * (3 + payload.length + 4);
    clock.advanceTo(CCM_KSGEN_NS + cryptNs - 1);
    expect(r(EV1)).toBe(0);
    clock.advanceTo(CCM_KSGEN_NS + cryptNs);
    expect(r(EV1)).toBe(1);
    const ref = referenceCcm(KEY, nonceFor(0x12_3456_789a, 1), 0x0f & 0xe3, payload);
    const out = as.readDebug(OUT, 3 + payload.length + 4)!;
    expect(Array.from(out.subarray(0, 3))).toEqual([0x0f, payload.length + 4, 0]);
    expect(Array.from(out.subarray(3, 3 + payload.length))).toEqual(Array.from(ref.cipher));
    expect(Array.from(out.subarray(3 + payload.length))).toEqual(Array.from(ref.mic));
  });

  it('decrypts what it encrypted, removes the MIC and reports MICSTATUS', () => {
    const { as, clock, w, r } = setupCcm(0);
    const payload = Uint8Array.from('hello, micro:bit', (c) => c.charCodeAt(0));
    as.writeDebug(IN, Uint8Array.of(0x02, payload.length, 0, ...payload));
    w(START_KSGEN, 1);
    clock.advanceBy(CCM_KSGEN_NS);
    w(CRYPT, 1);
    clock.advanceBy(1_000_000);
    // Decrypt OUT into OUT2.
    w(NIRK_MODE, 1);
    w(INPTR, OUT);
    w(ADDRPTR_OUTPTR, OUT2);
    w(START_KSGEN, 1);
    clock.advanceBy(CCM_KSGEN_NS);
    w(CRYPT, 1);
    clock.advanceBy(1_000_000);
    expect(r(STATUS)).toBe(1);
    const out = as.readDebug(OUT2, 3 + payload.length)!;
    expect(Array.from(out)).toEqual([0x02, payload.length, 0, ...payload]);
    // Corrupt one cipher byte: the MIC check fails.
    const bad = as.readDebug(OUT + 3, 1)!;
    as.writeDebug(OUT + 3, Uint8Array.of(bad[0]! ^ 1));
    w(CRYPT, 1);
    clock.advanceBy(1_000_000);
    expect(r(STATUS)).toBe(0);
  });

  it('passes empty packets through without a MIC', () => {
    const { as, clock, w } = setupCcm(0);
    as.writeDebug(IN, Uint8Array.of(0x01, 0, 0));
    as.writeDebug(OUT, Uint8Array.of(0xff, 0xff, 0xff));
    w(START_KSGEN, 1);
    clock.advanceBy(CCM_KSGEN_NS);
    w(CRYPT, 1);
    clock.advanceBy(CCM_NS_PER_BYTE * 3);
    expect(Array.from(as.readDebug(OUT, 3)!)).toEqual([0x01, 0, 0]);
  });

  it('generates ERROR for CRYPT without a key stream, and for a pointer outside RAM', () => {
    const { clock, w, r, lines } = setupCcm(0);
    w(CRYPT, 1);
    expect(r(EV2)).toBe(1);
    w(EV2, 0);
    w(IRKPTR_CNFPTR, 0x1000);
    w(START_KSGEN, 1);
    clock.advanceBy(CCM_KSGEN_NS);
    expect(r(EV0)).toBe(0);
    expect(r(EV2)).toBe(1);
    expect(lines.some((l) => l.includes('CNFPTR'))).toBe(true);
  });

  it('STOP cancels an operation', () => {
    const { clock, w, r } = setupCcm(0);
    w(START_KSGEN, 1);
    w(STOP, 1);
    clock.advanceBy(1_000_000);
    expect(r(EV0)).toBe(0);
  });

  it('round-trips its state with the key stream ready and an encryption pending', () => {
    const a = setupCcm(0);
    const payload = Uint8Array.of(1, 2, 3, 4, 5);
    a.as.writeDebug(IN, Uint8Array.of(0x03, payload.length, 0, ...payload));
    a.w(START_KSGEN, 1);
    a.clock.advanceBy(CCM_KSGEN_NS);
    a.w(CRYPT, 1);
    const state = JSON.parse(JSON.stringify(a.dev.saveState()));
    const b = make();
    b.as.writeDebug(IN, Uint8Array.of(0x03, payload.length, 0, ...payload));
    b.clock.loadState(a.clock.saveState());
    b.dev.loadState(state);
    b.clock.advanceBy(1_000_000);
    expect(b.r(EV1)).toBe(1);
    const ref = referenceCcm(KEY, nonceFor(0x12_3456_789a, 1), 0x03, payload);
    expect(Array.from(b.as.readDebug(OUT + 3, payload.length + 4)!)).toEqual([...ref.cipher, ...ref.mic]);
  });
});

describe('nRF51 AAR', () => {
  const irk = (n: number) => Uint8Array.from({ length: 16 }, (_, i) => (n * 31 + i * 7) & 0xff);

  /** A resolvable private address for `key` (hash = ah(IRK, prand)), least significant octet first. */
  function rpa(key: Uint8Array, prand: number): Uint8Array {
    const block = new Uint8Array(16);
    block[13] = (prand >> 16) & 0xff;
    block[14] = (prand >> 8) & 0xff;
    block[15] = prand & 0xff;
    const e = aesBlock(key, block);
    const hash = (e[13]! << 16) | (e[14]! << 8) | e[15]!;
    return Uint8Array.of(
      hash & 0xff,
      (hash >> 8) & 0xff,
      hash >> 16,
      prand & 0xff,
      (prand >> 8) & 0xff,
      prand >> 16,
    );
  }

  function setupAar(nirk: number, address: Uint8Array) {
    const t = make();
    const irks = new Uint8Array(16 * nirk);
    for (let i = 0; i < nirk; i++) irks.set(irk(i), 16 * i);
    t.as.writeDebug(RAM + 0x400, irks);
    t.as.writeDebug(RAM + 0x800, Uint8Array.of(0x40, 6, 0, ...address));
    t.w(ENABLE, ENABLE_AAR);
    t.w(NIRK_MODE, nirk);
    t.w(IRKPTR_CNFPTR, RAM + 0x400);
    t.w(ADDRPTR_OUTPTR, RAM + 0x800);
    return t;
  }

  it('resolves an address with the matching IRK: RESOLVED, STATUS = index, END', () => {
    const { clock, w, r } = setupAar(4, rpa(irk(2), 0x5a_1234));
    w(START_KSGEN, 1);
    clock.advanceTo(4 * AAR_NS_PER_IRK - 1);
    expect(r(EV0)).toBe(0);
    clock.advanceTo(4 * AAR_NS_PER_IRK);
    expect(r(EV0)).toBe(1);
    expect(r(EV1)).toBe(1);
    expect(r(EV2)).toBe(0);
    expect(r(STATUS)).toBe(2);
  });

  it('reports NOTRESOLVED and END when no IRK matches', () => {
    const { clock, w, r } = setupAar(3, rpa(irk(9), 0x40_0001));
    w(START_KSGEN, 1);
    clock.advanceBy(3 * AAR_NS_PER_IRK);
    expect([r(EV0), r(EV1), r(EV2)]).toEqual([1, 0, 1]);
  });

  it('raises its IRQ on END when enabled', () => {
    const { dev, clock, w } = setupAar(1, rpa(irk(0), 0x44_4444));
    w(INTENSET, 1);
    w(START_KSGEN, 1);
    clock.advanceBy(AAR_NS_PER_IRK);
    expect(dev.gpioOut('', 0).level).toBe(1);
  });

  it('is registered as nrf51_soc.ccm_aar', () => {
    expect(findDeviceType('nrf51_soc.ccm_aar')?.create?.()).toBeInstanceOf(Nrf51CcmAar);
  });
});
