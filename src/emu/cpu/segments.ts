// Segment descriptors: reading them from the GDT/LDT, converting them to the hidden-part
// format (VMCS access rights), and loading segment registers with the protected-mode checks
// of SDM Vol. 2 MOV/POP (Sreg) and Vol. 3 §5.5-5.8 (privilege checks).
import type { Cpu } from './cpu';
import { CpuFault, GP, NP, SS_VEC } from './fault';
import {
  AR_DB, AR_DPL_SHIFT, AR_L, AR_P, AR_S, AR_TYPE_CODE, AR_TYPE_EC, AR_TYPE_RW, AR_UNUSABLE, CS, LDTR, MODE_REAL,
  MODE_V8086, SS,
} from './state';
import { ACC_IMPLICIT, ACC_READ, ACC_WRITE } from './translator';

const SYS_READ = ACC_READ | ACC_IMPLICIT, SYS_WRITE = ACC_WRITE | ACC_IMPLICIT;

/** The last descriptor read by readDescriptor: low and high dwords, and its linear address. */
export const desc = { lo: 0, hi: 0, addr: 0 };

/** Reads a dword at a linear address as an implicit supervisor-mode access (GDT/LDT/IDT/TSS, SDM Vol. 3 §4.6). */
export function sysRead32(c: Cpu, linear: number): number {
  const lo = linear | 0, hi = Math.floor(linear / 4294967296) | 0;
  if ((lo & 0xfff) > 0xffc) {
    let v = 0;
    for (let k = 0; k < 4; k++) v |= c.mem.read8(c.translate((lo + k) | 0, hi, SYS_READ, c.cpl)) << (8 * k);
    return v;
  }
  return c.mem.read32(c.translate(lo, hi, SYS_READ, c.cpl));
}

/** Writes a dword at a linear address as a supervisor. */
export function sysWrite32(c: Cpu, linear: number, v: number): void {
  const lo = linear | 0, hi = Math.floor(linear / 4294967296) | 0;
  if ((lo & 0xfff) > 0xffc) {
    for (let k = 0; k < 4; k++) c.mem.write8(c.translate((lo + k) | 0, hi, SYS_WRITE, c.cpl), v >> (8 * k));
    return;
  }
  c.mem.write32(c.translate(lo, hi, SYS_WRITE, c.cpl), v);
}

/** Writes a word at a linear address as a supervisor. */
export function sysWrite16(c: Cpu, linear: number, v: number): void {
  const lo = linear | 0, hi = Math.floor(linear / 4294967296) | 0;
  c.mem.write8(c.translate(lo, hi, SYS_WRITE, c.cpl), v);
  c.mem.write8(c.translate((lo + 1) | 0, hi, SYS_WRITE, c.cpl), v >> 8);
}

/**
 * Reads the 8-byte descriptor for `sel` from the GDT or LDT into `desc`. Returns false when
 * the selector's index lies beyond the table limit (the caller raises its fault).
 */
export function readDescriptor(c: Cpu, sel: number): boolean {
  const index = sel & 0xfff8;
  let base: number, limit: number;
  if ((sel & 4) !== 0) {
    if ((c.segAr[LDTR] & AR_UNUSABLE) !== 0) return false;
    base = c.segBase(LDTR); limit = c.segLimit[LDTR];
  } else {
    base = c.gdtrBase; limit = c.gdtrLimit;
  }
  if (index + 7 > limit) return false;
  desc.addr = base + index;
  desc.lo = sysRead32(c, desc.addr);
  desc.hi = sysRead32(c, desc.addr + 4);
  return true;
}

/** Access rights (VMCS format) of a descriptor's high dword. */
export function descAr(hi: number): number {
  return (hi >> 8) & 0xf0ff;
}
export function descBase(lo: number, hi: number): number {
  return ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) | 0;
}
export function descLimit(lo: number, hi: number): number {
  const raw = (lo & 0xffff) | (hi & 0xf0000);
  return (hi & 0x800000) !== 0 ? raw * 4096 + 0xfff : raw;
}

/** Sets the accessed bit of the descriptor last read (SDM Vol. 3 §3.4.5.1), as the CPU does on a load. */
export function markAccessed(c: Cpu): void {
  if ((desc.hi & 0x100) === 0) {
    desc.hi |= 0x100;
    sysWrite32(c, desc.addr + 4, desc.hi);
  }
}

/**
 * MOV/POP to a data segment register or SS (not CS): real and virtual-8086 mode load
 * selector×16 as the base; protected mode checks the descriptor (SDM Vol. 2 MOV "Operation").
 */
export function loadDataSegment(c: Cpu, seg: number, sel: number): void {
  sel &= 0xffff;
  if (c.mode === MODE_REAL || c.mode === MODE_V8086) {
    const ar = c.mode === MODE_V8086 ? AR_P | AR_S | AR_TYPE_RW | 1 | (3 << AR_DPL_SHIFT) : c.segAr[seg];
    c.loadSegmentCache(seg, sel, sel << 4, 0, c.mode === MODE_V8086 ? 0xffff : c.segLimit[seg], ar & ~AR_UNUSABLE);
    return;
  }
  const rpl = sel & 3;
  const cpl = c.cpl;
  if ((sel & 0xfffc) === 0) {
    // A null selector: #GP for SS except in 64-bit mode at CPL < 3 (SDM Vol. 3 §5.4.1.1).
    if (seg === SS && !(c.long64 && cpl !== 3 && rpl === cpl)) throw new CpuFault(GP, 0, 'null selector loaded into SS');
    c.loadSegmentCache(seg, sel, 0, 0, 0, AR_UNUSABLE | (seg === SS ? cpl << AR_DPL_SHIFT : 0));
    return;
  }
  if (!readDescriptor(c, sel)) throw new CpuFault(GP, sel & 0xfffc, 'selector beyond the descriptor table limit');
  const ar = descAr(desc.hi);
  const dpl = (ar >> AR_DPL_SHIFT) & 3;
  const code = (ar & AR_TYPE_CODE) !== 0;
  if ((ar & AR_S) === 0) throw new CpuFault(GP, sel & 0xfffc, 'system descriptor loaded into a data segment register');
  if (seg === SS) {
    if (rpl !== cpl || dpl !== cpl || code || (ar & AR_TYPE_RW) === 0) throw new CpuFault(GP, sel & 0xfffc, 'SS needs a writable data segment at CPL');
    if ((ar & AR_P) === 0) throw new CpuFault(SS_VEC, sel & 0xfffc, 'stack segment not present');
  } else {
    if (code && (ar & AR_TYPE_RW) === 0) throw new CpuFault(GP, sel & 0xfffc, 'execute-only code segment loaded into a data segment register');
    if ((!code || (ar & AR_TYPE_EC) === 0) && (rpl > dpl || cpl > dpl)) throw new CpuFault(GP, sel & 0xfffc, 'segment privilege check failed');
    if ((ar & AR_P) === 0) throw new CpuFault(NP, sel & 0xfffc, 'segment not present');
  }
  markAccessed(c);
  c.loadSegmentCache(seg, sel, descBase(desc.lo, desc.hi), 0, descLimit(desc.lo, desc.hi), descAr(desc.hi));
}

/**
 * Loads CS from the descriptor in `desc` for a far transfer to privilege level `cpl`
 * (checks done by the caller), with the selector's RPL set to `cpl`.
 */
export function loadCodeSegment(c: Cpu, sel: number, cpl: number): void {
  markAccessed(c);
  c.loadSegmentCache(CS, (sel & 0xfffc) | cpl, descBase(desc.lo, desc.hi), 0, descLimit(desc.lo, desc.hi), descAr(desc.hi));
}

/** Checks a code-segment descriptor in `desc` as a far-transfer target; returns its DPL. */
export function checkCodeDescriptor(sel: number, needLong: boolean): number {
  const ar = descAr(desc.hi);
  if ((ar & (AR_S | AR_TYPE_CODE)) !== (AR_S | AR_TYPE_CODE)) throw new CpuFault(GP, sel & 0xfffc, 'not a code segment');
  if (needLong && ((ar & AR_L) === 0 || (ar & AR_DB) !== 0)) throw new CpuFault(GP, sel & 0xfffc, 'a 64-bit code segment is required');
  if ((ar & AR_P) === 0) throw new CpuFault(NP, sel & 0xfffc, 'code segment not present');
  return (ar >> AR_DPL_SHIFT) & 3;
}
