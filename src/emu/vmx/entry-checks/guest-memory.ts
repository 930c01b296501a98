/**
 * The guest-state checks that read memory, run on every VM entry (memory can change without
 * any VMWRITE, so their outcome is never cached): the VMCS link pointer (last item of SDM
 * §26.3.1.5, exit qualification 4) and the PAE page-directory-pointer-table entries (§26.3.1.6,
 * exit qualification 2). They come last in SDM order, so running them after the cached checks
 * keeps "first failing check" exact.
 */

import { type EntryCheck, type EntryCheckFailure, defineCheck, fail, ENTRY_FAIL_PDPTE, ENTRY_FAIL_VMCS_LINK_PTR } from './catalog';
import {
  type VmcsReader, type EntryCheckProcessor, type EntryState, type EntryFacts, type PhysicalMemoryReader, enc, u32, hex, hex64,
  beyondMaxPhys, physAddr,
} from './env';

const S5 = '26.3.1.5', S6 = '26.3.1.6';
const guest = (id: string, sdm: string, title: string, q: number): EntryCheck => defineCheck(`guest.${id}`, 'guest-state', sdm, title, q);

const LINK_ALIGN = guest('link-pointer-align', S5, 'A VMCS link pointer other than FFFFFFFF_FFFFFFFFH has bits 11:0 = 0', ENTRY_FAIL_VMCS_LINK_PTR);
const LINK_WIDTH = guest('link-pointer-width', S5, 'A VMCS link pointer other than FFFFFFFF_FFFFFFFFH sets no bit beyond MAXPHYADDR', ENTRY_FAIL_VMCS_LINK_PTR);
const LINK_REVISION = guest('link-pointer-revision', S5,
  'The region a VMCS link pointer names starts with our VMCS revision identifier, bit 31 equal to "VMCS shadowing" (0)', ENTRY_FAIL_VMCS_LINK_PTR);
const LINK_CURRENT = guest('link-pointer-current', S5, 'The VMCS link pointer is not the current-VMCS pointer', ENTRY_FAIL_VMCS_LINK_PTR);
const PDPTE = guest('pdpte-reserved', S6, 'With PAE paging outside IA-32e mode, each present PDPTE has reserved bits (2:1, 8:5, 63:MAXPHYADDR) clear', ENTRY_FAIL_PDPTE);

const VMCS_LINK_POINTER = enc('VMCS_LINK_POINTER');
const GUEST_CR3 = enc('GUEST_CR3');
const GUEST_PDPTR = [0, 1, 2, 3].map((i) => enc(`GUEST_PDPTR${i}`));

const CR0_PG = 0x80000000 | 0, CR4_PAE = 1 << 5;
/** PAE PDPTE reserved bits in the low dword (SDM Vol. 3A Table 4-8): 2:1 and 8:5. */
const PDPTE_RESERVED_LO = 0x1e6;

/** Reserved-bit problem of a PAE PDPTE, or '' (SDM Vol. 3A §4.4.1). */
function pdpteProblem(lo: number, hi: number, maxPhys: number): string {
  if ((lo & 1) === 0) return '';
  if ((lo & PDPTE_RESERVED_LO) !== 0) return 'sets reserved bits among 2:1 and 8:5';
  if (beyondMaxPhys(lo, hi, maxPhys)) return `sets bits 63:${maxPhys} (beyond the physical-address width; bit 63 is reserved in PAE PDPTEs)`;
  return '';
}

export function checkGuestMemory(r: VmcsReader, p: EntryCheckProcessor, s: EntryState, facts: EntryFacts, mem: PhysicalMemoryReader): EntryCheckFailure | undefined {
  // ---- 26.3.1.5 VMCS link pointer ----
  const linkLo = r.lo(VMCS_LINK_POINTER), linkHi = r.hi(VMCS_LINK_POINTER);
  if ((linkLo & linkHi) !== -1) {
    const v = hex64(linkLo, linkHi);
    if ((linkLo & 0xfff) !== 0) return fail(LINK_ALIGN, ['VMCS_LINK_POINTER'], `VMCS_LINK_POINTER=${v} must be FFFFFFFF_FFFFFFFFH (no shadow VMCS) or a 4-KiB-aligned address`);
    if (beyondMaxPhys(linkLo, linkHi, p.maxPhysAddr)) return fail(LINK_WIDTH, ['VMCS_LINK_POINTER'], `VMCS_LINK_POINTER=${v} sets bits beyond the ${p.maxPhysAddr}-bit physical-address width`);
    const rev = u32(mem.readPhys32(physAddr(linkLo, linkHi)));
    if (rev !== p.vmcsRevisionId) {
      return fail(LINK_REVISION, ['VMCS_LINK_POINTER'], `VMCS_LINK_POINTER=${v} names a region whose first dword is ${hex(rev)}, not the VMCS revision identifier ${hex(p.vmcsRevisionId)} (set the field to FFFFFFFF_FFFFFFFFH when there is no shadow VMCS)`);
    }
    if (u32(linkLo) === u32(facts.currentVmcsLo) && u32(linkHi) === u32(facts.currentVmcsHi)) {
      return fail(LINK_CURRENT, ['VMCS_LINK_POINTER'], `VMCS_LINK_POINTER=${v} is the current VMCS itself`);
    }
  }
  // ---- 26.3.1.6 PDPTEs (PAE paging outside IA-32e mode) ----
  if ((s.guestCr0 & CR0_PG) !== 0 && (s.guestCr4 & CR4_PAE) !== 0 && !s.ia32eGuest) {
    if (s.ept) {
      // With EPT the PDPTEs come from the guest-state area (SDM 26.3.2.4).
      for (let i = 0; i < 4; i++) {
        const lo = r.lo(GUEST_PDPTR[i]), hi = r.hi(GUEST_PDPTR[i]);
        const why = pdpteProblem(lo, hi, p.maxPhysAddr);
        if (why !== '') return fail(PDPTE, [`GUEST_PDPTR${i}`], `GUEST_PDPTR${i}=${hex64(lo, hi)} is present and ${why}`);
      }
    } else {
      // Without EPT they are loaded from the 32-byte table GUEST_CR3 bits 31:5 point to.
      const table = u32(r.lo(GUEST_CR3) & ~0x1f);
      for (let i = 0; i < 4; i++) {
        const at = table + 8 * i;
        const lo = mem.readPhys32(at), hi = mem.readPhys32(at + 4);
        const why = pdpteProblem(lo, hi, p.maxPhysAddr);
        if (why !== '') {
          return fail(PDPTE, ['GUEST_CR3'], `PDPTE ${i} at physical ${hex(at)} (from GUEST_CR3=${hex64(r.lo(GUEST_CR3), r.hi(GUEST_CR3))}) = ${hex64(lo, hi)} is present and ${why}`);
        }
      }
    }
  }
  return undefined;
}

