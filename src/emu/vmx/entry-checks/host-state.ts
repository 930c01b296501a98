/**
 * SDM Vol. 3C §26.2.2-26.2.4: checks on the host-state area (the state the next VM exit will
 * load) and on address-space size, in the SDM's order. A failure is VMfailValid(8).
 *
 * Host fields tied to controls our core does not support (IA32_PERF_GLOBAL_CTRL, CET, PKRS,
 * FRED) are never read: those controls fail the 26.2.1.2 reserved-bit check first.
 */

import { controlMask } from '../controls';
import { CR0_FLAGS, CR4_FLAGS } from '../bit-fields';
import { type EntryCheck, type EntryCheckFailure, defineCheck, fail } from './catalog';
import {
  type VmcsReader, type EntryCheckProcessor, type Caps, type EntryState, type EntryFacts, enc, hex, hex64,
  isCanonical, beyondMaxPhys, fixedBits, patBadEntry,
} from './env';

const S2 = '26.2.2', S3 = '26.2.3', S4 = '26.2.4';
const host = (id: string, sdm: string, title: string): EntryCheck => defineCheck(`host.${id}`, 'host-state', sdm, title);

const CR0_FIXED0 = host('cr0-fixed0', S2, 'HOST_CR0 sets every bit IA32_VMX_CR0_FIXED0 fixes to 1 (PE, NE, PG)');
const CR0_FIXED1 = host('cr0-fixed1', S2, 'HOST_CR0 sets no bit IA32_VMX_CR0_FIXED1 fixes to 0');
const CR4_FIXED0 = host('cr4-fixed0', S2, 'HOST_CR4 sets every bit IA32_VMX_CR4_FIXED0 fixes to 1 (VMXE)');
const CR4_FIXED1 = host('cr4-fixed1', S2, 'HOST_CR4 sets no bit IA32_VMX_CR4_FIXED1 fixes to 0');
const CR3_WIDTH = host('cr3-width', S2, 'HOST_CR3 sets no bit beyond MAXPHYADDR');
const SYSENTER = host('sysenter-canonical', S2, 'HOST_IA32_SYSENTER_ESP and HOST_IA32_SYSENTER_EIP are canonical');
const PAT = host('pat', S2, 'With "load IA32_PAT", every byte of HOST_IA32_PAT is a valid memory type (0, 1, 4, 5, 6, 7)');
const EFER_RESERVED = host('efer-reserved', S2, 'With "load IA32_EFER", HOST_IA32_EFER sets no reserved bit');
const EFER_LMA = host('efer-lma', S2, 'With "load IA32_EFER", HOST_IA32_EFER.LMA equals "host address-space size"');
const EFER_LME = host('efer-lme', S2, 'With "load IA32_EFER", HOST_IA32_EFER.LME equals "host address-space size"');
const SEL_RPL_TI = host('selector-rpl-ti', S3, 'Host CS, SS, DS, ES, FS, GS and TR selectors have RPL = 0 and TI = 0');
const CS_NULL = host('cs-null', S3, 'HOST_CS_SELECTOR is not 0000H');
const TR_NULL = host('tr-null', S3, 'HOST_TR_SELECTOR is not 0000H');
const SS_NULL = host('ss-null', S3, 'HOST_SS_SELECTOR is not 0000H when "host address-space size" is 0');
const BASE_CANONICAL = host('base-canonical', S3, 'Host FS, GS, GDTR, IDTR and TR bases are canonical');
const OUTSIDE_IA32E_GUEST = host('outside-ia32e-guest', S4, 'Outside IA-32e mode (IA32_EFER.LMA = 0), "IA-32e mode guest" is 0');
const OUTSIDE_IA32E_HOST = host('outside-ia32e-host', S4, 'Outside IA-32e mode (IA32_EFER.LMA = 0), "host address-space size" is 0');
const IN_IA32E_HOST = host('in-ia32e-host', S4, 'In IA-32e mode (IA32_EFER.LMA = 1), "host address-space size" is 1');
const AS32_PCIDE = host('as32-pcide', S4, 'With "host address-space size" 0, HOST_CR4.PCIDE is 0');
const AS32_RIP = host('as32-rip', S4, 'With "host address-space size" 0, bits 63:32 of HOST_RIP are 0');
const AS64_PAE = host('as64-pae', S4, 'With "host address-space size" 1, HOST_CR4.PAE is 1');
const AS64_RIP = host('as64-rip', S4, 'With "host address-space size" 1, HOST_RIP is canonical');

const HOST_CR0 = enc('HOST_CR0');
const HOST_CR3 = enc('HOST_CR3');
const HOST_CR4 = enc('HOST_CR4');
const HOST_IA32_SYSENTER_ESP = enc('HOST_IA32_SYSENTER_ESP');
const HOST_IA32_SYSENTER_EIP = enc('HOST_IA32_SYSENTER_EIP');
const HOST_IA32_PAT = enc('HOST_IA32_PAT');
const HOST_IA32_EFER = enc('HOST_IA32_EFER');
const HOST_RIP = enc('HOST_RIP');
const SYSENTER_FIELDS = [['HOST_IA32_SYSENTER_ESP', HOST_IA32_SYSENTER_ESP], ['HOST_IA32_SYSENTER_EIP', HOST_IA32_SYSENTER_EIP]] as const;
const HOST_SELECTORS: readonly (readonly [string, number])[] = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'TR'].map((s) => [`HOST_${s}_SELECTOR`, enc(`HOST_${s}_SELECTOR`)]);
const HOST_CS_SELECTOR = enc('HOST_CS_SELECTOR');
const HOST_SS_SELECTOR = enc('HOST_SS_SELECTOR');
const HOST_TR_SELECTOR = enc('HOST_TR_SELECTOR');
const HOST_BASES: readonly (readonly [string, number])[] = ['HOST_FS_BASE', 'HOST_GS_BASE', 'HOST_GDTR_BASE', 'HOST_IDTR_BASE', 'HOST_TR_BASE'].map((n) => [n, enc(n)]);

const EXIT_LOAD_PAT = controlMask('VM_EXIT_LOAD_IA32_PAT');
const EXIT_LOAD_EFER = controlMask('VM_EXIT_LOAD_IA32_EFER');
const HOST_ADDR_SPACE_SIZE = controlMask('VM_EXIT_HOST_ADDR_SPACE_SIZE');
const IA32E_MODE = controlMask('VM_ENTRY_IA32E_MODE');
const CR4_PAE = 1 << 5, CR4_PCIDE = 1 << 17;
const EFER_LME_BIT = 1 << 8, EFER_LMA_BIT = 1 << 10;

export function checkHostState(r: VmcsReader, p: EntryCheckProcessor, caps: Caps, s: EntryState, facts: EntryFacts): EntryCheckFailure | undefined {
  const hostAs64 = (s.exit & HOST_ADDR_SPACE_SIZE) !== 0;
  // ---- 26.2.2 host control registers and MSRs ----
  const cr0Lo = r.lo(HOST_CR0), cr0Hi = r.hi(HOST_CR0);
  let f = fixedBits('HOST_CR0', cr0Lo, cr0Hi, caps.cr0Fixed0, caps.cr0Fixed1, 0, CR0_FLAGS, CR0_FIXED0, CR0_FIXED1);
  if (f !== undefined) return f;
  const cr4Lo = r.lo(HOST_CR4), cr4Hi = r.hi(HOST_CR4);
  f = fixedBits('HOST_CR4', cr4Lo, cr4Hi, caps.cr4Fixed0, caps.cr4Fixed1, 0, CR4_FLAGS, CR4_FIXED0, CR4_FIXED1);
  if (f !== undefined) return f;
  const cr3Lo = r.lo(HOST_CR3), cr3Hi = r.hi(HOST_CR3);
  if (beyondMaxPhys(cr3Lo, cr3Hi, p.maxPhysAddr)) return fail(CR3_WIDTH, ['HOST_CR3'], `HOST_CR3=${hex64(cr3Lo, cr3Hi)} sets bits beyond the ${p.maxPhysAddr}-bit physical-address width`);
  for (const [name, e] of SYSENTER_FIELDS) {
    const lo = r.lo(e), hi = r.hi(e);
    if (!isCanonical(lo, hi, p.linearAddressBits)) return fail(SYSENTER, [name], `${name}=${hex64(lo, hi)} is not a canonical address`);
  }
  if ((s.exit & EXIT_LOAD_PAT) !== 0) {
    const lo = r.lo(HOST_IA32_PAT), hi = r.hi(HOST_IA32_PAT);
    const bad = patBadEntry(lo, hi);
    if (bad >= 0) return fail(PAT, ['HOST_IA32_PAT', 'VM_EXIT_CONTROLS'], `HOST_IA32_PAT=${hex64(lo, hi)}: entry PA${bad} is not a valid memory type (VM_EXIT_LOAD_IA32_PAT=1)`);
  }
  if ((s.exit & EXIT_LOAD_EFER) !== 0) {
    const lo = r.lo(HOST_IA32_EFER), hi = r.hi(HOST_IA32_EFER);
    if ((lo & ~p.eferSupported) !== 0 || hi !== 0) return fail(EFER_RESERVED, ['HOST_IA32_EFER', 'VM_EXIT_CONTROLS'], `HOST_IA32_EFER=${hex64(lo, hi)} sets reserved bits (VM_EXIT_LOAD_IA32_EFER=1)`);
    const want = hostAs64 ? 1 : 0;
    if (((lo & EFER_LMA_BIT) !== 0) !== hostAs64) {
      return fail(EFER_LMA, ['HOST_IA32_EFER', 'VM_EXIT_CONTROLS'], `HOST_IA32_EFER.LMA must be ${want} to match VM_EXIT_HOST_ADDR_SPACE_SIZE=${want}`);
    }
    if (((lo & EFER_LME_BIT) !== 0) !== hostAs64) {
      return fail(EFER_LME, ['HOST_IA32_EFER', 'VM_EXIT_CONTROLS'], `HOST_IA32_EFER.LME must be ${want} to match VM_EXIT_HOST_ADDR_SPACE_SIZE=${want}`);
    }
  }
  // ---- 26.2.3 host segment and descriptor-table registers ----
  for (const [name, e] of HOST_SELECTORS) {
    const sel = r.lo(e) & 0xffff;
    if ((sel & 7) !== 0) return fail(SEL_RPL_TI, [name], `${name}=${hex(sel)} must have RPL = 0 and TI = 0 (bits 2:0 = 0)`);
  }
  if ((r.lo(HOST_CS_SELECTOR) & 0xffff) === 0) return fail(CS_NULL, ['HOST_CS_SELECTOR'], 'HOST_CS_SELECTOR must not be 0000H (a null selector)');
  if ((r.lo(HOST_TR_SELECTOR) & 0xffff) === 0) return fail(TR_NULL, ['HOST_TR_SELECTOR'], 'HOST_TR_SELECTOR must not be 0000H (a null selector)');
  if (!hostAs64 && (r.lo(HOST_SS_SELECTOR) & 0xffff) === 0) {
    return fail(SS_NULL, ['HOST_SS_SELECTOR', 'VM_EXIT_CONTROLS'], 'HOST_SS_SELECTOR must not be 0000H for a 32-bit host (VM_EXIT_HOST_ADDR_SPACE_SIZE=0)');
  }
  for (const [name, e] of HOST_BASES) {
    const lo = r.lo(e), hi = r.hi(e);
    if (!isCanonical(lo, hi, p.linearAddressBits)) return fail(BASE_CANONICAL, [name], `${name}=${hex64(lo, hi)} is not a canonical address`);
  }
  // ---- 26.2.4 address-space size ----
  const ia32eGuest = (s.entry & IA32E_MODE) !== 0;
  if (!facts.hostLma) {
    if (ia32eGuest) return fail(OUTSIDE_IA32E_GUEST, ['VM_ENTRY_CONTROLS'], `VM_ENTRY_IA32E_MODE=1 (VM_ENTRY_CONTROLS=${hex(s.entry)}) is only allowed when VM entry runs in IA-32e mode (IA32_EFER.LMA=1)`);
    if (hostAs64) return fail(OUTSIDE_IA32E_HOST, ['VM_EXIT_CONTROLS'], `VM_EXIT_HOST_ADDR_SPACE_SIZE=1 (VM_EXIT_CONTROLS=${hex(s.exit)}) is only allowed when VM entry runs in IA-32e mode (IA32_EFER.LMA=1)`);
  } else if (!hostAs64) {
    return fail(IN_IA32E_HOST, ['VM_EXIT_CONTROLS'], `VM_EXIT_HOST_ADDR_SPACE_SIZE must be 1 (VM_EXIT_CONTROLS=${hex(s.exit)}) when VM entry runs in IA-32e mode (IA32_EFER.LMA=1)`);
  }
  const ripLo = r.lo(HOST_RIP), ripHi = r.hi(HOST_RIP);
  if (!hostAs64) {
    // ("IA-32e mode guest" must also be 0 here; with LMA = 0 the check above already said so.)
    if ((cr4Lo & CR4_PCIDE) !== 0) return fail(AS32_PCIDE, ['HOST_CR4', 'VM_EXIT_CONTROLS'], 'HOST_CR4.PCIDE must be 0 for a 32-bit host (VM_EXIT_HOST_ADDR_SPACE_SIZE=0)');
    if (ripHi !== 0) return fail(AS32_RIP, ['HOST_RIP', 'VM_EXIT_CONTROLS'], `HOST_RIP=${hex64(ripLo, ripHi)} must fit in 32 bits for a 32-bit host (VM_EXIT_HOST_ADDR_SPACE_SIZE=0)`);
  } else {
    if ((cr4Lo & CR4_PAE) === 0) return fail(AS64_PAE, ['HOST_CR4', 'VM_EXIT_CONTROLS'], 'HOST_CR4.PAE must be 1 for a 64-bit host (VM_EXIT_HOST_ADDR_SPACE_SIZE=1)');
    if (!isCanonical(ripLo, ripHi, p.linearAddressBits)) return fail(AS64_RIP, ['HOST_RIP'], `HOST_RIP=${hex64(ripLo, ripHi)} is not a canonical address`);
  }
  return undefined;
}
