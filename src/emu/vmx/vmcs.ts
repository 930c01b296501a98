/**
 * The current VMCS as the emulator reads and writes it: fields live in guest-physical memory
 * in the VMCS region at the current-VMCS pointer, at the offsets of our layout (vmcs-fields.ts,
 * the one table), so a VMCS survives VMCLEAR/VMPTRLD round trips and a debugger can read it
 * from memory like a real region (SDM Vol. 3C §24.2: the layout past the header is ours).
 *
 * Hot paths (VM entry, VM exit, VMREAD/VMWRITE) use the `OFF` offsets with the 32-bit
 * accessors below: one aligned typed-array access per dword through PhysicalMemory. A 64-bit
 * or natural-width field is two dwords, low first. Addresses at or above 4 GiB are not
 * decoded by this machine: reads float high, writes vanish (as for any unbacked address).
 */

import type { PhysicalMemory } from '../memory/physical-memory';
import { type VmcsField, VMCS_FIELDS, SUPPORTED_VMCS_FIELDS } from './vmcs-fields';

const TWO32 = 4294967296;

/** Offset in our VMCS layout of every supported field, by vmx.h name. */
export const OFF: Readonly<Record<string, number>> = Object.fromEntries(SUPPORTED_VMCS_FIELDS.map((f) => [f.name, f.offset]));

/** Region offset by full-access encoding (and high encoding of 64-bit fields: +4), -1 when unsupported. */
const OFFSET_BY_ENCODING: Int32Array = (() => {
  const t = new Int32Array(0x8000).fill(-1);
  for (const f of VMCS_FIELDS) {
    if (!f.supported) continue;
    t[f.encoding] = f.offset;
    if (f.width === '64') t[f.encoding | 1] = f.offset + 4;
  }
  return t;
})();

/** The offset of the field an encoding names (the high dword for a high access), or -1. */
export function offsetOfEncoding(encoding: number): number {
  return (encoding & ~0x7fff) === 0 ? OFFSET_BY_ENCODING[encoding] : -1;
}

/** Reads and writes physical memory for the VMX code, with the 4-GiB decode limit. */
export class PhysAccess {
  constructor(readonly mem: PhysicalMemory) {}

  read32(addr: number): number {
    return addr >= 0 && addr + 4 <= TWO32 ? this.mem.read32(addr) : -1;
  }

  write32(addr: number, v: number): void {
    if (addr >= 0 && addr + 4 <= TWO32) this.mem.write32(addr, v);
  }

  read16(addr: number): number {
    return addr >= 0 && addr + 2 <= TWO32 ? this.mem.read16(addr) : 0xffff;
  }

  write16(addr: number, v: number): void {
    if (addr >= 0 && addr + 2 <= TWO32) this.mem.write16(addr, v);
  }

  read8(addr: number): number {
    return addr >= 0 && addr < TWO32 ? this.mem.read8(addr) : 0xff;
  }
}

/** The current VMCS (or none): field access by layout offset. */
export class CurrentVmcs extends PhysAccess {
  /** Physical address of the current VMCS region; -1 = none (the pointer is FFFFFFFF_FFFFFFFFH, SDM §24.1). */
  base = -1;

  r32(off: number): number {
    return this.read32(this.base + off);
  }

  w32(off: number, v: number): void {
    this.write32(this.base + off, v);
  }

  r16(off: number): number {
    return this.read16(this.base + off);
  }

  w16(off: number, v: number): void {
    this.write16(this.base + off, v);
  }

  w64(off: number, lo: number, hi: number): void {
    this.write32(this.base + off, lo);
    this.write32(this.base + off + 4, hi);
  }

  /** A natural-width field as a number (exact for canonical addresses and values below 2^53). */
  rNum(off: number): number {
    return this.read32(this.base + off + 4) * TWO32 + (this.read32(this.base + off) >>> 0);
  }

  /** Writes a number (canonical address / RIP / RSP) as a 64-bit field. */
  wNum(off: number, v: number): void {
    const hi = Math.floor(v / TWO32);
    this.write32(this.base + off, (v - hi * TWO32) | 0);
    this.write32(this.base + off + 4, hi | 0);
  }

  /** A field (by table entry) as halves into out[0], out[1] (16/32-bit fields: hi = 0). */
  readField(f: VmcsField, out: Int32Array): void {
    const o = f.offset;
    switch (f.width) {
      case '16': out[0] = this.r16(o); out[1] = 0; break;
      case '32': out[0] = this.r32(o); out[1] = 0; break;
      default: out[0] = this.r32(o); out[1] = this.r32(o + 4);
    }
  }

  /** Writes a field by table entry from halves (truncated to the field's width). */
  writeField(f: VmcsField, lo: number, hi: number): void {
    const o = f.offset;
    switch (f.width) {
      case '16': this.w16(o, lo & 0xffff); break;
      case '32': this.w32(o, lo); break;
      default: this.w64(o, lo, hi);
    }
  }

  /** VmcsReader (entry checks): a field by full-access encoding. */
  lo(encoding: number): number {
    const o = offsetOfEncoding(encoding);
    if (o < 0) return 0;
    const w = (encoding >>> 13) & 3;
    return w === 0 ? this.r16(o) : this.r32(o);
  }

  hi(encoding: number): number {
    const o = offsetOfEncoding(encoding);
    const w = (encoding >>> 13) & 3;
    return o < 0 || w === 0 || w === 2 ? 0 : this.r32(o + 4);
  }
}
