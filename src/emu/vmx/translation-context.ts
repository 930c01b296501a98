/**
 * Which cached translations VMX transitions and the VMX invalidation instructions keep (SDM
 * Vol. 3C §28.3): the MMU tags its TLB entries with a VPID and, while EPT is in use, an EP4TA
 * (mmu/mmu.ts, selectContext). Root operation uses VPID 0 without EPT; a guest uses the VPID
 * of its VMCS ("enable VPID" = 1) or VPID 0, and the EPT PML4 address with "enable EPT".
 *
 * - With "enable VPID" = 1, VM entries and exits invalidate nothing: the guest's mappings
 *   outlive the exit and the VMM's outlive the entry, until INVVPID (or the guest's own
 *   INVLPG / MOV to CR3) removes them (§28.3.3.1). Changing GUEST_CR3 between entries
 *   therefore leaves the old translations usable, as on hardware (§28.3.3.3 tells VMMs to
 *   execute INVVPID then).
 * - With "enable VPID" = 0, every VM entry and VM exit invalidates all mappings of VPID 0
 *   (linear and combined, every EP4TA) (§28.3.3.1).
 * - INVVPID reaches the contexts of one VPID (all of them for all-context, except VPID 0);
 *   INVEPT the combined mappings of one EP4TA or of all (§28.3.3.1, Vol. 2 INVVPID/INVEPT).
 *
 * The CPU's software TLB keeps a bank of page pointers per context (cpu-memory.ts,
 * switchSoftTlb). A CPU whose translator is not the MMU (unit tests' identity translators)
 * keeps no contexts: every transition and invalidation empties its TLB.
 */

import type { Cpu } from '../cpu/cpu';
import { INVVPID_ALL_CONTEXT, INVVPID_INDIVIDUAL_ADDRESS, INVVPID_SINGLE_CONTEXT, Mmu, NO_EPT } from '../mmu/mmu';
import { SEC_EPT } from './control-bits';
import { setNested } from './ept';
import type { Vmx } from './vmx';

/** VM entry (SDM §26.3.2.5): the guest's context, after its CR0/CR3/CR4/EFER were loaded; `pdptes` as in Mmu.selectContext. */
export function enterGuestContext(v: Vmx, c: Cpu, pdptes: Int32Array | undefined): void {
  const ept = (v.proc2 & SEC_EPT) !== 0;
  const mmu = v.mmu;
  if (mmu === undefined) {
    setNested(c, ept ? v.ept : null);
    c.mmu.flushAll();
    c.pagingChanged(true, pdptes);
    return;
  }
  if (v.vpid === 0) mmu.invalidateVpid(INVVPID_SINGLE_CONTEXT, 0, 0);
  const from = mmu.contextId;
  mmu.selectContext(v.vpid, ept ? v.ept.root : NO_EPT, ept ? v.ept : null, c.cr0, c.cr3Lo, c.cr3Hi, c.cr4, c.efer, pdptes);
  c.switchSoftTlb(from, mmu.contextId);
}

/** VM exit (SDM §27.5.5): the VMM's context (VPID 0, no EPT), after the host's CR0/CR3/CR4/EFER were loaded. */
export function enterHostContext(v: Vmx, c: Cpu): void {
  const mmu = v.mmu;
  if (mmu === undefined) {
    setNested(c, null);
    c.mmu.flushAll();
    c.pagingChanged(true);
    return;
  }
  if (v.vpid === 0) mmu.invalidateVpid(INVVPID_SINGLE_CONTEXT, 0, 0);
  const from = mmu.contextId;
  mmu.selectContext(0, NO_EPT, null, c.cr0, c.cr3Lo, c.cr3Hi, c.cr4, c.efer);
  c.switchSoftTlb(from, mmu.contextId);
}

/**
 * VMFUNC EPTP switching (SDM §25.5.6.3) installed a new EPTP in v.ept: the combined
 * mappings of its EP4TA become current; the PDPTE registers keep their values.
 */
export function switchEptContext(v: Vmx, c: Cpu): void {
  const mmu = v.mmu;
  if (mmu === undefined) {
    setNested(c, v.ept);
    c.translationsChanged();
    return;
  }
  mmu.readPdptes(v.pdptes);
  const from = mmu.contextId;
  mmu.selectContext(v.vpid, v.ept.root, v.ept, c.cr0, c.cr3Lo, c.cr3Hi, c.cr4, c.efer, v.pdptes);
  c.switchSoftTlb(from, mmu.contextId);
}

/** INVVPID of `type` (0-3, already validated) for `vpid`; `linear` for the individual-address type. */
export function invalidateVpid(c: Cpu, type: number, vpid: number, linear: number): void {
  const mmu = c.mmu;
  if (mmu instanceof Mmu) mmu.invalidateVpid(type, vpid, linear);
  else if (type === INVVPID_INDIVIDUAL_ADDRESS) mmu.invlpg(linear);
  else if (type === INVVPID_ALL_CONTEXT || type === INVVPID_SINGLE_CONTEXT) mmu.flushAll();
  else mmu.flushNonGlobal();
  c.translationsChanged();
}

/** INVEPT: the combined mappings of EP4TA `ep4ta`, or of every EP4TA with NO_EPT (all-context). */
export function invalidateEpt(c: Cpu, ep4ta: number): void {
  const mmu = c.mmu;
  if (mmu instanceof Mmu) mmu.invalidateEpt(ep4ta);
  else mmu.flushAll();
  c.translationsChanged();
}
