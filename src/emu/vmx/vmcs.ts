/**
 * The current VMCS as the emulator reads and writes it: fields live in guest-physical memory
 * in the VMCS region at the current-VMCS pointer, at the offsets of our layout (vmcs-fields.ts,
 * the one table), so a VMCS survives VMCLEAR/VMPTRLD round trips and a debugger can read it
 * from memory like a real region (SDM Vol. 3C §24.2: the layout past the header is ours).
 *
 * Hot paths (VM entry, VM exit, VMREAD/VMWRITE) use the `OFF` offsets with the accessors
 * below, which index typed-array views of the region's RAM bound at VMPTRLD: one array access
 * per dword (or word), with no address decoding, and every store lands in memory at once, so
 * tools and tests that read or write the region see the same VMCS. A 64-bit or natural-width
 * field is two dwords, low first. A region outside RAM (device memory) is kept in the
 * processor while current and written back when it stops being current, as the SDM lets a
 * processor cache the current VMCS (§24.11.1). Code decoded from the region's frame is not
 * told of these stores (software must not use the region as data, let alone as code).
 * Addresses at or above 4 GiB are not decoded by this machine: reads float high, writes
 * vanish (as for any unbacked address).
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

/**
 * What VMREAD and VMWRITE need of the field an encoding names, as one number (0: no supported
 * field): the region offset (bits 11:0, the high dword's for a high access), the access
 * (bits 14:12, FIELD_16 ... FIELD_HIGH), bit 15 read-only (VM-exit information), bit 16 a
 * control field (VM-execution, exit or entry control). Typed arrays instead of the table's
 * objects: one load per instruction.
 */
export const FIELD_16 = 1 << 12, FIELD_32 = 2 << 12, FIELD_64 = 3 << 12, FIELD_HIGH = 4 << 12;
export const FIELD_KIND = 7 << 12, FIELD_READ_ONLY = 1 << 15, FIELD_CONTROL = 1 << 16;
const ACCESS_BY_ENCODING: Int32Array = (() => {
  const t = new Int32Array(0x8000);
  for (const f of VMCS_FIELDS) {
    if (!f.supported) continue;
    const flags = (f.readOnly ? FIELD_READ_ONLY : 0) | (f.area === 'control' ? FIELD_CONTROL : 0);
    t[f.encoding] = f.offset | flags | (f.width === '16' ? FIELD_16 : f.width === '32' ? FIELD_32 : FIELD_64);
    if (f.width === '64') t[f.encoding | 1] = (f.offset + 4) | flags | FIELD_HIGH;
  }
  return t;
})();

/** fieldAccess of the VMREAD/VMWRITE operand (low, high halves of the register): 0 when unsupported (SDM §30.3). */
export function fieldAccess(encodingLo: number, encodingHi: number): number {
  return encodingHi === 0 && (encodingLo & ~0x7fff) === 0 ? ACCESS_BY_ENCODING[encodingLo] : 0;
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

/** Dwords in a VMCS region (VMCS_REGION_SIZE / 4). */
const REGION_DWORDS = 1024;

/** The current VMCS (or none): field access by layout offset. */
export class CurrentVmcs extends PhysAccess {
  private ptr = -1;
  /** The region as dwords and words: views of RAM, or the processor's copy of a region outside RAM. */
  private d: Int32Array;
  private h: Uint16Array;
  /** The region is not in RAM: `d` is a copy to write back when it stops being current. */
  private copied = false;
  /** Reads with no current VMCS float high, as reads of the address FFFFFFFF_FFFFFFFFH would. */
  private readonly none = new Int32Array(REGION_DWORDS).fill(-1);
  /** Views by frame, so VMPTRLD of a region used before allocates nothing. */
  private readonly views = new Map<number, Int32Array>();

  constructor(mem: PhysicalMemory) {
    super(mem);
    this.d = this.none;
    this.h = new Uint16Array(this.none.buffer);
  }

  /** Physical address of the current VMCS region; -1 = none (the pointer is FFFFFFFF_FFFFFFFFH, SDM §24.1). */
  get base(): number {
    return this.ptr;
  }

  /** Makes the region at `ptr` (4-KiB aligned) current, or none with -1; the previous one is written back if it was a copy. */
  set base(ptr: number) {
    if (ptr === this.ptr) return;
    if (this.copied) {
      for (let i = 0; i < REGION_DWORDS; i++) this.write32(this.ptr + 4 * i, this.d[i]);
      this.copied = false;
    }
    this.ptr = ptr;
    if (ptr < 0) {
      this.none.fill(-1);
      this.d = this.none;
    } else {
      const pfn = ptr / 4096;
      const mem = this.mem;
      if (ptr + 4096 <= mem.ramSize && mem.pageForRead(pfn) !== undefined) {
        let view = this.views.get(pfn);
        if (view === undefined) {
          view = new Int32Array(mem.ram.buffer, mem.ram.byteOffset + ptr, REGION_DWORDS);
          this.views.set(pfn, view);
        }
        this.d = view;
      } else {
        const copy = new Int32Array(REGION_DWORDS);
        for (let i = 0; i < REGION_DWORDS; i++) copy[i] = this.read32(ptr + 4 * i);
        this.d = copy;
        this.copied = true;
      }
    }
    this.h = new Uint16Array(this.d.buffer, this.d.byteOffset, 2 * REGION_DWORDS);
  }

  r32(off: number): number {
    return this.d[off >> 2];
  }

  w32(off: number, v: number): void {
    this.d[off >> 2] = v;
  }

  r16(off: number): number {
    return this.h[off >> 1];
  }

  w16(off: number, v: number): void {
    this.h[off >> 1] = v;
  }

  w64(off: number, lo: number, hi: number): void {
    const i = off >> 2;
    this.d[i] = lo;
    this.d[i + 1] = hi;
  }

  /** A natural-width field as a number (exact for canonical addresses and values below 2^53). */
  rNum(off: number): number {
    const i = off >> 2;
    return this.d[i + 1] * TWO32 + (this.d[i] >>> 0);
  }

  /** Writes a number (canonical address / RIP / RSP) as a 64-bit field. */
  wNum(off: number, v: number): void {
    const hi = Math.floor(v / TWO32);
    const i = off >> 2;
    this.d[i] = (v - hi * TWO32) | 0;
    this.d[i + 1] = hi | 0;
  }

  /**
   * Stores a dword only if it differs; returns 1 when it changed, else 0 (the VM exit uses it
   * to tell the entry-check cache whether the guest state it checked is still there).
   */
  put32(off: number, v: number): number {
    const i = off >> 2;
    if (this.d[i] === (v | 0)) return 0;
    this.d[i] = v;
    return 1;
  }

  /** put32 for a word. */
  put16(off: number, v: number): number {
    const i = off >> 1;
    if (this.h[i] === (v & 0xffff)) return 0;
    this.h[i] = v;
    return 1;
  }

  /** put32 for both dwords of a 64-bit field. */
  put64(off: number, lo: number, hi: number): number {
    return this.put32(off, lo) | this.put32(off + 4, hi);
  }

  /** put32 for a number as a 64-bit field (wNum). */
  putNum(off: number, v: number): number {
    const hi = Math.floor(v / TWO32);
    return this.put32(off, (v - hi * TWO32) | 0) | this.put32(off + 4, hi | 0);
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
