// ELF (System V gABI, x86 psABI) constants and a defensive reader for ELF32/ELF64
// little-endian files: header, sections, program headers, symbols. Every malformed input
// ends in an ElfError with a one-line message; nothing else escapes.

export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const EM_386 = 3;
export const EM_X86_64 = 62;

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;

export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const SHF_MERGE = 0x10;
export const SHF_STRINGS = 0x20;
export const SHF_INFO_LINK = 0x40;

export const PT_LOAD = 1;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

export const SHN_UNDEF = 0;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;

export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;

/** x86-64 psABI relocation types (the ones GNU as emits for our operands and data). */
export const R_X86_64 = { NONE: 0, _64: 1, PC32: 2, PLT32: 4, _32: 10, _32S: 11, _16: 12, PC16: 13, _8: 14, PC8: 15, PC64: 24 } as const;
/** i386 psABI relocation types. */
export const R_386 = { NONE: 0, _32: 1, PC32: 2, _16: 20, PC16: 21, _8: 22, PC8: 23 } as const;

export class ElfError extends Error {}

export interface ElfSection {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly addr: bigint;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
}

export interface ElfSegment {
  readonly type: number;
  readonly flags: number;
  readonly offset: number;
  readonly vaddr: bigint;
  readonly paddr: bigint;
  readonly filesz: number;
  readonly memsz: number;
  readonly align: number;
}

export interface ElfSymbol {
  readonly name: string;
  readonly value: bigint;
  readonly size: bigint;
  readonly type: number;
  readonly binding: number;
  readonly shndx: number;
}

export interface ElfFile {
  readonly elfClass: 32 | 64;
  readonly type: number;
  readonly machine: number;
  readonly entry: bigint;
  readonly sections: readonly ElfSection[];
  readonly segments: readonly ElfSegment[];
  /** Entries of .symtab (or .dynsym when there is no .symtab), without the null entry. */
  readonly symbols: readonly ElfSymbol[];
  readonly data: Uint8Array;
}

export function isElf(data: Uint8Array): boolean {
  return data.length >= 4 && data[0] === 0x7f && data[1] === 0x45 && data[2] === 0x4c && data[3] === 0x46;
}

/** The bytes a section holds in the file (empty for SHT_NOBITS). */
export function sectionData(elf: ElfFile, s: ElfSection): Uint8Array {
  if (s.type === SHT_NOBITS) return new Uint8Array(0);
  return elf.data.subarray(s.offset, s.offset + s.size);
}

export function parseElf(data: Uint8Array): ElfFile {
  if (!isElf(data)) throw new ElfError('not an ELF file (no \\x7fELF magic at the start)');
  if (data.length < 16) throw new ElfError('truncated ELF file: the identification bytes are incomplete');
  const cls = data[4];
  if (cls !== 1 && cls !== 2) throw new ElfError(`invalid ELF class ${cls} (expected 1 for ELF32 or 2 for ELF64)`);
  if (data[5] === 2) throw new ElfError('big-endian ELF files are not supported (x86 is little-endian)');
  if (data[5] !== 1) throw new ElfError(`invalid ELF data encoding ${data[5]}`);
  const is64 = cls === 2;
  const ehsize = is64 ? 64 : 52;
  if (data.length < ehsize) throw new ElfError(`truncated ELF file: ${data.length} bytes, the ELF header alone needs ${ehsize}`);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const u16 = (o: number) => dv.getUint16(o, true);
  const u32 = (o: number) => dv.getUint32(o, true);
  const addr = (o: number) => (is64 ? dv.getBigUint64(o, true) : BigInt(dv.getUint32(o, true)));
  const off = (o: number, what: string) => {
    const v = addr(o);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError(`${what} is too large (0x${v.toString(16)})`);
    return Number(v);
  };
  const type = u16(16);
  const machine = u16(18);
  if (machine !== EM_386 && machine !== EM_X86_64) throw new ElfError(`wrong machine: e_machine is ${machine}, expected x86 (3) or x86-64 (62)`);
  const entry = addr(24);
  const phoff = off(is64 ? 32 : 28, 'e_phoff');
  const shoff = off(is64 ? 40 : 32, 'e_shoff');
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  const shentsize = u16(is64 ? 58 : 46);
  let shnum = u16(is64 ? 60 : 48);
  let shstrndx = u16(is64 ? 62 : 50);

  const need = (start: number, len: number, what: string) => {
    if (start < 0 || len < 0 || start + len > data.length) {
      throw new ElfError(`truncated or malformed ELF file: ${what} (0x${start.toString(16)}..0x${(start + len).toString(16)}) lies outside the ${data.length}-byte file`);
    }
  };

  const segments: ElfSegment[] = [];
  if (phnum > 0) {
    if (phentsize < (is64 ? 56 : 32)) throw new ElfError(`invalid program header entry size ${phentsize}`);
    need(phoff, phnum * phentsize, 'the program header table');
    for (let i = 0; i < phnum; i++) {
      const b = phoff + i * phentsize;
      const seg: ElfSegment = is64
        ? { type: u32(b), flags: u32(b + 4), offset: off(b + 8, 'p_offset'), vaddr: addr(b + 16), paddr: addr(b + 24), filesz: off(b + 32, 'p_filesz'), memsz: off(b + 40, 'p_memsz'), align: off(b + 48, 'p_align') }
        : { type: u32(b), offset: u32(b + 4), vaddr: BigInt(u32(b + 8)), paddr: BigInt(u32(b + 12)), filesz: u32(b + 16), memsz: u32(b + 20), flags: u32(b + 24), align: u32(b + 28) };
      if (seg.type === PT_LOAD) need(seg.offset, seg.filesz, `segment ${i}'s file contents`);
      if (seg.type === PT_LOAD && seg.memsz < seg.filesz) throw new ElfError(`segment ${i} has p_memsz smaller than p_filesz`);
      segments.push(seg);
    }
  }

  const raw: Omit<ElfSection, 'name'>[] = [];
  let nameOffsets: number[] = [];
  if (shoff !== 0) {
    if (shentsize < (is64 ? 64 : 40)) throw new ElfError(`invalid section header entry size ${shentsize}`);
    need(shoff, shentsize, 'the section header table');
    if (shnum === 0) shnum = u32(shoff + (is64 ? 32 : 20)); // extended section count lives in sh_size of entry 0
    if (shstrndx === 0xffff) shstrndx = u32(shoff + (is64 ? 40 : 24));
    need(shoff, shnum * shentsize, 'the section header table');
    nameOffsets = [];
    for (let i = 0; i < shnum; i++) {
      const b = shoff + i * shentsize;
      nameOffsets.push(u32(b));
      const s = is64
        ? { index: i, type: u32(b + 4), flags: off(b + 8, 'sh_flags'), addr: addr(b + 16), offset: off(b + 24, 'sh_offset'), size: off(b + 32, 'sh_size'), link: u32(b + 40), info: u32(b + 44), addralign: off(b + 48, 'sh_addralign'), entsize: off(b + 56, 'sh_entsize') }
        : { index: i, type: u32(b + 4), flags: u32(b + 8), addr: BigInt(u32(b + 12)), offset: u32(b + 16), size: u32(b + 20), link: u32(b + 24), info: u32(b + 28), addralign: u32(b + 32), entsize: u32(b + 36) };
      if (s.type !== SHT_NOBITS && s.type !== SHT_NULL) need(s.offset, s.size, `section ${i}'s contents`);
      raw.push(s);
    }
  }
  const cstr = (start: number, end: number, o: number, what: string): string => {
    if (o >= end - start && !(o === 0 && end === start)) throw new ElfError(`${what}: string offset ${o} is outside its string table`);
    let e = start + o;
    while (e < end && data[e] !== 0) e++;
    return new TextDecoder().decode(data.subarray(start + o, e));
  };
  const strtab = raw[shstrndx];
  if (raw.length > 0 && shstrndx !== 0 && (!strtab || strtab.type !== SHT_STRTAB)) throw new ElfError(`e_shstrndx ${shstrndx} does not name a string table`);
  const sections: ElfSection[] = raw.map((s, i) => ({
    ...s,
    name: strtab && shstrndx !== 0 ? cstr(strtab.offset, strtab.offset + strtab.size, nameOffsets[i], `section ${i} name`) : '',
  }));

  const symtab = sections.find((s) => s.type === SHT_SYMTAB) ?? sections.find((s) => s.type === 11 /* SHT_DYNSYM */);
  const symbols: ElfSymbol[] = [];
  if (symtab) {
    const entsize = is64 ? 24 : 16;
    const strs = sections[symtab.link];
    if (!strs || strs.type !== SHT_STRTAB) throw new ElfError(`symbol table ${symtab.name} links to section ${symtab.link}, which is not a string table`);
    const n = Math.floor(symtab.size / entsize);
    for (let i = 1; i < n; i++) {
      const b = symtab.offset + i * entsize;
      const nameOff = u32(b);
      const info = is64 ? data[b + 4] : data[b + 12];
      symbols.push({
        name: cstr(strs.offset, strs.offset + strs.size, nameOff, `symbol ${i} name`),
        value: is64 ? dv.getBigUint64(b + 8, true) : BigInt(u32(b + 4)),
        size: is64 ? dv.getBigUint64(b + 16, true) : BigInt(u32(b + 8)),
        type: info & 0xf,
        binding: info >> 4,
        shndx: is64 ? u16(b + 6) : u16(b + 14),
      });
    }
  }
  return { elfClass: is64 ? 64 : 32, type, machine, entry, sections, segments, symbols, data };
}
