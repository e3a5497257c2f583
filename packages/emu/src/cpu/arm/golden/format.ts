/** The JSON format of golden vectors (see test-fixtures/armv6m-golden/README.md). */

/** Architectural state; special registers are present only where the vector involves them. */
export interface GoldenState {
  /** r0-r15 (r13: the SP in use), unsigned. */
  r: number[];
  xpsr: number;
  primask?: number;
  control?: number;
  msp?: number;
  psp?: number;
}

/** A memory window: address and its bytes as lowercase hex. */
export interface GoldenMemory {
  addr: number;
  hex: string;
}

export interface GoldenVector {
  /** Unique id: form slug and sequence number. */
  id: string;
  /** The instruction form, e.g. "ADDS Rd, Rn, #imm3". */
  form: string;
  /** Halfwords at before.r[15] (a 32-bit instruction is two, first halfword first). */
  code: number[];
  /** Instructions executed (single steps); absent means 1. */
  steps?: number;
  before: GoldenState;
  memBefore: GoldenMemory[];
  /** What QEMU produced. */
  after: GoldenState;
  memAfter: GoldenMemory[];
  /** Why the vector is special; "manual: ..." when QEMU disagrees with the ARMv6-M manual. */
  note?: string;
  /** The manual's expected state where it differs from QEMU's (the replay asserts this one). */
  manual?: { after: GoldenState; memAfter?: GoldenMemory[] };
}

export interface GoldenFile {
  generator: string;
  qemu: string;
  seed: number;
  vectors: GoldenVector[];
}
