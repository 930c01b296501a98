// The software TLB (DESIGN.md "Designing for speed", item 2): flat typed arrays, one
// direct-mapped entry per 4 KiB linear page, filled by successful page walks and emptied
// only when the architecture empties it (SDM Vol. 3 §4.10.4.1): INVLPG, MOV to CR3
// (non-global entries), CR4.PGE changes, CR0.PG 1→0, and a #PF for its page. Between
// those, entries outlive changes to the page tables, so stale translations are visible
// to guests exactly as on hardware (§4.10.4.3), and Mmu.tlbEntries() shows them.
//
// A large page (2 MiB, 4 MiB, 1 GiB) is cached as 4 KiB entries created on demand, which
// §4.10.2.2 allows; each remembers its page size so INVLPG and page faults drop every
// piece of the translation (§4.10.4.1: "they invalidate all TLB entries corresponding to
// the translation specified by the paging structures").
//
// Each entry: tag = linear address of the 4 KiB page (an exact double; canonical 64-bit
// addresses are signed), phys = physical address of the 4 KiB frame, flags = the deny
// bits a hit is checked against plus bookkeeping bits. Which slots hold entries is kept
// in a list, so flushes cost the number of entries filled, not the TLB size (VM
// transitions without VPID flush on every exit, issue 4).
//
// One Tlb holds the mappings of one translation context (a VPID and, with EPT, an EP4TA:
// SDM Vol. 3C §28.3.1); the MMU keeps one per context and counts invalidations itself.

import type { TlbView } from './page-walk.js';

export const TLB_BITS = 12;
export const TLB_SIZE = 1 << TLB_BITS;
const TLB_MASK = TLB_SIZE - 1;
/** Never equal to a page-aligned address. */
const INVALID_TAG = 1;

// Deny bits: an access is served by the entry when (flags & denyMask(access)) === 0.
/** R/W = 0 in some entry of the walk. */
export const T_READ_ONLY = 1 << 0;
/** U/S = 0 in some entry of the walk. */
export const T_SUPERVISOR = 1 << 1;
/** XD = 1 in some entry of the walk (with EFER.NXE = 1). */
export const T_NO_EXEC = 1 << 2;
/** D = 0 in the final entry: the first write must walk again to set it (SDM §4.8). */
export const T_CLEAN = 1 << 3;
export const T_DENY_BITS = T_READ_ONLY | T_SUPERVISOR | T_NO_EXEC | T_CLEAN;
// Bookkeeping bits.
/** G = 1 in the final entry with CR4.PGE = 1: survives MOV to CR3 (§4.10.2.4). */
export const T_GLOBAL = 1 << 4;
/** The slot is in the fill list. */
const T_LISTED = 1 << 5;
/** Paging is off and this is the identity mapping; not an architectural TLB entry. */
export const T_IDENTITY = 1 << 6;
/** log2 of the page size of the translation the entry was made from (12, 21, 22, 30). */
const T_SIZE_SHIFT = 8;

/** Slot of the page holding `linear`; mixes page-number bits 12-23 in so that a kernel's higher-half alias of a low address does not share its slot. */
export function tlbIndex(linear: number): number {
  const v = linear >>> 12;
  return (v ^ (v >>> TLB_BITS)) & TLB_MASK;
}

export class Tlb {
  readonly tag = new Float64Array(TLB_SIZE).fill(INVALID_TAG);
  readonly phys = new Float64Array(TLB_SIZE);
  readonly flags = new Int32Array(TLB_SIZE);
  private readonly list = new Int32Array(TLB_SIZE);
  private listCount = 0;
  /** Some listed entry may come from a large page: single-page invalidation must scan. */
  private mayHoldLarge = false;

  /** Cache the 4 KiB page at `linearPage` → `physPage`; `pageShift` is log2 of the translation's page size. */
  fill(linearPage: number, physPage: number, flags: number, pageShift: number): void {
    const i = tlbIndex(linearPage);
    const old = this.flags[i];
    if ((old & T_LISTED) === 0) this.list[this.listCount++] = i;
    this.tag[i] = linearPage;
    this.phys[i] = physPage;
    this.flags[i] = flags | T_LISTED | (pageShift << T_SIZE_SHIFT);
    if (pageShift > 12) this.mayHoldLarge = true;
  }

  /** Slot of the valid entry for `linear`'s page, or -1. */
  find(linear: number): number {
    const i = tlbIndex(linear);
    return this.tag[i] === linear - (linear & 0xFFF) ? i : -1;
  }

  /** Every entry, global ones included (MOV to CR4 changing PGE, CR0.PG 1→0). */
  flushAll(): void {
    for (let k = 0; k < this.listCount; k++) {
      const i = this.list[k];
      this.tag[i] = INVALID_TAG;
      this.flags[i] = 0;
    }
    this.listCount = 0;
    this.mayHoldLarge = false;
  }

  /** Every entry except global pages' (MOV to CR3, SDM §4.10.4.1). */
  flushNonGlobal(): void {
    let kept = 0;
    let large = false;
    for (let k = 0; k < this.listCount; k++) {
      const i = this.list[k];
      const f = this.flags[i];
      if (this.tag[i] !== INVALID_TAG && (f & T_GLOBAL) !== 0) {
        this.list[kept++] = i;
        if (f >>> T_SIZE_SHIFT > 12) large = true;
      } else {
        this.tag[i] = INVALID_TAG;
        this.flags[i] = 0;
      }
    }
    this.listCount = kept;
    this.mayHoldLarge = large;
  }

  /**
   * Every entry for the page containing `linear`, global or not, and for a large page
   * every 4 KiB piece of it (INVLPG and #PF, SDM §4.10.4.1).
   */
  invalidatePage(linear: number): void {
    const i = tlbIndex(linear);
    if (this.tag[i] === linear - (linear & 0xFFF)) this.tag[i] = INVALID_TAG;
    if (this.mayHoldLarge) {
      for (let k = 0; k < this.listCount; k++) {
        const j = this.list[k];
        const shift = this.flags[j] >>> T_SIZE_SHIFT;
        if (shift <= 12 || this.tag[j] === INVALID_TAG) continue;
        const size = 2 ** shift;
        if (Math.floor(this.tag[j] / size) === Math.floor(linear / size)) this.tag[j] = INVALID_TAG;
      }
    }
  }

  /** The entry in slot `i` for the debugger. */
  view(i: number): TlbView {
    const f = this.flags[i];
    const text: string[] = [(f & T_READ_ONLY) !== 0 ? 'R' : 'RW', (f & T_SUPERVISOR) !== 0 ? 'S' : 'U'];
    if ((f & T_NO_EXEC) !== 0) text.push('XD');
    if ((f & T_CLEAN) === 0) text.push('D');
    if ((f & T_GLOBAL) !== 0) text.push('G');
    return {
      linear: this.tag[i],
      physical: this.phys[i],
      flags: text.join(' '),
      global: (f & T_GLOBAL) !== 0,
      pageSize: 2 ** (f >>> T_SIZE_SHIFT),
    };
  }

  /** Valid architectural entries (identity entries made while paging is off are not), in fill order. */
  entries(): TlbView[] {
    const out: TlbView[] = [];
    for (let k = 0; k < this.listCount; k++) {
      const i = this.list[k];
      if (this.tag[i] !== INVALID_TAG && (this.flags[i] & T_IDENTITY) === 0) out.push(this.view(i));
    }
    return out;
  }
}
