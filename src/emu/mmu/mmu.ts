// The MMU: linear → physical translation for the CPU, with the software TLB in front of
// the page walker (DESIGN.md "Designing for speed", item 2; SDM Vol. 3 chapter 4).
//
// Hot path: translate() on a TLB hit is a few typed-array reads, one compare of the page
// tag and one AND of the entry's deny bits with a precomputed mask for (access, CPL);
// nothing allocates. Misses walk the paging structures (page-walker.ts) and fill the TLB.
//
// TLB behaviour is architectural, not "always re-walk" (SDM §4.10): an entry stays after
// the paging structures change until INVLPG, MOV to CR3 (non-global entries), a CR4.PGE
// change or CR0.PG 1→0 removes it, or a #PF on its page does (§4.10.4.1). A TLB entry
// whose cached rights refuse an access raises the #PF without re-walking, the "spurious"
// fault §4.10.4.3 warns about after permissions are raised without INVLPG; the fault drops
// the entry so the retried access walks. A write through an entry whose D bit is clear
// walks again to set D (§4.8).
//
// Linear addresses are numbers: in 64-bit mode a signed double (canonical, checked by the
// CPU), otherwise [0, 2^32). Physical addresses are [0, 2^MAXPHYADDR); only [0, 2^32) is
// decoded by PhysicalMemory, the CPU treats the rest as unbacked.
//
// Translation contexts (VMX, SDM Vol. 3C §28.3): cached mappings are tagged with a VPID and,
// while EPT is in use, an EP4TA (the EPT PML4 address). Each context has its own Tlb; VM
// entries and exits switch between them (selectContext) instead of flushing, so a guest
// with a VPID finds its translations again after a VM exit and its VMM's VMRESUME, exactly
// as on hardware, until INVVPID/INVEPT (invalidateVpid/invalidateEpt) or the guest's own
// INVLPG/MOV CR3 removes them. Operations that invalidate "for the current VPID" reach every
// context of that VPID, whatever its EP4TA (§28.3.3.1). Root operation is VPID 0 without EPT.
// The CPU's caches in front of translate() are current while `tlbInvalidations` is unchanged
// (every invalidation moves it); they may keep one set of entries per context (contextId).

import type { PhysicalMemory } from '../memory/physical-memory.js';
import { ACC_EXEC, ACC_IMPLICIT, ACC_USER, ACC_WRITE, PF_FETCH, PF_PRESENT, PF_USER } from './access.js';
import { HI_ADDRESS_MASK, pageSizeText } from './paging-entry.js';
import type { NestedTranslator, PageWalk, TlbView } from './page-walk.js';
import { denyMask, PageWalker } from './page-walker.js';
import {
  CR0_CD, CR0_NW, CR0_PG, CR0_WP, CR4_PAE, CR4_PGE, CR4_PSE, EFER_NXE,
  PAGING_32, PAGING_4LEVEL, PAGING_MODE_NAMES, PAGING_NONE, PAGING_PAE, pagingMode, type PagingMode,
} from './paging-mode.js';
import { T_CLEAN, T_DENY_BITS, T_IDENTITY, Tlb } from './tlb.js';

const TWO_32 = 0x1_0000_0000;
/** denyTable index: access bits 8:0 (W, U, I, IMPLICIT) | 0x200 when CPL = 3. */
const DENY_TABLE_SIZE = 0x400;
/** The EP4TA of a context without EPT (linear mappings, SDM §28.3.1). */
export const NO_EPT = -1;
/** Translation contexts kept at once; a new one beyond that empties the least recently used. */
const MAX_CONTEXTS = 8;

/** INVVPID types (SDM Vol. 3C §28.3.3.1, Vol. 2 INVVPID). */
export const INVVPID_INDIVIDUAL_ADDRESS = 0;
export const INVVPID_SINGLE_CONTEXT = 1;
export const INVVPID_ALL_CONTEXT = 2;
export const INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS = 3;

/** The cached mappings of one (VPID, EP4TA) pair. */
class TlbContext {
  readonly tlb = new Tlb();
  /** Names this context until its slot is reused (Mmu.contextId). */
  id = 0;
  vpid = 0;
  ep4ta = NO_EPT;
  /** Holds a context (false: a free slot). */
  live = false;
  /** Last selection, for least-recently-used replacement. */
  used = 0;
  /** The paging controls its entries were made under (pagingKey), -1 when it holds none. */
  pagingKey = -1;
}

/** What entries depend on beyond CR3: the paging mode and the controls that shape a walk's result. */
function pagingKey(cr0: number, cr4: number, efer: number): number {
  return pagingMode(cr0, cr4, efer) | ((efer & EFER_NXE) !== 0 ? 8 : 0) | ((cr4 & CR4_PSE) !== 0 ? 16 : 0) | ((cr4 & CR4_PGE) !== 0 ? 32 : 0);
}

function hex(n: number): string {
  return n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

/** User-mode access (SDM §4.6): CPL 3 except implicit supervisor accesses, or ACC_USER forced. */
function isUser(access: number, cpl: number): boolean {
  return (access & ACC_USER) !== 0 || (cpl === 3 && (access & ACC_IMPLICIT) === 0);
}

export class Mmu {
  /** CR2 of the last faulting translate(): the linear address. */
  faultAddress = 0;
  /** #PF error code of the last faulting translate() (SDM §4.7). */
  faultErrorCode = 0;

  /** The current context's TLB and its arrays (the hot path reads these fields). */
  private tlb: Tlb;
  private tag: Float64Array;
  private phys: Float64Array;
  private flags: Int32Array;
  private readonly contexts: TlbContext[] = [];
  private current: TlbContext;
  /** The context current before `current` (selectContext looks there first). */
  private previous: TlbContext;
  private useClock = 0;
  /** Moves with every invalidation (tlbInvalidations). */
  private generation = 0;
  /** Last context id handed out. */
  private ids = 0;
  /** For each (access, CPL) key, the TLB deny bits that send an access to the slow path. */
  private readonly denyTable = new Int32Array(DENY_TABLE_SIZE);
  private readonly walker: PageWalker;
  private cr0 = 0;
  private cr3Lo = 0;
  private cr3Hi = 0;
  private cr4 = 0;

  constructor(mem: PhysicalMemory) {
    this.walker = new PageWalker(mem);
    const root = new TlbContext();
    root.id = ++this.ids;
    root.live = true;
    this.contexts.push(root);
    this.current = root;
    this.previous = root;
    this.tlb = root.tlb;
    this.tag = root.tlb.tag;
    this.phys = root.tlb.phys;
    this.flags = root.tlb.flags;
    this.buildDenyTable(false);
  }

  /** The paging mode CR0/CR4/EFER select (SDM §4.1.1). */
  get mode(): PagingMode {
    return this.walker.mode;
  }

  /**
   * Counts TLB invalidations of any extent (flushes, INVLPG, #PF). A cache the CPU keeps in
   * front of translate() is current while this value is unchanged.
   */
  get tlbInvalidations(): number {
    return this.generation;
  }

  /**
   * A number naming the current translation context, never reused for another: caches in
   * front of translate() may keep one set of entries per context (the CPU's software TLB
   * banks), valid while tlbInvalidations does not move.
   */
  get contextId(): number {
    return this.current.id;
  }

  /**
   * EPT (issue 4): every guest-physical address the MMU uses goes through it; null = none.
   * Forgets every context (a processor reset, or a caller outside the VMX transitions);
   * VM entries and exits use selectContext.
   */
  setNestedTranslator(nested: NestedTranslator | null): void {
    this.walker.nested = nested;
    for (const ctx of this.contexts) {
      ctx.tlb.flushAll();
      ctx.live = false;
      ctx.pagingKey = -1;
    }
    const root = this.contexts[0];
    root.id = ++this.ids;
    root.live = true;
    root.vpid = 0;
    root.ep4ta = NO_EPT;
    this.use(root);
    this.generation++;
  }

  /**
   * A VMX transition (VM entry, VM exit, VMFUNC EPTP switching): make the mappings of
   * (`vpid`, `ep4ta`) current and load the paging state the transition loaded, without the
   * MOV-to-CR flushes: VMX transitions flush only what the VPID rules say (SDM §28.3.3.1;
   * the caller asks invalidateVpid for that). `nested` translates guest-physical addresses
   * (EPT, with `ep4ta` its PML4 address) or is null. Under PAE paging the PDPTE registers
   * are loaded, from `pdptes` when given (VM entry with EPT, SDM §26.3.2.4), else from
   * memory at CR3. A context whose entries were made under other paging controls (another
   * paging mode, NXE, PSE, PGE) is emptied first: entries of one paging mode never serve
   * another.
   */
  selectContext(vpid: number, ep4ta: number, nested: NestedTranslator | null, cr0: number, cr3Lo: number, cr3Hi: number, cr4: number, efer: number, pdptes?: Int32Array): void {
    // A VM exit and the VM entry after it switch back to the context they left: try it first
    // (a live (VPID, EP4TA) pair has one context).
    const back = this.previous;
    let ctx = back.live && back.vpid === vpid && back.ep4ta === ep4ta ? back : this.findContext(vpid, ep4ta);
    if (ctx === undefined) ctx = this.newContext(vpid, ep4ta);
    const key = pagingKey(cr0, cr4, efer);
    if (ctx.pagingKey !== key) {
      ctx.tlb.flushAll();
      ctx.pagingKey = key;
      this.generation++;
    }
    this.use(ctx);
    this.walker.nested = nested;
    this.loadControls(cr0, cr3Lo, cr3Hi, cr4, efer);
    if (this.walker.mode === PAGING_PAE) {
      if (pdptes !== undefined) this.walker.setPdptes(pdptes, cr3Lo);
      else this.walker.loadPdptes(cr3Lo);
    }
  }

  /**
   * INVVPID (SDM Vol. 2 INVVPID, Vol. 3C §28.3.3.1), and the VPID 0 flush of VM entries and
   * exits with "enable VPID" = 0 (type single-context, VPID 0). Every EP4TA of the VPID is
   * reached. All-context spares VPID 0, the VMM's own mappings (the SDM allows either).
   */
  invalidateVpid(type: number, vpid: number, linear: number): void {
    for (const ctx of this.contexts) {
      if (!ctx.live) continue;
      if (type === INVVPID_ALL_CONTEXT ? ctx.vpid === 0 : ctx.vpid !== vpid) continue;
      if (type === INVVPID_INDIVIDUAL_ADDRESS) ctx.tlb.invalidatePage(linear);
      else if (type === INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS) ctx.tlb.flushNonGlobal();
      else ctx.tlb.flushAll();
    }
    this.generation++;
  }

  /**
   * INVEPT (SDM Vol. 2 INVEPT, Vol. 3C §28.3.3.1): the combined mappings of EP4TA `ep4ta`
   * (single-context), or of every EP4TA (`ep4ta` = NO_EPT: all-context), for all VPIDs. The
   * MMU keeps no guest-physical mappings apart from these.
   */
  invalidateEpt(ep4ta: number): void {
    for (const ctx of this.contexts) {
      if (ctx.live && ctx.ep4ta !== NO_EPT && (ep4ta === NO_EPT || ctx.ep4ta === ep4ta)) ctx.tlb.flushAll();
    }
    this.generation++;
  }

  private findContext(vpid: number, ep4ta: number): TlbContext | undefined {
    for (const ctx of this.contexts) if (ctx.live && ctx.vpid === vpid && ctx.ep4ta === ep4ta) return ctx;
    return undefined;
  }

  /** A context for (vpid, ep4ta): a free slot, a new one, or the least recently used one emptied. */
  private newContext(vpid: number, ep4ta: number): TlbContext {
    let ctx: TlbContext | undefined;
    for (const c of this.contexts) if (!c.live) { ctx = c; break; }
    if (ctx === undefined && this.contexts.length < MAX_CONTEXTS) {
      ctx = new TlbContext();
      this.contexts.push(ctx);
    }
    if (ctx === undefined) {
      for (const c of this.contexts) if (c !== this.current && (ctx === undefined || c.used < ctx.used)) ctx = c;
    }
    const c = ctx!;
    c.tlb.flushAll();
    c.id = ++this.ids;
    c.live = true;
    c.vpid = vpid;
    c.ep4ta = ep4ta;
    c.pagingKey = -1;
    return c;
  }

  private use(ctx: TlbContext): void {
    ctx.used = ++this.useClock;
    if (ctx !== this.current) this.previous = this.current;
    this.current = ctx;
    const t = ctx.tlb;
    this.tlb = t;
    this.tag = t.tag;
    this.phys = t.phys;
    this.flags = t.flags;
  }

  /**
   * Load the paging controls after a write to CR0, CR3, CR4 or IA32_EFER (or a state load:
   * reset, task switch, VM entry/exit), flushing as SDM §4.10.4.1 says:
   * - CR0.PG or CR4.PGE changed: the whole TLB, global entries included;
   * - a CR3 load (`cr3Loaded`, or a CR3 value change), CR4.PAE or CR4.PSE changed: all
   *   non-global entries;
   * and loading the PAE PDPTE registers when PAE paging is in use afterwards and CR3 was
   * loaded or CR0.PG/CD/NW or CR4.PAE/PSE/PGE changed (§4.4.1). Check them first with
   * pdptesInvalid(): a bad PDPTE makes the instruction #GP(0) and nothing is loaded.
   *
   * MOV to CR3 flushes even when the value does not change, so `cr3Loaded` defaults to
   * true; pass false after MOV to CR0/CR4 and WRMSR to EFER, which flush only on the bit
   * changes above (a call with true after them only flushes more, which §4.10.4.3 allows).
   *
   * `pdptes` (lo, hi pairs), when given, are the PDPTE register values to load under PAE
   * paging instead of reading memory: VM entry with EPT takes them from GUEST_PDPTR0-3
   * (SDM §26.3.2.4).
   */
  setPagingState(cr0: number, cr3Lo: number, cr3Hi: number, cr4: number, efer: number, cr3Loaded = true, pdptes?: Int32Array): void {
    const cr0Changed = cr0 ^ this.cr0;
    const cr4Changed = cr4 ^ this.cr4;
    const cr3Load = cr3Loaded || cr3Lo !== this.cr3Lo || cr3Hi !== this.cr3Hi;
    this.loadControls(cr0, cr3Lo, cr3Hi, cr4, efer);
    const w = this.walker;
    if ((cr0Changed & CR0_PG) !== 0 || (cr4Changed & CR4_PGE) !== 0) this.flushAll();
    else if (cr3Load || (cr4Changed & (CR4_PAE | CR4_PSE)) !== 0) this.flushNonGlobal();
    this.current.pagingKey = pagingKey(cr0, cr4, efer);

    if (w.mode === PAGING_PAE && pdptes !== undefined) {
      w.setPdptes(pdptes, cr3Lo);
    } else if (w.mode === PAGING_PAE && (cr3Load || (cr0Changed & (CR0_PG | CR0_CD | CR0_NW)) !== 0 || (cr4Changed & (CR4_PAE | CR4_PSE | CR4_PGE)) !== 0)) {
      w.loadPdptes(cr3Lo);
    }
  }

  /** Takes CR0/CR3/CR4/EFER into the walker (no flush). */
  private loadControls(cr0: number, cr3Lo: number, cr3Hi: number, cr4: number, efer: number): void {
    this.cr0 = cr0;
    this.cr3Lo = cr3Lo;
    this.cr3Hi = cr3Hi;
    this.cr4 = cr4;
    const w = this.walker;
    const mode = pagingMode(cr0, cr4, efer);
    w.mode = mode;
    w.nxe = (efer & EFER_NXE) !== 0;
    w.pse = (cr4 & CR4_PSE) !== 0;
    w.pge = (cr4 & CR4_PGE) !== 0;
    w.root = mode === PAGING_4LEVEL ? (cr3Hi & HI_ADDRESS_MASK) * TWO_32 + ((cr3Lo & ~0xFFF) >>> 0) : (cr3Lo & ~0xFFF) >>> 0;
    const wp = (cr0 & CR0_WP) !== 0;
    if (wp !== w.wp) this.buildDenyTable(wp);
  }

  /**
   * The four PAE PDPTE registers into `out` as (lo, hi) pairs (SDM §4.4.1); meaningful under
   * PAE paging. VM exits with EPT save them to GUEST_PDPTR0-3 (SDM §27.3.4).
   */
  readPdptes(out: Int32Array): void {
    const w = this.walker;
    for (let n = 0; n < 4; n++) {
      out[2 * n] = w.pdpteLo[n];
      out[2 * n + 1] = w.pdpteHi[n];
    }
  }

  /**
   * True when loading CR3 = `cr3Lo` under PAE paging would load a PDPTE that is present
   * with a reserved bit set: MOV to CR3 (and MOV to CR0/CR4 that switch PAE paging on)
   * must then raise #GP(0) (SDM §4.4.1; Vol. 2 MOV—Move to/from Control Registers).
   */
  pdptesInvalid(cr3Lo: number): boolean {
    return this.walker.pdptesInvalid(cr3Lo);
  }

  /** True when a 64-bit CR3 value sets bits 63:MAXPHYADDR, which MOV to CR3 refuses with #GP(0) (SDM §4.5, Table 4-12). */
  cr3HasReservedBits(cr3Hi: number): boolean {
    return (cr3Hi & ~HI_ADDRESS_MASK) !== 0;
  }

  /**
   * Physical address for `linear`, or -1 when the access faults: then faultAddress (CR2)
   * and faultErrorCode hold the #PF. `access`: ACC_* bits; `cpl` 3 makes it a user-mode
   * access unless ACC_IMPLICIT is set.
   */
  translate(linear: number, access: number, cpl: number): number {
    const off = linear & 0xFFF;
    const v = linear >>> 12;
    const i = (v ^ (v >>> 12)) & 0xFFF;
    if (this.tag[i] === linear - off && (this.flags[i] & this.denyTable[(access & 0x1FF) | (((cpl + 1) & 4) << 7)]) === 0) {
      return this.phys[i] + off;
    }
    return this.translateMiss(linear, access, cpl);
  }

  private translateMiss(linear: number, access: number, cpl: number): number {
    const page = linear - (linear & 0xFFF);
    const w = this.walker;
    if (w.mode === PAGING_NONE) {
      const nested = w.nested;
      if (nested === null) {
        this.tlb.fill(page, page, T_IDENTITY, 12);
        return linear;
      }
      // Paging off under EPT: the linear address is the guest-physical address (SDM §28.3.1).
      const physical = nested.translate(linear, access, linear);
      if (nested.cacheable !== false) this.tlb.fill(page, physical - (linear & 0xFFF), 0, 12);
      return physical;
    }
    const user = isUser(access, cpl);
    const i = this.tlb.find(linear);
    if (i >= 0) {
      const denied = this.flags[i] & this.denyTable[(access & 0x1FF) | (((cpl + 1) & 4) << 7)] & ~T_CLEAN;
      if (denied !== 0) {
        // The cached rights refuse the access: #PF without a walk (§4.10.4.3); the fault
        // invalidates the entry (§4.10.4.1).
        let code = PF_PRESENT | (access & ACC_WRITE) | (user ? PF_USER : 0);
        if ((access & ACC_EXEC) !== 0 && w.mode !== PAGING_32 && w.nxe) code |= PF_FETCH;
        return this.pageFault(linear, code);
      }
    }
    // An EPT violation or misconfiguration during the walk leaves by exception: it drops the
    // page's combined mapping first, as the exit does (SDM §28.3.3.1).
    if (i >= 0 && w.nested !== null) this.tlb.invalidatePage(linear);
    const physical = w.walk(linear, access, user, null);
    if (physical < 0) return this.pageFault(linear, w.faultErrorCode);
    if (w.nested === null || w.nested.cacheable !== false) this.tlb.fill(page, physical - (linear & 0xFFF), w.tlbFlags, w.pageShift);
    return physical;
  }

  private pageFault(linear: number, code: number): number {
    this.tlb.invalidatePage(linear);
    this.generation++;
    this.faultAddress = linear;
    this.faultErrorCode = code;
    return -1;
  }

  /** Empty the TLB, global entries included (of every EP4TA of the current VPID). */
  flushAll(): void {
    const cur = this.current;
    for (const ctx of this.contexts) if (ctx === cur || (ctx.live && ctx.vpid === cur.vpid)) ctx.tlb.flushAll();
    this.generation++;
  }

  /** Empty the TLB except global pages' entries (what MOV to CR3 does; every EP4TA of the current VPID). */
  flushNonGlobal(): void {
    const cur = this.current;
    for (const ctx of this.contexts) if (ctx === cur || (ctx.live && ctx.vpid === cur.vpid)) ctx.tlb.flushNonGlobal();
    this.generation++;
  }

  /** INVLPG (SDM Vol. 2 INVLPG; Vol. 3 §4.10.4.1): the page's entries, global or not, the whole large page's if it is one (every EP4TA of the current VPID). */
  invlpg(linear: number): void {
    const cur = this.current;
    for (const ctx of this.contexts) if (ctx === cur || (ctx.live && ctx.vpid === cur.vpid)) ctx.tlb.invalidatePage(linear);
    this.generation++;
  }

  /**
   * The walk translate() would make for this access, step by step, without its side
   * effects (no A/D update, no TLB fill), plus what the TLB holds for the page now.
   */
  explainWalk(linear: number, access: number, cpl: number): PageWalk {
    const w = this.walker;
    const ex: PageWalk = {
      linear, access, cpl, mode: PAGING_MODE_NAMES[w.mode], steps: [], ok: false, physical: -1, guestPhysical: -1,
      pageSize: 0, tlb: null, memoryAccesses: 0, updates: [], summary: '',
    };
    const i = this.tlb.find(linear);
    if (i >= 0 && (this.flags[i] & T_IDENTITY) === 0) ex.tlb = this.tlb.view(i);
    if (w.mode === PAGING_NONE) {
      ex.ok = true;
      ex.physical = ex.guestPhysical = linear;
      ex.summary = `paging is off (CR0.PG=0): physical address = linear address ${hex(linear)}`;
      return ex;
    }
    w.walk(linear, access, isUser(access, cpl), ex);
    if (ex.fault !== undefined) {
      ex.summary = `#PF, error code ${hex(ex.fault.errorCode)}, CR2=${hex(linear)}: ${ex.fault.reason}`;
    } else if (ex.ok) {
      ex.summary = `${hex(linear)} -> ${hex(ex.physical)} (${pageSizeText(ex.pageSize)} page, ${ex.memoryAccesses} memory access${ex.memoryAccesses === 1 ? '' : 'es'})`;
    }
    if (ex.tlb !== null) {
      const cached = ex.tlb.physical + (linear & 0xFFF);
      const deny = this.flags[i] & this.denyTable[(access & 0x1FF) | (((cpl + 1) & 4) << 7)] & T_DENY_BITS;
      if (!ex.ok || cached !== ex.physical) {
        ex.summary += `; but the TLB still maps this page to ${hex(ex.tlb.physical)}, so the access ${deny & ~T_CLEAN ? 'faults on its cached rights' : `uses ${hex(cached)}`} until INVLPG or a CR3 reload`;
      } else if ((deny & ~T_CLEAN) !== 0) {
        ex.summary += '; but the TLB entry for this page has fewer rights than the page tables: the access faults once (SDM 4.10.4.3), and that #PF drops the entry';
      }
    }
    return ex;
  }

  /** TLB contents for the debugger (not for hot paths). */
  tlbEntries(): TlbView[] {
    return this.tlb.entries();
  }

  private buildDenyTable(wp: boolean): void {
    this.walker.wp = wp;
    for (let key = 0; key < DENY_TABLE_SIZE; key++) {
      const access = key & 0x1FF;
      const user = isUser(access, (key & 0x200) !== 0 ? 3 : 0);
      this.denyTable[key] = denyMask((access & ACC_WRITE) !== 0, user, (access & ACC_EXEC) !== 0, wp);
    }
  }
}
