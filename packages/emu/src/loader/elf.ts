/**
 * ELF32 little-endian ARM executables (what arm-none-eabi-gcc links).
 *
 * PT_LOAD segments are placed at their physical address p_paddr, as QEMU's ELF loader does
 * with no address translation: for firmware, initialised data then lands in flash (its load
 * address) where the startup code copies it from. Bytes past p_filesz up to p_memsz are zero.
 * When the executable segment's virtual and physical addresses differ, the entry point
 * (a virtual address) is moved by the same amount, again like QEMU.
 */
import { UserError } from '../core/errors.js';
import { hexAddr, type LoadedImage, type LoadSegment } from './image.js';

export type ElfSymbolType = 'notype' | 'object' | 'func' | 'section' | 'file' | 'common' | 'tls' | 'other';
export type ElfSymbolBinding = 'local' | 'global' | 'weak' | 'other';

export interface ElfSymbol {
  name: string;
  /** st_value: an address for functions and objects (Thumb functions have bit 0 set). */
  value: number;
  size: number;
  type: ElfSymbolType;
  binding: ElfSymbolBinding;
  /** st_shndx: 0 for undefined symbols, 0xfff1 for absolute ones. */
  section: number;
}

const ELFCLASS32 = 1;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ELFDATA2MSB = 2;
const EM_ARM = 40;
const PT_LOAD = 1;
const PF_X = 1;
const SHT_SYMTAB = 2;
const EHDR_SIZE = 52;
const PHDR_SIZE = 32;
const SHDR_SIZE = 40;
const SYM_SIZE = 16;

const SYMBOL_TYPES: ElfSymbolType[] = ['notype', 'object', 'func', 'section', 'file', 'common', 'tls'];
const SYMBOL_BINDINGS: ElfSymbolBinding[] = ['local', 'global', 'weak'];

/** Whether `bytes` begin with the ELF magic `\x7fELF`. */
export function isElf(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46
  );
}

export function parseElf32(buf: Uint8Array, file: string): LoadedImage {
  const fail = (message: string): UserError => new UserError(`${file}: ${message}`);
  if (!isElf(buf)) throw fail('not an ELF file (bad magic number)');
  if (buf.length < 16) throw fail(`truncated ELF header (file is ${buf.length} bytes)`);
  const elfClass = buf[4];
  if (elfClass === ELFCLASS64) throw fail('is a 64-bit ELF file; tsemu-system-arm loads ELF32');
  if (elfClass !== ELFCLASS32) throw fail(`unknown ELF class ${elfClass} (expected 1, ELF32)`);
  const encoding = buf[5];
  if (encoding === ELFDATA2MSB)
    throw fail('is a big-endian ELF file; tsemu-system-arm loads little-endian ARM');
  if (encoding !== ELFDATA2LSB)
    throw fail(`unknown ELF data encoding ${encoding} (expected 1, little-endian)`);
  if (buf.length < EHDR_SIZE) {
    throw fail(`truncated ELF header (file is ${buf.length} bytes, the header needs ${EHDR_SIZE})`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u16 = (off: number): number => view.getUint16(off, true);
  const u32 = (off: number): number => view.getUint32(off, true);

  const machine = u16(18);
  if (machine !== EM_ARM) throw fail(`not an ARM ELF file (e_machine ${machine})`);
  const entry = u32(24);
  const phoff = u32(28);
  const shoff = u32(32);
  const ehsize = u16(40);
  const phentsize = u16(42);
  const phnum = u16(44);
  const shentsize = u16(46);
  const shnum = u16(48);
  if (ehsize < EHDR_SIZE) throw fail(`bad ELF header size e_ehsize ${ehsize} (needs at least ${EHDR_SIZE})`);

  /** Throws unless [off, off+size) lies inside the file. */
  const inFile = (off: number, size: number, what: string): void => {
    if (size > 0 && off + size > buf.length) {
      throw fail(
        `truncated: ${what} at offset ${hexAddr(off)} (${size} bytes) runs past the end of the file ` +
          `(${buf.length} bytes)`,
      );
    }
  };

  const segments: LoadSegment[] = [];
  let loadEntry = entry;
  if (phnum > 0) {
    if (phentsize < PHDR_SIZE) {
      throw fail(`bad program header size e_phentsize ${phentsize} (needs at least ${PHDR_SIZE})`);
    }
    inFile(phoff, phnum * phentsize, `program header table (e_phoff, ${phnum} entries)`);
  }
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (u32(ph) !== PT_LOAD) continue;
    const offset = u32(ph + 4);
    const vaddr = u32(ph + 8);
    const paddr = u32(ph + 12);
    const filesz = u32(ph + 16);
    const memsz = u32(ph + 20);
    const flags = u32(ph + 24);
    if (filesz > memsz) {
      throw fail(`segment ${i}: p_filesz ${hexAddr(filesz)} is larger than p_memsz ${hexAddr(memsz)}`);
    }
    if (memsz === 0) continue;
    inFile(offset, filesz, `segment ${i} data (p_offset)`);
    if (paddr + memsz > 0x1_0000_0000) {
      throw fail(
        `segment ${i} at ${hexAddr(paddr)} (${memsz} bytes) runs past the end of the 32-bit address space`,
      );
    }
    const data = new Uint8Array(memsz);
    data.set(buf.subarray(offset, offset + filesz));
    segments.push({ addr: paddr, data, source: `segment ${i}` });
    if (vaddr !== paddr && flags & PF_X && entry >= vaddr && entry < vaddr + filesz) {
      loadEntry = (entry - vaddr + paddr) >>> 0;
    }
  }

  const image: LoadedImage = { format: 'elf', file, segments, entry: loadEntry };
  if (shnum > 0 && shoff !== 0) {
    if (shentsize < SHDR_SIZE) {
      throw fail(`bad section header size e_shentsize ${shentsize} (needs at least ${SHDR_SIZE})`);
    }
    inFile(shoff, shnum * shentsize, `section header table (e_shoff, ${shnum} entries)`);
    const symbols = readSymbols(buf, view, shoff, shentsize, shnum, inFile, fail);
    if (symbols) image.symbols = symbols;
  }
  return image;
}

/** Reads the .symtab section and its string table, if the file has one. */
function readSymbols(
  buf: Uint8Array,
  view: DataView,
  shoff: number,
  shentsize: number,
  shnum: number,
  inFile: (off: number, size: number, what: string) => void,
  fail: (message: string) => UserError,
): ElfSymbol[] | undefined {
  const u16 = (off: number): number => view.getUint16(off, true);
  const u32 = (off: number): number => view.getUint32(off, true);
  const section = (i: number) => {
    const sh = shoff + i * shentsize;
    return {
      type: u32(sh + 4),
      offset: u32(sh + 16),
      size: u32(sh + 20),
      link: u32(sh + 24),
      entsize: u32(sh + 36),
    };
  };
  for (let i = 0; i < shnum; i++) {
    const symtab = section(i);
    if (symtab.type !== SHT_SYMTAB) continue;
    inFile(symtab.offset, symtab.size, `symbol table (section ${i})`);
    if (symtab.link >= shnum) {
      throw fail(
        `symbol table (section ${i}) links to string table section ${symtab.link}, which does not exist`,
      );
    }
    const strtab = section(symtab.link);
    inFile(strtab.offset, strtab.size, `string table (section ${symtab.link})`);
    const strings = buf.subarray(strtab.offset, strtab.offset + strtab.size);
    const decoder = new TextDecoder();
    const nameAt = (off: number): string => {
      if (off >= strings.length) return '';
      let end = strings.indexOf(0, off);
      if (end < 0) end = strings.length;
      return decoder.decode(strings.subarray(off, end));
    };
    const entsize = Math.max(symtab.entsize, SYM_SIZE);
    const symbols: ElfSymbol[] = [];
    // Entry 0 is the reserved null symbol.
    for (let off = symtab.offset + entsize; off + SYM_SIZE <= symtab.offset + symtab.size; off += entsize) {
      const info = buf[off + 12]!;
      symbols.push({
        name: nameAt(u32(off)),
        value: u32(off + 4),
        size: u32(off + 8),
        type: SYMBOL_TYPES[info & 0xf] ?? 'other',
        binding: SYMBOL_BINDINGS[info >> 4] ?? 'other',
        section: u16(off + 14),
      });
    }
    return symbols;
  }
  return undefined;
}
