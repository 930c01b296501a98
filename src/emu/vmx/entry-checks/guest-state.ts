/**
 * SDM Vol. 3C §26.3.1.1-26.3.1.5: checks on the guest-state area that need only the VMCS, in
 * the SDM's order (control registers, debug registers and MSRs; segment registers;
 * descriptor-table registers; RIP and RFLAGS; non-register state up to, not including, the VMCS
 * link pointer, which reads memory and lives in guest-memory.ts). A failure is a VM exit with
 * reason 33 | 0x80000000 ("VM-entry failure due to invalid guest state", SDM §26.8).
 *
 * Guest fields tied to controls our core does not support (IA32_PERF_GLOBAL_CTRL, BNDCFGS,
 * RTIT_CTL, CET, PKRS, FRED, entry to SMM) are never read: those controls fail the 26.2.1.3
 * reserved-bit check first. VM entry never runs in SMM on our core (no SMM), so the SMM-only
 * variants of the checks reduce to their outside-SMM form.
 */

import { controlMask } from '../controls';
import {
  CR0_FLAGS, CR4_FLAGS, INTR_INFO_VALID_MASK, INTR_TYPE_EXT_INTR, INTR_TYPE_NMI_INTR, INTR_TYPE_HARD_EXCEPTION, INTR_TYPE_OTHER_EVENT,
  INTERRUPTION_TYPES, ACTIVITY_STATES, GUEST_ACTIVITY_HLT, GUEST_ACTIVITY_SHUTDOWN, GUEST_ACTIVITY_WAIT_SIPI, GUEST_INTR_STATE_STI,
  GUEST_INTR_STATE_MOV_SS, GUEST_INTR_STATE_SMI, GUEST_INTR_STATE_NMI, GUEST_INTR_STATE_ENCLAVE_INTR, exceptionName,
} from '../bit-fields';
import { type EntryCheck, type EntryCheckFailure, defineCheck, fail, ENTRY_FAIL_NMI } from './catalog';
import {
  type VmcsReader, type EntryCheckProcessor, type Caps, type EntryState, enc, u32, hex, hex64, isCanonical, beyondMaxPhys,
  SEG_NAMES, ES, CS, SS, DS, FS, GS, LDTR, TR, fixedBits, patBadEntry,
} from './env';

const S1 = '26.3.1.1', S2 = '26.3.1.2', S3 = '26.3.1.3', S4 = '26.3.1.4', S5 = '26.3.1.5';
const guest = (id: string, sdm: string, title: string, qualification?: number): EntryCheck => defineCheck(`guest.${id}`, 'guest-state', sdm, title, qualification);

// ---- 26.3.1.1 ----
const CR0_FIXED0 = guest('cr0-fixed0', S1, 'GUEST_CR0 sets every bit IA32_VMX_CR0_FIXED0 fixes to 1 (PE and PG excepted for an unrestricted guest)');
const CR0_FIXED1 = guest('cr0-fixed1', S1, 'GUEST_CR0 sets no bit IA32_VMX_CR0_FIXED1 fixes to 0');
const CR0_PG_PE = guest('cr0-pg-without-pe', S1, 'GUEST_CR0.PG=1 requires GUEST_CR0.PE=1');
const CR4_FIXED0 = guest('cr4-fixed0', S1, 'GUEST_CR4 sets every bit IA32_VMX_CR4_FIXED0 fixes to 1 (VMXE)');
const CR4_FIXED1 = guest('cr4-fixed1', S1, 'GUEST_CR4 sets no bit IA32_VMX_CR4_FIXED1 fixes to 0');
const DEBUGCTL = guest('debugctl-reserved', S1, 'With "load debug controls", GUEST_IA32_DEBUGCTL sets no reserved bit');
const IA32E_PG = guest('ia32e-without-pg', S1, 'An IA-32e mode guest has GUEST_CR0.PG=1');
const IA32E_PAE = guest('ia32e-without-pae', S1, 'An IA-32e mode guest has GUEST_CR4.PAE=1');
const PCIDE = guest('pcide-without-ia32e', S1, 'GUEST_CR4.PCIDE is 0 unless the guest is in IA-32e mode');
const CR3_WIDTH = guest('cr3-width', S1, 'GUEST_CR3 sets no bit beyond MAXPHYADDR');
const DR7 = guest('dr7-high', S1, 'With "load debug controls", bits 63:32 of GUEST_DR7 are 0');
const SYSENTER = guest('sysenter-canonical', S1, 'GUEST_SYSENTER_ESP and GUEST_SYSENTER_EIP are canonical');
const PAT = guest('pat', S1, 'With "load IA32_PAT", every byte of GUEST_IA32_PAT is a valid memory type');
const EFER_RESERVED = guest('efer-reserved', S1, 'With "load IA32_EFER", GUEST_IA32_EFER sets no reserved bit');
const EFER_LMA_CHECK = guest('efer-lma', S1, 'With "load IA32_EFER", GUEST_IA32_EFER.LMA equals "IA-32e mode guest"');
const EFER_LME_CHECK = guest('efer-lme', S1, 'With "load IA32_EFER" and GUEST_CR0.PG=1, GUEST_IA32_EFER.LME equals "IA-32e mode guest"');
// ---- 26.3.1.2: selectors, bases, limits, access rights ----
const TR_TI = guest('tr-ti', S2, 'GUEST_TR_SELECTOR has TI = 0');
const LDTR_TI = guest('ldtr-ti', S2, 'A usable LDTR\'s selector has TI = 0');
const SS_RPL = guest('ss-rpl', S2, 'Outside virtual-8086 mode and without unrestricted guest, SS.RPL equals CS.RPL');
const V86_BASE = guest('v86-base', S2, 'In virtual-8086 mode, CS/SS/DS/ES/FS/GS bases are selector << 4');
const BASE_CANONICAL = guest('base-canonical', S2, 'TR, FS, GS (and a usable LDTR) bases are canonical');
const CS_BASE_HIGH = guest('cs-base-high', S2, 'Bits 63:32 of GUEST_CS_BASE are 0');
const BASE_HIGH = guest('base-high', S2, 'Bits 63:32 of a usable SS, DS or ES base are 0');
const V86_LIMIT = guest('v86-limit', S2, 'In virtual-8086 mode, CS/SS/DS/ES/FS/GS limits are 0000FFFFH');
const V86_AR = guest('v86-ar', S2, 'In virtual-8086 mode, CS/SS/DS/ES/FS/GS access rights are 000000F3H');
const CS_TYPE = guest('cs-type', S2, 'CS type is an accessed code segment (9, 11, 13, 15), or 3 with unrestricted guest');
const SS_TYPE = guest('ss-type', S2, 'A usable SS has type 3 or 7 (read/write accessed data)');
const DATA_ACCESSED = guest('data-accessed', S2, 'A usable DS/ES/FS/GS has the accessed bit (type bit 0) set');
const DATA_READABLE = guest('data-code-readable', S2, 'A usable DS/ES/FS/GS that is a code segment is readable');
const SEG_S = guest('seg-s', S2, 'CS and every usable SS/DS/ES/FS/GS have S = 1 (code or data)');
const CS_DPL_DATA = guest('cs-dpl-type3', S2, 'A CS of type 3 (unrestricted guest) has DPL 0');
const CS_DPL_NC = guest('cs-dpl-nonconforming', S2, 'A non-conforming CS (type 9 or 11) has DPL equal to SS.DPL');
const CS_DPL_C = guest('cs-dpl-conforming', S2, 'A conforming CS (type 13 or 15) has DPL at most SS.DPL');
const SS_DPL_RPL = guest('ss-dpl-rpl', S2, 'Without unrestricted guest, SS.DPL equals SS.RPL');
const SS_DPL_REAL = guest('ss-dpl-real', S2, 'SS.DPL is 0 when CS has type 3 or GUEST_CR0.PE=0');
const DATA_DPL = guest('data-dpl-rpl', S2, 'Without unrestricted guest, a usable DS/ES/FS/GS data or non-conforming code segment has DPL >= RPL');
const SEG_P = guest('seg-p', S2, 'CS and every usable SS/DS/ES/FS/GS are present (P = 1)');
const SEG_RES_LOW = guest('seg-reserved-11-8', S2, 'Access-rights bits 11:8 of CS and every usable SS/DS/ES/FS/GS are 0');
const CS_DB = guest('cs-db-with-l', S2, 'In an IA-32e mode guest, CS.L=1 requires CS.D/B=0');
const SEG_G = guest('seg-g', S2, 'CS and usable SS/DS/ES/FS/GS: G = 0 if limit bits 11:0 are not all 1, G = 1 if limit bits 31:20 are not all 0');
const SEG_RES_HIGH = guest('seg-reserved-31-17', S2, 'Access-rights bits 31:17 of CS and every usable SS/DS/ES/FS/GS are 0');
const TR_TYPE = guest('tr-type', S2, 'TR is a busy TSS: type 11 (or 3 outside IA-32e mode)');
const TR_S = guest('tr-s', S2, 'TR has S = 0 (system segment)');
const TR_P = guest('tr-p', S2, 'TR is present (P = 1)');
const TR_RES_LOW = guest('tr-reserved-11-8', S2, 'TR access-rights bits 11:8 are 0');
const TR_G = guest('tr-g', S2, 'TR: G consistent with the limit');
const TR_UNUSABLE = guest('tr-unusable', S2, 'TR is usable (unusable bit 16 = 0)');
const TR_RES_HIGH = guest('tr-reserved-31-17', S2, 'TR access-rights bits 31:17 are 0');
const LDTR_TYPE = guest('ldtr-type', S2, 'A usable LDTR has type 2 (LDT)');
const LDTR_S = guest('ldtr-s', S2, 'A usable LDTR has S = 0');
const LDTR_P = guest('ldtr-p', S2, 'A usable LDTR is present');
const LDTR_RES_LOW = guest('ldtr-reserved-11-8', S2, 'A usable LDTR\'s access-rights bits 11:8 are 0');
const LDTR_G = guest('ldtr-g', S2, 'A usable LDTR: G consistent with the limit');
const LDTR_RES_HIGH = guest('ldtr-reserved-31-17', S2, 'A usable LDTR\'s access-rights bits 31:17 are 0');
// ---- 26.3.1.3 ----
const DT_BASE = guest('dtr-base-canonical', S3, 'GUEST_GDTR_BASE and GUEST_IDTR_BASE are canonical');
const DT_LIMIT = guest('dtr-limit', S3, 'Bits 31:16 of GUEST_GDTR_LIMIT and GUEST_IDTR_LIMIT are 0');
// ---- 26.3.1.4 ----
const RIP_HIGH = guest('rip-high', S4, 'Bits 63:32 of GUEST_RIP are 0 unless the guest is in 64-bit mode (IA-32e mode guest and CS.L=1)');
const RIP_CANONICAL = guest('rip-canonical', S4, 'In 64-bit mode, GUEST_RIP is canonical');
const RFLAGS_RESERVED = guest('rflags-reserved', S4, 'GUEST_RFLAGS bits 63:22, 15, 5 and 3 are 0');
const RFLAGS_BIT1 = guest('rflags-bit1', S4, 'GUEST_RFLAGS bit 1 is 1');
const RFLAGS_VM_CHECK = guest('rflags-vm', S4, 'GUEST_RFLAGS.VM is 0 for an IA-32e mode guest or with GUEST_CR0.PE=0');
const RFLAGS_IF_CHECK = guest('rflags-if', S4, 'GUEST_RFLAGS.IF is 1 when injecting an external interrupt');
// ---- 26.3.1.5 (the VMCS link pointer follows in guest-memory.ts) ----
const ACTIVITY = guest('activity-unsupported', S5, 'The activity state is one IA32_VMX_MISC reports (active, HLT, wait-for-SIPI on our core)');
const ACTIVITY_HLT_DPL = guest('activity-hlt-dpl', S5, 'The HLT activity state requires SS.DPL = 0');
const ACTIVITY_BLOCKING = guest('activity-blocking', S5, 'Blocking by STI or MOV SS requires the active state');
const ACTIVITY_INJECTION = guest('activity-injection', S5, 'An injected event is one the activity state lets through');
const INTR_RESERVED = guest('intr-state-reserved', S5, 'Interruptibility-state bits 31:5 are 0');
const INTR_STI_MOVSS = guest('intr-state-sti-and-movss', S5, 'Blocking by STI and by MOV SS are not both set');
const INTR_STI_IF = guest('intr-state-sti-without-if', S5, 'Blocking by STI requires GUEST_RFLAGS.IF=1');
const INTR_EXT = guest('intr-state-ext-int-blocked', S5, 'Injecting an external interrupt requires no blocking by STI or MOV SS');
const INTR_NMI_MOVSS = guest('intr-state-nmi-movss', S5, 'Injecting an NMI requires no blocking by MOV SS');
const INTR_SMI = guest('intr-state-smi', S5, 'Blocking by SMI is 0 outside SMM');
const INTR_NMI_STI = guest('intr-state-nmi-sti', S5, 'Injecting an NMI requires no blocking by STI (on this processor)', ENTRY_FAIL_NMI);
const INTR_VNMI = guest('intr-state-virtual-nmi-blocked', S5, 'With virtual NMIs, injecting an NMI requires blocking by NMI = 0');
const INTR_ENCLAVE = guest('intr-state-enclave', S5, 'Enclave interruption (bit 4) is 0 on a processor without SGX');
const PDE_RESERVED = guest('pending-dbg-reserved', S5, 'Pending debug exceptions bits 11:4, 13, 15 and 63:17 are 0');
const PDE_BS_SET = guest('pending-dbg-bs-missing', S5, 'With STI/MOV-SS blocking or HLT, BS is 1 when RFLAGS.TF=1 and IA32_DEBUGCTL.BTF=0');
const PDE_BS_CLEAR = guest('pending-dbg-bs-extra', S5, 'With STI/MOV-SS blocking or HLT, BS is 0 when RFLAGS.TF=0 or IA32_DEBUGCTL.BTF=1');
const PDE_RTM = guest('pending-dbg-rtm', S5, 'Pending debug exceptions bit 16 (RTM) is 0 on a processor without RTM');

// ---- fields ----
const GUEST_CR0 = enc('GUEST_CR0');
const GUEST_CR3 = enc('GUEST_CR3');
const GUEST_CR4 = enc('GUEST_CR4');
const GUEST_DR7 = enc('GUEST_DR7');
const GUEST_IA32_DEBUGCTL = enc('GUEST_IA32_DEBUGCTL');
const GUEST_SYSENTER_ESP = enc('GUEST_SYSENTER_ESP');
const GUEST_SYSENTER_EIP = enc('GUEST_SYSENTER_EIP');
const GUEST_IA32_PAT = enc('GUEST_IA32_PAT');
const GUEST_IA32_EFER = enc('GUEST_IA32_EFER');
const GUEST_RIP = enc('GUEST_RIP');
const GUEST_RFLAGS = enc('GUEST_RFLAGS');
const GUEST_GDTR_BASE = enc('GUEST_GDTR_BASE');
const GUEST_IDTR_BASE = enc('GUEST_IDTR_BASE');
const GUEST_GDTR_LIMIT = enc('GUEST_GDTR_LIMIT');
const GUEST_IDTR_LIMIT = enc('GUEST_IDTR_LIMIT');
const GUEST_ACTIVITY_STATE = enc('GUEST_ACTIVITY_STATE');
const GUEST_INTERRUPTIBILITY_INFO = enc('GUEST_INTERRUPTIBILITY_INFO');
const GUEST_PENDING_DBG_EXCEPTIONS = enc('GUEST_PENDING_DBG_EXCEPTIONS');
const VM_ENTRY_INTR_INFO_FIELD = enc('VM_ENTRY_INTR_INFO_FIELD');
const SEL_E = SEG_NAMES.map((s) => enc(`GUEST_${s}_SELECTOR`));
const BASE_E = SEG_NAMES.map((s) => enc(`GUEST_${s}_BASE`));
const LIMIT_E = SEG_NAMES.map((s) => enc(`GUEST_${s}_LIMIT`));
const AR_E = SEG_NAMES.map((s) => enc(`GUEST_${s}_AR_BYTES`));

const LOAD_DEBUG_CONTROLS = controlMask('VM_ENTRY_LOAD_DEBUG_CONTROLS');
const LOAD_PAT = controlMask('VM_ENTRY_LOAD_IA32_PAT');
const LOAD_EFER = controlMask('VM_ENTRY_LOAD_IA32_EFER');
const VIRTUAL_NMIS = controlMask('PIN_BASED_VIRTUAL_NMIS');

const CR0_PE = 1, CR0_PG = 0x80000000 | 0;
const CR4_PAE = 1 << 5, CR4_PCIDE = 1 << 17;
const EFER_LME = 1 << 8, EFER_LMA = 1 << 10;
const RFLAGS_TF = 1 << 8, RFLAGS_IF = 1 << 9, RFLAGS_VM = 1 << 17;
const AR_S = 1 << 4, AR_P = 1 << 7, AR_L = 1 << 13, AR_DB = 1 << 14, AR_G = 1 << 15, AR_UNUSABLE = 1 << 16;
const AR_RES_LOW = 0xf00, AR_RES_HIGH = 0xfffe0000 | 0;

// Segment fields of the entry being checked (module-level scratch: no allocation per entry).
const sel = new Int32Array(8), baseLo = new Int32Array(8), baseHi = new Int32Array(8), limit = new Int32Array(8), ar = new Int32Array(8);

const arName = (i: number): string => `GUEST_${SEG_NAMES[i]}_AR_BYTES`;
const selName = (i: number): string => `GUEST_${SEG_NAMES[i]}_SELECTOR`;
const baseName = (i: number): string => `GUEST_${SEG_NAMES[i]}_BASE`;
const limitName = (i: number): string => `GUEST_${SEG_NAMES[i]}_LIMIT`;
const usable = (i: number): boolean => (ar[i] & AR_UNUSABLE) === 0;
const dpl = (i: number): number => (ar[i] >>> 5) & 3;
const type = (i: number): number => ar[i] & 0xf;

/** The G-bit/limit consistency of SDM 26.3.1.2, as a reason, or '' when consistent. */
function gProblem(i: number): string {
  const g = (ar[i] & AR_G) !== 0, lim = u32(limit[i]);
  if ((lim & 0xfff) !== 0xfff && g) return `${arName(i)}.G=1 but ${limitName(i)}=${hex(lim)} has a 0 in bits 11:0 (G=1 limits end in FFFH)`;
  if ((lim & 0xfff00000) !== 0 && !g) return `${arName(i)}.G=0 but ${limitName(i)}=${hex(lim)} sets bits 31:20 (byte-granular limits are at most FFFFFH)`;
  return '';
}

/** Data segments in SDM order for the DS/ES/FS/GS checks. */
const DATA_SEGS = [DS, ES, FS, GS] as const;
/** CS, SS, DS, ES, FS, GS in SDM order. */
const CODE_DATA_SEGS = [CS, SS, DS, ES, FS, GS] as const;
/** Bases that must be canonical (LDTR only when usable), and those whose bits 63:32 must be 0 when usable. */
const CANONICAL_BASE_SEGS = [TR, FS, GS, LDTR] as const;
const HIGH_BASE_SEGS = [SS, DS, ES] as const;
const SYSENTER_FIELDS = [['GUEST_SYSENTER_ESP', GUEST_SYSENTER_ESP], ['GUEST_SYSENTER_EIP', GUEST_SYSENTER_EIP]] as const;
const DTR_BASES = [['GUEST_GDTR_BASE', GUEST_GDTR_BASE], ['GUEST_IDTR_BASE', GUEST_IDTR_BASE]] as const;
const DTR_LIMITS = [['GUEST_GDTR_LIMIT', GUEST_GDTR_LIMIT], ['GUEST_IDTR_LIMIT', GUEST_IDTR_LIMIT]] as const;

export function checkGuestState(r: VmcsReader, p: EntryCheckProcessor, caps: Caps, s: EntryState): EntryCheckFailure | undefined {
  const ia32e = s.ia32eGuest;
  const ug = s.unrestricted;
  // ---- 26.3.1.1 control registers, debug registers, MSRs ----
  const cr0 = r.lo(GUEST_CR0), cr0Hi = r.hi(GUEST_CR0);
  s.guestCr0 = cr0;
  // Unrestricted guest relaxes the fixed-1 PE and PG bits (SDM 26.3.1.1, first footnote).
  let f = fixedBits('GUEST_CR0', cr0, cr0Hi, caps.cr0Fixed0, caps.cr0Fixed1, ug ? (CR0_PE | CR0_PG) : 0, CR0_FLAGS, CR0_FIXED0, CR0_FIXED1,
    ug ? [] : ['SECONDARY_VM_EXEC_CONTROL']);
  if (f !== undefined) {
    // Point a student who wanted real mode at the control that allows it.
    if (f.check === CR0_FIXED0 && !ug && (cr0 & (CR0_PE | CR0_PG)) !== (CR0_PE | CR0_PG)) {
      return fail(CR0_FIXED0, f.fields, `${f.message} (PE=0 or PG=0 needs SECONDARY_EXEC_UNRESTRICTED_GUEST=1)`);
    }
    return f;
  }
  if ((cr0 & CR0_PG) !== 0 && (cr0 & CR0_PE) === 0) return fail(CR0_PG_PE, ['GUEST_CR0'], 'GUEST_CR0.PG=1 requires GUEST_CR0.PE=1');
  const cr4 = r.lo(GUEST_CR4), cr4Hi = r.hi(GUEST_CR4);
  s.guestCr4 = cr4;
  f = fixedBits('GUEST_CR4', cr4, cr4Hi, caps.cr4Fixed0, caps.cr4Fixed1, 0, CR4_FLAGS, CR4_FIXED0, CR4_FIXED1);
  if (f !== undefined) return f;
  const debugctl = r.lo(GUEST_IA32_DEBUGCTL), debugctlHi = r.hi(GUEST_IA32_DEBUGCTL);
  if ((s.entry & LOAD_DEBUG_CONTROLS) !== 0 && ((debugctl & ~p.debugctlSupported) !== 0 || debugctlHi !== 0)) {
    return fail(DEBUGCTL, ['GUEST_IA32_DEBUGCTL', 'VM_ENTRY_CONTROLS'],
      `GUEST_IA32_DEBUGCTL=${hex64(debugctl, debugctlHi)} sets bits this processor reserves (supported: ${hex(p.debugctlSupported)}) with VM_ENTRY_LOAD_DEBUG_CONTROLS=1`);
  }
  if (ia32e) {
    if ((cr0 & CR0_PG) === 0) return fail(IA32E_PG, ['GUEST_CR0', 'VM_ENTRY_CONTROLS'], 'VM_ENTRY_IA32E_MODE=1 requires GUEST_CR0.PG=1');
    if ((cr4 & CR4_PAE) === 0) return fail(IA32E_PAE, ['GUEST_CR4', 'VM_ENTRY_CONTROLS'], 'VM_ENTRY_IA32E_MODE=1 requires GUEST_CR4.PAE=1');
  } else if ((cr4 & CR4_PCIDE) !== 0) {
    return fail(PCIDE, ['GUEST_CR4', 'VM_ENTRY_CONTROLS'], 'GUEST_CR4.PCIDE=1 requires VM_ENTRY_IA32E_MODE=1 (PCIDs exist only in IA-32e mode)');
  }
  const cr3 = r.lo(GUEST_CR3), cr3Hi = r.hi(GUEST_CR3);
  if (beyondMaxPhys(cr3, cr3Hi, p.maxPhysAddr)) return fail(CR3_WIDTH, ['GUEST_CR3'], `GUEST_CR3=${hex64(cr3, cr3Hi)} sets bits beyond the ${p.maxPhysAddr}-bit physical-address width`);
  if ((s.entry & LOAD_DEBUG_CONTROLS) !== 0 && r.hi(GUEST_DR7) !== 0) {
    return fail(DR7, ['GUEST_DR7', 'VM_ENTRY_CONTROLS'], `GUEST_DR7=${hex64(r.lo(GUEST_DR7), r.hi(GUEST_DR7))} sets bits 63:32 with VM_ENTRY_LOAD_DEBUG_CONTROLS=1`);
  }
  for (const [name, e] of SYSENTER_FIELDS) {
    const lo = r.lo(e), hi = r.hi(e);
    if (!isCanonical(lo, hi, p.linearAddressBits)) return fail(SYSENTER, [name], `${name}=${hex64(lo, hi)} is not a canonical address`);
  }
  if ((s.entry & LOAD_PAT) !== 0) {
    const lo = r.lo(GUEST_IA32_PAT), hi = r.hi(GUEST_IA32_PAT);
    const bad = patBadEntry(lo, hi);
    if (bad >= 0) return fail(PAT, ['GUEST_IA32_PAT', 'VM_ENTRY_CONTROLS'], `GUEST_IA32_PAT=${hex64(lo, hi)}: entry PA${bad} is not a valid memory type (VM_ENTRY_LOAD_IA32_PAT=1)`);
  }
  if ((s.entry & LOAD_EFER) !== 0) {
    const lo = r.lo(GUEST_IA32_EFER), hi = r.hi(GUEST_IA32_EFER);
    if ((lo & ~p.eferSupported) !== 0 || hi !== 0) return fail(EFER_RESERVED, ['GUEST_IA32_EFER', 'VM_ENTRY_CONTROLS'], `GUEST_IA32_EFER=${hex64(lo, hi)} sets reserved bits (VM_ENTRY_LOAD_IA32_EFER=1)`);
    const want = ia32e ? 1 : 0;
    if (((lo & EFER_LMA) !== 0) !== ia32e) return fail(EFER_LMA_CHECK, ['GUEST_IA32_EFER', 'VM_ENTRY_CONTROLS'], `GUEST_IA32_EFER.LMA must be ${want} to match VM_ENTRY_IA32E_MODE=${want}`);
    if ((cr0 & CR0_PG) !== 0 && ((lo & EFER_LME) !== 0) !== ia32e) {
      return fail(EFER_LME_CHECK, ['GUEST_IA32_EFER', 'GUEST_CR0', 'VM_ENTRY_CONTROLS'], `GUEST_IA32_EFER.LME must be ${want} to match VM_ENTRY_IA32E_MODE=${want} when GUEST_CR0.PG=1`);
    }
  }

  // ---- 26.3.1.2 segment registers ----
  for (let i = 0; i < 8; i++) {
    sel[i] = r.lo(SEL_E[i]) & 0xffff;
    baseLo[i] = r.lo(BASE_E[i]);
    baseHi[i] = r.hi(BASE_E[i]);
    limit[i] = r.lo(LIMIT_E[i]);
    ar[i] = r.lo(AR_E[i]);
  }
  const rflags = r.lo(GUEST_RFLAGS);
  const v86 = (rflags & RFLAGS_VM) !== 0;
  const pe = (cr0 & CR0_PE) !== 0;
  // Selector fields.
  if ((sel[TR] & 4) !== 0) return fail(TR_TI, ['GUEST_TR_SELECTOR'], `GUEST_TR_SELECTOR=${hex(sel[TR])} has TI=1; the TSS descriptor must be in the GDT`);
  if (usable(LDTR) && (sel[LDTR] & 4) !== 0) return fail(LDTR_TI, ['GUEST_LDTR_SELECTOR'], `GUEST_LDTR_SELECTOR=${hex(sel[LDTR])} has TI=1; the LDT descriptor must be in the GDT`);
  if (!v86 && !ug && (sel[SS] & 3) !== (sel[CS] & 3)) {
    return fail(SS_RPL, ['GUEST_SS_SELECTOR', 'GUEST_CS_SELECTOR'], `GUEST_SS_SELECTOR.RPL=${sel[SS] & 3} must equal GUEST_CS_SELECTOR.RPL=${sel[CS] & 3} (both are the CPL)`);
  }
  // Base-address fields.
  if (v86) {
    for (const i of CODE_DATA_SEGS) {
      if (baseHi[i] !== 0 || u32(baseLo[i]) !== sel[i] << 4) {
        return fail(V86_BASE, [baseName(i), selName(i), 'GUEST_RFLAGS'], `${baseName(i)}=${hex64(baseLo[i], baseHi[i])} must be ${selName(i)} << 4 = ${hex(sel[i] << 4)} in virtual-8086 mode (GUEST_RFLAGS.VM=1)`);
      }
    }
  }
  for (const i of CANONICAL_BASE_SEGS) {
    if (i === LDTR && !usable(LDTR)) continue;
    if (!isCanonical(baseLo[i], baseHi[i], p.linearAddressBits)) return fail(BASE_CANONICAL, [baseName(i)], `${baseName(i)}=${hex64(baseLo[i], baseHi[i])} is not a canonical address`);
  }
  if (baseHi[CS] !== 0) return fail(CS_BASE_HIGH, ['GUEST_CS_BASE'], `GUEST_CS_BASE=${hex64(baseLo[CS], baseHi[CS])} sets bits 63:32`);
  for (const i of HIGH_BASE_SEGS) {
    if (usable(i) && baseHi[i] !== 0) return fail(BASE_HIGH, [baseName(i)], `${baseName(i)}=${hex64(baseLo[i], baseHi[i])} sets bits 63:32 (the segment is usable)`);
  }
  // Limit fields.
  if (v86) {
    for (const i of CODE_DATA_SEGS) {
      if (u32(limit[i]) !== 0xffff) return fail(V86_LIMIT, [limitName(i), 'GUEST_RFLAGS'], `${limitName(i)}=${hex(limit[i])} must be 0xffff in virtual-8086 mode (GUEST_RFLAGS.VM=1)`);
    }
  }
  // Access-rights fields of CS, SS, DS, ES, FS, GS.
  if (v86) {
    for (const i of CODE_DATA_SEGS) {
      if (u32(ar[i]) !== 0xf3) return fail(V86_AR, [arName(i), 'GUEST_RFLAGS'], `${arName(i)}=${hex(ar[i])} must be 0xf3 (present, DPL 3, read/write accessed data) in virtual-8086 mode (GUEST_RFLAGS.VM=1)`);
    }
  } else {
    // Type.
    const csType = type(CS);
    const csTypeOk = csType === 9 || csType === 11 || csType === 13 || csType === 15 || (ug && csType === 3);
    if (!csTypeOk) {
      return fail(CS_TYPE, ['GUEST_CS_AR_BYTES', ...(ug ? [] : ['SECONDARY_VM_EXEC_CONTROL'])],
        `GUEST_CS_AR_BYTES=${hex(ar[CS])} has type ${csType}; CS must be an accessed code segment (type 9, 11, 13 or 15)${ug ? ' or type 3 (read/write accessed data)' : ''}`);
    }
    if (usable(SS) && type(SS) !== 3 && type(SS) !== 7) return fail(SS_TYPE, ['GUEST_SS_AR_BYTES'], `GUEST_SS_AR_BYTES=${hex(ar[SS])} has type ${type(SS)}; a usable SS must be type 3 or 7 (read/write accessed data)`);
    for (const i of DATA_SEGS) {
      if (!usable(i)) continue;
      if ((type(i) & 1) === 0) return fail(DATA_ACCESSED, [arName(i)], `${arName(i)}=${hex(ar[i])} has type ${type(i)} without the accessed bit (type bit 0)`);
      if ((type(i) & 8) !== 0 && (type(i) & 2) === 0) return fail(DATA_READABLE, [arName(i)], `${arName(i)}=${hex(ar[i])} is an execute-only code segment (type ${type(i)}); a data register needs a readable one`);
    }
    // S.
    for (const i of CODE_DATA_SEGS) {
      if ((i === CS || usable(i)) && (ar[i] & AR_S) === 0) return fail(SEG_S, [arName(i)], `${arName(i)}=${hex(ar[i])} has S=0 (system segment); ${SEG_NAMES[i]} must be a code or data segment`);
    }
    // DPL.
    if (csType === 3 && dpl(CS) !== 0) return fail(CS_DPL_DATA, ['GUEST_CS_AR_BYTES'], `GUEST_CS_AR_BYTES.DPL=${dpl(CS)} must be 0 for a type-3 CS (unrestricted guest)`);
    if ((csType === 9 || csType === 11) && dpl(CS) !== dpl(SS)) {
      return fail(CS_DPL_NC, ['GUEST_CS_AR_BYTES', 'GUEST_SS_AR_BYTES'], `GUEST_CS_AR_BYTES.DPL=${dpl(CS)} must equal GUEST_SS_AR_BYTES.DPL=${dpl(SS)} for a non-conforming code segment`);
    }
    if ((csType === 13 || csType === 15) && dpl(CS) > dpl(SS)) {
      return fail(CS_DPL_C, ['GUEST_CS_AR_BYTES', 'GUEST_SS_AR_BYTES'], `GUEST_CS_AR_BYTES.DPL=${dpl(CS)} must not exceed GUEST_SS_AR_BYTES.DPL=${dpl(SS)} for a conforming code segment`);
    }
    if (!ug && dpl(SS) !== (sel[SS] & 3)) {
      return fail(SS_DPL_RPL, ['GUEST_SS_AR_BYTES', 'GUEST_SS_SELECTOR'], `GUEST_SS_AR_BYTES.DPL=${dpl(SS)} must equal GUEST_SS_SELECTOR.RPL=${sel[SS] & 3}`);
    }
    if ((csType === 3 || !pe) && dpl(SS) !== 0) {
      return fail(SS_DPL_REAL, ['GUEST_SS_AR_BYTES', pe ? 'GUEST_CS_AR_BYTES' : 'GUEST_CR0'], `GUEST_SS_AR_BYTES.DPL=${dpl(SS)} must be 0 ${pe ? 'when CS has type 3' : 'in real mode (GUEST_CR0.PE=0)'}`);
    }
    if (!ug) {
      for (const i of DATA_SEGS) {
        if (usable(i) && type(i) <= 11 && dpl(i) < (sel[i] & 3)) {
          return fail(DATA_DPL, [arName(i), selName(i)], `${arName(i)}.DPL=${dpl(i)} must not be below ${selName(i)}.RPL=${sel[i] & 3}`);
        }
      }
    }
    // P, reserved 11:8, D/B, G, reserved 31:17.
    for (const i of CODE_DATA_SEGS) {
      if ((i === CS || usable(i)) && (ar[i] & AR_P) === 0) return fail(SEG_P, [arName(i)], `${arName(i)}=${hex(ar[i])} has P=0; ${SEG_NAMES[i]} must be present${i === CS ? '' : ' (or marked unusable, bit 16)'}`);
    }
    for (const i of CODE_DATA_SEGS) {
      if ((i === CS || usable(i)) && (ar[i] & AR_RES_LOW) !== 0) return fail(SEG_RES_LOW, [arName(i)], `${arName(i)}=${hex(ar[i])} sets reserved bits 11:8`);
    }
    if (ia32e && (ar[CS] & AR_L) !== 0 && (ar[CS] & AR_DB) !== 0) {
      return fail(CS_DB, ['GUEST_CS_AR_BYTES', 'VM_ENTRY_CONTROLS'], `GUEST_CS_AR_BYTES=${hex(ar[CS])} sets both L and D/B; a 64-bit code segment (L=1) must have D/B=0`);
    }
    for (const i of CODE_DATA_SEGS) {
      if (i !== CS && !usable(i)) continue;
      const why = gProblem(i);
      if (why !== '') return fail(SEG_G, [arName(i), limitName(i)], why);
    }
    for (const i of CODE_DATA_SEGS) {
      if ((i === CS || usable(i)) && (ar[i] & AR_RES_HIGH) !== 0) return fail(SEG_RES_HIGH, [arName(i)], `${arName(i)}=${hex(ar[i])} sets reserved bits 31:17`);
    }
  }
  // TR.
  const trType = type(TR);
  if (!(trType === 11 || (!ia32e && trType === 3))) {
    return fail(TR_TYPE, ['GUEST_TR_AR_BYTES'], `GUEST_TR_AR_BYTES=${hex(ar[TR])} has type ${trType}; TR must be a busy ${ia32e ? '64-bit TSS (type 11) in an IA-32e mode guest' : 'TSS (type 3 or 11)'}`);
  }
  if ((ar[TR] & AR_S) !== 0) return fail(TR_S, ['GUEST_TR_AR_BYTES'], `GUEST_TR_AR_BYTES=${hex(ar[TR])} has S=1; TR must be a system segment`);
  if ((ar[TR] & AR_P) === 0) return fail(TR_P, ['GUEST_TR_AR_BYTES'], `GUEST_TR_AR_BYTES=${hex(ar[TR])} has P=0; TR must be present`);
  if ((ar[TR] & AR_RES_LOW) !== 0) return fail(TR_RES_LOW, ['GUEST_TR_AR_BYTES'], `GUEST_TR_AR_BYTES=${hex(ar[TR])} sets reserved bits 11:8`);
  let why = gProblem(TR);
  if (why !== '') return fail(TR_G, ['GUEST_TR_AR_BYTES', 'GUEST_TR_LIMIT'], why);
  if (!usable(TR)) return fail(TR_UNUSABLE, ['GUEST_TR_AR_BYTES'], `GUEST_TR_AR_BYTES=${hex(ar[TR])} marks TR unusable (bit 16); TR must be usable`);
  if ((ar[TR] & AR_RES_HIGH) !== 0) return fail(TR_RES_HIGH, ['GUEST_TR_AR_BYTES'], `GUEST_TR_AR_BYTES=${hex(ar[TR])} sets reserved bits 31:17`);
  // LDTR (only if usable).
  if (usable(LDTR)) {
    if (type(LDTR) !== 2) return fail(LDTR_TYPE, ['GUEST_LDTR_AR_BYTES'], `GUEST_LDTR_AR_BYTES=${hex(ar[LDTR])} has type ${type(LDTR)}; a usable LDTR must be type 2 (LDT)`);
    if ((ar[LDTR] & AR_S) !== 0) return fail(LDTR_S, ['GUEST_LDTR_AR_BYTES'], `GUEST_LDTR_AR_BYTES=${hex(ar[LDTR])} has S=1; LDTR must be a system segment`);
    if ((ar[LDTR] & AR_P) === 0) return fail(LDTR_P, ['GUEST_LDTR_AR_BYTES'], `GUEST_LDTR_AR_BYTES=${hex(ar[LDTR])} has P=0; a usable LDTR must be present (or mark it unusable, bit 16)`);
    if ((ar[LDTR] & AR_RES_LOW) !== 0) return fail(LDTR_RES_LOW, ['GUEST_LDTR_AR_BYTES'], `GUEST_LDTR_AR_BYTES=${hex(ar[LDTR])} sets reserved bits 11:8`);
    why = gProblem(LDTR);
    if (why !== '') return fail(LDTR_G, ['GUEST_LDTR_AR_BYTES', 'GUEST_LDTR_LIMIT'], why);
    if ((ar[LDTR] & AR_RES_HIGH) !== 0) return fail(LDTR_RES_HIGH, ['GUEST_LDTR_AR_BYTES'], `GUEST_LDTR_AR_BYTES=${hex(ar[LDTR])} sets reserved bits 31:17`);
  }

  // ---- 26.3.1.3 descriptor-table registers ----
  for (const [name, e] of DTR_BASES) {
    const lo = r.lo(e), hi = r.hi(e);
    if (!isCanonical(lo, hi, p.linearAddressBits)) return fail(DT_BASE, [name], `${name}=${hex64(lo, hi)} is not a canonical address`);
  }
  for (const [name, e] of DTR_LIMITS) {
    const v = u32(r.lo(e));
    if (v > 0xffff) return fail(DT_LIMIT, [name], `${name}=${hex(v)} sets bits 31:16; descriptor-table limits are 16 bits`);
  }

  // ---- 26.3.1.4 RIP and RFLAGS ----
  s.guestCsAr = ar[CS];
  f = checkGuestRip(r, p, s);
  if (f !== undefined) return f;
  const rflagsHi = r.hi(GUEST_RFLAGS);
  const rfReserved = u32(rflags & 0xffc08028);
  if (rfReserved !== 0 || rflagsHi !== 0) return fail(RFLAGS_RESERVED, ['GUEST_RFLAGS'], `GUEST_RFLAGS=${hex64(rflags, rflagsHi)} sets reserved bits (63:22, 15, 5 or 3 must be 0)`);
  if ((rflags & 2) === 0) return fail(RFLAGS_BIT1, ['GUEST_RFLAGS'], `GUEST_RFLAGS=${hex(rflags)} has bit 1 clear; bit 1 of RFLAGS is always 1`);
  if (v86 && (ia32e || !pe)) {
    return fail(RFLAGS_VM_CHECK, ['GUEST_RFLAGS', ia32e ? 'VM_ENTRY_CONTROLS' : 'GUEST_CR0'],
      `GUEST_RFLAGS.VM=1 (virtual-8086 mode) is impossible ${ia32e ? 'in an IA-32e mode guest (VM_ENTRY_IA32E_MODE=1)' : 'with GUEST_CR0.PE=0'}`);
  }
  const intrInfo = r.lo(VM_ENTRY_INTR_INFO_FIELD);
  const injecting = (intrInfo & INTR_INFO_VALID_MASK) !== 0;
  const injType = intrInfo & 0x700;
  const injVector = intrInfo & 0xff;
  if (injecting && injType === INTR_TYPE_EXT_INTR && (rflags & RFLAGS_IF) === 0) {
    return fail(RFLAGS_IF_CHECK, ['GUEST_RFLAGS', 'VM_ENTRY_INTR_INFO_FIELD'], 'GUEST_RFLAGS.IF=0 but VM_ENTRY_INTR_INFO_FIELD injects an external interrupt; set IF=1 or inject later (interrupt-window exiting)');
  }

  // ---- 26.3.1.5 non-register state ----
  const activity = u32(r.lo(GUEST_ACTIVITY_STATE));
  // IA32_VMX_MISC bits 6, 7, 8: HLT, shutdown, wait-for-SIPI supported; active (0) always is.
  if (activity > 3 || (activity !== 0 && ((caps.misc >>> (5 + activity)) & 1) === 0)) {
    return fail(ACTIVITY, ['GUEST_ACTIVITY_STATE'], `GUEST_ACTIVITY_STATE=${activity}${activity <= 3 ? ` (${ACTIVITY_STATES[activity]})` : ''} is not an activity state this processor supports (IA32_VMX_MISC=${hex(caps.misc)})`);
  }
  if (activity === GUEST_ACTIVITY_HLT && dpl(SS) !== 0) {
    return fail(ACTIVITY_HLT_DPL, ['GUEST_ACTIVITY_STATE', 'GUEST_SS_AR_BYTES'], `GUEST_ACTIVITY_STATE=HLT requires GUEST_SS_AR_BYTES.DPL=0 (CPL 0), not ${dpl(SS)}`);
  }
  const intr = u32(r.lo(GUEST_INTERRUPTIBILITY_INFO));
  if ((intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS)) !== 0 && activity !== 0) {
    return fail(ACTIVITY_BLOCKING, ['GUEST_ACTIVITY_STATE', 'GUEST_INTERRUPTIBILITY_INFO'],
      `GUEST_INTERRUPTIBILITY_INFO=${hex(intr)} has blocking by STI or MOV SS, which requires GUEST_ACTIVITY_STATE=0 (active), not ${activity}`);
  }
  if (injecting && activity !== 0) {
    const allowed = activity === GUEST_ACTIVITY_HLT
      ? injType === INTR_TYPE_EXT_INTR || injType === INTR_TYPE_NMI_INTR || (injType === INTR_TYPE_HARD_EXCEPTION && (injVector === 1 || injVector === 18)) || (injType === INTR_TYPE_OTHER_EVENT && injVector === 0)
      : activity === GUEST_ACTIVITY_SHUTDOWN
        ? injType === INTR_TYPE_NMI_INTR || (injType === INTR_TYPE_HARD_EXCEPTION && injVector === 18)
        : activity !== GUEST_ACTIVITY_WAIT_SIPI;
    if (!allowed) {
      const what = injType === INTR_TYPE_HARD_EXCEPTION ? exceptionName(injVector) : INTERRUPTION_TYPES[injType >>> 8][1];
      return fail(ACTIVITY_INJECTION, ['VM_ENTRY_INTR_INFO_FIELD', 'GUEST_ACTIVITY_STATE'],
        `VM_ENTRY_INTR_INFO_FIELD=${hex(intrInfo)} injects ${what}, which ${ACTIVITY_STATES[activity]} blocks`);
    }
  }
  if ((intr & 0xffffffe0) !== 0) return fail(INTR_RESERVED, ['GUEST_INTERRUPTIBILITY_INFO'], `GUEST_INTERRUPTIBILITY_INFO=${hex(intr)} sets reserved bits 31:5`);
  if ((intr & 3) === 3) return fail(INTR_STI_MOVSS, ['GUEST_INTERRUPTIBILITY_INFO'], `GUEST_INTERRUPTIBILITY_INFO=${hex(intr)} sets both blocking by STI and blocking by MOV SS`);
  if ((intr & GUEST_INTR_STATE_STI) !== 0 && (rflags & RFLAGS_IF) === 0) {
    return fail(INTR_STI_IF, ['GUEST_INTERRUPTIBILITY_INFO', 'GUEST_RFLAGS'], 'GUEST_INTERRUPTIBILITY_INFO has blocking by STI but GUEST_RFLAGS.IF=0 (STI blocking exists only right after STI set IF)');
  }
  if (injecting && injType === INTR_TYPE_EXT_INTR && (intr & 3) !== 0) {
    return fail(INTR_EXT, ['GUEST_INTERRUPTIBILITY_INFO', 'VM_ENTRY_INTR_INFO_FIELD'], `GUEST_INTERRUPTIBILITY_INFO=${hex(intr)} blocks interrupts (STI or MOV SS) but VM_ENTRY_INTR_INFO_FIELD injects an external interrupt`);
  }
  if (injecting && injType === INTR_TYPE_NMI_INTR && (intr & GUEST_INTR_STATE_MOV_SS) !== 0) {
    return fail(INTR_NMI_MOVSS, ['GUEST_INTERRUPTIBILITY_INFO', 'VM_ENTRY_INTR_INFO_FIELD'], `GUEST_INTERRUPTIBILITY_INFO=${hex(intr)} has blocking by MOV SS but VM_ENTRY_INTR_INFO_FIELD injects an NMI`);
  }
  if ((intr & GUEST_INTR_STATE_SMI) !== 0) return fail(INTR_SMI, ['GUEST_INTERRUPTIBILITY_INFO'], `GUEST_INTERRUPTIBILITY_INFO=${hex(intr)} has blocking by SMI (bit 2), which must be 0 outside SMM`);
  // "A processor may require" this; Intel cores do, and report exit qualification 3 (SDM 26.8).
  if (injecting && injType === INTR_TYPE_NMI_INTR && (intr & GUEST_INTR_STATE_STI) !== 0) {
    return fail(INTR_NMI_STI, ['GUEST_INTERRUPTIBILITY_INFO', 'VM_ENTRY_INTR_INFO_FIELD'], `GUEST_INTERRUPTIBILITY_INFO=${hex(intr)} has blocking by STI but VM_ENTRY_INTR_INFO_FIELD injects an NMI`);
  }
  if (injecting && injType === INTR_TYPE_NMI_INTR && (s.pin & VIRTUAL_NMIS) !== 0 && (intr & GUEST_INTR_STATE_NMI) !== 0) {
    return fail(INTR_VNMI, ['GUEST_INTERRUPTIBILITY_INFO', 'VM_ENTRY_INTR_INFO_FIELD', 'PIN_BASED_VM_EXEC_CONTROL'],
      `GUEST_INTERRUPTIBILITY_INFO=${hex(intr)} has blocking by NMI while injecting an NMI with PIN_BASED_VIRTUAL_NMIS=1`);
  }
  if ((intr & GUEST_INTR_STATE_ENCLAVE_INTR) !== 0) {
    return fail(INTR_ENCLAVE, ['GUEST_INTERRUPTIBILITY_INFO'], `GUEST_INTERRUPTIBILITY_INFO=${hex(intr)} sets bit 4 (enclave interruption); this processor has no SGX`);
  }
  const pdLo = r.lo(GUEST_PENDING_DBG_EXCEPTIONS), pdHi = r.hi(GUEST_PENDING_DBG_EXCEPTIONS);
  if ((pdLo & (0xff0 | (1 << 13) | (1 << 15) | 0xfffe0000)) !== 0 || pdHi !== 0) {
    return fail(PDE_RESERVED, ['GUEST_PENDING_DBG_EXCEPTIONS'], `GUEST_PENDING_DBG_EXCEPTIONS=${hex64(pdLo, pdHi)} sets reserved bits (11:4, 13, 15, 63:17)`);
  }
  if ((intr & 3) !== 0 || activity === GUEST_ACTIVITY_HLT) {
    // A single-step trap pending across the blocking / HLT must be recorded in BS (SDM 26.3.1.5).
    const tf = (rflags & RFLAGS_TF) !== 0, btf = (debugctl & 2) !== 0;
    const bs = (pdLo & (1 << 14)) !== 0;
    const fields = ['GUEST_PENDING_DBG_EXCEPTIONS', 'GUEST_RFLAGS', 'GUEST_IA32_DEBUGCTL', activity === GUEST_ACTIVITY_HLT ? 'GUEST_ACTIVITY_STATE' : 'GUEST_INTERRUPTIBILITY_INFO'];
    const cause = activity === GUEST_ACTIVITY_HLT ? 'in the HLT state' : 'with blocking by STI or MOV SS';
    if (tf && !btf && !bs) return fail(PDE_BS_SET, fields, `GUEST_PENDING_DBG_EXCEPTIONS.BS must be 1 when GUEST_RFLAGS.TF=1 and GUEST_IA32_DEBUGCTL.BTF=0 ${cause} (a single-step trap is pending)`);
    if (!(tf && !btf) && bs) return fail(PDE_BS_CLEAR, fields, `GUEST_PENDING_DBG_EXCEPTIONS.BS must be 0 when GUEST_RFLAGS.TF=0 or GUEST_IA32_DEBUGCTL.BTF=1 ${cause}`);
  }
  if ((pdLo & (1 << 16)) !== 0) return fail(PDE_RTM, ['GUEST_PENDING_DBG_EXCEPTIONS'], `GUEST_PENDING_DBG_EXCEPTIONS=${hex(pdLo)} sets bit 16 (RTM); this processor has no RTM`);
  return undefined;
}

/**
 * SDM 26.3.1.4, RIP: bits 63:32 are 0 unless the guest starts in 64-bit mode, where RIP is
 * canonical. Also run alone by the cache when GUEST_RIP is the only field written since the
 * last entry passed (the usual "skip the instruction" exit handler): no other check reads it.
 */
export function checkGuestRip(r: VmcsReader, p: EntryCheckProcessor, s: EntryState): EntryCheckFailure | undefined {
  const ia32e = s.ia32eGuest;
  const ripLo = r.lo(GUEST_RIP), ripHi = r.hi(GUEST_RIP);
  const long64 = ia32e && (s.guestCsAr & AR_L) !== 0;
  if (!long64 && ripHi !== 0) {
    return fail(RIP_HIGH, ['GUEST_RIP', ...(ia32e ? ['GUEST_CS_AR_BYTES'] : ['VM_ENTRY_CONTROLS'])],
      `GUEST_RIP=${hex64(ripLo, ripHi)} sets bits 63:32, but the guest does not start in 64-bit mode (${ia32e ? 'GUEST_CS_AR_BYTES.L=0' : 'VM_ENTRY_IA32E_MODE=0'})`);
  }
  if (long64 && !isCanonical(ripLo, ripHi, p.linearAddressBits)) return fail(RIP_CANONICAL, ['GUEST_RIP'], `GUEST_RIP=${hex64(ripLo, ripHi)} is not a canonical address`);
  return undefined;
}
