// The page walker: one linear address through 32-bit, PAE or 4-level paging structures
// (SDM Vol. 3 §4.3, §4.4, §4.5), with the checks of §4.6 (access rights), §4.7 (#PF
// error code), the accessed/dirty updates of §4.8, and reserved bits for our MAXPHYADDR.
//
// One code path serves translate() (no explanation: it sets A/D bits) and explainWalk()
// (an explanation object: no side effects, and it says which A/D updates it would make),
// so what the debugger shows is what the CPU does. Allocation-free without explanation.
//
// Every guest-physical address the walk touches passes through entryHost(), the seam
// where EPT (issue 4) translates it; the final address passes through the same hook.

import type { PhysicalMemory } from '../memory/physical-memory.js';
import { ACC_EXEC, ACC_PAGING_STRUCTURE, ACC_WRITE, PF_FETCH, PF_PRESENT, PF_RSVD, PF_USER } from './access.js';
import {
  decodeEntryFlags, entryHex, flagText, HI_ADDRESS_MASK, HI_RSVD_4LEVEL, HI_RSVD_PAE, HI_RSVD_PAE_PDPTE,
  LO_RSVD_1G, LO_RSVD_2M, LO_RSVD_4M, LO_RSVD_PAE_PDPTE, LO_RSVD_PML4E, pageSizeText, PSE36_HIGH_BITS,
  PTE_A, PTE_D, PTE_G, PTE_HI_XD, PTE_P, PTE_PS, PTE_RW, PTE_US,
} from './paging-entry.js';
import type { NestedTranslator, PageWalk, WalkLevel, WalkStep } from './page-walk.js';
import { PAGING_32, PAGING_4LEVEL, PAGING_NONE, PAGING_PAE, type PagingMode } from './paging-mode.js';
import { T_CLEAN, T_GLOBAL, T_NO_EXEC, T_READ_ONLY, T_SUPERVISOR } from './tlb.js';

const TWO_32 = 0x1_0000_0000;
const LEVELS: readonly WalkLevel[] = ['PML4E', 'PDPTE', 'PDE', 'PTE'];
/** 2^(bit where each level's 9-bit index starts) for 8-byte-entry paging: 39, 30, 21, 12. */
const LEVEL_SCALE = [2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12];
/** The deny bits that are access-rights violations (T_CLEAN only asks for a walk). */
const T_RIGHTS = T_READ_ONLY | T_SUPERVISOR | T_NO_EXEC;

/**
 * TLB deny bits that refuse an access (SDM §4.6): user accesses need U/S = 1 everywhere;
 * writes need R/W = 1 everywhere when user-mode or CR0.WP = 1; fetches need XD = 0
 * everywhere. A write through a clean entry (D = 0) must walk to set D. SMEP/SMAP are
 * not implemented, so supervisor accesses to user pages are allowed.
 */
export function denyMask(write: boolean, user: boolean, exec: boolean, wp: boolean): number {
  let m = 0;
  if (write) m |= T_CLEAN | (user || wp ? T_READ_ONLY : 0);
  if (user) m |= T_SUPERVISOR;
  if (exec) m |= T_NO_EXEC;
  return m;
}

/** "bit 7", "bits 63, 45": the set bits of a reserved-bit violation, highest first. */
function bitList(lo: number, hi: number): string {
  const bits: number[] = [];
  for (let b = 31; b >= 0; b--) if ((hi >>> b) & 1) bits.push(b + 32);
  for (let b = 31; b >= 0; b--) if ((lo >>> b) & 1) bits.push(b);
  return `${bits.length === 1 ? 'bit' : 'bits'} ${bits.join(', ')}`;
}

function hex(n: number): string {
  return n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

export class PageWalker {
  mode: PagingMode = PAGING_NONE;
  /** Physical address of the top-level table: CR3 bits (MAXPHYADDR-1):12, or 31:12 (32-bit paging). */
  root = 0;
  /** EFER.NXE, CR4.PSE, CR4.PGE, CR0.WP. */
  nxe = false;
  pse = false;
  pge = false;
  wp = false;
  /** EPT (issue 4); null: guest-physical = host-physical. */
  nested: NestedTranslator | null = null;
  /** The four PDPTE registers of PAE paging (SDM §4.4.1) and where they were loaded from. */
  readonly pdpteLo = new Int32Array(4);
  readonly pdpteHi = new Int32Array(4);
  readonly pdpteFrom = new Float64Array(4);
  /** The PDPTE registers were last loaded from the VMCS (VM entry with EPT, SDM §26.3.2.4), not from memory. */
  pdptesFromVmcs = false;

  // Results of the last walk.
  /** log2 of the page size of a successful walk. */
  pageShift = 12;
  /** TLB flag bits (T_*) of a successful walk. */
  tlbFlags = 0;
  /** #PF error code of a failed walk. */
  faultErrorCode = 0;

  /** Guest-physical and host address and low half of each entry the walk used, for the A/D updates. */
  private readonly usedGpa = new Float64Array(4);
  private readonly usedHost = new Float64Array(4);
  private readonly usedLo = new Int32Array(4);
  private used = 0;
  private lo = 0;
  private hi = 0;

  constructor(private readonly mem: PhysicalMemory) {}

  /**
   * Translate `linear` for `access` (ACC_* bits; `user` already resolved from CPL and
   * ACC_IMPLICIT). Returns the physical address, or -1 with faultErrorCode set. With
   * `ex`, fills in the explanation and changes nothing in memory.
   */
  walk(linear: number, access: number, user: boolean, ex: PageWalk | null): number {
    const mode = this.mode;
    const wide = mode !== PAGING_32;
    const nxe = wide && this.nxe;
    const hiRsvd = (mode === PAGING_4LEVEL ? HI_RSVD_4LEVEL : HI_RSVD_PAE) | (nxe ? 0 : PTE_HI_XD);
    let deny = 0;
    let level: number;
    let table: number;
    this.used = 0;

    if (mode === PAGING_PAE) {
      // PAE: the PDPTE comes from a register loaded at MOV to CR3, not from memory (§4.4.1).
      const n = (linear >>> 30) & 3;
      const lo = this.pdpteLo[n];
      const hi = this.pdpteHi[n];
      const step = ex === null ? null : this.step(ex, 'PDPTE', this.pdpteFrom[n], this.pdpteFrom[n], n, lo, hi, false, false);
      if ((lo & PTE_P) === 0) return this.fail(linear, access, user, 0, ex, step, `PDPTE register ${n} not present (P=0)`);
      const rsvdLo = lo & LO_RSVD_PAE_PDPTE;
      const rsvdHi = hi & HI_RSVD_PAE_PDPTE;
      if ((rsvdLo | rsvdHi) !== 0) return this.fail(linear, access, user, PF_RSVD, ex, step, `reserved ${bitList(rsvdLo, rsvdHi)} set in PDPTE register ${n}`);
      table = (hi & HI_ADDRESS_MASK) * TWO_32 + ((lo & ~0xFFF) >>> 0);
      if (step !== null) {
        const from = this.pdptesFromVmcs ? `loaded from GUEST_PDPTR${n} at VM entry` : 'loaded at the last MOV to CR3';
        step.note = `PDPTE register ${n} (${from}, not read now): page directory at ${hex(table)}`;
      }
      level = 2;
    } else {
      table = this.root;
      level = mode === PAGING_4LEVEL ? 0 : 2;
    }

    for (;;) {
      let index: number;
      let gpa: number;
      if (wide) {
        index = Math.floor(linear / LEVEL_SCALE[level]) & 0x1FF;
        gpa = table + index * 8;
      } else {
        index = level === 2 ? linear >>> 22 : (linear >>> 12) & 0x3FF;
        gpa = table + index * 4;
      }
      let hpa = gpa;
      let step: WalkStep | null = null;
      if (ex !== null) {
        const nestedWalk = this.nested === null ? undefined : this.nested.explain(gpa, ACC_PAGING_STRUCTURE, linear);
        if (nestedWalk !== undefined) {
          ex.memoryAccesses += nestedWalk.memoryAccesses;
          if (!nestedWalk.ok) {
            ex.ok = false;
            ex.summary = `reading the ${LEVELS[level]} at guest-physical ${hex(gpa)} leaves the guest: ${nestedWalk.summary}`;
            return -1;
          }
          hpa = nestedWalk.physical;
        }
        this.readEntry(hpa, wide);
        step = this.step(ex, LEVELS[level], gpa, hpa, index, this.lo, this.hi, true, false);
        if (nestedWalk !== undefined) step.nested = nestedWalk;
      } else {
        if (this.nested !== null) hpa = this.nested.translate(gpa, ACC_PAGING_STRUCTURE, linear);
        this.readEntry(hpa, wide);
      }
      const lo = this.lo;
      const hi = this.hi;
      this.usedGpa[this.used] = gpa;
      this.usedHost[this.used] = hpa;
      this.usedLo[this.used] = lo;
      this.used++;

      if ((lo & PTE_P) === 0) return this.fail(linear, access, user, 0, ex, step, `${LEVELS[level]} not present (P=0)`);
      // PS maps a page at the PDE (PAE/4-level, or 32-bit with CR4.PSE) and at a 4-level
      // PDPTE (1 GiB pages); in a PML4E it is reserved, in a 32-bit PDE without PSE ignored.
      const ps = (lo & PTE_PS) !== 0;
      const leaf = level === 3 || (ps && (level === 2 ? wide || this.pse : level === 1));
      let rsvdLo = 0;
      let rsvdHi = 0;
      if (wide) {
        rsvdHi = hi & hiRsvd;
        if (level === 0) rsvdLo = lo & LO_RSVD_PML4E;
        else if (leaf && level === 1) rsvdLo = lo & LO_RSVD_1G;
        else if (leaf && level === 2) rsvdLo = lo & LO_RSVD_2M;
      } else if (leaf && level === 2) {
        rsvdLo = lo & LO_RSVD_4M;
      }
      if ((rsvdLo | rsvdHi) !== 0) {
        const why = (rsvdHi & PTE_HI_XD) !== 0 && !nxe ? ' (XD is reserved while EFER.NXE = 0)' : '';
        return this.fail(linear, access, user, PF_RSVD, ex, step, `reserved ${bitList(rsvdLo, rsvdHi)} set in ${LEVELS[level]}${why}`);
      }
      if ((lo & PTE_RW) === 0) deny |= T_READ_ONLY;
      if ((lo & PTE_US) === 0) deny |= T_SUPERVISOR;
      if (nxe && (hi & PTE_HI_XD) !== 0) deny |= T_NO_EXEC;
      if (leaf) break;
      table = wide ? (hi & HI_ADDRESS_MASK) * TWO_32 + ((lo & ~0xFFF) >>> 0) : (lo & ~0xFFF) >>> 0;
      if (step !== null) {
        step.flags = decodeEntryFlags(mode, step.level, lo, hi, false);
        step.flagText = flagText(step.flags);
        step.note = `${LEVELS[level + 1] === 'PDPTE' ? 'page-directory-pointer table' : LEVELS[level + 1] === 'PDE' ? 'page directory' : 'page table'} at ${hex(table)}`;
      }
      level++;
    }

    // The final entry maps the page.
    const lo = this.lo;
    const hi = this.hi;
    let shift: number;
    let frame: number;
    if (level === 3) {
      shift = 12;
      frame = (wide ? (hi & HI_ADDRESS_MASK) * TWO_32 : 0) + ((lo & ~0xFFF) >>> 0);
    } else if (level === 1) {
      shift = 30;
      frame = (hi & HI_ADDRESS_MASK) * TWO_32 + ((lo & 0xC000_0000) >>> 0);
    } else if (wide) {
      shift = 21;
      frame = (hi & HI_ADDRESS_MASK) * TWO_32 + ((lo & 0xFFE0_0000) >>> 0);
    } else {
      // 4 MiB page: PSE-36 puts physical-address bits above 31 in PDE bits 13 and up (§4.3).
      shift = 22;
      frame = ((lo >>> 13) & ((1 << PSE36_HIGH_BITS) - 1)) * TWO_32 + ((lo & 0xFFC0_0000) >>> 0);
    }
    const size = 2 ** shift;
    const guestPhysical = frame + (linear & (size - 1));
    const write = (access & ACC_WRITE) !== 0;
    const exec = (access & ACC_EXEC) !== 0;
    const stepLast = ex === null ? null : ex.steps[ex.steps.length - 1];
    if (stepLast !== null) {
      stepLast.flags = decodeEntryFlags(mode, stepLast.level, lo, hi, true);
      stepLast.flagText = flagText(stepLast.flags);
      stepLast.note = `maps the ${pageSizeText(size)} page at ${hex(frame)}`;
    }

    // Access rights over the whole walk (§4.6).
    const denied = deny & denyMask(write, user, exec, this.wp) & T_RIGHTS;
    if (denied !== 0) return this.fail(linear, access, user, PF_PRESENT, ex, stepLast, this.rightsReason(denied, write, user, exec, ex));

    if ((lo & PTE_D) === 0 && !write) deny |= T_CLEAN;
    if (this.pge && (lo & PTE_G) !== 0) deny |= T_GLOBAL;

    // §4.8: A in every entry used, D in the final one on a write. Done only when the
    // translation succeeds, as Bochs does; the SDM allows either. Under EPT each update is a
    // write to the entry's guest-physical address, which EPT checks as a data write
    // (SDM §28.3.3.2: "Writes by the logical processor to guest paging structures to update
    // accessed and dirty flags are considered to be data writes"), so an entry in a page
    // EPT maps read-only ends in an EPT violation here.
    const last = this.used - 1;
    for (let k = 0; k <= last; k++) {
      const old = this.usedLo[k];
      const updated = old | PTE_A | (k === last && write ? PTE_D : 0);
      if (updated === old) continue;
      if (ex !== null) {
        const s = ex.steps[ex.steps.length - 1 - last + k];
        const bits = (old & PTE_A) === 0 ? ((updated & PTE_D) !== (old & PTE_D) ? 'A and D' : 'A') : 'D';
        ex.updates.push(`sets ${bits} in the ${s.level} at ${hex(s.address)}`);
        if (this.nested !== null) {
          const nestedWalk = this.nested.explain(this.usedGpa[k], ACC_PAGING_STRUCTURE | ACC_WRITE, linear);
          if (!nestedWalk.ok) {
            ex.ok = false;
            ex.summary = `setting ${bits} in the ${s.level} at guest-physical ${hex(s.address)} leaves the guest: ${nestedWalk.summary}`;
            return -1;
          }
        }
      } else {
        const host = this.nested === null ? this.usedHost[k] : this.nested.translate(this.usedGpa[k], ACC_PAGING_STRUCTURE | ACC_WRITE, linear);
        this.writeEntryLow(host, updated);
      }
    }

    let physical = guestPhysical;
    if (this.nested !== null) {
      if (ex !== null) {
        const nestedWalk = this.nested.explain(guestPhysical, access, linear);
        ex.finalNested = nestedWalk;
        ex.memoryAccesses += nestedWalk.memoryAccesses;
        if (!nestedWalk.ok) {
          ex.ok = false;
          ex.guestPhysical = guestPhysical;
          ex.summary = `guest-physical ${hex(guestPhysical)} leaves the guest: ${nestedWalk.summary}`;
          return -1;
        }
        physical = nestedWalk.physical;
      } else {
        physical = this.nested.translate(guestPhysical, access, linear);
      }
    }
    this.pageShift = shift;
    this.tlbFlags = deny;
    if (ex !== null) {
      ex.ok = true;
      ex.physical = physical;
      ex.guestPhysical = guestPhysical;
      ex.pageSize = size;
    }
    return physical;
  }

  /** Read the four PDPTEs at `cr3Lo` bits 31:5 into the registers (§4.4.1). */
  loadPdptes(cr3Lo: number): void {
    const base = (cr3Lo & ~0x1F) >>> 0;
    this.pdptesFromVmcs = false;
    for (let n = 0; n < 4; n++) {
      const gpa = base + n * 8;
      const hpa = this.nested === null ? gpa : this.nested.translate(gpa, ACC_PAGING_STRUCTURE, -1);
      this.readEntry(hpa, true);
      this.pdpteLo[n] = this.lo;
      this.pdpteHi[n] = this.hi;
      this.pdpteFrom[n] = gpa;
    }
  }

  /**
   * Set the four PDPTE registers to `values` (lo, hi pairs) without reading memory: VM entry
   * with EPT loads them from the VMCS (SDM §26.3.2.4). `cr3Lo` gives the address shown for them.
   */
  setPdptes(values: Int32Array, cr3Lo: number): void {
    const base = (cr3Lo & ~0x1F) >>> 0;
    for (let n = 0; n < 4; n++) {
      this.pdpteLo[n] = values[2 * n];
      this.pdpteHi[n] = values[2 * n + 1];
      this.pdpteFrom[n] = base + n * 8;
    }
    this.pdptesFromVmcs = true;
  }

  /** True when a present PDPTE at `cr3Lo` sets a reserved bit: MOV to CR3/CR0/CR4 then raises #GP(0) (§4.4.1). */
  pdptesInvalid(cr3Lo: number): boolean {
    const base = (cr3Lo & ~0x1F) >>> 0;
    for (let n = 0; n < 4; n++) {
      const gpa = base + n * 8;
      const hpa = this.nested === null ? gpa : this.nested.translate(gpa, ACC_PAGING_STRUCTURE, -1);
      this.readEntry(hpa, true);
      if ((this.lo & PTE_P) !== 0 && ((this.lo & LO_RSVD_PAE_PDPTE) | (this.hi & HI_RSVD_PAE_PDPTE)) !== 0) return true;
    }
    return false;
  }

  private readEntry(addr: number, wide: boolean): void {
    if (addr + (wide ? 8 : 4) > TWO_32) {
      // Beyond the 4 GiB this machine decodes: the bus floats high, as for any unbacked read.
      this.lo = -1;
      this.hi = wide ? -1 : 0;
      return;
    }
    this.lo = this.mem.read32(addr);
    this.hi = wide ? this.mem.read32(addr + 4) : 0;
  }

  /** Update an entry's low half (A and D live in bits 5 and 6). */
  private writeEntryLow(addr: number, lo: number): void {
    if (addr + 4 <= TWO_32) this.mem.write32(addr, lo);
  }

  private step(ex: PageWalk, level: WalkLevel, address: number, hostAddress: number, index: number, lo: number, hi: number, memoryAccess: boolean, leaf: boolean): WalkStep {
    const flags = decodeEntryFlags(this.mode, level, lo, hi, leaf);
    const s: WalkStep = {
      level, address, hostAddress, memoryAccess,
      value: entryHex(this.mode, lo, hi), lo, hi, flags, flagText: flagText(flags), index, note: '',
    };
    ex.steps.push(s);
    if (memoryAccess) ex.memoryAccesses++;
    return s;
  }

  private fail(linear: number, access: number, user: boolean, bits: number, ex: PageWalk | null, step: WalkStep | null, reason: string): number {
    // §4.7: W/R, U/S and I/D describe the access; I/D only with PAE/4-level paging and EFER.NXE = 1.
    let code = bits | (access & ACC_WRITE) | (user ? PF_USER : 0);
    if ((bits & PF_RSVD) !== 0) code |= PF_PRESENT;
    if ((access & ACC_EXEC) !== 0 && this.mode !== PAGING_32 && this.nxe) code |= PF_FETCH;
    this.faultErrorCode = code;
    if (ex !== null) {
      if (step !== null) step.note = reason;
      ex.ok = false;
      ex.physical = -1;
      ex.fault = { errorCode: code, cr2: linear, reason };
    }
    return -1;
  }

  /** Which entry denied the access, in words. */
  private rightsReason(denied: number, write: boolean, user: boolean, exec: boolean, ex: PageWalk | null): string {
    const where = (bit: number, inHigh: boolean, set: boolean): string => {
      // PAE PDPTE registers carry no R/W, U/S or XD (§4.4.1): only memory entries count.
      const s = ex?.steps.find((st) => st.memoryAccess && (((inHigh ? st.hi : st.lo) & bit) !== 0) === set);
      return s === undefined ? '' : ` in the ${s.level}`;
    };
    if ((denied & T_SUPERVISOR) !== 0) return `${user ? 'user-mode' : ''} ${exec ? 'fetch from' : write ? 'write to' : 'read of'} a supervisor page (U/S=0${where(PTE_US, false, false)})`.trim();
    if ((denied & T_READ_ONLY) !== 0) return `${user ? 'user-mode write' : 'supervisor write with CR0.WP=1'} to a read-only page (R/W=0${where(PTE_RW, false, false)})`;
    return `instruction fetch from a no-execute page (XD=1${where(PTE_HI_XD, true, true)})`;
  }
}

