// Builds paging structures in PhysicalMemory by hand for the MMU tests, entry by entry,
// in the formats of SDM Vol. 3 §4.3 (32-bit), §4.4 (PAE) and §4.5 (4-level).

import { PhysicalMemory } from '../../../src/emu/memory/physical-memory.js';
import { Mmu } from '../../../src/emu/mmu/mmu.js';

export const P = 1, RW = 2, US = 4, PWT = 8, PCD = 16, A = 32, D = 64, PS = 128, G = 256;
/** XD is bit 63: bit 31 of the high half. */
export const XD_HI = 0x8000_0000 | 0;
export const CR0_PE = 1, CR0_WP = 1 << 16, CR0_PG = 1 << 31;
export const CR4_PSE = 1 << 4, CR4_PAE = 1 << 5, CR4_PGE = 1 << 7;
export const EFER_LME = 1 << 8, EFER_LMA = 1 << 10, EFER_NXE = 1 << 11;

const LEVEL_SCALE = [2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12];

export class Machine {
  readonly mem = new PhysicalMemory({ ramSize: 64 * 1024 * 1024 });
  readonly mmu = new Mmu(this.mem);
  /** Next free page for paging structures (tables live at 1 MiB and up). */
  private nextTable = 0x10_0000;

  table(): number {
    const t = this.nextTable;
    this.nextTable += 0x1000;
    return t;
  }

  write64(addr: number, lo: number, hi = 0): void {
    this.mem.write64(addr, lo, hi);
  }

  lo(addr: number): number {
    return this.mem.read32(addr) >>> 0;
  }

  hi(addr: number): number {
    return this.mem.read32(addr + 4) >>> 0;
  }

  /** Index of `linear` at 4-level paging level 0..3 (PML4, PDPT, PD, PT). */
  static index(linear: number, level: number): number {
    return Math.floor(linear / LEVEL_SCALE[level]) & 0x1FF;
  }

  /**
   * 4-level paging: map `linear` with the final entry at `leafLevel` (1 = 1 GiB PDPTE,
   * 2 = 2 MiB PDE, 3 = 4 KiB PTE). Missing tables are created with `tableFlags`; an
   * existing table is reused. Returns the physical address of every entry on the path.
   */
  map4(root: number, linear: number, phys: number, leafFlags: number, leafLevel = 3, tableFlags = P | RW | US, leafHi = 0): number[] {
    const path: number[] = [];
    let table = root;
    for (let level = 0; level < leafLevel; level++) {
      const e = table + Machine.index(linear, level) * 8;
      path.push(e);
      let lo = this.lo(e);
      if ((lo & P) === 0) {
        lo = this.table() | tableFlags;
        this.write64(e, lo, 0);
      }
      table = lo & ~0xFFF;
    }
    const e = table + Machine.index(linear, leafLevel) * 8;
    path.push(e);
    this.write64(e, (phys % 2 ** 32 | leafFlags) | 0, Math.floor(phys / 2 ** 32) | leafHi);
    return path;
  }

  /** Turn on 4-level paging with CR3 = root (and CR0.WP unless told otherwise). */
  longMode(root: number, { wp = true, nxe = true, pge = true } = {}): void {
    this.mmu.setPagingState(CR0_PE | CR0_PG | (wp ? CR0_WP : 0), root, 0, CR4_PAE | (pge ? CR4_PGE : 0), EFER_LME | EFER_LMA | (nxe ? EFER_NXE : 0));
  }
}

/** The error code the SDM's Figure 4-12 describes, built from its named bits. */
export function pfCode(bits: { p?: boolean; w?: boolean; u?: boolean; rsvd?: boolean; i?: boolean }): number {
  return (bits.p ? 1 : 0) | (bits.w ? 2 : 0) | (bits.u ? 4 : 0) | (bits.rsvd ? 8 : 0) | (bits.i ? 16 : 0);
}
