/**
 * Records ARMv6-M golden vectors from QEMU: starts `qemu-system-arm -M microbit` halted with a
 * GDB stub, and for each vector of the catalogue writes the code and memory, sets the registers,
 * single-steps, and reads the registers and memory back. Run by hand (CI has no QEMU):
 *
 *   node packages/emu/dist/cpu/arm/golden/generate.js [--count N] [--seed S] [--out DIR]
 *
 * QEMU 7.2's M-profile GDB registers are r0-r15 and xpsr only, so PRIMASK, CONTROL, MSP and PSP
 * are set and read by stepping MSR/MRS helper snippets (layout.ts); vectors that leave handler
 * mode or change those registers are followed by a `system_reset` monitor command.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isUserError, UserError } from '../../../core/errors.js';
import { RspClient, toHex } from '../../../gdbstub/rsp-client.js';
import {
  allForms,
  FIXTURE_CLASSES,
  type FixtureClass,
  type Form,
  type SpecialRegs,
  type VectorSpec,
} from './catalogue.js';
import type { GoldenFile, GoldenMemory, GoldenState, GoldenVector } from './format.js';
import {
  bootImage,
  CORE_REG_NAMES,
  GET_SPECIAL_ADDR,
  GET_SPECIAL_CODE,
  INITIAL_SP,
  RESET_HANDLER,
  SET_SPECIAL_ADDR,
  SET_SPECIAL_CODE,
} from './layout.js';
import { applyManual } from './manual.js';
import { Rng } from './prng.js';

export interface GenerateOptions {
  count: number;
  seed: number;
  out: string;
  qemu: string;
  /** Progress lines (one per fixture class). */
  log: (line: string) => void;
}

const DEFAULT_OUT = fileURLToPath(new URL('../../../../test-fixtures/armv6m-golden/', import.meta.url));

export function parseArgs(argv: string[]): Omit<GenerateOptions, 'log'> {
  const options = { count: 12000, seed: 1, out: DEFAULT_OUT, qemu: 'qemu-system-arm' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UserError(`option ${arg} needs a value`);
      return v;
    };
    const int = (v: string): number => {
      if (!/^(0x[0-9a-f]+|\d+)$/i.test(v)) throw new UserError(`option ${arg}: "${v}" is not a number`);
      return Number(v);
    };
    if (arg === '--count') options.count = int(next());
    else if (arg === '--seed') options.seed = int(next());
    else if (arg === '--out') options.out = next();
    else if (arg === '--qemu') options.qemu = next();
    else throw new UserError(`unknown option ${arg} (use --count N, --seed S, --out DIR, --qemu PATH)`);
  }
  return options;
}

/** Vectors per form: `count` shared by weight, at least 20 each. */
export function planCounts(forms: Form[], count: number): number[] {
  const total = forms.reduce((sum, f) => sum + f.weight, 0);
  return forms.map((f) => Math.max(20, Math.round((count * f.weight) / total)));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function qemuVersion(qemu: string): string {
  try {
    return execFileSync(qemu, ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
  } catch {
    throw new UserError(`cannot run ${qemu}: install Debian's qemu-system-arm (or pass --qemu PATH)`);
  }
}

async function connectWithRetry(port: number, qemu: ChildProcess): Promise<RspClient> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 100; attempt++) {
    if (qemu.exitCode !== null)
      throw new UserError(`QEMU exited (status ${qemu.exitCode}) before its GDB stub started`);
    try {
      return await RspClient.connect('127.0.0.1', port);
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw lastError;
}

interface Registers {
  r: number[];
  xpsr: number;
}

/** One QEMU session: register access by the layout of its target.xml. */
class QemuTarget {
  constructor(readonly client: RspClient) {}

  async init(): Promise<void> {
    await this.client.qSupported(['xmlRegisters=arm']);
    // Reading target.xml is what makes QEMU use the XML register layout (and accept p/P).
    const xml = await this.client.readFeatures('target.xml');
    const includes = [...xml.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!);
    const core = includes.find((f) => f.includes('m-profile'));
    if (!core) throw new UserError('QEMU target.xml has no M-profile core feature (is this -M microbit?)');
    const coreXml = await this.client.readFeatures(core);
    const names = [...coreXml.matchAll(/<reg name="([^"]+)"/g)].map((m) => m[1]);
    const expected = [...CORE_REG_NAMES, 'xpsr'];
    if (names.join() !== expected.join()) {
      throw new UserError(`unexpected QEMU M-profile register layout: ${names.join(', ')}`);
    }
  }

  async readRegs(): Promise<Registers> {
    const g = await this.client.readRegisters();
    if (g.length < 68) throw new UserError(`QEMU g reply is ${g.length} bytes, expected 68`);
    const view = new DataView(g.buffer, g.byteOffset, g.byteLength);
    const r: number[] = [];
    for (let i = 0; i < 16; i++) r.push(view.getUint32(i * 4, true));
    return { r, xpsr: view.getUint32(64, true) };
  }

  async writeRegs(regs: Registers): Promise<void> {
    const data = new Uint8Array(68);
    const view = new DataView(data.buffer);
    regs.r.forEach((v, i) => {
      view.setUint32(i * 4, v >>> 0, true);
    });
    view.setUint32(64, regs.xpsr >>> 0, true);
    await this.client.writeRegisters(data);
  }

  async step(times: number): Promise<void> {
    for (let i = 0; i < times; i++) {
      const stop = await this.client.step();
      if (stop.kind !== 'signal' || stop.code !== 5)
        throw new Error(`unexpected stop after step: ${stop.raw}`);
    }
  }

  async setSpecial(s: SpecialRegs, currentSp: number): Promise<void> {
    const r = new Array<number>(16).fill(0);
    r[0] = s.primask;
    r[1] = s.psp;
    r[2] = s.control;
    r[3] = s.msp;
    r[13] = currentSp;
    r[15] = SET_SPECIAL_ADDR;
    await this.writeRegs({ r, xpsr: 0x0100_0000 });
    await this.step(SET_SPECIAL_CODE.length / 2);
  }

  async getSpecial(): Promise<SpecialRegs> {
    await this.client.writeRegister(15, Uint8Array.from(Buffer.from(u32hex(GET_SPECIAL_ADDR), 'hex')));
    await this.step(GET_SPECIAL_CODE.length / 2);
    const { r } = await this.readRegs();
    return { primask: r[0]!, control: r[1]!, msp: r[2]!, psp: r[3]! };
  }

  async reset(): Promise<void> {
    await this.client.monitor('system_reset');
  }

  async writeHalfwords(addr: number, halfwords: number[]): Promise<void> {
    const bytes = new Uint8Array(halfwords.length * 2);
    halfwords.forEach((h, i) => {
      bytes[i * 2] = h & 0xff;
      bytes[i * 2 + 1] = h >>> 8;
    });
    await this.client.writeMemory(addr, bytes);
  }
}

function u32hex(v: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b.toString('hex');
}

/** Merges overlapping/adjacent windows (sorted), so each byte is written once. */
export function mergeWindows(
  windows: Array<{ addr: number; len: number }>,
): Array<{ addr: number; len: number }> {
  const sorted = [...windows].sort((a, b) => a.addr - b.addr);
  const out: Array<{ addr: number; len: number }> = [];
  for (const w of sorted) {
    const last = out[out.length - 1];
    if (last && w.addr <= last.addr + last.len) {
      last.len = Math.max(last.len, w.addr + w.len - last.addr);
    } else {
      out.push({ ...w });
    }
  }
  return out;
}

function stateOf(regs: Registers, special?: SpecialRegs): GoldenState {
  const s: GoldenState = { r: regs.r.map((v) => v >>> 0), xpsr: regs.xpsr >>> 0 };
  if (special) {
    s.primask = special.primask;
    s.control = special.control;
    s.msp = special.msp >>> 0;
    s.psp = special.psp >>> 0;
  }
  return s;
}

async function recordVector(
  target: QemuTarget,
  form: Form,
  spec: VectorSpec,
  rng: Rng,
  defaults: SpecialRegs,
): Promise<Omit<GoldenVector, 'id'>> {
  const specialBefore = form.special ? (spec.special ?? { ...defaults, msp: spec.r[13]! }) : undefined;
  if (spec.special) await target.setSpecial(spec.special, spec.r[13]!);
  await target.writeHalfwords(spec.r[15]!, spec.code);
  const windows = mergeWindows(spec.windows);
  const memBefore: GoldenMemory[] = [];
  for (const w of windows) {
    const bytes = rng.bytes(w.len);
    for (const poke of spec.pokes) {
      for (let i = 0; i < poke.bytes.length; i++) {
        const o = poke.addr + i - w.addr;
        if (o >= 0 && o < w.len) bytes[o] = poke.bytes[i]!;
      }
    }
    await target.client.writeMemory(w.addr, bytes);
    memBefore.push({ addr: w.addr, hex: toHex(bytes) });
  }
  await target.writeRegs({ r: spec.r, xpsr: spec.xpsr });
  await target.step(spec.steps);
  const after = await target.readRegs();
  const memAfter: GoldenMemory[] = [];
  for (const w of windows) {
    memAfter.push({ addr: w.addr, hex: toHex(await target.client.readMemory(w.addr, w.len)) });
  }
  let specialAfter: SpecialRegs | undefined;
  if (form.special) {
    specialAfter = await target.getSpecial();
    await target.reset();
  }
  const vector: Omit<GoldenVector, 'id'> = {
    form: form.name,
    code: spec.code,
    before: stateOf({ r: spec.r, xpsr: spec.xpsr }, specialBefore),
    memBefore,
    after: stateOf(after, specialAfter),
    memAfter,
  };
  if (spec.steps !== 1) vector.steps = spec.steps;
  if (spec.note) vector.note = spec.note;
  return vector;
}

export async function generate(options: GenerateOptions): Promise<Map<FixtureClass, GoldenVector[]>> {
  const version = qemuVersion(options.qemu);
  const port = await freePort();
  const qemu = spawn(
    options.qemu,
    [
      '-M',
      'microbit',
      '-display',
      'none',
      '-serial',
      'null',
      '-monitor',
      'none',
      '-S',
      '-gdb',
      `tcp:127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  qemu.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const byClass = new Map<FixtureClass, GoldenVector[]>(FIXTURE_CLASSES.map((c) => [c, []]));
  try {
    const client = await connectWithRetry(port, qemu);
    const target = new QemuTarget(client);
    await target.init();
    const boot = bootImage();
    await client.writeMemory(0, boot);
    await target.writeHalfwords(SET_SPECIAL_ADDR, SET_SPECIAL_CODE);
    await target.writeHalfwords(GET_SPECIAL_ADDR, GET_SPECIAL_CODE);
    const readBack = await client.readMemory(0, boot.length);
    if (toHex(readBack) !== toHex(boot)) {
      throw new UserError(
        'QEMU did not accept debug writes to flash (M packet); cannot place the vector table',
      );
    }
    await target.reset();
    const regs = await target.readRegs();
    if (regs.r[15] !== RESET_HANDLER || regs.r[13] !== INITIAL_SP) {
      throw new UserError(
        `after system_reset QEMU is at pc=0x${regs.r[15]!.toString(16)}, expected the vector table's reset handler`,
      );
    }
    const defaults = await target.getSpecial();
    await target.reset();
    const rng = new Rng(options.seed);
    const forms = allForms();
    const counts = planCounts(forms, options.count);
    const started = Date.now();
    for (let f = 0; f < forms.length; f++) {
      const form = forms[f]!;
      const list = byClass.get(form.file)!;
      for (let i = 0; i < counts[f]!; i++) {
        const spec = form.make(rng);
        const recorded = await recordVector(target, form, spec, rng, defaults);
        const vector: GoldenVector = { id: `${form.slug}-${String(i).padStart(4, '0')}`, ...recorded };
        applyManual(vector);
        list.push(vector);
      }
      options.log(`${form.name}: ${counts[f]} vectors (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
    await client.close();
    writeFixtures(options.out, byClass, version, options.seed);
    return byClass;
  } catch (err) {
    if (stderr.trim() !== '' && !isUserError(err)) options.log(`QEMU said: ${stderr.trim()}`);
    throw err;
  } finally {
    qemu.kill();
  }
}

/** One file per class, one vector per line (compact, diffable). */
export function writeFixtures(
  out: string,
  byClass: Map<FixtureClass, GoldenVector[]>,
  qemu: string,
  seed: number,
): void {
  fs.mkdirSync(out, { recursive: true });
  for (const [cls, vectors] of byClass) {
    if (vectors.length === 0) continue;
    const head: Omit<GoldenFile, 'vectors'> = {
      generator: 'packages/emu/src/cpu/arm/golden/generate.ts',
      qemu,
      seed,
    };
    const text = `${JSON.stringify(head).slice(0, -1)},"vectors":[\n${vectors.map((v) => JSON.stringify(v)).join(',\n')}\n]}\n`;
    fs.writeFileSync(path.join(out, `${cls}.json`), text);
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const byClass = await generate({ ...options, log });
  let total = 0;
  for (const [cls, vectors] of byClass) {
    if (vectors.length > 0) log(`${cls}.json: ${vectors.length} vectors`);
    total += vectors.length;
  }
  log(`${total} vectors in ${((Date.now() - started) / 1000).toFixed(1)} s, written to ${options.out}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err: unknown) => {
    if (isUserError(err)) {
      process.stderr.write(`gen-golden-vectors: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  });
}
