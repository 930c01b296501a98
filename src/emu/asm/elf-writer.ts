// Writes ELF32/ELF64 little-endian files for x86 (System V gABI): executables from the
// linker (sections + PT_LOAD segments + .symtab) and relocatable objects (`as` output that
// GNU ld links: SHT_RELA for ELF64, SHT_REL with in-place addends for ELF32).
import type { ObjectFile } from './object';
import {
  EM_386, EM_X86_64, ET_EXEC, ET_REL, SHF_ALLOC, SHF_INFO_LINK, SHN_ABS, SHN_UNDEF, SHT_NOBITS, SHT_REL, SHT_RELA,
  SHT_STRTAB, SHT_SYMTAB, STB_GLOBAL, STB_LOCAL, STB_WEAK, STT_FILE, STT_FUNC, STT_NOTYPE, STT_OBJECT, STT_SECTION,
} from '../loader/elf';

export interface ElfOutSection {
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly addr: bigint;
  /** Contents (ignored for SHT_NOBITS). */
  readonly data: Uint8Array;
  /** Size in memory (equals data.length except for SHT_NOBITS). */
  readonly size: number;
  readonly align: number;
  readonly link?: number;
  readonly info?: number;
  readonly entsize?: number;
}

export interface ElfOutSegment {
  readonly type: number;
  readonly flags: number;
  /** Indices (into `sections`, 0-based, not counting the null section) of the sections it covers, in address order. */
  readonly sections: readonly number[];
  readonly align: number;
}

export interface ElfOutSymbol {
  readonly name: string;
  readonly value: bigint;
  readonly size: bigint;
  readonly type: number;
  readonly binding: number;
  /** 1-based output section index, SHN_ABS or SHN_UNDEF. */
  readonly shndx: number;
}

export interface ElfImage {
  readonly elfClass: 32 | 64;
  readonly type: number;
  readonly entry: bigint;
  readonly sections: readonly ElfOutSection[];
  readonly segments: readonly ElfOutSegment[];
  /** Written as .symtab/.strtab (after the null symbol); locals must come first. */
  readonly symbols?: readonly ElfOutSymbol[];
  /** File offsets of loadable sections are congruent to their address modulo this. */
  readonly pageSize: number;
}

class StringTable {
  private readonly parts: Uint8Array[] = [new Uint8Array(1)];
  private length = 1;
  private readonly seen = new Map<string, number>();
  add(s: string): number {
    if (s === '') return 0;
    const known = this.seen.get(s);
    if (known !== undefined) return known;
    const b = new TextEncoder().encode(`${s}\0`);
    const at = this.length;
    this.parts.push(b);
    this.length += b.length;
    this.seen.set(s, at);
    return at;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let p = 0;
    for (const b of this.parts) {
      out.set(b, p);
      p += b.length;
    }
    return out;
  }
}

const alignUp = (v: number, a: number) => (a <= 1 ? v : Math.ceil(v / a) * a);

export function writeElf(img: ElfImage): Uint8Array {
  const is64 = img.elfClass === 64;
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const shentsize = is64 ? 64 : 40;
  const symentsize = is64 ? 24 : 16;

  // Extra sections: .symtab, .strtab, .shstrtab.
  const all: ElfOutSection[] = [...img.sections];
  if (img.symbols) {
    const strtab = new StringTable();
    const sym = new Uint8Array(symentsize * (img.symbols.length + 1));
    const dv = new DataView(sym.buffer);
    let firstGlobal = img.symbols.length + 1;
    img.symbols.forEach((s, i) => {
      const b = (i + 1) * symentsize;
      if (s.binding !== STB_LOCAL && firstGlobal > i + 1) firstGlobal = i + 1;
      const nameOff = strtab.add(s.name);
      const info = (s.binding << 4) | s.type;
      if (is64) {
        dv.setUint32(b, nameOff, true);
        sym[b + 4] = info;
        dv.setUint16(b + 6, s.shndx, true);
        dv.setBigUint64(b + 8, BigInt.asUintN(64, s.value), true);
        dv.setBigUint64(b + 16, BigInt.asUintN(64, s.size), true);
      } else {
        dv.setUint32(b, nameOff, true);
        dv.setUint32(b + 4, Number(BigInt.asUintN(32, s.value)), true);
        dv.setUint32(b + 8, Number(BigInt.asUintN(32, s.size)), true);
        sym[b + 12] = info;
        dv.setUint16(b + 14, s.shndx, true);
      }
    });
    const strBytes = strtab.bytes();
    const symtabIndex = all.length + 1;
    all.push({ name: '.symtab', type: SHT_SYMTAB, flags: 0, addr: 0n, data: sym, size: sym.length, align: is64 ? 8 : 4, link: symtabIndex + 1, info: firstGlobal, entsize: symentsize });
    all.push({ name: '.strtab', type: SHT_STRTAB, flags: 0, addr: 0n, data: strBytes, size: strBytes.length, align: 1 });
  }
  const shstr = new StringTable();
  const nameOffsets = all.map((s) => shstr.add(s.name));
  const shstrName = shstr.add('.shstrtab');
  const shstrBytes = shstr.bytes();
  all.push({ name: '.shstrtab', type: SHT_STRTAB, flags: 0, addr: 0n, data: shstrBytes, size: shstrBytes.length, align: 1 });
  nameOffsets.push(shstrName);

  // File layout: headers, then sections in order.
  const phnum = img.segments.length;
  let cur = ehsize + phnum * phentsize;
  const offsets: number[] = [];
  const segStart = new Map<number, number>();
  img.segments.forEach((seg) => seg.sections.forEach((si, k) => { if (k === 0) segStart.set(si, si); else segStart.set(si, seg.sections[0]); }));
  for (let i = 0; i < all.length; i++) {
    const s = all[i];
    const first = segStart.get(i);
    let off: number;
    if ((s.flags & SHF_ALLOC) !== 0 && first !== undefined && img.type === ET_EXEC) {
      if (first === i) {
        const page = img.pageSize;
        const want = Number(s.addr % BigInt(page));
        off = cur - (cur % page) + want;
        if (off < cur) off += page;
      } else {
        off = offsets[first] + Number(s.addr - all[first].addr);
      }
    } else off = alignUp(cur, s.type === SHT_NOBITS ? 1 : s.align);
    offsets.push(off);
    if (s.type !== SHT_NOBITS) cur = Math.max(cur, off + s.data.length);
    else cur = Math.max(cur, off);
  }
  const shoff = alignUp(cur, is64 ? 8 : 4);
  const total = shoff + shentsize * (all.length + 1);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  const wA = (o: number, v: bigint) => (is64 ? dv.setBigUint64(o, BigInt.asUintN(64, v), true) : dv.setUint32(o, Number(BigInt.asUintN(32, v)), true));

  // ELF header (gABI "ELF Header").
  out.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1, 0], 0);
  dv.setUint16(16, img.type, true);
  dv.setUint16(18, is64 ? EM_X86_64 : EM_386, true);
  dv.setUint32(20, 1, true);
  wA(24, img.entry);
  wA(is64 ? 32 : 28, BigInt(phnum ? ehsize : 0));
  wA(is64 ? 40 : 32, BigInt(shoff));
  dv.setUint32(is64 ? 48 : 36, 0, true);
  dv.setUint16(is64 ? 52 : 40, ehsize, true);
  dv.setUint16(is64 ? 54 : 42, phnum ? phentsize : 0, true);
  dv.setUint16(is64 ? 56 : 44, phnum, true);
  dv.setUint16(is64 ? 58 : 46, shentsize, true);
  dv.setUint16(is64 ? 60 : 48, all.length + 1, true);
  dv.setUint16(is64 ? 62 : 50, all.length, true);

  img.segments.forEach((seg, i) => {
    const b = ehsize + i * phentsize;
    const secs = seg.sections.map((k) => all[k]);
    const first = secs[0];
    const vaddr = first.addr;
    const fileEnd = secs.filter((s) => s.type !== SHT_NOBITS).reduce((m, s) => Math.max(m, Number(s.addr - vaddr) + s.size), 0);
    const memEnd = secs.reduce((m, s) => Math.max(m, Number(s.addr - vaddr) + s.size), 0);
    const off = offsets[seg.sections[0]];
    if (is64) {
      dv.setUint32(b, seg.type, true);
      dv.setUint32(b + 4, seg.flags, true);
      dv.setBigUint64(b + 8, BigInt(off), true);
      dv.setBigUint64(b + 16, vaddr, true);
      dv.setBigUint64(b + 24, vaddr, true);
      dv.setBigUint64(b + 32, BigInt(fileEnd), true);
      dv.setBigUint64(b + 40, BigInt(memEnd), true);
      dv.setBigUint64(b + 48, BigInt(seg.align), true);
    } else {
      dv.setUint32(b, seg.type, true);
      dv.setUint32(b + 4, off, true);
      dv.setUint32(b + 8, Number(vaddr), true);
      dv.setUint32(b + 12, Number(vaddr), true);
      dv.setUint32(b + 16, fileEnd, true);
      dv.setUint32(b + 20, memEnd, true);
      dv.setUint32(b + 24, seg.flags, true);
      dv.setUint32(b + 28, seg.align, true);
    }
  });

  all.forEach((s, i) => {
    if (s.type !== SHT_NOBITS) out.set(s.data, offsets[i]);
    const b = shoff + (i + 1) * shentsize;
    dv.setUint32(b, nameOffsets[i], true);
    dv.setUint32(b + 4, s.type, true);
    if (is64) {
      dv.setBigUint64(b + 8, BigInt(s.flags), true);
      dv.setBigUint64(b + 16, s.addr, true);
      dv.setBigUint64(b + 24, BigInt(offsets[i]), true);
      dv.setBigUint64(b + 32, BigInt(s.size), true);
      dv.setUint32(b + 40, s.link ?? 0, true);
      dv.setUint32(b + 44, s.info ?? 0, true);
      dv.setBigUint64(b + 48, BigInt(s.align), true);
      dv.setBigUint64(b + 56, BigInt(s.entsize ?? 0), true);
    } else {
      dv.setUint32(b + 8, s.flags, true);
      dv.setUint32(b + 12, Number(s.addr), true);
      dv.setUint32(b + 16, offsets[i], true);
      dv.setUint32(b + 20, s.size, true);
      dv.setUint32(b + 24, s.link ?? 0, true);
      dv.setUint32(b + 28, s.info ?? 0, true);
      dv.setUint32(b + 32, s.align, true);
      dv.setUint32(b + 36, s.entsize ?? 0, true);
    }
  });
  return out;
}

const BINDING = { local: STB_LOCAL, global: STB_GLOBAL, weak: STB_WEAK } as const;
const TYPE = { notype: STT_NOTYPE, object: STT_OBJECT, func: STT_FUNC, section: STT_SECTION, file: STT_FILE } as const;

/** An ELF relocatable object (`.o`) that GNU ld accepts, from the assembler's ObjectFile. */
export function writeObject(obj: ObjectFile): Uint8Array {
  const is64 = obj.elfClass === 64;
  const sections: ElfOutSection[] = obj.sections.map((s) => ({
    name: s.name, type: s.type, flags: s.flags, addr: 0n, data: s.bytes, size: s.type === SHT_NOBITS ? s.size : s.bytes.length, align: s.alignment,
  }));
  const symtabIndex = sections.length + obj.sections.filter((s) => s.relocations.length > 0).length + 1;
  obj.sections.forEach((s, i) => {
    if (s.relocations.length === 0) return;
    const ent = is64 ? 24 : 8;
    const data = new Uint8Array(ent * s.relocations.length);
    const dv = new DataView(data.buffer);
    s.relocations.forEach((r, k) => {
      const b = k * ent;
      const symIndex = r.symbol === undefined ? 0 : r.symbol + 1;
      if (is64) {
        dv.setBigUint64(b, BigInt(r.offset), true);
        dv.setBigUint64(b + 8, (BigInt(symIndex) << 32n) | BigInt(r.type), true);
        dv.setBigInt64(b + 16, r.addend, true);
      } else {
        dv.setUint32(b, r.offset, true);
        dv.setUint32(b + 4, (symIndex << 8) | r.type, true);
      }
    });
    sections.push({
      name: `${is64 ? '.rela' : '.rel'}${s.name}`, type: is64 ? SHT_RELA : SHT_REL, flags: SHF_INFO_LINK, addr: 0n, data, size: data.length,
      align: is64 ? 8 : 4, link: symtabIndex, info: i + 1, entsize: ent,
    });
  });
  const symbols: ElfOutSymbol[] = obj.symbols.map((s) => ({
    name: s.type === 'section' ? '' : s.name,
    value: s.value,
    size: s.size,
    type: TYPE[s.type],
    binding: BINDING[s.binding],
    shndx: s.section === 'abs' ? SHN_ABS : s.section === 'undef' ? SHN_UNDEF : s.section + 1,
  }));
  return writeElf({ elfClass: obj.elfClass, type: ET_REL, entry: 0n, sections, segments: [], symbols, pageSize: 1 });
}
