/**
 * Extended page tables (SDM Vol. 3C chapter 28): the nested translator the MMU routes every
 * guest-physical address through in VMX non-root operation with "enable EPT" (each guest
 * paging-structure access and the final address of every access, mmu/page-walk.ts).
 *
 * 4-level walks (§28.3.2) with 1-GiB and 2-MiB pages, read/write/execute permissions with
 * execute-only translations (IA32_VMX_EPT_VPID_CAP bit 0), no accessed/dirty flags (not
 * advertised, EPTP bit 6 must be 0). A walk that finds a misconfigured entry (§28.3.3.1:
 * write without read, execute-only where unsupported, reserved bits, memory type 2/3/7 in
 * a leaf) ends in an EPT-misconfiguration VM exit (reason 49); an entry that is not present
 * or an access the permissions refuse ends in an EPT-violation VM exit (reason 48) with the
 * qualification of SDM Table 27-7, the guest-physical address and, when there is one, the
 * guest-linear address (§28.3.3.2). Both exits abandon the instruction (vm-exit.ts).
 *
 * Translations that do not grant read, write and execute are reported as not cacheable, so
 * the MMU's TLB never serves an access EPT would refuse.
 */

import type { Cpu } from '../cpu/cpu';
import { ACC_EXEC, ACC_PAGING_STRUCTURE, ACC_WRITE, MAXPHYADDR } from '../mmu/access';
import type { NestedTranslator, PageWalk, WalkLevel, WalkStep } from '../mmu/page-walk';
import { EXIT_REASON } from './exit-reasons';
import { beginExit, vmExit, VM_EXIT_TAKEN } from './vm-exit';
import type { Vmx } from './vmx';

const TWO32 = 4294967296;
const LEVELS: readonly WalkLevel[] = ['EPT PML4E', 'EPT PDPTE', 'EPT PDE', 'EPT PTE'];
const SCALE = [2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12];
/** Address bits 51:MAXPHYADDR of an entry's high dword are reserved (SDM §28.3.2). */
const HI_RESERVED = (((1 << (52 - 32)) - 1) & ~((1 << (MAXPHYADDR - 32)) - 1)) | 0;
const HI_ADDRESS = (1 << (MAXPHYADDR - 32)) - 1;
/** Memory types a leaf may not use (SDM §28.3.3.1): 2, 3, 7. */
const BAD_MEMTYPE = (1 << 2) | (1 << 3) | (1 << 7);

/** Installs (or removes, with null) the nested translator in the CPU's MMU when it has one. */
export function setNested(c: Cpu, t: NestedTranslator | null): void {
  const m = c.mmu as { setNestedTranslator?: (t: NestedTranslator | null) => void };
  m.setNestedTranslator?.(t);
}

/**
 * Is this EPTP one VM entry accepts (SDM §26.2.1.1): memory type UC or WB, 4-level walk,
 * no A/D enable (not supported), bits 11:7 and 63:MAXPHYADDR clear. Returns a reason or ''.
 */
export function eptpProblem(lo: number, hi: number): string {
  const mt = lo & 7;
  if (mt !== 0 && mt !== 6) return `memory type ${mt} (only 0 = UC and 6 = WB are supported)`;
  if (((lo >>> 3) & 7) !== 3) return `page-walk length ${((lo >>> 3) & 7) + 1} (only 4-level EPT is supported)`;
  if ((lo & 0x40) !== 0) return 'bit 6 (accessed/dirty flags) is set but EPT A/D flags are not supported';
  if ((lo & 0xf80) !== 0) return 'reserved bits 11:7 are set';
  if ((hi & ~HI_ADDRESS) !== 0) return `bits 63:${MAXPHYADDR} are set`;
  return '';
}

export class EptTranslator implements NestedTranslator {
  /** Physical address of the EPT PML4 table. */
  root = 0;
  /** Whether the last translate() granted read, write and execute (the MMU may cache it). */
  cacheable = true;
  private lo = 0;
  private hi = 0;

  constructor(private readonly v: Vmx) {}

  /** Takes the EPTP of the current VM entry (already checked). */
  load(eptpLo: number, eptpHi: number): void {
    this.root = (eptpHi & HI_ADDRESS) * TWO32 + ((eptpLo & ~0xfff) >>> 0);
  }

  private read(addr: number): void {
    const m = this.v.vmcs;
    this.lo = m.read32(addr);
    this.hi = m.read32(addr + 4);
  }

  /** Misconfiguration of the entry just read at `level` (leaf or not), or ''. */
  private misconfig(level: number, leaf: boolean): string {
    const lo = this.lo, hi = this.hi;
    const rwx = lo & 7;
    if ((rwx & 3) === 2) return 'write permission without read permission';
    if ((hi & HI_RESERVED) !== 0) return `address bits 51:${MAXPHYADDR} set`;
    if (!leaf) {
      if ((lo & 0xf8) !== 0) return 'reserved bits 7:3 set in a non-leaf entry';
      return '';
    }
    const mt = (lo >>> 3) & 7;
    if ((BAD_MEMTYPE >>> mt) & 1) return `memory type ${mt} (2, 3 and 7 are reserved)`;
    if (level === 1 && (lo & 0x3ffff000) !== 0) return 'reserved bits 29:12 set in a 1-GiB page entry';
    if (level === 2 && (lo & 0x001ff000) !== 0) return 'reserved bits 20:12 set in a 2-MiB page entry';
    return '';
  }

  translate(gpa: number, access: number, linear: number): number {
    let table = this.root;
    let perm = 7;
    for (let level = 0; level < 4; level++) {
      const addr = table + (Math.floor(gpa / SCALE[level]) & 0x1ff) * 8;
      this.read(addr);
      const lo = this.lo;
      const rwx = lo & 7;
      if (rwx === 0) return this.violation(gpa, access, linear, 0);
      const leaf = level === 3 || ((lo & 0x80) !== 0 && (level === 1 || level === 2));
      if (this.misconfig(level, leaf) !== '') return this.misconfiguration(gpa);
      perm &= rwx;
      if (leaf) {
        const need = (access & ACC_WRITE) !== 0 ? 2 : (access & ACC_EXEC) !== 0 ? 4 : 1;
        if ((perm & need) === 0) return this.violation(gpa, access, linear, perm);
        this.cacheable = perm === 7;
        const size = SCALE[level];
        const frame = (this.hi & HI_ADDRESS) * TWO32 + ((lo & ~0xfff) >>> 0);
        const base = frame - (frame % size);
        return base + (gpa % size);
      }
      table = (this.hi & HI_ADDRESS) * TWO32 + ((lo & ~0xfff) >>> 0);
    }
    return -1;
  }

  private violation(gpa: number, access: number, linear: number, perm: number): number {
    const v = this.v;
    beginExit(v);
    // Bits 2:0, the access (SDM Table 27-7). The processor's accessed/dirty update of a guest
    // paging-structure entry (page-walker.ts) is a locked read-modify-write: that sets bit 1,
    // and whether bit 0 too is implementation-specific (SDM §27.2.1); Intel cores set both.
    let q = (access & ACC_WRITE) !== 0 ? ((access & ACC_PAGING_STRUCTURE) !== 0 ? 3 : 2) : (access & ACC_EXEC) !== 0 ? 4 : 1;
    q |= perm << 3;
    if (linear !== -1) {
      q |= 0x80; // guest-linear address valid
      if ((access & ACC_PAGING_STRUCTURE) === 0) q |= 0x100; // the access was to the translation, not a paging-structure entry
      v.exitGuestLinear = linear;
    }
    v.exitQualLo = q;
    v.exitGuestPhysical = gpa;
    vmExit(v, EXIT_REASON.EPT_VIOLATION);
    throw VM_EXIT_TAKEN;
  }

  private misconfiguration(gpa: number): number {
    const v = this.v;
    beginExit(v);
    v.exitGuestPhysical = gpa;
    vmExit(v, EXIT_REASON.EPT_MISCONFIG);
    throw VM_EXIT_TAKEN;
  }

  /** The same walk, explained step by step, without side effects (for the debugger). */
  explain(gpa: number, access: number, linear: number): PageWalk {
    const ex: PageWalk = {
      linear, access, cpl: 0, mode: 'EPT', steps: [], ok: false, physical: -1, guestPhysical: gpa, pageSize: 0, tlb: null,
      memoryAccesses: 0, updates: [], summary: '',
    };
    const hex = (n: number): string => `0x${n.toString(16)}`;
    let table = this.root;
    let perm = 7;
    for (let level = 0; level < 4; level++) {
      const index = Math.floor(gpa / SCALE[level]) & 0x1ff;
      const addr = table + index * 8;
      this.read(addr);
      const lo = this.lo, hi = this.hi;
      const rwx = lo & 7;
      const leaf = level === 3 || ((lo & 0x80) !== 0 && (level === 1 || level === 2));
      const step: WalkStep = {
        level: LEVELS[level], address: addr, hostAddress: addr, memoryAccess: true,
        value: `${(hi >>> 0).toString(16).padStart(8, '0')}${(lo >>> 0).toString(16).padStart(8, '0')}`, lo, hi,
        flags: { present: rwx !== 0, writable: (rwx & 2) !== 0, writeThrough: false, cacheDisabled: false, pageSize: leaf && level < 3 },
        flagText: `${rwx & 1 ? 'R' : '-'}${rwx & 2 ? 'W' : '-'}${rwx & 4 ? 'X' : '-'}${leaf ? ` MT=${(lo >>> 3) & 7}` : ''}`,
        index, note: '',
      };
      ex.steps.push(step);
      ex.memoryAccesses++;
      if (rwx === 0) {
        step.note = 'not present (bits 2:0 = 0)';
        ex.summary = `EPT violation: ${LEVELS[level]} for guest-physical ${hex(gpa)} is not present`;
        return ex;
      }
      const bad = this.misconfig(level, leaf);
      if (bad !== '') {
        step.note = bad;
        ex.summary = `EPT misconfiguration: ${LEVELS[level]} ${bad}`;
        return ex;
      }
      perm &= rwx;
      if (leaf) {
        const need = (access & ACC_WRITE) !== 0 ? 2 : (access & ACC_EXEC) !== 0 ? 4 : 1;
        const size = SCALE[level];
        const frame = (hi & HI_ADDRESS) * TWO32 + ((lo & ~0xfff) >>> 0);
        step.note = `maps the ${size >= 2 ** 30 ? '1 GiB' : size >= 2 ** 21 ? '2 MiB' : '4 KiB'} page at ${hex(frame - (frame % size))}`;
        if ((perm & need) === 0) {
          ex.summary = `EPT violation: ${need === 2 ? 'write' : need === 4 ? 'fetch' : 'read'} of guest-physical ${hex(gpa)} not permitted`;
          return ex;
        }
        ex.ok = true;
        ex.physical = frame - (frame % size) + (gpa % size);
        ex.pageSize = size;
        ex.summary = `guest-physical ${hex(gpa)} -> ${hex(ex.physical)}`;
        return ex;
      }
      table = (hi & HI_ADDRESS) * TWO32 + ((lo & ~0xfff) >>> 0);
      step.note = `next table at ${hex(table)}`;
    }
    return ex;
  }
}
