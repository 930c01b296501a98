// Guest-physical memory: a 4 GiB physical address space in 4 KiB frames.
//
// RAM is ONE Uint8Array of the configured size, indexed by physical address. Node
// allocates it zero-filled through calloc/mmap, so the host OS backs a page only when it
// is first touched (measured: a 2 GiB RAM adds nothing to RSS until written; touching
// 1000 pages adds 4 MB) -- sparse without any bookkeeping of ours. One buffer (rather
// than one array per page) lets the CPU's software TLB be a flat typed array of integers
// (DESIGN.md "Designing for speed", item 2) and measured faster on the hot path.
//
// Two per-frame flag tables drive the hot paths: `readable[pfn]` / `writable[pfn]` are 1
// when an access can go straight to `ram`, 0 otherwise: MMIO, no RAM, or (for writes) a
// frame the CPU has decoded code from. The slow path handles the rest: MMIO dispatch,
// open bus (reads of nothing return all ones, writes vanish, as on a PC), page-crossing
// accesses and the code-write notification the CPU's decoded-instruction cache needs
// (item 1).
//
// All addresses are physical and below 2^32 (callers with wider physical addresses, e.g.
// PAE page tables, must check `isAddressable` first). 64-bit accesses are two
// little-endian 32-bit halves; no BigInt anywhere.

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
const PAGE_MASK = PAGE_SIZE - 1;
/** Number of 4 KiB frames in the 4 GiB physical space. */
export const PAGE_COUNT = 1 << 20;
const FOUR_GIB = 0x1_0000_0000;

/** A device whose registers are memory-mapped. Offsets are relative to the region base. */
export interface MmioDevice {
  /** Read `size` bytes (1, 2 or 4) at `offset`; returns the value zero-extended. */
  mmioRead(offset: number, size: 1 | 2 | 4): number;
  mmioWrite(offset: number, size: 1 | 2 | 4, value: number): void;
}

export interface MmioRegion {
  readonly name: string;
  base: number;
  readonly size: number;
  readonly device: MmioDevice;
  /** A disabled region is not decoded (reads open bus); the local APIC uses this when globally disabled. */
  enabled: boolean;
}

/** e820 address-range types (ACPI spec §15, "System Address Map Interfaces"). */
export const E820_USABLE = 1;
export const E820_RESERVED = 2;

export interface E820Entry {
  base: number;
  length: number;
  type: number;
}

export interface PhysicalMemoryConfig {
  /** RAM size in bytes: a multiple of 4 KiB, at least 2 MiB, at most 3 GiB (default 128 MiB). */
  ramSize?: number;
}

export const DEFAULT_RAM_SIZE = 128 * 1024 * 1024;
/** Top of the RAM the machine can have below the PCI/MMIO hole (QEMU also splits there). */
export const MAX_RAM_SIZE = 0xC000_0000;
/** Conventional memory ends where the Extended BIOS Data Area starts (639 KiB). */
export const LOW_RAM_END = 0x9FC00;
export const HIGH_RAM_START = 0x10_0000;

export class MemoryConfigError extends Error {
  override readonly name = 'MemoryConfigError';
}

const KIND_NONE = 0;
const KIND_RAM = 1;
const KIND_MMIO = 2;

export class PhysicalMemory {
  readonly ramSize: number;
  /** Guest RAM; byte i is physical address i. Use only where `readable`/`writable` allow. */
  readonly ram: Uint8Array;
  /** The same RAM as int32 words (little-endian hosts: every host Node runs on here). */
  private readonly ram32: Int32Array;
  /** Per frame: 1 when reads may use `ram` directly. */
  readonly readable: Uint8Array;
  /** Per frame: 1 when writes may use `ram` directly (not for code frames). */
  readonly writable: Uint8Array;
  /**
   * Called before a write lands in a frame marked with `markCode`: the CPU invalidates
   * its decoded instructions for that frame (and may `clearCode` it). `addr`/`size` say
   * what is being written.
   */
  onCodeWrite: ((pfn: number, addr: number, size: number) => void) | undefined;

  private readonly kind: Uint8Array;
  private readonly code: Uint8Array;
  /** Per frame: index+1 into `regions` for MMIO frames. */
  private readonly mmioIndex: Uint16Array;
  private readonly regions: MmioRegion[] = [];
  /** Per-frame views handed out by pageForRead/pageForWrite. */
  private readonly views = new Map<number, Uint8Array>();
  /** The same frames as dwords (pageWords), for aligned 32/64-bit accesses. */
  private readonly wordViews = new Map<number, Int32Array>();

  constructor(config: PhysicalMemoryConfig = {}) {
    const ramSize = config.ramSize ?? DEFAULT_RAM_SIZE;
    if (!Number.isInteger(ramSize) || ramSize % PAGE_SIZE !== 0 || ramSize < 2 * 1024 * 1024 || ramSize > MAX_RAM_SIZE) {
      throw new MemoryConfigError(`RAM size must be a multiple of 4 KiB between 2 MiB and 3 GiB (got ${ramSize} bytes)`);
    }
    this.ramSize = ramSize;
    this.ram = new Uint8Array(ramSize);
    this.ram32 = new Int32Array(this.ram.buffer);
    const ramPages = ramSize >>> PAGE_SHIFT;
    this.readable = new Uint8Array(PAGE_COUNT);
    this.writable = new Uint8Array(PAGE_COUNT);
    this.kind = new Uint8Array(PAGE_COUNT);
    this.code = new Uint8Array(PAGE_COUNT);
    this.mmioIndex = new Uint16Array(PAGE_COUNT);
    this.kind.fill(KIND_RAM, 0, ramPages);
    this.readable.fill(1, 0, ramPages);
    this.writable.fill(1, 0, ramPages);
    this.onCodeWrite = undefined;
  }

  /** True when `addr` lies in the 4 GiB space this memory models. */
  isAddressable(addr: number): boolean {
    return addr >= 0 && addr < FOUR_GIB;
  }

  // ---- MMIO ---------------------------------------------------------------------------

  /** Map `device` at [base, base+size); both page-aligned, not overlapping another region. */
  addMmio(name: string, base: number, size: number, device: MmioDevice): MmioRegion {
    const region: MmioRegion = { name, base, size, device, enabled: true };
    this.checkMmioRange(region, base);
    this.regions.push(region);
    this.mapRegion(region, this.regions.length);
    return region;
  }

  /** Move a region (IA32_APIC_BASE relocates the local APIC). */
  moveMmio(region: MmioRegion, newBase: number): void {
    if (newBase === region.base) return;
    this.checkMmioRange(region, newBase);
    this.unmapRegion(region);
    region.base = newBase;
    this.mapRegion(region, this.regions.indexOf(region) + 1);
  }

  get mmioRegions(): readonly MmioRegion[] {
    return this.regions;
  }

  private checkMmioRange(region: MmioRegion, base: number): void {
    const { size, name } = region;
    if (base % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0 || size <= 0 || base < 0 || base + size > FOUR_GIB) {
      throw new MemoryConfigError(`MMIO region ${name} at 0x${base.toString(16)} (size 0x${size.toString(16)}) must be page-aligned and below 4 GiB`);
    }
    for (let pfn = base / PAGE_SIZE; pfn < (base + size) / PAGE_SIZE; pfn++) {
      const owner = this.mmioIndex[pfn];
      if (owner !== 0 && this.regions[owner - 1] !== region) {
        throw new MemoryConfigError(`MMIO region ${name} at 0x${base.toString(16)} overlaps ${this.regions[owner - 1].name}`);
      }
    }
  }

  /**
   * Map a region's frames. A region placed over RAM (a relocated local APIC) hides that
   * RAM until it moves away, as the APIC does on real hardware; the RAM keeps its contents.
   */
  private mapRegion(region: MmioRegion, index: number): void {
    for (let pfn = region.base / PAGE_SIZE; pfn < (region.base + region.size) / PAGE_SIZE; pfn++) {
      this.kind[pfn] = KIND_MMIO;
      this.mmioIndex[pfn] = index;
      this.readable[pfn] = 0;
      this.writable[pfn] = 0;
    }
  }

  private unmapRegion(region: MmioRegion): void {
    const ramPages = this.ramSize / PAGE_SIZE;
    for (let pfn = region.base / PAGE_SIZE; pfn < (region.base + region.size) / PAGE_SIZE; pfn++) {
      this.mmioIndex[pfn] = 0;
      if (pfn < ramPages) {
        this.kind[pfn] = KIND_RAM;
        this.readable[pfn] = 1;
        this.writable[pfn] = this.code[pfn] === 0 ? 1 : 0;
      } else {
        this.kind[pfn] = KIND_NONE;
      }
    }
  }

  // ---- code-page tracking ---------------------------------------------------------------

  /** The CPU decoded instructions from frame `pfn`: route writes to it through `onCodeWrite`. */
  markCode(pfn: number): void {
    if (this.code[pfn] === 1 || this.kind[pfn] !== KIND_RAM) return;
    this.code[pfn] = 1;
    this.writable[pfn] = 0;
  }

  /** The CPU dropped its decoded instructions for `pfn`: writes take the fast path again. */
  clearCode(pfn: number): void {
    if (this.code[pfn] === 0) return;
    this.code[pfn] = 0;
    if (this.kind[pfn] === KIND_RAM) this.writable[pfn] = 1;
  }

  hasCode(pfn: number): boolean {
    return this.code[pfn] === 1;
  }

  // ---- page views for a TLB that caches per-page arrays -------------------------------------

  /**
   * A 4 KiB view of RAM frame `pfn` for direct reads, or undefined when reads of it must
   * take the slow path (MMIO, no RAM). Views share `ram` and are created once per frame.
   */
  pageForRead(pfn: number): Uint8Array | undefined {
    return this.readable[pfn] === 1 ? this.view(pfn) : undefined;
  }

  /** Like `pageForRead` for writes: undefined also for frames holding decoded code. */
  pageForWrite(pfn: number): Uint8Array | undefined {
    return this.writable[pfn] === 1 ? this.view(pfn) : undefined;
  }

  /**
   * The dwords of a RAM frame handed out by pageForRead/pageForWrite (little-endian, as the
   * host is: one store per aligned dword instead of four byte stores).
   */
  pageWords(pfn: number): Int32Array {
    let v = this.wordViews.get(pfn);
    if (v === undefined) {
      v = new Int32Array(this.ram.buffer, this.ram.byteOffset + pfn * PAGE_SIZE, PAGE_SIZE / 4);
      this.wordViews.set(pfn, v);
    }
    return v;
  }

  private view(pfn: number): Uint8Array {
    let v = this.views.get(pfn);
    if (v === undefined) {
      v = this.ram.subarray(pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE);
      this.views.set(pfn, v);
    }
    return v;
  }

  // ---- hot paths ------------------------------------------------------------------------

  read8(addr: number): number {
    if (this.readable[addr >>> PAGE_SHIFT] === 1) return this.ram[addr];
    return this.readSlow(addr, 1);
  }

  read16(addr: number): number {
    if ((addr & PAGE_MASK) <= PAGE_SIZE - 2 && this.readable[addr >>> PAGE_SHIFT] === 1) {
      const r = this.ram;
      return r[addr] | (r[addr + 1] << 8);
    }
    return this.readSlow(addr, 2);
  }

  /** 32-bit read as a signed int32 (use `>>> 0` for the unsigned value). */
  read32(addr: number): number {
    if ((addr & PAGE_MASK) <= PAGE_SIZE - 4 && this.readable[addr >>> PAGE_SHIFT] === 1) {
      if ((addr & 3) === 0) return this.ram32[addr >>> 2];
      const r = this.ram;
      return r[addr] | (r[addr + 1] << 8) | (r[addr + 2] << 16) | (r[addr + 3] << 24);
    }
    return this.readSlow(addr, 4) | 0;
  }

  /** 64-bit read into out[index] (low half) and out[index+1] (high half). */
  read64(addr: number, out: Int32Array, index: number): void {
    out[index] = this.read32(addr);
    out[index + 1] = this.read32((addr + 4) >>> 0);
  }

  write8(addr: number, value: number): void {
    if (this.writable[addr >>> PAGE_SHIFT] === 1) this.ram[addr] = value;
    else this.writeSlow(addr, 1, value);
  }

  write16(addr: number, value: number): void {
    if ((addr & PAGE_MASK) <= PAGE_SIZE - 2 && this.writable[addr >>> PAGE_SHIFT] === 1) {
      const r = this.ram;
      r[addr] = value;
      r[addr + 1] = value >> 8;
      return;
    }
    this.writeSlow(addr, 2, value);
  }

  write32(addr: number, value: number): void {
    if ((addr & PAGE_MASK) <= PAGE_SIZE - 4 && this.writable[addr >>> PAGE_SHIFT] === 1) {
      if ((addr & 3) === 0) {
        this.ram32[addr >>> 2] = value;
        return;
      }
      const r = this.ram;
      r[addr] = value;
      r[addr + 1] = value >> 8;
      r[addr + 2] = value >> 16;
      r[addr + 3] = value >> 24;
      return;
    }
    this.writeSlow(addr, 4, value);
  }

  write64(addr: number, lo: number, hi: number): void {
    this.write32(addr, lo);
    this.write32((addr + 4) >>> 0, hi);
  }

  // ---- slow paths -----------------------------------------------------------------------

  private readSlow(addr: number, size: 1 | 2 | 4): number {
    const o = addr & PAGE_MASK;
    if (o + size > PAGE_SIZE) {
      // Page-crossing: assemble little-endian from byte reads, each dispatched on its own page.
      let v = 0;
      for (let i = 0; i < size; i++) v |= this.read8((addr + i) >>> 0) << (8 * i);
      return size === 4 ? v >>> 0 : v;
    }
    const pfn = addr >>> PAGE_SHIFT;
    if (this.kind[pfn] === KIND_MMIO) {
      const region = this.regions[this.mmioIndex[pfn] - 1];
      if (region.enabled) return region.device.mmioRead(addr - region.base, size);
    }
    // No RAM and no device decodes the address: the bus floats high.
    return size === 1 ? 0xFF : size === 2 ? 0xFFFF : 0xFFFF_FFFF;
  }

  private writeSlow(addr: number, size: 1 | 2 | 4, value: number): void {
    const o = addr & PAGE_MASK;
    if (o + size > PAGE_SIZE) {
      for (let i = 0; i < size; i++) this.write8((addr + i) >>> 0, value >>> (8 * i));
      return;
    }
    const pfn = addr >>> PAGE_SHIFT;
    const kind = this.kind[pfn];
    if (kind === KIND_RAM) {
      if (this.code[pfn] === 1 && this.onCodeWrite !== undefined) this.onCodeWrite(pfn, addr, size);
      const r = this.ram;
      r[addr] = value;
      if (size >= 2) r[addr + 1] = value >> 8;
      if (size === 4) {
        r[addr + 2] = value >> 16;
        r[addr + 3] = value >> 24;
      }
    } else if (kind === KIND_MMIO) {
      const region = this.regions[this.mmioIndex[pfn] - 1];
      if (region.enabled) region.device.mmioWrite(addr - region.base, size, size === 4 ? value >>> 0 : value & (size === 1 ? 0xFF : 0xFFFF));
    }
  }

  // ---- bulk access (loader, debugger) -----------------------------------------------------

  /** Copy `data` to physical `addr` (through MMIO and code-write notification like any write). */
  writeBytes(addr: number, data: Uint8Array): void {
    this.checkRange(addr, data.length);
    let i = 0;
    while (i < data.length) {
      const a = addr + i;
      const pfn = a >>> PAGE_SHIFT;
      const n = Math.min(PAGE_SIZE - (a & PAGE_MASK), data.length - i);
      if (this.kind[pfn] === KIND_RAM) {
        if (this.code[pfn] === 1 && this.onCodeWrite !== undefined) this.onCodeWrite(pfn, a, n);
        this.ram.set(data.subarray(i, i + n), a);
      } else {
        for (let k = 0; k < n; k++) this.writeSlow(a + k, 1, data[i + k]);
      }
      i += n;
    }
  }

  /** Fill [addr, addr+length) with `value` (zeroing a loaded image's bss). */
  fill(addr: number, length: number, value: number): void {
    this.checkRange(addr, length);
    const chunk = new Uint8Array(Math.min(length, PAGE_SIZE)).fill(value);
    for (let i = 0; i < length; i += PAGE_SIZE) {
      const n = Math.min(PAGE_SIZE, length - i);
      this.writeBytes(addr + i, n === chunk.length ? chunk : chunk.subarray(0, n));
    }
  }

  /** Copy of [addr, addr+length) as the CPU would read it (MMIO reads have side effects: debugger beware). */
  readBytes(addr: number, length: number): Uint8Array {
    this.checkRange(addr, length);
    const out = new Uint8Array(length);
    let i = 0;
    while (i < length) {
      const a = addr + i;
      const n = Math.min(PAGE_SIZE - (a & PAGE_MASK), length - i);
      if (this.readable[a >>> PAGE_SHIFT] === 1) out.set(this.ram.subarray(a, a + n), i);
      else for (let k = 0; k < n; k++) out[i + k] = this.readSlow(a + k, 1);
      i += n;
    }
    return out;
  }

  /** True when [addr, addr+length) is RAM (not MMIO, not a hole). */
  isRam(addr: number, length: number): boolean {
    if (addr < 0 || length < 0 || addr + length > this.ramSize) return false;
    for (let pfn = addr >>> PAGE_SHIFT; pfn < (addr + length) / PAGE_SIZE; pfn++) if (this.kind[pfn] !== KIND_RAM) return false;
    return true;
  }

  private checkRange(addr: number, length: number): void {
    if (!Number.isInteger(addr) || !Number.isInteger(length) || addr < 0 || length < 0 || addr + length > FOUR_GIB) {
      throw new RangeError(`physical range 0x${addr.toString(16)}+0x${length.toString(16)} is outside the 4 GiB physical space`);
    }
  }

  // ---- memory map -----------------------------------------------------------------------

  /**
   * The e820 map firmware would report (and Multiboot passes on): usable conventional
   * memory below the EBDA, the EBDA/VGA/BIOS area 0x9FC00-0xFFFFF reserved (the ACPI
   * tables live there), usable RAM from 1 MiB to the RAM size, and every MMIO region
   * reserved. Sorted by base.
   */
  memoryMap(): E820Entry[] {
    const map: E820Entry[] = [
      { base: 0, length: LOW_RAM_END, type: E820_USABLE },
      { base: LOW_RAM_END, length: HIGH_RAM_START - LOW_RAM_END, type: E820_RESERVED },
      { base: HIGH_RAM_START, length: this.ramSize - HIGH_RAM_START, type: E820_USABLE },
    ];
    for (const r of this.regions) map.push({ base: r.base, length: r.size, type: E820_RESERVED });
    return map.sort((a, b) => a.base - b.base);
  }
}
