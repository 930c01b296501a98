// The CPU's memory access path: effective address → linear address (segmentation, canonical
// checks) → software TLB → physical memory, and the register-file accessors handlers share.
//
// Software TLB (DESIGN.md "Designing for speed", item 2; v86 tlb_data, Bochs cpu/tlb.h): two
// direct-mapped arrays (reads, writes) of 256 entries, each a linear page tag (int32 halves)
// and the page's bytes from PhysicalMemory.readPages / writePages. A hit is two int compares
// and a typed-array access. A miss asks the MMU (which walks the page tables, sets A/D bits and
// keeps the architectural TLB) and caches the page when it is plain RAM. Pages that are MMIO,
// absent, hold decoded code (for writes) or an enabled data breakpoint (debug-registers.ts) are
// never cached, so every such access takes the slow path through PhysicalMemory (device
// dispatch, code-write notification) or the breakpoint check. While alignment checking is on
// (alignment.ts) nothing is cached and the slow paths check every access. The cache is a
// subset of the MMU's TLB: it is flushed whenever the CPU asks the MMU to flush anything. The
// MMU tags its TLB with VMX translation contexts (mmu.ts), and entries are filled with one
// privilege level's permissions: the CPU keeps one set of arrays (a bank) per (context, CPL)
// it alternates between, so a VM exit and the VMRESUME after it (switchSoftTlb), or a system
// call and its return (cplChanged), find their pages still cached when nothing was
// invalidated meanwhile. Each bank also remembers its last fetch window (cpu.ts).
//
// Linear addresses travel as int32 halves (lo, hi); in 16/32-bit modes hi is always 0.
import type { PhysicalMemory } from '../memory/physical-memory';
import { REG_RIP, type DecodedInsn } from './decoder';
import { alignmentArmed, alignmentFault } from './alignment';
import { CpuFault, GP, PF_VEC, SS_VEC } from './fault';
import { CpuState, CS, DS, FS, SS, AR_TYPE_CODE, AR_TYPE_RW, AR_TYPE_EC, AR_UNUSABLE, AR_DB } from './state';
import { ACC_READ, ACC_WRITE, type Translator } from './translator';

const TLB_SIZE = 256;
const TLB_MASK = TLB_SIZE - 1;
const INVALID_TAG = 1; // never equal to a page-aligned low half
const TWO32 = 4294967296;
/** 2^-32: multiplying an exact multiple of 2^32 by it is exact, and cheaper than dividing. */
const INV32 = 1 / 4294967296;
const NO_PAGE = new Uint8Array(4096);
const NO_WORDS = new Int32Array(1024);
/** Fills remembered for a partial flush (flushSoftTlb). */
const FILL_LIST = 32;
/** Banks kept at once (VMX root and a few guests, each at the CPLs it runs at). */
const MAX_BANKS = 6;
/** A decoded-instruction cache page (cpu.ts icache): DecodedInsn by offset in the code page. */
export type FetchPage = (DecodedInsn | undefined)[];
const NO_WINDOW: FetchPage = new Array<DecodedInsn | undefined>(4096).fill(undefined);

/** The software TLB's arrays for one MMU translation context. */
class SoftTlbBank {
  readonly rTagLo = new Int32Array(TLB_SIZE).fill(INVALID_TAG);
  readonly rTagHi = new Int32Array(TLB_SIZE);
  readonly rPage: Uint8Array[] = new Array<Uint8Array>(TLB_SIZE).fill(NO_PAGE);
  /** The same pages as dwords (PhysicalMemory.pageWords): aligned 32/64-bit accesses are one or two loads. */
  readonly rWords: Int32Array[] = new Array<Int32Array>(TLB_SIZE).fill(NO_WORDS);
  readonly wTagLo = new Int32Array(TLB_SIZE).fill(INVALID_TAG);
  readonly wTagHi = new Int32Array(TLB_SIZE);
  readonly wPage: Uint8Array[] = new Array<Uint8Array>(TLB_SIZE).fill(NO_PAGE);
  readonly wWords: Int32Array[] = new Array<Int32Array>(TLB_SIZE).fill(NO_WORDS);
  readonly wPfn = new Int32Array(TLB_SIZE).fill(-1);
  /**
   * Slots filled since the last clear (reads: i, writes: TLB_SIZE + i), so that a clear
   * touches only those (VM transitions without VPID flush twice per round trip, issue 4);
   * past FILL_LIST fills it clears all.
   */
  readonly filled = new Int32Array(FILL_LIST);
  filledCount = 0;
  /** The MMU context it caches (Mmu.contextId), -1 unknown; the invalidation count and CPL it was current for; last use. */
  context = -1;
  seen = -1;
  cpl = -1;
  used = 0;
  /**
   * The fetch window last opened while this bank was current (cpu.ts fetchSlow), with the CS
   * base, limit and code size it was computed under: a VM exit and the VMRESUME after it
   * reopen the window on the code page they left instead of translating it again. NaN: none.
   */
  winRipBase = NaN;
  winPage: FetchPage = NO_WINDOW;
  winCsBase = 0;
  winCsLimit = 0;
  winLong64 = false;
  /**
   * The bank that was current before this one became current (selectBank): a VM exit and the
   * VMRESUME after it switch back to it, found without searching.
   */
  cameFrom: SoftTlbBank = this;

  clear(): void {
    const n = this.filledCount;
    if (n <= FILL_LIST) {
      for (let k = 0; k < n; k++) {
        const i = this.filled[k];
        if (i < TLB_SIZE) this.rTagLo[i] = INVALID_TAG;
        else { this.wTagLo[i - TLB_SIZE] = INVALID_TAG; this.wPfn[i - TLB_SIZE] = -1; }
      }
    } else {
      this.rTagLo.fill(INVALID_TAG);
      this.wTagLo.fill(INVALID_TAG);
      this.wPfn.fill(-1);
    }
    this.filledCount = 0;
    this.winRipBase = NaN;
  }
}

export class CpuMemory extends CpuState {
  readonly mem: PhysicalMemory;
  readonly mmu: Translator;

  /** High half of the last 64-bit value returned by a read helper (rd64, getReg(…, 8), pop64). */
  vHi = 0;
  /** Linear address computed by ea() (int32 halves). */
  linLo = 0;
  linHi = 0;
  /** RIP of the instruction after the current one (branches overwrite it; committed on success). */
  nextRip = 0;
  /** Scratch for POPA (values are read before any register changes). */
  readonly popaScratch = new Int32Array(8);
  /** True in IA-32e 64-bit mode (cached from mode for the hot paths). */
  long64 = false;
  /**
   * Set when the run loop must look at something between instructions (cpu.ts). Writes that
   * leave the RAM fast path set it: a device register write (local APIC ICR self-IPI, TPR,
   * EOI, IOAPIC unmask) can make an interrupt pending, which must be recognized at the next
   * instruction boundary (SDM Vol. 3A §6.6, §10.6.1), not at the end of the slice.
   */
  attention = false;
  /**
   * Alignment checking is on (CR0.AM, RFLAGS.AC, CPL 3: alignment.ts): the software TLB caches
   * nothing, and the slow paths raise #AC for a misaligned access.
   */
  alignCheck = false;

  /** The current bank, and its arrays as fields for the hot paths. */
  private bank = new SoftTlbBank();
  private readonly banks: SoftTlbBank[] = [this.bank];
  private bankClock = 0;
  private rTagLo = this.bank.rTagLo;
  private rTagHi = this.bank.rTagHi;
  private rPage = this.bank.rPage;
  private rWords = this.bank.rWords;
  private wTagLo = this.bank.wTagLo;
  private wTagHi = this.bank.wTagHi;
  private wPage = this.bank.wPage;
  private wWords = this.bank.wWords;
  private wPfn = this.bank.wPfn;

  constructor(mem: PhysicalMemory, mmu: Translator) {
    super();
    this.mem = mem;
    this.mmu = mmu;
  }

  // ---- software TLB ----------------------------------------------------------------------

  /** The MMU's invalidation count when the software TLB was last known current. */
  private seenInvalidations = 0;

  /** Drops the software TLB if the MMU invalidated anything since it was filled. */
  syncSoftTlb(): void {
    if (this.mmu.tlbInvalidations !== this.seenInvalidations) this.flushSoftTlb();
  }

  /**
   * RIP of the first byte of the code page the fetch window (cpu.ts) covers; NaN when there is
   * none. Lives here because every translation flush must also close the window.
   */
  protected fetchRipBase = NaN;
  /** The decoded-instruction cache page the fetch window covers (cpu.ts). */
  protected fetchPage: FetchPage = NO_WINDOW;

  /** The fetch window just opened on an icache page (not a breakpoint view): the current bank remembers it. */
  protected keepFetchWindow(): void {
    const b = this.bank;
    b.winRipBase = this.fetchRipBase;
    b.winPage = this.fetchPage;
    b.winCsBase = this.segBaseLo[CS];
    b.winCsLimit = this.segLimit[CS];
    b.winLong64 = this.long64;
  }

  /** Icache page `page` is being emptied for reuse (undefined: every page, or breakpoints changed): no bank may reopen a window on it. */
  protected forgetFetchWindows(page: FetchPage | undefined): void {
    for (const b of this.banks) if (page === undefined || b.winPage === page) b.winRipBase = NaN;
  }

  /** Drops every cached page pointer, in every bank, and the fetch window (with every MMU flush and on CPL changes). */
  flushSoftTlb(): void {
    this.fetchRipBase = NaN;
    this.seenInvalidations = this.mmu.tlbInvalidations;
    for (const b of this.banks) b.clear();
  }

  /**
   * The MMU switched from translation context `from` to `to` without invalidating anything
   * (a VMX transition, mmu.ts selectContext; contexts as Mmu.contextId numbers them).
   */
  switchSoftTlb(from: number, to: number): void {
    this.selectBank(from, this.cpl, to, this.cpl);
  }

  /**
   * Keeps the current bank for (`from`, `fromCpl`) and makes the one kept for (`to`, `toCpl`)
   * current if it is still current (no MMU invalidation since), else an emptied one; its fetch
   * window reopens when CS still maps RIP as it did then (the window's fast path checks neither
   * the CS base nor the limit).
   */
  private selectBank(from: number, fromCpl: number, to: number, toCpl: number): void {
    this.fetchRipBase = NaN;
    const cur = this.bank;
    let next: SoftTlbBank | undefined;
    const back = cur.cameFrom;
    if (cur.context === from && cur.cpl === fromCpl && back !== cur && back.context === to && back.cpl === toCpl) {
      // Switching back (the usual VM exit / VMRESUME pair): each (context, CPL) is kept by
      // one bank at most, so no other bank holds either of them.
      next = back;
    } else {
      for (const b of this.banks) {
        if (b === cur) continue;
        if (b.context === from && b.cpl === fromCpl) b.context = -1; // cur is the one kept for `from` now
        else if (b.context === to && b.cpl === toCpl) next = b;
      }
    }
    cur.context = from;
    cur.cpl = fromCpl;
    cur.seen = this.seenInvalidations;
    cur.used = ++this.bankClock;
    if (next === undefined && from === to && fromCpl === toCpl) next = cur;
    if (next === undefined) {
      if (this.banks.length < MAX_BANKS) {
        next = new SoftTlbBank();
        this.banks.push(next);
      } else {
        for (const b of this.banks) if (b !== cur && (next === undefined || b.used < next.used)) next = b;
        next!.clear();
      }
      next!.context = to;
      next!.cpl = toCpl;
    } else if (next.seen !== this.mmu.tlbInvalidations) {
      next.clear();
    }
    const b = next!;
    if (b !== cur) b.cameFrom = cur;
    this.bank = b;
    this.rTagLo = b.rTagLo; this.rTagHi = b.rTagHi; this.rPage = b.rPage; this.rWords = b.rWords;
    this.wTagLo = b.wTagLo; this.wTagHi = b.wTagHi; this.wPage = b.wPage; this.wWords = b.wWords; this.wPfn = b.wPfn;
    this.seenInvalidations = this.mmu.tlbInvalidations;
    const long64 = this.long64;
    if (b.winLong64 === long64 && (long64 || (b.winCsBase === this.segBaseLo[CS] && b.winCsLimit === this.segLimit[CS]))) {
      this.fetchPage = b.winPage;
      this.fetchRipBase = b.winRipBase;
    }
  }

  /**
   * CPL, CR0 or RFLAGS.AC may have changed: recomputes `alignCheck`. Turning it on drops every
   * cached page (they were filled unchecked); it caches nothing while on.
   */
  updateAlignmentCheck(): void {
    const armed = alignmentArmed(this);
    if (armed && !this.alignCheck) this.flushSoftTlb();
    this.alignCheck = armed;
  }

  /**
   * The CPL changed from `oldCpl`: the current bank's pages were cached with the old one's
   * permissions, so it is kept for (its context, `oldCpl`) and the bank kept for the new CPL in
   * the same context takes over (a VM exit from a CPL-3 guest and the VMRESUME after it, or a
   * system call and its return, find their pages still cached). Every other input of a
   * page's permissions (CR0.WP, paging state, alignment checking) flushes all banks.
   */
  protected cplChanged(oldCpl: number): void {
    const ctx = this.bank.context;
    this.selectBank(ctx, oldCpl, ctx, this.cpl);
  }

  /** Drops cached write pointers to physical frame `pfn` (it now holds decoded code), in every bank. */
  dropWritePfn(pfn: number): void {
    for (const b of this.banks) {
      const w = b.wPfn;
      for (let i = 0; i < TLB_SIZE; i++) {
        if (w[i] === pfn) { w[i] = -1; b.wTagLo[i] = INVALID_TAG; }
      }
    }
  }

  /** Linear (lo, hi) → physical address, or a #PF (CR2 and error code from the MMU). */
  translate(lo: number, hi: number, access: number, cpl: number): number {
    const phys = this.mmu.translate(hi * TWO32 + (lo >>> 0), access, cpl);
    if (phys < 0) {
      // A #PF invalidates the MMU's entries for the page (SDM Vol. 3 §4.10.4.1): drop ours too.
      this.flushSoftTlb();
      this.cr2 = this.mmu.faultAddress;
      throw new CpuFault(PF_VEC, this.mmu.faultErrorCode);
    }
    return phys;
  }

  // ---- linear reads ------------------------------------------------------------------------

  rd8(lo: number, hi: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    if (this.rTagLo[i] === (lo & -4096) && this.rTagHi[i] === hi) return this.rPage[i][lo & 0xfff];
    return this.rdSlow(lo, hi, 1);
  }

  rd16(lo: number, hi: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    const o = lo & 0xfff;
    if (this.rTagLo[i] === (lo & -4096) && this.rTagHi[i] === hi && o <= 4094) {
      const p = this.rPage[i];
      return p[o] | (p[o + 1] << 8);
    }
    return this.rdSlow(lo, hi, 2);
  }

  /** 32-bit read as int32. */
  rd32(lo: number, hi: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    const o = lo & 0xfff;
    if (this.rTagLo[i] === (lo & -4096) && this.rTagHi[i] === hi && o <= 4092) {
      if ((o & 3) === 0) return this.rWords[i][o >> 2];
      const p = this.rPage[i];
      return p[o] | (p[o + 1] << 8) | (p[o + 2] << 16) | (p[o + 3] << 24);
    }
    return this.rdSlow(lo, hi, 4);
  }

  /** 64-bit read: returns the low half, high half in vHi. */
  rd64(lo: number, hi: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    const o = lo & 0xfff;
    if (this.rTagLo[i] === (lo & -4096) && this.rTagHi[i] === hi && o <= 4088) {
      if ((o & 3) === 0) {
        const w = this.rWords[i];
        this.vHi = w[(o >> 2) + 1];
        return w[o >> 2];
      }
      const p = this.rPage[i];
      this.vHi = p[o + 4] | (p[o + 5] << 8) | (p[o + 6] << 16) | (p[o + 7] << 24);
      return p[o] | (p[o + 1] << 8) | (p[o + 2] << 16) | (p[o + 3] << 24);
    }
    return this.rd64Slow(lo, hi);
  }

  /** rd64 past the software TLB (a function of its own: V8 inlines the hit path only while it stays small). */
  private rd64Slow(lo: number, hi: number): number {
    if (this.alignCheck && (lo & 7) !== 0) throw alignmentFault(lo, hi, 8);
    if ((lo & 0xfff) <= 4088) {
      const phys = this.fillRead(lo, hi, 8);
      if (phys < 0) return this.rd64(lo, hi);
      if (phys >= TWO32) { this.vHi = -1; return -1; }
      this.vHi = this.mem.read32(phys + 4);
      return this.mem.read32(phys);
    }
    const l = this.rdBytes(lo, hi, 4);
    const h = this.rdBytes((lo + 4) | 0, this.carryHi(lo, hi, 4), 4);
    this.vHi = h;
    return l;
  }

  /** Reads `size` (1, 2, 4) bytes at a linear address of any alignment (page crossing included). */
  rdSize(lo: number, hi: number, size: number): number {
    return size === 4 ? this.rd32(lo, hi) : size === 2 ? this.rd16(lo, hi) : size === 1 ? this.rd8(lo, hi) : this.rd64(lo, hi);
  }

  private carryHi(lo: number, hi: number, add: number): number {
    return (lo >>> 0) + add > 0xffffffff && this.long64 ? (hi + 1) | 0 : hi;
  }

  private rdBytes(lo: number, hi: number, size: number): number {
    let v = 0;
    for (let k = 0; k < size; k++) v |= this.rd8((lo + k) | 0, this.carryHi(lo, hi, k)) << (8 * k);
    return size === 4 ? v : v & (size === 2 ? 0xffff : 0xff);
  }

  private rdSlow(lo: number, hi: number, size: number): number {
    if (this.alignCheck && (lo & (size - 1)) !== 0) throw alignmentFault(lo, hi, size);
    if ((lo & 0xfff) + size > 4096) return this.rdBytes(lo, hi, size);
    const phys = this.fillRead(lo, hi, size);
    if (phys < 0) return this.rdSize(lo, hi, size);
    if (phys >= TWO32) return size === 4 ? -1 : size === 2 ? 0xffff : 0xff; // nothing decodes it: open bus
    const m = this.mem;
    return size === 1 ? m.read8(phys) : size === 2 ? m.read16(phys) : m.read32(phys);
  }

  /**
   * Translates for a read of `size` bytes and caches the page when it is RAM; returns -1 when
   * the page was cached (the caller retries the fast path), else the physical address to
   * access directly. Pages holding an enabled data breakpoint are never cached (debug-registers.ts),
   * nor any page while alignment checking is on.
   */
  private fillRead(lo: number, hi: number, size: number): number {
    const phys = this.translate(lo, hi, ACC_READ, this.cpl);
    if (phys >= TWO32) return phys;
    if (this.debug.watchCount !== 0 && this.debug.watchAccess(lo, hi, size, false, this.long64)) { this.attention = true; return phys; }
    const pfn = Math.floor(phys / 4096);
    const page = this.mem.pageForRead(pfn);
    if (page === undefined || this.alignCheck) return phys;
    const i = (lo >>> 12) & TLB_MASK;
    this.rTagLo[i] = lo & -4096;
    this.rTagHi[i] = hi;
    this.rPage[i] = page;
    this.rWords[i] = this.mem.pageWords(pfn);
    const b = this.bank;
    if (b.filledCount < FILL_LIST) b.filled[b.filledCount] = i;
    b.filledCount++;
    return -1;
  }

  // ---- linear writes -----------------------------------------------------------------------

  wr8(lo: number, hi: number, v: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    if (this.wTagLo[i] === (lo & -4096) && this.wTagHi[i] === hi) { this.wPage[i][lo & 0xfff] = v; return; }
    this.wrSlow(lo, hi, 1, v);
  }

  wr16(lo: number, hi: number, v: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    const o = lo & 0xfff;
    if (this.wTagLo[i] === (lo & -4096) && this.wTagHi[i] === hi && o <= 4094) {
      const p = this.wPage[i];
      p[o] = v; p[o + 1] = v >> 8;
      return;
    }
    this.wrSlow(lo, hi, 2, v);
  }

  wr32(lo: number, hi: number, v: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    const o = lo & 0xfff;
    if (this.wTagLo[i] === (lo & -4096) && this.wTagHi[i] === hi && o <= 4092) {
      if ((o & 3) === 0) { this.wWords[i][o >> 2] = v; return; }
      const p = this.wPage[i];
      p[o] = v; p[o + 1] = v >> 8; p[o + 2] = v >> 16; p[o + 3] = v >> 24;
      return;
    }
    this.wrSlow(lo, hi, 4, v);
  }

  wr64(lo: number, hi: number, v: number, vHi: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    const o = lo & 0xfff;
    if (this.wTagLo[i] === (lo & -4096) && this.wTagHi[i] === hi && o <= 4088) {
      if ((o & 3) === 0) {
        const w = this.wWords[i];
        w[o >> 2] = v; w[(o >> 2) + 1] = vHi;
        return;
      }
      const p = this.wPage[i];
      p[o] = v; p[o + 1] = v >> 8; p[o + 2] = v >> 16; p[o + 3] = v >> 24;
      p[o + 4] = vHi; p[o + 5] = vHi >> 8; p[o + 6] = vHi >> 16; p[o + 7] = vHi >> 24;
      return;
    }
    this.wr64Slow(lo, hi, v, vHi);
  }

  /** wr64 past the software TLB (see rd64Slow). */
  private wr64Slow(lo: number, hi: number, v: number, vHi: number): void {
    const o = lo & 0xfff;
    if (this.alignCheck && (lo & 7) !== 0) throw alignmentFault(lo, hi, 8);
    if (o > 4088) this.probeWrite((lo + 8 - 1) | 0, this.carryHi(lo, hi, 7));
    this.wr32(lo, hi, v);
    this.wr32((lo + 4) | 0, this.carryHi(lo, hi, 4), vHi);
  }

  wrSize(lo: number, hi: number, size: number, v: number, vHi: number): void {
    if (size === 4) this.wr32(lo, hi, v);
    else if (size === 2) this.wr16(lo, hi, v);
    else if (size === 1) this.wr8(lo, hi, v);
    else this.wr64(lo, hi, v, vHi);
  }

  /** Checks that a write to the page of (lo, hi) would not fault (before a multi-page write changes anything). */
  probeWrite(lo: number, hi: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    if (this.wTagLo[i] === (lo & -4096) && this.wTagHi[i] === hi) return;
    this.translate(lo, hi, ACC_WRITE, this.cpl);
  }

  private wrSlow(lo: number, hi: number, size: number, v: number): void {
    if (this.alignCheck && (lo & (size - 1)) !== 0) throw alignmentFault(lo, hi, size);
    if ((lo & 0xfff) + size > 4096) {
      // Both pages must be writable before any byte lands (the write is all or nothing).
      this.probeWrite((lo + size - 1) | 0, this.carryHi(lo, hi, size - 1));
      for (let k = 0; k < size; k++) this.wr8((lo + k) | 0, this.carryHi(lo, hi, k), v >> (8 * k));
      return;
    }
    const phys = this.translate(lo, hi, ACC_WRITE, this.cpl);
    if (phys >= TWO32) return;
    const pfn = Math.floor(phys / 4096);
    // A page holding an enabled data breakpoint is written directly, never cached (debug-registers.ts).
    const watched = this.debug.watchCount !== 0 && this.debug.watchAccess(lo, hi, size, true, this.long64);
    const page = watched ? undefined : this.mem.pageForWrite(pfn);
    const m = this.mem;
    if (page === undefined || this.alignCheck) {
      if (size === 1) m.write8(phys, v); else if (size === 2) m.write16(phys, v); else m.write32(phys, v);
      if (page === undefined) this.attention = true; // MMIO, a code page (interrupt state may have changed) or a data breakpoint
      return;
    }
    const i = (lo >>> 12) & TLB_MASK;
    this.wTagLo[i] = lo & -4096;
    this.wTagHi[i] = hi;
    this.wPage[i] = page;
    this.wWords[i] = this.mem.pageWords(pfn);
    this.wPfn[i] = pfn;
    const b = this.bank;
    if (b.filledCount < FILL_LIST) b.filled[b.filledCount] = TLB_SIZE + i;
    b.filledCount++;
    this.wrSize(lo, hi, size, v, 0);
  }

  // ---- effective addresses ---------------------------------------------------------------

  /**
   * Computes the linear address of the memory operand of `d` into linLo/linHi, for an access
   * of `size` bytes (write: a write or read-modify-write). 64-bit mode: only FS/GS bases
   * apply, and the address must be canonical (#SS(0) for stack references, #GP(0) otherwise,
   * SDM Vol. 3 §3.3.7.1). Other modes: segment base, type and limit checks (SDM Vol. 3 §5.3).
   */
  ea(d: DecodedInsn, size: number, write: boolean): void {
    const b = d.base;
    if (this.long64 && d.addrSize === 8 && b !== REG_RIP) {
      // 64-bit mode, 64-bit addressing, a base and/or an index: the common case, kept small
      // enough for V8 to inline into the handlers, in int32 arithmetic (doubles would put
      // conversions on the critical path): base + disp + (index << scale) + FS/GS base modulo
      // 2^64, each add as two halves with the carry out of the low half from an unsigned compare.
      const regs = this.regs;
      const x = d.index, disp = d.disp;
      let lo = disp, hi = disp >> 31;
      if (b >= 0) {
        const bLo = regs[2 * b];
        lo = (bLo + disp) | 0;
        hi = (regs[2 * b + 1] + hi + ((lo >>> 0) < (bLo >>> 0) ? 1 : 0)) | 0;
      }
      if (x >= 0) {
        const sc = d.scale, xLo = regs[2 * x], xHi = regs[2 * x + 1];
        const t = (lo + (xLo << sc)) | 0;
        hi = (hi + (sc === 0 ? xHi : (xHi << sc) | (xLo >>> (32 - sc))) + ((t >>> 0) < (lo >>> 0) ? 1 : 0)) | 0;
        lo = t;
      }
      this.linLo = lo;
      this.linHi = hi;
      if (d.seg >= FS) this.addFsGsBase(d);
      else if (((hi << 16) >> 16) !== hi) this.nonCanonical(d);
      return;
    }
    this.eaSegmented(d, size, write);
  }

  /** ea() through offsetOf and applySegment: the other modes and address sizes, and RIP-relative operands. */
  private eaSegmented(d: DecodedInsn, size: number, write: boolean): void {
    this.offsetOf(d);
    this.applySegment(d.seg < 0 && (d.base === 4 || d.base === 5) ? SS : d.seg < 0 ? DS : d.seg, size, write);
  }

  /** ea() in 64-bit mode with an FS or GS override: adds the segment base to linLo/linHi, then checks the sum is canonical. */
  private addFsGsBase(d: DecodedInsn): void {
    const lo = this.linLo;
    const t = (lo + this.segBaseLo[d.seg]) | 0;
    const hi = (this.linHi + this.segBaseHi[d.seg] + ((t >>> 0) < (lo >>> 0) ? 1 : 0)) | 0;
    if (((hi << 16) >> 16) !== hi) this.nonCanonical(d);
    this.linLo = t;
    this.linHi = hi;
  }

  /** #SS(0) for a non-canonical stack reference (rSP/rBP base, no override), else #GP(0) (SDM Vol. 3 §3.3.7.1). */
  private nonCanonical(d: DecodedInsn): never {
    const stack = d.seg < 0 ? d.base === 4 || d.base === 5 : d.seg === SS;
    throw new CpuFault(stack ? SS_VEC : GP, 0, 'non-canonical address');
  }

  /**
   * The software-TLB hit of an aligned 4- or 8-byte read at linear (lo, hi) (rd32/rd64's fast
   * path, for handlers that keep the whole access inline): the page as dwords, the operand's
   * low dword at index (lo & 0xfff) >> 2; undefined when the caller must take rd32/rd64.
   */
  readWords(lo: number, hi: number, size: number): Int32Array | undefined {
    const i = (lo >>> 12) & TLB_MASK;
    const o = lo & 0xfff;
    if ((o & 3) === 0 && o <= 4096 - size && this.rTagLo[i] === (lo & -4096) && this.rTagHi[i] === hi) return this.rWords[i];
    return undefined;
  }

  /**
   * As readWords for a write, or a read-modify-write, through the write TLB: a page there is
   * RAM translated for writing, hence also readable, with its A and D bits set, so an RMW reads
   * and writes it in place. undefined: the caller takes the generic read then write path
   * (which faults, fills the TLB and handles everything else).
   */
  writeWords(lo: number, hi: number, size: number): Int32Array | undefined {
    const i = (lo >>> 12) & TLB_MASK;
    const o = lo & 0xfff;
    if ((o & 3) === 0 && o <= 4096 - size && this.wTagLo[i] === (lo & -4096) && this.wTagHi[i] === hi) return this.wWords[i];
    return undefined;
  }

  /** The effective address (offset) of d's memory operand into linLo/linHi, truncated to the address size (LEA). */
  offsetOf(d: DecodedInsn): void {
    const regs = this.regs;
    const b = d.base, x = d.index, as = d.addrSize;
    if (as === 8) {
      let t: number, h: number;
      if (b === REG_RIP) {
        t = this.nextRip + d.disp;
        h = (t - (t >>> 0)) * INV32;
        t = t >>> 0;
      } else {
        t = d.disp; h = 0; // a negative displacement borrows through the carry below
        if (b >= 0) { t += regs[2 * b] >>> 0; h += regs[2 * b + 1]; }
      }
      if (x >= 0) { const s = 1 << d.scale; t += (regs[2 * x] >>> 0) * s; h += regs[2 * x + 1] * s; }
      this.linLo = t | 0;
      this.linHi = (h + (t - (t >>> 0)) * INV32) | 0;
      return;
    }
    let t = d.disp;
    if (b >= 0) t += b === REG_RIP ? this.nextRip : regs[2 * b];
    if (x >= 0) t += regs[2 * x] << d.scale;
    this.linLo = as === 4 ? t | 0 : t & 0xffff;
    this.linHi = 0;
  }

  /**
   * Turns the offset in linLo/linHi into a linear address through segment `seg` (checks
   * included) for an access of `size` bytes.
   */
  applySegment(seg: number, size: number, write: boolean): void {
    let lo = this.linLo, hi = this.linHi;
    if (this.long64) {
      if (seg >= FS) {
        const t = (lo >>> 0) + (this.segBaseLo[seg] >>> 0);
        lo = t | 0;
        hi = (hi + this.segBaseHi[seg] + (t > 0xffffffff ? 1 : 0)) | 0;
      }
      if (((hi << 16) >> 16) !== hi) throw new CpuFault(seg === SS ? SS_VEC : GP, 0, 'non-canonical address');
      this.linLo = lo;
      this.linHi = hi;
      return;
    }
    this.linLo = this.segOffset(seg, lo >>> 0, size, write);
    this.linHi = 0;
  }

  /**
   * Legacy-mode segmentation: checks `offset` (unsigned) for an access of `size` bytes through
   * segment `seg` and returns the 32-bit linear address as int32 (SDM Vol. 3 §5.3, §5.4.1).
   */
  segOffset(seg: number, offset: number, size: number, write: boolean): number {
    const ar = this.segAr[seg];
    const vec = seg === SS ? SS_VEC : GP;
    if ((this.cr0 & 1) !== 0 && (this.flagsVal & 0x20000) === 0) {
      if ((ar & AR_UNUSABLE) !== 0) throw new CpuFault(vec, 0, 'null segment');
      if ((ar & AR_TYPE_CODE) !== 0 ? write || (ar & AR_TYPE_RW) === 0 : write && (ar & AR_TYPE_RW) === 0) {
        throw new CpuFault(vec, 0, write ? 'write to a read-only segment' : 'read of an execute-only segment');
      }
    }
    const limit = this.segLimit[seg];
    const last = offset + size - 1;
    if ((ar & (AR_TYPE_CODE | AR_TYPE_EC)) === AR_TYPE_EC) {
      // Expand-down data segment: valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF (by D/B).
      const top = (ar & AR_DB) !== 0 ? 0xffffffff : 0xffff;
      if (offset <= limit || last > top) throw new CpuFault(vec, 0, 'segment limit');
    } else if (last > limit) {
      throw new CpuFault(vec, 0, 'segment limit');
    }
    return (offset + this.segBaseLo[seg]) | 0;
  }

  // ---- registers ---------------------------------------------------------------------------

  /** Reads GPR `r` at `size` bytes (zero-extended; high half in vHi for size 8). `rex`: byte regs 4-7 are spl..dil. */
  getReg(r: number, size: number, rex: number): number {
    const regs = this.regs;
    if (size === 4) return regs[2 * r];
    if (size === 8) { this.vHi = regs[2 * r + 1]; return regs[2 * r]; }
    return size === 2 ? regs[2 * r] & 0xffff : this.getReg8(r, rex);
  }

  /** Byte register `r`: AH, CH, DH, BH for 4-7 without REX. */
  private getReg8(r: number, rex: number): number {
    const regs = this.regs;
    return r < 4 || rex !== 0 ? regs[2 * r] & 0xff : (regs[2 * (r - 4)] >> 8) & 0xff;
  }

  /** Writes GPR `r` at `size` bytes: 8/16-bit writes merge, 32-bit writes zero-extend (SDM Vol. 1 §3.4.1.1). */
  setReg(r: number, size: number, rex: number, v: number, vHi: number): void {
    const regs = this.regs;
    if (size === 4) { regs[2 * r] = v; regs[2 * r + 1] = 0; return; }
    if (size === 8) { regs[2 * r] = v; regs[2 * r + 1] = vHi; return; }
    this.setRegNarrow(r, size, rex, v);
  }

  /** setReg for 1 and 2 bytes: the rest of the register is kept. */
  private setRegNarrow(r: number, size: number, rex: number, v: number): void {
    const regs = this.regs;
    if (size === 2) regs[2 * r] = (regs[2 * r] & ~0xffff) | (v & 0xffff);
    else if (r < 4 || rex !== 0) regs[2 * r] = (regs[2 * r] & ~0xff) | (v & 0xff);
    else regs[2 * (r - 4)] = (regs[2 * (r - 4)] & ~0xff00) | ((v & 0xff) << 8);
  }

  /** Reads the ModRM r/m operand (register or memory) of `size` bytes. */
  readE(d: DecodedInsn, size: number): number {
    if (d.mod === 3) return this.getReg(d.rm, size, d.rex);
    this.ea(d, size, false);
    const lo = this.linLo, hi = this.linHi;
    const w = size >= 4 ? this.readWords(lo, hi, size) : undefined;
    if (w !== undefined) {
      const k = (lo & 0xfff) >> 2;
      if (size === 8) this.vHi = w[k + 1];
      return w[k];
    }
    return this.rdSize(lo, hi, size);
  }

  /** Writes the ModRM r/m operand; for memory, computes the address (pure writes). */
  writeE(d: DecodedInsn, size: number, v: number, vHi: number): void {
    if (d.mod === 3) { this.setReg(d.rm, size, d.rex, v, vHi); return; }
    this.ea(d, size, true);
    const lo = this.linLo, hi = this.linHi;
    const w = size >= 4 ? this.writeWords(lo, hi, size) : undefined;
    if (w !== undefined) {
      const k = (lo & 0xfff) >> 2;
      w[k] = v;
      if (size === 8) w[k + 1] = vHi;
      return;
    }
    this.wrSize(lo, hi, size, v, vHi);
  }

  // ---- stack -----------------------------------------------------------------------------

  /** Linear address of SS:(rSP + delta) for an access of `size` bytes, into linLo/linHi. */
  stackAddr(delta: number, size: number, write: boolean): void {
    const regs = this.regs;
    if (this.long64) {
      const t = (regs[8] >>> 0) + delta;
      const hi = (regs[9] + (t - (t >>> 0)) * INV32) | 0;
      if (((hi << 16) >> 16) !== hi) throw new CpuFault(SS_VEC, 0, 'non-canonical stack address');
      this.linLo = t | 0;
      this.linHi = hi;
      return;
    }
    const off = this.stackSize === 4 ? (regs[8] + delta) >>> 0 : (regs[8] + delta) & 0xffff;
    this.linLo = this.segOffset(SS, off, size, write);
    this.linHi = 0;
  }

  /** Adds `delta` to rSP at the stack address size. */
  adjustSp(delta: number): void {
    const regs = this.regs;
    if (this.stackSize === 8) {
      const t = (regs[8] >>> 0) + delta;
      regs[9] = (regs[9] + (t - (t >>> 0)) * INV32) | 0;
      regs[8] = t | 0;
    } else if (this.stackSize === 4) {
      regs[8] = (regs[8] + delta) | 0;
    } else {
      regs[8] = (regs[8] & ~0xffff) | ((regs[8] + delta) & 0xffff);
    }
  }

  /** PUSH of `size` bytes: the write happens before rSP changes, so a fault leaves rSP intact. */
  push(size: number, v: number, vHi: number): void {
    if (size === 8 && this.long64) {
      // The common case, inline: an aligned slot whose page is in the write TLB (its tag came
      // from a translation, so the address is canonical) and no borrow into the high half.
      const regs = this.regs;
      const lo = (regs[8] - 8) | 0, hi = regs[9];
      const i = (lo >>> 12) & TLB_MASK, o = lo & 0xfff;
      if ((lo & 7) === 0 && (regs[8] >>> 0) >= 8 && this.wTagLo[i] === (lo & -4096) && this.wTagHi[i] === hi) {
        const w = this.wWords[i];
        w[o >> 2] = v; w[(o >> 2) + 1] = vHi;
        regs[8] = lo;
        return;
      }
    }
    this.stackAddr(-size, size, true);
    this.wrSize(this.linLo, this.linHi, size, v, vHi);
    this.adjustSp(-size);
  }

  /** Reads the value a POP of `size` bytes would return at rSP + `delta` (rSP unchanged). */
  peek(size: number, delta: number): number {
    this.stackAddr(delta, size, false);
    return this.rdSize(this.linLo, this.linHi, size);
  }

  pop(size: number): number {
    if (size === 8 && this.long64) {
      const regs = this.regs;
      const lo = regs[8], hi = regs[9];
      const i = (lo >>> 12) & TLB_MASK, o = lo & 0xfff;
      if ((lo & 7) === 0 && (lo >>> 0) <= 0xfffffff0 && this.rTagLo[i] === (lo & -4096) && this.rTagHi[i] === hi) {
        const w = this.rWords[i];
        this.vHi = w[(o >> 2) + 1];
        regs[8] = (lo + 8) | 0;
        return w[o >> 2];
      }
    }
    const v = this.peek(size, 0);
    this.adjustSp(size);
    return v;
  }

}
