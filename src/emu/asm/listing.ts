// Whole-file disassembly text laid out exactly as binutils 2.40 `objdump -d` prints it:
// the "file format" header, "Disassembly of section X:", a "<symbol>:" line wherever a
// symbol starts, then per instruction `address:<TAB>bytes (7 per line)<TAB>text`, with
// continuation lines for longer instructions and `...` for runs of zero bytes (objdump
// skips 8 or more zeros, in multiples of 4 unless they run to the next symbol, and fewer
// than 3 zeros at the end of a block).
import type { CodeMode } from './ast';
import { disassemble } from './disasm';
import { TextBuffer } from './text-buffer';

export interface ListingSection {
  readonly name: string;
  readonly address: bigint;
  readonly bytes: Uint8Array;
}

export interface ListingSymbol {
  readonly name: string;
  readonly value: bigint;
  /** Name of the section the symbol belongs to (undefined: absolute or unknown). */
  readonly section?: string;
  readonly func?: boolean;
  readonly object?: boolean;
  readonly global?: boolean;
}

export interface ListingOptions {
  readonly fileName: string;
  /** BFD target name objdump prints: elf64-x86-64, elf32-i386, binary. */
  readonly format: string;
  /** Hex digits of a full address (16 for 64-bit targets, 8 otherwise). */
  readonly addressDigits: 8 | 16;
  readonly mode: CodeMode;
  readonly sections: readonly ListingSection[];
  readonly symbols: readonly ListingSymbol[];
  /** --start-address / --stop-address. */
  readonly start?: bigint;
  readonly stop?: bigint;
}

const BYTES_PER_LINE = 7;
const SKIP_ZEROES = 8;
const SKIP_ZEROES_AT_END = 3;
const MAX_INSN = 15;
const TAB = 9;
const NEWLINE = 10;
const SPACE = 32;
const scratch = new Uint8Array(2 * MAX_INSN);

/** objdump's preference among symbols at one address (objdump.c compare_symbols): functions, objects, globals. */
function rank(s: ListingSymbol): number {
  return (s.func ? 0 : 4) + (s.object ? 0 : 2) + (s.global ? 0 : 1);
}

export function objdumpListing(o: ListingOptions): string {
  const out = new TextBuffer();
  out.text(`\n${o.fileName}:     file format ${o.format}\n\n`);
  const hexFull = (v: bigint) => BigInt.asUintN(o.addressDigits * 4, v).toString(16).padStart(o.addressDigits, '0');
  const sorted = [...o.symbols].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : rank(a) - rank(b)));
  const symbolize = (addr: bigint): string | undefined => {
    // The first of the symbols with the highest value <= addr (binary search: branch targets
    // are looked up once per instruction).
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid].value <= addr) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return undefined;
    let i = lo - 1;
    while (i > 0 && sorted[i - 1].value === sorted[i].value) i--;
    const best = sorted[i];
    return best.value === addr ? best.name : `${best.name}+0x${(addr - best.value).toString(16)}`;
  };
  for (const sec of o.sections) {
    const end = sec.address + BigInt(sec.bytes.length);
    const from = o.start !== undefined && o.start > sec.address ? o.start : sec.address;
    const to = o.stop !== undefined && o.stop < end ? o.stop : end;
    if (from >= to && !(o.start === undefined && o.stop === undefined)) continue;
    out.text(`\nDisassembly of section ${sec.name}:\n`);
    // Width of the address column (objdump.c disassemble_section: skip_addr_chars).
    const endText = hexFull(end);
    let skip = 0;
    while (endText[skip] === '0') skip++;
    if (skip === endText.length && sec.address !== 0n) skip = 0;
    if (skip !== 0) skip = (skip - 1) & -4;
    // The address without the skipped leading digits, its remaining leading zeros as blanks.
    const width = o.addressDigits - skip;
    const addrCol = (a: bigint) => {
      const h = a <= 0xffffffffffffn ? Number(a).toString(16) : BigInt.asUintN(o.addressDigits * 4, a).toString(16);
      return h.length >= width ? h.slice(h.length - width) : h.padStart(width, ' ');
    };
    const own = sorted.filter((s) => s.section === sec.name);
    let addr = from;
    while (addr < to) {
      // The symbol that names this block and the next symbol, which ends it.
      let sym: ListingSymbol | undefined;
      for (const s of own) if (s.value <= addr && (!sym || s.value > sym.value || (s.value === sym.value && rank(s) < rank(sym)))) sym = s;
      const next = own.find((s) => s.value > addr);
      const stop = next && next.value < to ? next.value : to;
      let label: string;
      if (sym) label = sym.value === addr ? sym.name : `${sym.name}+0x${(addr - sym.value).toString(16)}`;
      else if (next) label = `${next.name}-0x${(next.value - addr).toString(16)}`;
      else label = addr === sec.address ? sec.name : `${sec.name}+0x${(addr - sec.address).toString(16)}`;
      out.text(`\n${hexFull(addr)} <${label}>:\n`);
      addr = disassembleBlock(o, sec, addr, stop, addrCol, symbolize, out);
    }
  }
  return out.toString();
}

function disassembleBlock(
  o: ListingOptions, sec: ListingSection, from: bigint, stop: bigint,
  addrCol: (a: bigint) => string, symbolize: (a: bigint) => string | undefined, out: TextBuffer,
): bigint {
  const bytes = sec.bytes;
  let off = Number(from - sec.address);
  const stopOff = Number(stop - sec.address);
  while (off < stopOff) {
    let z = off;
    while (z < stopOff && bytes[z] === 0) z++;
    if (z - off >= SKIP_ZEROES || (z === stopOff && z - off < SKIP_ZEROES_AT_END && z > off)) {
      if (z !== stopOff) z = off + ((z - off) & ~3);
      out.text('\t...\n');
      off = z;
      continue;
    }
    const address = sec.address + BigInt(off);
    // An instruction is at most 15 bytes: with that many before the stop, decode in place;
    // else from a copy padded with zeros after the stop, so a cut instruction shows as such.
    const avail = Math.min(MAX_INSN, stopOff - off);
    let d;
    if (avail === MAX_INSN) {
      d = disassemble(bytes, off, address, o.mode, symbolize);
    } else {
      scratch.fill(0);
      for (let i = 0; i < avail; i++) scratch[i] = bytes[off + i];
      d = disassemble(scratch, 0, address, o.mode, symbolize);
      if (d.length > avail) d = { length: 1, text: truncatedInsn(bytes[off], o.mode) };
    }
    const len = d.length;
    for (let k = 0; k < len; k += BYTES_PER_LINE) {
      out.text(addrCol(k === 0 ? address : address + BigInt(k)));
      out.char(0x3a); // ':'
      out.char(TAB);
      const n = Math.min(len - k, BYTES_PER_LINE);
      for (let q = off + k, e = q + n; q < e; q++) {
        out.hexByte(bytes[q]);
        out.char(SPACE);
      }
      if (k === 0) {
        out.repeat(SPACE, 3 * (BYTES_PER_LINE - n));
        out.char(TAB);
        out.text(d.text);
      }
      out.char(NEWLINE);
    }
    off += len;
  }
  return sec.address + BigInt(off);
}

/**
 * objdump's disassembler never reads past the next symbol or the section end (its
 * stop_vma): an instruction cut there prints as its first byte alone, named when it is a
 * prefix (i386-dis.c prefix_name), else as `.byte 0xNN`.
 */
function truncatedInsn(b: number, mode: CodeMode): string {
  if (mode === 64 && b >= 0x40 && b <= 0x4f) return b === 0x40 ? 'rex' : `rex.${b & 8 ? 'W' : ''}${b & 4 ? 'R' : ''}${b & 2 ? 'X' : ''}${b & 1 ? 'B' : ''}`;
  const names: Record<number, string> = {
    0x26: 'es', 0x2e: 'cs', 0x36: 'ss', 0x3e: 'ds', 0x64: 'fs', 0x65: 'gs', 0xf0: 'lock', 0xf2: 'repnz', 0xf3: 'repz', 0x9b: 'fwait',
    0x66: mode === 16 ? 'data32' : 'data16', 0x67: mode === 32 ? 'addr16' : 'addr32',
  };
  return names[b] ?? `.byte 0x${b.toString(16)}`;
}
