// Links assembler objects into one executable image the way `ld -Ttext=BASE` does with GNU
// ld's default script (elf_x86_64 / elf_i386, binutils 2.40):
//   .text  (.text.unlikely*, .text.exit*, .text.startup*, .text.hot*, then .text/.text.*) at BASE
//   . = ALIGN(MAXPAGESIZE)                  -> .rodata (.rodata, .rodata.*, .rodata1)
//   . = DATA_SEGMENT_ALIGN(MAXPAGESIZE, COMMONPAGESIZE) (see step 2 for ld's choice between
//       its two forms)                      -> .data (.data, .data.*, .data1), _edata, __bss_start
//   .bss (.bss, .bss.*) padded to 8 (ELF64) / 4 (ELF32) bytes, then _end
// Sections with other names ("orphans") follow the group with the same flags, as ld places
// them. One PT_LOAD per group (R+X, R, R+W). Unlike ld, the ELF and program headers are not
// mapped into a segment of their own (they are never part of what a loader copies to memory
// that matters to the program). Output is ELF64, or ELF32 when the entry point is `.code32`
// code (Multiboot kernels: GRUB and QEMU's -kernel want ELF32); `format: 'bin'` gives the raw
// memory image from the lowest loaded address, as `objcopy -O binary` would.
import type { ObjectFile, ObjSection, ObjSymbol } from './object';
import { writeElf, type ElfOutSection, type ElfOutSegment, type ElfOutSymbol } from './elf-writer';
import {
  ET_EXEC, PF_R, PF_W, PF_X, PT_LOAD, R_386, R_X86_64, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHN_ABS, SHT_NOBITS, SHT_PROGBITS,
  STB_GLOBAL, STB_LOCAL, STB_WEAK, STT_FUNC, STT_NOTYPE, STT_OBJECT,
} from '../loader/elf';

export interface LinkOptions {
  /** Address of .text (`ld -Ttext=BASE`). */
  readonly base: bigint;
  /** Entry symbol (default `_start`). */
  readonly entry?: string;
  readonly format: 'elf' | 'bin';
  /** Names used in messages for each object (default `object N`). */
  readonly names?: readonly string[];
}

export interface PlacedSection {
  readonly name: string;
  readonly address: bigint;
  readonly size: number;
  readonly flags: number;
  readonly nobits: boolean;
}

export interface LinkResult {
  /** The file to write (ELF executable or raw binary); undefined when there were errors. */
  readonly output?: Uint8Array;
  readonly elfClass: 32 | 64;
  readonly entry: bigint;
  readonly sections: readonly PlacedSection[];
  /** Global and local symbol addresses (the first definition of each name). */
  readonly symbols: ReadonlyMap<string, bigint>;
  readonly errors: string[];
  readonly warnings: string[];
}

/** ld's CONSTANT (MAXPAGESIZE) and CONSTANT (COMMONPAGESIZE) for elf_x86_64 and elf_i386 (binutils 2.40). */
const MAXPAGESIZE = 0x1000;
const COMMONPAGESIZE = 0x1000;
const PAGE = MAXPAGESIZE;

type Group = 'text' | 'rodata' | 'data' | 'bss';

interface InputRef {
  readonly obj: number;
  readonly sec: number;
  readonly section: ObjSection;
  address: bigint;
}

interface OutputSection {
  readonly name: string;
  readonly group: Group;
  readonly inputs: InputRef[];
  flags: number;
  readonly nobits: boolean;
  address: bigint;
  size: number;
  align: number;
}

function groupOf(s: ObjSection): Group | undefined {
  if ((s.flags & SHF_ALLOC) === 0) return undefined;
  if (s.flags & SHF_EXECINSTR) return 'text';
  if (s.type === SHT_NOBITS) return 'bss';
  if (s.flags & SHF_WRITE) return 'data';
  return 'rodata';
}

/** The output section an input section goes into under ld's default script. */
function outputName(name: string, group: Group): string {
  const is = (base: string) => name === base || name.startsWith(`${base}.`);
  if (group === 'text' && is('.text')) return '.text';
  if (group === 'rodata' && (is('.rodata') || name === '.rodata1')) return '.rodata';
  if (group === 'data' && (is('.data') || name === '.data1')) return '.data';
  if (group === 'bss' && is('.bss')) return '.bss';
  return name;
}

/** ld's .text input order: unlikely, exit, startup, hot, then everything else. */
function textRank(name: string): number {
  if (/^\.text\.unlikely(\.|$)/.test(name) || /^\.text\..*_unlikely$/.test(name)) return 0;
  if (/^\.text\.exit(\.|$)/.test(name)) return 1;
  if (/^\.text\.startup(\.|$)/.test(name)) return 2;
  if (/^\.text\.hot(\.|$)/.test(name)) return 3;
  return 4;
}

const alignUp = (v: bigint, a: number): bigint => (a <= 1 ? v : ((v + BigInt(a) - 1n) / BigInt(a)) * BigInt(a));

export function link(objects: readonly ObjectFile[], opts: LinkOptions): LinkResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  const name = (i: number) => opts.names?.[i] ?? `object ${i + 1}`;

  // 1. Output sections in ld order: the four named groups, each followed by its orphans.
  const outputs: OutputSection[] = [];
  const byName = new Map<string, OutputSection>();
  const inputs: InputRef[][] = objects.map(() => []);
  const groups: Group[] = ['text', 'rodata', 'data', 'bss'];
  const all: { ref: InputRef; group: Group; out: string }[] = [];
  objects.forEach((o, oi) =>
    o.sections.forEach((s, si) => {
      const group = groupOf(s);
      const ref: InputRef = { obj: oi, sec: si, section: s, address: 0n };
      inputs[oi][si] = ref;
      if (group) all.push({ ref, group, out: outputName(s.name, group) });
    }),
  );
  for (const g of groups) {
    const inGroup = all.filter((x) => x.group === g);
    const standard = `.${g}`;
    const ordered = g === 'text' ? [...inGroup].sort((a, b) => (a.out === '.text' ? textRank(a.ref.section.name) : 5) - (b.out === '.text' ? textRank(b.ref.section.name) : 5)) : inGroup;
    for (const x of [...ordered.filter((y) => y.out === standard), ...ordered.filter((y) => y.out !== standard)]) {
      let out = byName.get(x.out);
      if (!out) {
        out = { name: x.out, group: g, inputs: [], flags: 0, nobits: g === 'bss', address: 0n, size: 0, align: 1 };
        byName.set(x.out, out);
        outputs.push(out);
      }
      out.inputs.push(x.ref);
      out.flags |= x.ref.section.flags;
    }
  }

  // 2. Addresses.
  const elf32Objects = objects.length > 0 && objects.every((o) => o.elfClass === 32);
  const wordAlign = elf32Objects ? 4 : 8;
  /** Places one group's output sections from `from`; returns the address after them. */
  const place = (g: Group, from: bigint): bigint => {
    let dot = from;
    const outs = outputs.filter((o) => o.group === g);
    for (const o of outs) {
      o.align = Math.max(1, ...o.inputs.map((r) => r.section.alignment));
      // ld discards empty output sections, alignment included.
      const empty = o.inputs.every((r) => (r.section.type === SHT_NOBITS ? r.section.size : r.section.bytes.length) === 0);
      if (!(g === 'text' && o === outs[0]) && !empty) dot = alignUp(dot, o.align);
      o.address = dot;
      for (const r of o.inputs) {
        dot = alignUp(dot, r.section.alignment);
        r.address = dot;
        dot += BigInt(r.section.type === SHT_NOBITS ? r.section.size : r.section.bytes.length);
      }
      // The script's `. = ALIGN(. != 0 ? 8 : 1)` (4 for elf_i386) at the end of .bss; it goes
      // with the section when ld discards an empty .bss.
      if (o.name === '.bss' && dot !== 0n && !empty) dot = alignUp(dot, wordAlign);
      o.size = Number(dot - o.address);
    }
    return dot;
  };
  const etext = place('text', opts.base);
  // `. = ALIGN(MAXPAGESIZE)` twice (the end of the text segment, the rodata-segment start).
  const rodataEnd = place('rodata', alignUp(etext, MAXPAGESIZE));
  /** The data segment (.data, then .bss) laid out from `start`: its end before `_end`'s alignment, and `_edata`. */
  const placeData = (start: bigint) => {
    const edata = place('data', start);
    return { edata, segmentEnd: place('bss', edata) };
  };
  // DATA_SEGMENT_ALIGN(MAXPAGESIZE, COMMONPAGESIZE) (ld manual, "Builtin Functions"; ldexp.c,
  // ldlang.c lang_size_segment). ld first lays the data segment out at
  //   A = ALIGN(MAXPAGESIZE) + (. & (MAXPAGESIZE - 1))
  // (same offset in the page as in the file: no padding in the file) and notes where
  // DATA_SEGMENT_END is reached. If neither the start nor that end is page-aligned, they lie
  // in different pages, and the used parts of the first and last pages add up to at most
  // a page, the segment can use one page less: ld lays it out again at
  //   B = ALIGN(MAXPAGESIZE) + ((. + COMMONPAGESIZE - 1) & (MAXPAGESIZE - COMMONPAGESIZE))
  // at the price of up to a page of padding in the file.
  // The end ld compares is not quite `_end` for elf_x86_64: its script has the large-model
  // `.lrodata`/`.ldata` statements (addresses `ALIGN(MAXPAGESIZE) + (. & (MAXPAGESIZE - 1))`)
  // between `.bss` and DATA_SEGMENT_END, and on that first pass they move `.` to the next
  // page even when empty. So for x86-64 the "different pages" test passes whenever the end
  // is not page-aligned, and an empty data segment moves down too; elf_i386 has no such
  // sections. (DATA_SEGMENT_RELRO_END changes nothing: our links have no RELRO sections.)
  // Checked against ld 2.40 on random layouts (test/emu/asm/linker-layout.test.ts).
  const cp = BigInt(COMMONPAGESIZE);
  const mp = BigInt(MAXPAGESIZE);
  const formA = alignUp(rodataEnd, MAXPAGESIZE) + (rodataEnd & (mp - 1n));
  let { edata, segmentEnd } = placeData(formA);
  let end = alignUp(segmentEnd, wordAlign);
  const endSeen = !elf32Objects && (end & (mp - 1n)) !== 0n ? alignUp(end, MAXPAGESIZE) + (end & (mp - 1n)) : end;
  const firstPageUse = -formA & (cp - 1n);
  const lastPageUse = endSeen & (cp - 1n);
  if (firstPageUse !== 0n && lastPageUse !== 0n && formA / cp !== endSeen / cp && firstPageUse + lastPageUse <= cp) {
    ({ edata, segmentEnd } = placeData(alignUp(rodataEnd, MAXPAGESIZE) + ((rodataEnd + cp - 1n) & (mp - cp))));
    end = alignUp(segmentEnd, wordAlign);
  }
  outputs.splice(0, outputs.length, ...outputs.filter((o) => o.size > 0));

  // 3. Symbols: globals across objects, locals per object.
  const globals = new Map<string, { obj: number; sym: ObjSymbol }>();
  objects.forEach((o, oi) =>
    o.symbols.forEach((s) => {
      if (s.binding === 'local' || s.section === 'undef') return;
      const prev = globals.get(s.name);
      if (prev && prev.sym.binding !== 'weak' && s.binding !== 'weak') errors.push(`${name(oi)}: multiple definition of \`${s.name}'; first defined in ${name(prev.obj)}`);
      else if (!prev || prev.sym.binding === 'weak') globals.set(s.name, { obj: oi, sym: s });
    }),
  );
  const symAddress = (oi: number, s: ObjSymbol): bigint =>
    s.section === 'abs' ? s.value : s.section === 'undef' ? 0n : inputs[oi][s.section].address + s.value;

  // Symbols ld's script defines (the PROVIDEd ones only when something refers to them).
  // Each script symbol is relative to the output section ld's script puts it after (or, for
  // __bss_start, before): that is the section nm and objdump show it in.
  const last = (groupsBefore: Group[]) => [...outputs].reverse().find((o) => groupsBefore.includes(o.group));
  const bssFirst = outputs.find((o) => o.group === 'bss');
  const scriptSymbols = new Map<string, { value: bigint; always: boolean; section?: OutputSection }>([
    ['__bss_start', { value: edata, always: true, section: bssFirst ?? last(['text', 'rodata', 'data']) }],
    ['_edata', { value: edata, always: true, section: last(['text', 'rodata', 'data']) }],
    ['_end', { value: end, always: true, section: last(groups) }],
    ['edata', { value: edata, always: false, section: last(['text', 'rodata', 'data']) }],
    ['end', { value: end, always: false, section: last(groups) }],
    ['etext', { value: etext, always: false, section: last(['text']) }],
    ['_etext', { value: etext, always: false, section: last(['text']) }],
    ['__etext', { value: etext, always: false, section: last(['text']) }],
    ['__executable_start', { value: opts.base, always: false, section: outputs[0] }],
  ]);
  const referenced = new Set<string>();
  objects.forEach((o) => o.symbols.forEach((s) => s.section === 'undef' && referenced.add(s.name)));
  const resolveGlobal = (n: string): bigint | undefined => {
    const g = globals.get(n);
    if (g) return symAddress(g.obj, g.sym);
    const sc = scriptSymbols.get(n);
    return sc ? sc.value : undefined;
  };

  // 4. Relocations (psABI "Relocation Types": S + A, S + A - P).
  const images = new Map<InputRef, Uint8Array>();
  objects.forEach((o, oi) =>
    o.sections.forEach((s, si) => {
      const ref = inputs[oi][si];
      if (!groupOf(s)) return;
      const img = s.type === SHT_NOBITS ? new Uint8Array(0) : new Uint8Array(s.bytes);
      images.set(ref, img);
      const dv = new DataView(img.buffer);
      for (const r of s.relocations) {
        const sym = r.symbol === undefined ? undefined : o.symbols[r.symbol];
        let S: bigint;
        let symName = sym?.name ?? '*ABS*';
        if (!sym) S = 0n;
        else if (sym.type === 'section') {
          S = inputs[oi][sym.section as number]?.address ?? 0n;
          symName = sym.name;
        } else if (sym.section !== 'undef' && sym.binding === 'local') S = symAddress(oi, sym);
        else {
          const v = resolveGlobal(sym.name);
          if (v === undefined) {
            if (sym.binding !== 'weak') errors.push(`${name(oi)}:(${s.name}+0x${r.offset.toString(16)}): undefined reference to \`${sym.name}'`);
            S = 0n;
          } else S = v;
        }
        const P = ref.address + BigInt(r.offset);
        const spec = relocSpec(o.elfClass, r.type);
        if (!spec) {
          errors.push(`${name(oi)}: unsupported relocation type ${r.type} in ${s.name}`);
          continue;
        }
        const value = S + r.addend - (spec.pcrel ? P : 0n);
        const bits = BigInt(spec.size * 8);
        const ok = spec.size === 8 || (spec.check === 'signed' ? value >= -(1n << (bits - 1n)) && value < 1n << (bits - 1n) : spec.check === 'unsigned' ? value >= 0n && value < 1n << bits : value >= -(1n << (bits - 1n)) && value < 1n << bits);
        if (!ok) errors.push(`${name(oi)}:(${s.name}+0x${r.offset.toString(16)}): relocation truncated to fit: ${spec.name} against \`${symName}'`);
        if (s.type === SHT_NOBITS) continue;
        if (r.offset + spec.size > img.length) {
          errors.push(`${name(oi)}: relocation at ${s.name}+0x${r.offset.toString(16)} is outside the section`);
          continue;
        }
        const u = BigInt.asUintN(spec.size * 8, value);
        if (spec.size === 8) dv.setBigUint64(r.offset, u, true);
        else if (spec.size === 4) dv.setUint32(r.offset, Number(u), true);
        else if (spec.size === 2) dv.setUint16(r.offset, Number(u), true);
        else img[r.offset] = Number(u);
      }
    }),
  );

  // 5. Entry point and output class.
  const entryName = opts.entry ?? '_start';
  const entryGlobal = globals.get(entryName);
  const entryLocal = entryGlobal ? undefined : findLocal(objects, entryName);
  let entry: bigint;
  let entryMode: number | undefined;
  if (entryGlobal) {
    entry = symAddress(entryGlobal.obj, entryGlobal.sym);
    entryMode = entryGlobal.sym.mode;
  } else if (entryLocal) {
    entry = symAddress(entryLocal.obj, entryLocal.sym);
    entryMode = entryLocal.sym.mode;
  } else if (opts.entry !== undefined && /^(0x[0-9a-f]+|\d+)$/i.test(opts.entry)) {
    entry = BigInt(opts.entry);
  } else {
    const text = byName.get('.text');
    entry = text?.address ?? opts.base;
    warnings.push(`cannot find entry symbol ${entryName}; defaulting to 0x${entry.toString(16).padStart(16, '0')}`);
  }
  const elfClass: 32 | 64 = elf32Objects || entryMode === 32 || entryMode === 16 ? 32 : 64;
  const maxAddr = outputs.reduce((m, o) => (o.address + BigInt(o.size) > m ? o.address + BigInt(o.size) : m), 0n);
  if (elfClass === 32 && maxAddr > 0xffffffffn) errors.push(`ELF32 output (the entry point is 32-bit code) cannot hold addresses above 4 GiB (highest is 0x${maxAddr.toString(16)})`);

  const contents = (o: OutputSection): Uint8Array => {
    const data = new Uint8Array(o.nobits ? 0 : o.size);
    if (o.nobits) return data;
    // Gaps between input sections of code are filled with NOPs (bfd/cpu-i386.c fill).
    let end = 0;
    for (const r of o.inputs) {
      const at = Number(r.address - o.address);
      if (o.flags & SHF_EXECINSTR && at > end) fillNops(data, end, at - end, !elf32Objects);
      const img = images.get(r) ?? new Uint8Array(0);
      data.set(img, at);
      end = at + img.length;
    }
    return data;
  };

  // Symbol addresses for callers (the debugger, tests) and the ELF symbol table.
  const symbolMap = new Map<string, bigint>();
  const elfSymbols: ElfOutSymbol[] = [];
  const outIndex = (oi: number, sec: number | 'abs' | 'undef'): number => {
    if (sec === 'abs') return SHN_ABS;
    if (sec === 'undef') return 0;
    const ref = inputs[oi][sec];
    const k = outputs.findIndex((o) => o.inputs.includes(ref));
    return k < 0 ? SHN_ABS : k + 1; // a label in a discarded empty section
  };
  const TYPE = { notype: STT_NOTYPE, object: STT_OBJECT, func: STT_FUNC } as Record<string, number>;
  objects.forEach((o, oi) =>
    o.symbols.forEach((s) => {
      if (s.binding !== 'local' || s.type === 'section' || s.type === 'file' || s.section === 'undef') return;
      if (typeof s.section === 'number' && !groupOf(o.sections[s.section])) return;
      const v = symAddress(oi, s);
      if (!symbolMap.has(s.name)) symbolMap.set(s.name, v);
      elfSymbols.push({ name: s.name, value: v, size: s.size, type: TYPE[s.type] ?? STT_NOTYPE, binding: STB_LOCAL, shndx: outIndex(oi, s.section) });
    }),
  );
  for (const [n, g] of globals) {
    if (typeof g.sym.section === 'number' && !groupOf(objects[g.obj].sections[g.sym.section])) continue;
    const v = symAddress(g.obj, g.sym);
    symbolMap.set(n, v);
    elfSymbols.push({ name: n, value: v, size: g.sym.size, type: TYPE[g.sym.type] ?? STT_NOTYPE, binding: g.sym.binding === 'weak' ? STB_WEAK : STB_GLOBAL, shndx: outIndex(g.obj, g.sym.section) });
  }
  for (const [n, sc] of scriptSymbols) {
    if (globals.has(n) || (!sc.always && !referenced.has(n))) continue;
    symbolMap.set(n, sc.value);
    const holder = sc.section ? outputs.indexOf(sc.section) : -1;
    elfSymbols.push({ name: n, value: sc.value, size: 0n, type: STT_NOTYPE, binding: STB_GLOBAL, shndx: holder >= 0 ? holder + 1 : SHN_ABS });
  }

  const placed: PlacedSection[] = outputs.map((o) => ({ name: o.name, address: o.address, size: o.size, flags: o.flags, nobits: o.nobits }));
  const result = { elfClass, entry, sections: placed, symbols: symbolMap, errors, warnings };
  if (errors.length) return result;

  if (opts.format === 'bin') {
    const loaded = outputs.filter((o) => !o.nobits && o.size > 0);
    if (loaded.length === 0) return { ...result, output: new Uint8Array(0) };
    const lo = loaded[0].address;
    const hi = loaded.reduce((m, o) => (o.address + BigInt(o.size) > m ? o.address + BigInt(o.size) : m), lo);
    const out = new Uint8Array(Number(hi - lo));
    for (const o of loaded) out.set(contents(o), Number(o.address - lo));
    return { ...result, output: out };
  }

  const sections: ElfOutSection[] = outputs.map((o) => ({
    name: o.name, type: o.nobits ? SHT_NOBITS : SHT_PROGBITS, flags: o.flags, addr: o.address, data: contents(o), size: o.size, align: o.align,
  }));
  const segments: ElfOutSegment[] = [];
  for (const g of groups) {
    const idx = outputs.map((o, i) => (o.group === g ? i : -1)).filter((i) => i >= 0);
    if (g === 'bss' && segments.length && segments[segments.length - 1].flags === (PF_R | PF_W)) {
      // .data and .bss share the read-write segment.
      (segments[segments.length - 1].sections as number[]).push(...idx);
      continue;
    }
    if (idx.length === 0) continue;
    const flags = g === 'text' ? PF_R | PF_X : g === 'rodata' ? PF_R : PF_R | PF_W;
    segments.push({ type: PT_LOAD, flags, sections: idx, align: PAGE });
  }
  const output = writeElf({ elfClass, type: ET_EXEC, entry, sections, segments, symbols: elfSymbols, pageSize: PAGE });
  return { ...result, output };
}

/**
 * GNU ld's padding for code (bfd/cpu-i386.c): the longest NOP (10 bytes for x86-64, the
 * 2-byte `66 90` for i386) repeated, then one shorter NOP for the remainder.
 */
const LD_NOPS: readonly (readonly number[])[] = [
  [0x90], [0x66, 0x90], [0x0f, 0x1f, 0x00], [0x0f, 0x1f, 0x40, 0x00], [0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00], [0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00], [0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00], [0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
];

function fillNops(out: Uint8Array, at: number, count: number, longNops: boolean): void {
  const max = longNops ? LD_NOPS.length : 2;
  let p = at;
  for (; count >= max; count -= max, p += max) out.set(LD_NOPS[max - 1], p);
  if (count > 0) out.set(LD_NOPS[count - 1], p);
}

function findLocal(objects: readonly ObjectFile[], n: string): { obj: number; sym: ObjSymbol } | undefined {
  for (let oi = 0; oi < objects.length; oi++) {
    const s = objects[oi].symbols.find((x) => x.name === n && x.section !== 'undef' && x.type !== 'section');
    if (s) return { obj: oi, sym: s };
  }
  return undefined;
}

interface RelocSpec {
  readonly name: string;
  readonly size: 1 | 2 | 4 | 8;
  readonly pcrel: boolean;
  /** ld's overflow check: signed, unsigned, or bitfield (either interpretation fits). */
  readonly check: 'signed' | 'unsigned' | 'bitfield';
}

function relocSpec(elfClass: 32 | 64, type: number): RelocSpec | undefined {
  if (elfClass === 64) {
    switch (type) {
      case R_X86_64._64: return { name: 'R_X86_64_64', size: 8, pcrel: false, check: 'bitfield' };
      case R_X86_64.PC32: return { name: 'R_X86_64_PC32', size: 4, pcrel: true, check: 'signed' };
      case R_X86_64.PLT32: return { name: 'R_X86_64_PLT32', size: 4, pcrel: true, check: 'signed' };
      case R_X86_64._32: return { name: 'R_X86_64_32', size: 4, pcrel: false, check: 'unsigned' };
      case R_X86_64._32S: return { name: 'R_X86_64_32S', size: 4, pcrel: false, check: 'signed' };
      case R_X86_64._16: return { name: 'R_X86_64_16', size: 2, pcrel: false, check: 'bitfield' };
      case R_X86_64.PC16: return { name: 'R_X86_64_PC16', size: 2, pcrel: true, check: 'signed' };
      case R_X86_64._8: return { name: 'R_X86_64_8', size: 1, pcrel: false, check: 'bitfield' };
      case R_X86_64.PC8: return { name: 'R_X86_64_PC8', size: 1, pcrel: true, check: 'signed' };
      case R_X86_64.PC64: return { name: 'R_X86_64_PC64', size: 8, pcrel: true, check: 'bitfield' };
      default: return undefined;
    }
  }
  switch (type) {
    case R_386._32: return { name: 'R_386_32', size: 4, pcrel: false, check: 'bitfield' };
    case R_386.PC32: return { name: 'R_386_PC32', size: 4, pcrel: true, check: 'bitfield' };
    case R_386._16: return { name: 'R_386_16', size: 2, pcrel: false, check: 'bitfield' };
    case R_386.PC16: return { name: 'R_386_PC16', size: 2, pcrel: true, check: 'bitfield' };
    case R_386._8: return { name: 'R_386_8', size: 1, pcrel: false, check: 'bitfield' };
    case R_386.PC8: return { name: 'R_386_PC8', size: 1, pcrel: true, check: 'signed' };
    default: return undefined;
  }
}
