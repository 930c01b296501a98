// One test per VM-entry check of SDM Vol. 3C §26.2 and §26.3.1: each starts from a baseline
// VMCS that passes every check (entry-checks.fixture.ts), breaks exactly one thing, and expects
// exactly that check to fail, with its SDM section, stage, architected outcome (VMfailValid 7/8,
// or exit reason 33 | 0x80000000 with the SDM 26.8 qualification) and a message naming the
// field at fault. The last test holds the catalogue to these tests: no check goes untested.

import { describe, expect, it } from 'vitest';
import {
  checkVmEntry, formatEntryFailure, ENTRY_CHECK_CATALOGUE, DEFAULT_ENTRY_PROCESSOR, type EntryCheckProcessor, type EntryFacts,
  type EntryCheckResult,
} from '../../../src/emu/vmx/entry-checks';
import { readVmxCapabilityMsr, MSR_IA32_VMX_CR4_FIXED1, MSR_IA32_VMX_PROCBASED_CTLS2, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_BASIC, VMCS_REVISION_ID } from '../../../src/emu/vmx/capabilities';
import {
  FakeVmcs, FakeMemory, long64, realMode, prot32, v86, host32, baseMemory, FACTS64, FACTS32, CURRENT_VMCS, PAE_PDPT, c,
} from './entry-checks.fixture';
import { MAXPHYADDR } from '../../../src/emu/mmu/access';

const tested = new Set<string>();

interface Case {
  /** Catalogue id expected to fail. */
  id: string;
  /** What the variant does, for the test name. */
  what?: string;
  base: () => FakeVmcs;
  mutate: (v: FakeVmcs, m: FakeMemory) => void;
  facts?: EntryFacts;
  processor?: EntryCheckProcessor;
  /** Text the message must contain (besides the first field's name). */
  says?: string;
  /** Expected exit qualification for guest-state failures (default 0). */
  qualification?: number;
}

/** High dwords of a physical address: bit MAXPHYADDR set (one beyond the width), and all width bits set. */
const BEYOND_HI = 1 << (MAXPHYADDR - 32);
const LAST_HI = BEYOND_HI - 1;

const INTR_VALID = 0x80000000 | 0;
const HW = 3 << 8, NMI = 2 << 8, SOFT_INT = 4 << 8, OTHER = 7 << 8, DELIVER = 0x800;

/** A processor whose capability MSRs differ from ours in one value. */
function withMsr(msr: number, lo: number, hi: number): EntryCheckProcessor {
  return { ...DEFAULT_ENTRY_PROCESSOR, readCapability: (n) => (n === msr ? { lo, hi } : readVmxCapabilityMsr(n)) };
}
const rd = (n: number) => readVmxCapabilityMsr(n)!;
/** A core that implements PCIDs (our CPU does not, so CR4.PCIDE is fixed to 0 in VMX operation). */
const PCID_CORE = withMsr(MSR_IA32_VMX_CR4_FIXED1, rd(MSR_IA32_VMX_CR4_FIXED1).lo | (1 << 17), rd(MSR_IA32_VMX_CR4_FIXED1).hi);

const CASES: Case[] = [
  // ---- 26.2.1.1 VM-execution controls ----
  { id: 'controls.pin-allowed0', base: long64, mutate: (v) => v.clear('PIN_BASED_VM_EXEC_CONTROL', 1 << 1), says: 'reserved bit 1' },
  { id: 'controls.pin-allowed1', base: long64, mutate: (v) => v.or('PIN_BASED_VM_EXEC_CONTROL', c('PIN_BASED_POSTED_INTR')), says: 'PIN_BASED_POSTED_INTR' },
  { id: 'controls.proc-allowed0', base: long64, mutate: (v) => v.clear('CPU_BASED_VM_EXEC_CONTROL', 1 << 1), says: 'IA32_VMX_TRUE_PROCBASED_CTLS' },
  { id: 'controls.proc-allowed0', what: 'without TRUE controls (IA32_VMX_BASIC[55]=0) CR3-load exiting is default1', base: long64,
    processor: withMsr(MSR_IA32_VMX_BASIC, rd(MSR_IA32_VMX_BASIC).lo, rd(MSR_IA32_VMX_BASIC).hi & ~(1 << 23)),
    mutate: () => {}, says: 'CPU_BASED_CR3_LOAD_EXITING' },
  { id: 'controls.proc-allowed1', base: long64, mutate: (v) => v.or('CPU_BASED_VM_EXEC_CONTROL', c('CPU_BASED_TPR_SHADOW')), says: 'CPU_BASED_TPR_SHADOW' },
  { id: 'controls.proc2-allowed0', what: 'on a processor that requires a secondary control', base: long64,
    processor: withMsr(MSR_IA32_VMX_PROCBASED_CTLS2, c('SECONDARY_EXEC_WBINVD_EXITING'), rd(MSR_IA32_VMX_PROCBASED_CTLS2).hi),
    mutate: () => {}, says: 'SECONDARY_EXEC_WBINVD_EXITING' },
  { id: 'controls.proc2-allowed1', base: long64, mutate: (v) => v.or('SECONDARY_VM_EXEC_CONTROL', c('SECONDARY_EXEC_SHADOW_VMCS')), says: 'SECONDARY_EXEC_SHADOW_VMCS' },
  { id: 'controls.cr3-target-count', base: long64, mutate: (v) => v.set('CR3_TARGET_COUNT', 5), says: 'CR3_TARGET_COUNT=5' },
  { id: 'controls.io-bitmap-align', base: long64, mutate: (v) => v.set('IO_BITMAP_B', 0x3008), says: 'IO_BITMAP_B' },
  { id: 'controls.io-bitmap-width', base: long64, mutate: (v) => v.set('IO_BITMAP_A', 0x2000, BEYOND_HI), says: `${MAXPHYADDR}-bit` },
  { id: 'controls.msr-bitmap-align', base: long64, mutate: (v) => v.set('MSR_BITMAP', 0x4800) },
  { id: 'controls.msr-bitmap-width', base: long64, mutate: (v) => v.set('MSR_BITMAP', 0x4000, 0x100) },
  { id: 'controls.virtual-nmis-without-nmi-exiting', base: long64,
    mutate: (v) => v.clear('PIN_BASED_VM_EXEC_CONTROL', c('PIN_BASED_NMI_EXITING')).or('PIN_BASED_VM_EXEC_CONTROL', c('PIN_BASED_VIRTUAL_NMIS')), says: 'PIN_BASED_NMI_EXITING=1' },
  { id: 'controls.nmi-window-without-virtual-nmis', base: long64, mutate: (v) => v.or('CPU_BASED_VM_EXEC_CONTROL', c('CPU_BASED_NMI_WINDOW_EXITING')) },
  { id: 'controls.vpid-zero', base: long64, mutate: (v) => v.set('VIRTUAL_PROCESSOR_ID', 0) },
  { id: 'controls.eptp-memory-type', base: long64, mutate: (v) => v.set('EPT_POINTER', 0x100019), says: 'WC' },
  { id: 'controls.eptp-walk-length', base: long64, mutate: (v) => v.set('EPT_POINTER', 0x100026), says: 'page-walk length 5' },
  { id: 'controls.eptp-ad', base: long64, mutate: (v) => v.set('EPT_POINTER', 0x10005e) },
  { id: 'controls.eptp-sss', base: long64, mutate: (v) => v.set('EPT_POINTER', 0x10009e) },
  { id: 'controls.eptp-reserved', base: long64, mutate: (v) => v.set('EPT_POINTER', 0x10011e) },
  { id: 'controls.eptp-width', base: long64, mutate: (v) => v.set('EPT_POINTER', 0x10001e, BEYOND_HI) },
  { id: 'controls.unrestricted-guest-without-ept', base: realMode, mutate: (v) => v.clear('SECONDARY_VM_EXEC_CONTROL', c('SECONDARY_EXEC_ENABLE_EPT')), says: 'SECONDARY_EXEC_ENABLE_EPT=1' },
  { id: 'controls.vmfunc-reserved', base: long64, mutate: (v) => v.or('SECONDARY_VM_EXEC_CONTROL', c('SECONDARY_EXEC_ENABLE_VMFUNC')).set('VM_FUNCTION_CONTROL', 2) },
  { id: 'controls.eptp-switching-without-ept', base: prot32, mutate: (v) => v.or('SECONDARY_VM_EXEC_CONTROL', c('SECONDARY_EXEC_ENABLE_VMFUNC')).set('VM_FUNCTION_CONTROL', 1) },
  { id: 'controls.eptp-list-align', base: long64,
    mutate: (v) => v.or('SECONDARY_VM_EXEC_CONTROL', c('SECONDARY_EXEC_ENABLE_VMFUNC')).set('VM_FUNCTION_CONTROL', 1).set('EPTP_LIST_ADDRESS', 0x5008) },
  { id: 'controls.eptp-list-width', base: long64,
    mutate: (v) => v.or('SECONDARY_VM_EXEC_CONTROL', c('SECONDARY_EXEC_ENABLE_VMFUNC')).set('VM_FUNCTION_CONTROL', 1).set('EPTP_LIST_ADDRESS', 0x5000, 0x1000) },
  // ---- 26.2.1.2 VM-exit controls ----
  { id: 'controls.exit-allowed0', base: long64, mutate: (v) => v.clear('VM_EXIT_CONTROLS', 1) },
  { id: 'controls.exit-allowed1', base: long64, mutate: (v) => v.or('VM_EXIT_CONTROLS', c('VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL')), says: 'VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL' },
  { id: 'controls.save-timer-without-timer', base: long64, mutate: (v) => v.or('VM_EXIT_CONTROLS', c('VM_EXIT_SAVE_VMX_PREEMPTION_TIMER')) },
  { id: 'controls.exit-msr-store-align', base: long64, mutate: (v) => v.set('VM_EXIT_MSR_STORE_COUNT', 1).set('VM_EXIT_MSR_STORE_ADDR', 0x8008) },
  { id: 'controls.exit-msr-store-width', base: long64, mutate: (v) => v.set('VM_EXIT_MSR_STORE_COUNT', 1).set('VM_EXIT_MSR_STORE_ADDR', 0x8000, BEYOND_HI) },
  { id: 'controls.exit-msr-store-end', base: long64, mutate: (v) => v.set('VM_EXIT_MSR_STORE_COUNT', 2).set('VM_EXIT_MSR_STORE_ADDR', 0xfffffff0, LAST_HI) },
  { id: 'controls.exit-msr-load-align', base: long64, mutate: (v) => v.set('VM_EXIT_MSR_LOAD_COUNT', 3).set('VM_EXIT_MSR_LOAD_ADDR', 0x8004) },
  { id: 'controls.exit-msr-load-width', base: long64, mutate: (v) => v.set('VM_EXIT_MSR_LOAD_COUNT', 3).set('VM_EXIT_MSR_LOAD_ADDR', 0, 0xff000000) },
  { id: 'controls.exit-msr-load-end', base: long64, mutate: (v) => v.set('VM_EXIT_MSR_LOAD_COUNT', 0x1001).set('VM_EXIT_MSR_LOAD_ADDR', 0xffff0000, LAST_HI) },
  // ---- 26.2.1.3 VM-entry controls ----
  { id: 'controls.entry-allowed0', base: long64, mutate: (v) => v.clear('VM_ENTRY_CONTROLS', 1 << 4) },
  { id: 'controls.entry-allowed1', base: long64, mutate: (v) => v.or('VM_ENTRY_CONTROLS', c('VM_ENTRY_SMM')), says: 'VM_ENTRY_SMM' },
  { id: 'controls.intr-type-reserved', base: long64, mutate: (v) => v.set('VM_ENTRY_INTR_INFO_FIELD', INTR_VALID | (1 << 8) | 0x20) },
  { id: 'controls.intr-type-reserved', what: 'type 7 (other event) without monitor-trap-flag support', base: long64,
    processor: withMsr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, rd(MSR_IA32_VMX_TRUE_PROCBASED_CTLS).lo, rd(MSR_IA32_VMX_TRUE_PROCBASED_CTLS).hi & ~c('CPU_BASED_MONITOR_TRAP_FLAG')),
    mutate: (v) => v.set('VM_ENTRY_INTR_INFO_FIELD', INTR_VALID | OTHER), says: 'other event' },
  { id: 'controls.intr-nmi-vector', base: long64, mutate: (v) => v.set('VM_ENTRY_INTR_INFO_FIELD', INTR_VALID | NMI | 3) },
  { id: 'controls.intr-exception-vector', base: long64, mutate: (v) => v.set('VM_ENTRY_INTR_INFO_FIELD', INTR_VALID | HW | 32) },
  { id: 'controls.intr-other-vector', base: long64, mutate: (v) => v.set('VM_ENTRY_INTR_INFO_FIELD', INTR_VALID | OTHER | 1) },
  { id: 'controls.intr-deliver-error-code', what: '#GP without an error code', base: long64, mutate: (v) => v.set('VM_ENTRY_INTR_INFO_FIELD', INTR_VALID | HW | 13), says: '#GP' },
  { id: 'controls.intr-deliver-error-code', what: '#UD with an error code', base: long64, mutate: (v) => v.set('VM_ENTRY_INTR_INFO_FIELD', INTR_VALID | HW | DELIVER | 6), says: 'pushes no error code' },
  { id: 'controls.intr-deliver-error-code', what: '#GP with an error code into a real-mode unrestricted guest', base: realMode,
    mutate: (v) => v.set('VM_ENTRY_INTR_INFO_FIELD', INTR_VALID | HW | DELIVER | 13), says: 'real mode' },
  { id: 'controls.intr-reserved', base: long64, mutate: (v) => v.set('VM_ENTRY_INTR_INFO_FIELD', INTR_VALID | HW | 6 | (1 << 12)) },
  { id: 'controls.intr-error-code-reserved', base: long64,
    mutate: (v) => v.set('VM_ENTRY_INTR_INFO_FIELD', INTR_VALID | HW | DELIVER | 13).set('VM_ENTRY_EXCEPTION_ERROR_CODE', 0x10000) },
  { id: 'controls.intr-instruction-length', what: 'length 0', base: long64, mutate: (v) => v.set('VM_ENTRY_INTR_INFO_FIELD', INTR_VALID | SOFT_INT | 0x80).set('VM_ENTRY_INSTRUCTION_LEN', 0) },
  { id: 'controls.intr-instruction-length', what: 'length 16', base: long64, mutate: (v) => v.set('VM_ENTRY_INTR_INFO_FIELD', INTR_VALID | (6 << 8) | 3).set('VM_ENTRY_INSTRUCTION_LEN', 16) },
  { id: 'controls.entry-msr-load-align', base: long64, mutate: (v) => v.set('VM_ENTRY_MSR_LOAD_COUNT', 1).set('VM_ENTRY_MSR_LOAD_ADDR', 0x9001) },
  { id: 'controls.entry-msr-load-width', base: long64, mutate: (v) => v.set('VM_ENTRY_MSR_LOAD_COUNT', 1).set('VM_ENTRY_MSR_LOAD_ADDR', 0x9000, 0x100) },
  { id: 'controls.entry-msr-load-end', base: long64, mutate: (v) => v.set('VM_ENTRY_MSR_LOAD_COUNT', 1).set('VM_ENTRY_MSR_LOAD_ADDR', 0xfffffff8 & ~0xf, LAST_HI).set('VM_ENTRY_MSR_LOAD_COUNT', 2) },
  // ---- 26.2.2 host control registers and MSRs ----
  { id: 'host.cr0-fixed0', base: long64, mutate: (v) => v.clear('HOST_CR0', 0x20), says: 'HOST_CR0.NE' },
  { id: 'host.cr0-fixed1', base: long64, mutate: (v) => v.set('HOST_CR0', 0x80050033, 1), says: 'HOST_CR0 bit 32' },
  { id: 'host.cr4-fixed0', base: long64, mutate: (v) => v.clear('HOST_CR4', 0x2000), says: 'HOST_CR4.VMXE' },
  { id: 'host.cr4-fixed1', base: long64, mutate: (v) => v.or('HOST_CR4', 1 << 22), says: 'HOST_CR4.PKE' },
  { id: 'host.cr3-width', base: long64, mutate: (v) => v.set('HOST_CR3', 0x5000, BEYOND_HI) },
  { id: 'host.sysenter-canonical', base: long64, mutate: (v) => v.set('HOST_IA32_SYSENTER_EIP', 0, 0x8000), says: 'HOST_IA32_SYSENTER_EIP' },
  { id: 'host.pat', base: long64, mutate: (v) => v.or('VM_EXIT_CONTROLS', c('VM_EXIT_LOAD_IA32_PAT')).set('HOST_IA32_PAT', 0x00070406, 0x00030406), says: 'PA6' },
  { id: 'host.efer-reserved', base: long64, mutate: (v) => v.set('HOST_IA32_EFER', 0x502) },
  { id: 'host.efer-lma', base: long64, mutate: (v) => v.set('HOST_IA32_EFER', 0x100) },
  { id: 'host.efer-lme', base: long64, mutate: (v) => v.set('HOST_IA32_EFER', 0x400) },
  // ---- 26.2.3 host segment and descriptor-table registers ----
  { id: 'host.selector-rpl-ti', base: long64, mutate: (v) => v.set('HOST_DS_SELECTOR', 0x13), says: 'HOST_DS_SELECTOR' },
  { id: 'host.selector-rpl-ti', what: 'TI=1 in the TR selector', base: long64, mutate: (v) => v.set('HOST_TR_SELECTOR', 0x1c), says: 'HOST_TR_SELECTOR' },
  { id: 'host.cs-null', base: long64, mutate: (v) => v.set('HOST_CS_SELECTOR', 0) },
  { id: 'host.tr-null', base: long64, mutate: (v) => v.set('HOST_TR_SELECTOR', 0) },
  { id: 'host.ss-null', base: () => host32(prot32()), facts: FACTS32, mutate: (v) => v.set('HOST_SS_SELECTOR', 0) },
  { id: 'host.base-canonical', base: long64, mutate: (v) => v.set('HOST_GS_BASE', 0, 0x8000), says: 'HOST_GS_BASE' },
  { id: 'host.base-canonical', what: 'TR base', base: long64, mutate: (v) => v.set('HOST_TR_BASE', 0, 0xffff0000), says: 'HOST_TR_BASE' },
  // ---- 26.2.4 address-space size ----
  { id: 'host.outside-ia32e-guest', base: long64, facts: FACTS32, mutate: () => {} },
  { id: 'host.outside-ia32e-host', base: prot32, facts: FACTS32, mutate: () => {} },
  { id: 'host.in-ia32e-host', base: prot32, mutate: (v) => v.clear('VM_EXIT_CONTROLS', c('VM_EXIT_HOST_ADDR_SPACE_SIZE') | c('VM_EXIT_LOAD_IA32_EFER')) },
  { id: 'host.as32-pcide', base: () => host32(prot32()), facts: FACTS32, processor: PCID_CORE, mutate: (v) => v.or('HOST_CR4', 1 << 17) },
  { id: 'host.as32-rip', base: () => host32(prot32()), facts: FACTS32, mutate: (v) => v.set('HOST_RIP', 0x1000, 1) },
  { id: 'host.as64-pae', base: long64, mutate: (v) => v.clear('HOST_CR4', 0x20) },
  { id: 'host.as64-rip', base: long64, mutate: (v) => v.set('HOST_RIP', 0x1000, 0x8000) },
  // ---- 26.3.1.1 guest control registers, debug registers, MSRs ----
  { id: 'guest.cr0-fixed0', base: long64, mutate: (v) => v.clear('GUEST_CR0', 0x20), says: 'GUEST_CR0.NE' },
  { id: 'guest.cr0-fixed0', what: 'PE=0 without unrestricted guest', base: prot32, mutate: (v) => v.set('GUEST_CR0', 0x30), says: 'SECONDARY_EXEC_UNRESTRICTED_GUEST=1' },
  { id: 'guest.cr0-fixed1', base: long64, mutate: (v) => v.set('GUEST_CR0', 0x80000031, 0x10) },
  { id: 'guest.cr0-pg-without-pe', base: realMode, mutate: (v) => v.set('GUEST_CR0', 0x80000030), says: 'GUEST_CR0.PG=1 requires GUEST_CR0.PE=1' },
  { id: 'guest.cr4-fixed0', base: long64, mutate: (v) => v.clear('GUEST_CR4', 0x2000), says: 'GUEST_CR4.VMXE' },
  { id: 'guest.cr4-fixed1', base: long64, mutate: (v) => v.or('GUEST_CR4', 1 << 12), says: 'GUEST_CR4.LA57' },
  { id: 'guest.debugctl-reserved', base: long64, mutate: (v) => v.or('VM_ENTRY_CONTROLS', c('VM_ENTRY_LOAD_DEBUG_CONTROLS')).set('GUEST_IA32_DEBUGCTL', 4) },
  { id: 'guest.ia32e-without-pg', base: long64, mutate: (v) => v.or('SECONDARY_VM_EXEC_CONTROL', c('SECONDARY_EXEC_UNRESTRICTED_GUEST')).clear('GUEST_CR0', 0x80000000 | 0) },
  { id: 'guest.ia32e-without-pae', base: long64, mutate: (v) => v.clear('GUEST_CR4', 0x20) },
  { id: 'guest.pcide-without-ia32e', base: prot32, processor: PCID_CORE, mutate: (v) => v.or('GUEST_CR4', 1 << 17) },
  { id: 'guest.cr3-width', base: long64, mutate: (v) => v.set('GUEST_CR3', 0x9000, BEYOND_HI) },
  { id: 'guest.dr7-high', base: long64, mutate: (v) => v.or('VM_ENTRY_CONTROLS', c('VM_ENTRY_LOAD_DEBUG_CONTROLS')).set('GUEST_DR7', 0x400, 1) },
  { id: 'guest.sysenter-canonical', base: long64, mutate: (v) => v.set('GUEST_SYSENTER_ESP', 0, 0x12345), says: 'GUEST_SYSENTER_ESP' },
  { id: 'guest.pat', base: long64, mutate: (v) => v.or('VM_ENTRY_CONTROLS', c('VM_ENTRY_LOAD_IA32_PAT')).set('GUEST_IA32_PAT', 0x08, 0), says: 'PA0' },
  { id: 'guest.efer-reserved', base: long64, mutate: (v) => v.set('GUEST_IA32_EFER', 0x502) },
  { id: 'guest.efer-lma', base: long64, mutate: (v) => v.set('GUEST_IA32_EFER', 0x100) },
  { id: 'guest.efer-lme', base: long64, mutate: (v) => v.set('GUEST_IA32_EFER', 0x400) },
  { id: 'guest.efer-lme', what: '32-bit guest with PG=1 and EFER.LME=1', base: prot32, mutate: (v) => v.set('GUEST_IA32_EFER', 0x100) },
  // ---- 26.3.1.2 guest segment registers ----
  { id: 'guest.tr-ti', base: long64, mutate: (v) => v.set('GUEST_TR_SELECTOR', 0x1c) },
  { id: 'guest.ldtr-ti', base: long64, mutate: (v) => v.set('GUEST_LDTR_SELECTOR', 0x2c).set('GUEST_LDTR_AR_BYTES', 0x82).set('GUEST_LDTR_LIMIT', 0xffff) },
  { id: 'guest.ss-rpl', base: prot32, mutate: (v) => v.set('GUEST_SS_SELECTOR', 0x13) },
  { id: 'guest.v86-base', base: v86, mutate: (v) => v.set('GUEST_CS_BASE', 0x10010), says: 'GUEST_CS_SELECTOR << 4' },
  { id: 'guest.base-canonical', base: long64, mutate: (v) => v.set('GUEST_FS_BASE', 0, 0x8000), says: 'GUEST_FS_BASE' },
  { id: 'guest.base-canonical', what: 'usable LDTR', base: long64,
    mutate: (v) => v.set('GUEST_LDTR_SELECTOR', 0x28).set('GUEST_LDTR_AR_BYTES', 0x82).set('GUEST_LDTR_LIMIT', 0xffff).set('GUEST_LDTR_BASE', 0, 0x10000), says: 'GUEST_LDTR_BASE' },
  { id: 'guest.cs-base-high', base: prot32, mutate: (v) => v.set('GUEST_CS_BASE', 0, 1) },
  { id: 'guest.base-high', base: prot32, mutate: (v) => v.set('GUEST_DS_BASE', 0, 1), says: 'GUEST_DS_BASE' },
  { id: 'guest.v86-limit', base: v86, mutate: (v) => v.set('GUEST_SS_LIMIT', 0xfffe), says: 'GUEST_SS_LIMIT' },
  { id: 'guest.v86-ar', base: v86, mutate: (v) => v.set('GUEST_DS_AR_BYTES', 0xf2), says: 'GUEST_DS_AR_BYTES' },
  { id: 'guest.cs-type', base: long64, mutate: (v) => v.set('GUEST_CS_AR_BYTES', 0xa093), says: 'type 3' },
  { id: 'guest.cs-type', what: 'non-accessed code in an unrestricted guest', base: realMode, mutate: (v) => v.set('GUEST_CS_AR_BYTES', 0x9a), says: 'or type 3' },
  { id: 'guest.ss-type', base: long64, mutate: (v) => v.set('GUEST_SS_AR_BYTES', 0xc091) },
  { id: 'guest.data-accessed', base: long64, mutate: (v) => v.set('GUEST_DS_AR_BYTES', 0xc092), says: 'GUEST_DS_AR_BYTES' },
  { id: 'guest.data-code-readable', base: long64, mutate: (v) => v.set('GUEST_ES_AR_BYTES', 0xc099), says: 'GUEST_ES_AR_BYTES' },
  { id: 'guest.seg-s', base: long64, mutate: (v) => v.set('GUEST_FS_AR_BYTES', 0xc083), says: 'GUEST_FS_AR_BYTES' },
  { id: 'guest.cs-dpl-type3', base: realMode, mutate: (v) => v.set('GUEST_CS_AR_BYTES', 0xf3) },
  { id: 'guest.cs-dpl-nonconforming', base: long64, mutate: (v) => v.set('GUEST_CS_AR_BYTES', 0xa0fb) },
  { id: 'guest.cs-dpl-conforming', base: long64, mutate: (v) => v.set('GUEST_CS_AR_BYTES', 0xa0ff) },
  { id: 'guest.ss-dpl-rpl', base: long64, mutate: (v) => v.set('GUEST_CS_AR_BYTES', 0xa09f).set('GUEST_SS_AR_BYTES', 0xc0f3) },
  { id: 'guest.ss-dpl-real', base: realMode, mutate: (v) => v.set('GUEST_CS_AR_BYTES', 0x9f).set('GUEST_SS_AR_BYTES', 0xf3), says: 'real mode' },
  { id: 'guest.data-dpl-rpl', base: long64, mutate: (v) => v.set('GUEST_DS_SELECTOR', 0x13), says: 'GUEST_DS_AR_BYTES.DPL=0' },
  { id: 'guest.seg-p', base: long64, mutate: (v) => v.set('GUEST_GS_AR_BYTES', 0xc013), says: 'GUEST_GS_AR_BYTES' },
  { id: 'guest.seg-p', what: 'an unusable CS is still checked', base: long64, mutate: (v) => v.set('GUEST_CS_AR_BYTES', 0x1a01b), says: 'GUEST_CS_AR_BYTES' },
  { id: 'guest.seg-reserved-11-8', base: long64, mutate: (v) => v.or('GUEST_ES_AR_BYTES', 0x100) },
  { id: 'guest.cs-db-with-l', base: long64, mutate: (v) => v.set('GUEST_CS_AR_BYTES', 0xe09b) },
  { id: 'guest.seg-g', what: 'G=1 with limit bits 11:0 not all 1', base: long64, mutate: (v) => v.set('GUEST_DS_LIMIT', 0xfffff000), says: 'GUEST_DS_LIMIT' },
  { id: 'guest.seg-g', what: 'G=0 with a limit above 1 MiB', base: prot32, mutate: (v) => v.set('GUEST_SS_AR_BYTES', 0x4093), says: 'GUEST_SS_AR_BYTES.G=0' },
  { id: 'guest.seg-reserved-31-17', base: long64, mutate: (v) => v.or('GUEST_FS_AR_BYTES', 0x20000) },
  { id: 'guest.tr-type', base: long64, mutate: (v) => v.set('GUEST_TR_AR_BYTES', 0x83), says: 'IA-32e' },
  { id: 'guest.tr-type', what: 'an available (not busy) TSS', base: prot32, mutate: (v) => v.set('GUEST_TR_AR_BYTES', 0x89) },
  { id: 'guest.tr-s', base: long64, mutate: (v) => v.set('GUEST_TR_AR_BYTES', 0x9b) },
  { id: 'guest.tr-p', base: long64, mutate: (v) => v.set('GUEST_TR_AR_BYTES', 0x0b) },
  { id: 'guest.tr-reserved-11-8', base: long64, mutate: (v) => v.set('GUEST_TR_AR_BYTES', 0x28b) },
  { id: 'guest.tr-g', base: long64, mutate: (v) => v.set('GUEST_TR_AR_BYTES', 0x808b) },
  { id: 'guest.tr-unusable', base: long64, mutate: (v) => v.set('GUEST_TR_AR_BYTES', 0x1008b) },
  { id: 'guest.tr-reserved-31-17', base: long64, mutate: (v) => v.set('GUEST_TR_AR_BYTES', 0x4008b) },
  ...([['guest.ldtr-type', 0x83], ['guest.ldtr-s', 0x92], ['guest.ldtr-p', 0x02], ['guest.ldtr-reserved-11-8', 0x482], ['guest.ldtr-reserved-31-17', 0x80082]] as const)
    .map(([id, arv]): Case => ({ id, base: long64, mutate: (v) => v.set('GUEST_LDTR_SELECTOR', 0x28).set('GUEST_LDTR_LIMIT', 0xffff).set('GUEST_LDTR_AR_BYTES', arv), says: 'GUEST_LDTR_AR_BYTES' })),
  { id: 'guest.ldtr-g', base: long64, mutate: (v) => v.set('GUEST_LDTR_SELECTOR', 0x28).set('GUEST_LDTR_LIMIT', 0x1fffff).set('GUEST_LDTR_AR_BYTES', 0x82), says: 'GUEST_LDTR_LIMIT' },
  // ---- 26.3.1.3 descriptor-table registers ----
  { id: 'guest.dtr-base-canonical', base: long64, mutate: (v) => v.set('GUEST_GDTR_BASE', 0x6000, 0x00010000), says: 'GUEST_GDTR_BASE' },
  { id: 'guest.dtr-limit', base: long64, mutate: (v) => v.set('GUEST_IDTR_LIMIT', 0x10000), says: 'GUEST_IDTR_LIMIT' },
  // ---- 26.3.1.4 RIP and RFLAGS ----
  { id: 'guest.rip-high', base: prot32, mutate: (v) => v.set('GUEST_RIP', 0x100000, 1), says: 'VM_ENTRY_IA32E_MODE=0' },
  { id: 'guest.rip-high', what: 'compatibility mode (CS.L=0)', base: long64, mutate: (v) => v.set('GUEST_CS_AR_BYTES', 0xc09b).set('GUEST_RIP', 0, 1), says: 'GUEST_CS_AR_BYTES.L=0' },
  { id: 'guest.rip-canonical', base: long64, mutate: (v) => v.set('GUEST_RIP', 0, 0x8000) },
  { id: 'guest.rflags-reserved', base: long64, mutate: (v) => v.set('GUEST_RFLAGS', 0xa) },
  { id: 'guest.rflags-reserved', what: 'bits 63:32', base: long64, mutate: (v) => v.set('GUEST_RFLAGS', 2, 1) },
  { id: 'guest.rflags-bit1', base: long64, mutate: (v) => v.set('GUEST_RFLAGS', 0) },
  { id: 'guest.rflags-vm', what: 'virtual-8086 with CR0.PE=0', base: v86,
    mutate: (v) => v.or('SECONDARY_VM_EXEC_CONTROL', c('SECONDARY_EXEC_ENABLE_EPT') | c('SECONDARY_EXEC_UNRESTRICTED_GUEST')).set('GUEST_CR0', 0x30), says: 'GUEST_CR0.PE=0' },
  { id: 'guest.rflags-vm', what: 'virtual-8086 in an IA-32e mode guest', base: v86,
    mutate: (v) => v.or('VM_ENTRY_CONTROLS', c('VM_ENTRY_IA32E_MODE')).set('GUEST_IA32_EFER', 0x500).set('GUEST_CR3', 0x9000), says: 'IA-32e' },
  { id: 'guest.rflags-if', base: long64, mutate: (v) => v.set('VM_ENTRY_INTR_INFO_FIELD', INTR_VALID | 0x20) },
  // ---- 26.3.1.5 non-register state ----
  { id: 'guest.activity-unsupported', what: 'shutdown (not advertised)', base: long64, mutate: (v) => v.set('GUEST_ACTIVITY_STATE', 2), says: 'GUEST_ACTIVITY_SHUTDOWN' },
  { id: 'guest.activity-unsupported', what: 'value 4', base: long64, mutate: (v) => v.set('GUEST_ACTIVITY_STATE', 4) },
  { id: 'guest.activity-hlt-dpl', base: long64,
    mutate: (v) => v.set('GUEST_CS_SELECTOR', 0x0b).set('GUEST_CS_AR_BYTES', 0xa0fb).set('GUEST_SS_SELECTOR', 0x13).set('GUEST_SS_AR_BYTES', 0xc0f3).set('GUEST_ACTIVITY_STATE', 1) },
  { id: 'guest.activity-blocking', base: long64, mutate: (v) => v.set('GUEST_RFLAGS', 0x202).set('GUEST_INTERRUPTIBILITY_INFO', 1).set('GUEST_ACTIVITY_STATE', 1) },
  { id: 'guest.activity-injection', base: long64, mutate: (v) => v.set('GUEST_ACTIVITY_STATE', 1).set('VM_ENTRY_INTR_INFO_FIELD', INTR_VALID | HW | DELIVER | 13), says: '#GP' },
  { id: 'guest.intr-state-reserved', base: long64, mutate: (v) => v.set('GUEST_INTERRUPTIBILITY_INFO', 0x20) },
  { id: 'guest.intr-state-sti-and-movss', base: long64, mutate: (v) => v.set('GUEST_RFLAGS', 0x202).set('GUEST_INTERRUPTIBILITY_INFO', 3) },
  { id: 'guest.intr-state-sti-without-if', base: long64, mutate: (v) => v.set('GUEST_INTERRUPTIBILITY_INFO', 1) },
  { id: 'guest.intr-state-ext-int-blocked', base: long64, mutate: (v) => v.set('GUEST_RFLAGS', 0x202).set('GUEST_INTERRUPTIBILITY_INFO', 2).set('VM_ENTRY_INTR_INFO_FIELD', INTR_VALID | 0x30) },
  { id: 'guest.intr-state-nmi-movss', base: long64, mutate: (v) => v.set('GUEST_INTERRUPTIBILITY_INFO', 2).set('VM_ENTRY_INTR_INFO_FIELD', INTR_VALID | NMI | 2) },
  { id: 'guest.intr-state-smi', base: long64, mutate: (v) => v.set('GUEST_INTERRUPTIBILITY_INFO', 4) },
  { id: 'guest.intr-state-nmi-sti', base: long64, qualification: 3,
    mutate: (v) => v.set('GUEST_RFLAGS', 0x202).set('GUEST_INTERRUPTIBILITY_INFO', 1).set('VM_ENTRY_INTR_INFO_FIELD', INTR_VALID | NMI | 2) },
  { id: 'guest.intr-state-virtual-nmi-blocked', base: long64,
    mutate: (v) => v.or('PIN_BASED_VM_EXEC_CONTROL', c('PIN_BASED_VIRTUAL_NMIS')).set('GUEST_INTERRUPTIBILITY_INFO', 8).set('VM_ENTRY_INTR_INFO_FIELD', INTR_VALID | NMI | 2) },
  { id: 'guest.intr-state-enclave', base: long64, mutate: (v) => v.set('GUEST_INTERRUPTIBILITY_INFO', 0x10) },
  { id: 'guest.pending-dbg-reserved', base: long64, mutate: (v) => v.set('GUEST_PENDING_DBG_EXCEPTIONS', 0x10) },
  { id: 'guest.pending-dbg-bs-missing', base: long64, mutate: (v) => v.set('GUEST_RFLAGS', 0x102).set('GUEST_INTERRUPTIBILITY_INFO', 2) },
  { id: 'guest.pending-dbg-bs-extra', base: long64, mutate: (v) => v.set('GUEST_ACTIVITY_STATE', 1).set('GUEST_PENDING_DBG_EXCEPTIONS', 0x4000), says: 'HLT' },
  { id: 'guest.pending-dbg-rtm', base: long64, mutate: (v) => v.set('GUEST_PENDING_DBG_EXCEPTIONS', 0x10000) },
  { id: 'guest.link-pointer-align', base: long64, qualification: 4, mutate: (v) => v.set('VMCS_LINK_POINTER', 0x20010) },
  { id: 'guest.link-pointer-width', base: long64, qualification: 4, mutate: (v) => v.set('VMCS_LINK_POINTER', 0x20000, BEYOND_HI) },
  { id: 'guest.link-pointer-revision', base: long64, qualification: 4, mutate: (v) => v.set('VMCS_LINK_POINTER', 0x20000), says: 'FFFFFFFF_FFFFFFFFH' },
  { id: 'guest.link-pointer-current', base: long64, qualification: 4, mutate: (v) => v.set('VMCS_LINK_POINTER', CURRENT_VMCS) },
  // ---- 26.3.1.6 PDPTEs ----
  { id: 'guest.pdpte-reserved', what: 'without EPT, from the PDPT in memory', base: prot32, qualification: 2, mutate: (_v, m) => m.write32(PAE_PDPT + 8, 0xc003), says: 'PDPTE 1' },
  { id: 'guest.pdpte-reserved', what: 'with EPT, from GUEST_PDPTR2', base: prot32, qualification: 2,
    mutate: (v) => v.or('SECONDARY_VM_EXEC_CONTROL', c('SECONDARY_EXEC_ENABLE_EPT')).set('GUEST_PDPTR0', 0xb001).set('GUEST_PDPTR2', 0xc001, 0x80000000 | 0), says: 'GUEST_PDPTR2' },
];

function expectCase(r: EntryCheckResult, k: Case): void {
  expect(r.ok, 'the entry should fail').toBe(false);
  if (r.ok) return;
  expect(r.check.id, formatEntryFailure(r)).toBe(k.id);
  const entry = ENTRY_CHECK_CATALOGUE.find((e) => e.id === k.id)!;
  expect(r.sdm).toBe(entry.sdm);
  expect(r.stage).toBe(entry.stage);
  if (r.stage === 'controls') expect(r.outcome).toEqual({ kind: 'vmfail-valid', error: 7 });
  else if (r.stage === 'host-state') expect(r.outcome).toEqual({ kind: 'vmfail-valid', error: 8 });
  else expect(r.outcome).toEqual({ kind: 'vm-exit', exitReason: 0x80000021, qualification: k.qualification ?? 0 });
  expect(r.fields.length).toBeGreaterThan(0);
  expect(r.message).toContain(r.fields[0].replace(/_AR_BYTES$|_LIMIT$|_BASE$|_SELECTOR$/, ''));
  if (k.says !== undefined) expect(r.message).toContain(k.says);
  expect(formatEntryFailure(r)).toMatch(new RegExp(`^VM entry failed: .* \\(SDM ${r.sdm.replace(/\./g, '\\.')}\\): `));
  tested.add(k.id);
}

describe('VM-entry check baselines (SDM 26.2, 26.3)', () => {
  const baselines = [
    ['64-bit host, 64-bit guest with 4-level paging and EPT', long64(), FACTS64],
    ['real-mode unrestricted guest', realMode(), FACTS64],
    ['32-bit protected-mode guest with PAE paging (PDPTEs from memory)', prot32(), FACTS64],
    ['virtual-8086 guest', v86(), FACTS64],
    ['32-bit host (IA32_EFER.LMA=0), 32-bit guest', host32(prot32()), FACTS32],
  ] as const;
  for (const [name, v, facts] of baselines) {
    it(`passes: ${name}`, () => {
      const r = checkVmEntry(v, facts, baseMemory());
      expect(r.ok ? 'ok' : formatEntryFailure(r)).toBe('ok');
    });
  }
  it('passes: a VMCS link pointer naming another VMCS region with our revision identifier (SDM 26.3.1.5)', () => {
    const m = baseMemory().write32(0x40000, VMCS_REVISION_ID);
    expect(checkVmEntry(long64().set('VMCS_LINK_POINTER', 0x40000), FACTS64, m).ok).toBe(true);
  });
  it('passes: injecting #PF with an error code, a software interrupt with length 2, an NMI, MTF (SDM 26.2.1.3)', () => {
    for (const [info, len] of [[INTR_VALID | HW | DELIVER | 14, 0], [INTR_VALID | SOFT_INT | 0x80, 2], [INTR_VALID | NMI | 2, 0], [INTR_VALID | OTHER, 0]]) {
      const r = checkVmEntry(long64().set('VM_ENTRY_INTR_INFO_FIELD', info).set('VM_ENTRY_INSTRUCTION_LEN', len), FACTS64, baseMemory());
      expect(r.ok ? 'ok' : formatEntryFailure(r)).toBe('ok');
    }
  });
  it('passes: CR3-load/store exiting may be 0 with TRUE controls (IA32_VMX_BASIC[55]=1, SDM A.3.2)', () => {
    const v = long64();
    expect(v.getLo('CPU_BASED_VM_EXEC_CONTROL') & c('CPU_BASED_CR3_LOAD_EXITING')).toBe(0);
    expect(rd(MSR_IA32_VMX_PROCBASED_CTLS).lo & c('CPU_BASED_CR3_LOAD_EXITING')).not.toBe(0);
  });
});

describe('VM-entry checks, one failure each', () => {
  for (const k of CASES) {
    const entry = ENTRY_CHECK_CATALOGUE.find((e) => e.id === k.id);
    it(`SDM ${entry?.sdm ?? '?'}: ${entry?.title ?? k.id}${k.what !== undefined ? ` (${k.what})` : ''}`, () => {
      expect(entry, `unknown check ${k.id}`).toBeDefined();
      const v = k.base();
      const m = baseMemory();
      k.mutate(v, m);
      expectCase(checkVmEntry(v, k.facts ?? FACTS64, m, k.processor), k);
    });
  }

  it('every check in the catalogue has a test that makes exactly it fail', () => {
    const missing = ENTRY_CHECK_CATALOGUE.filter((e) => !tested.has(e.id)).map((e) => e.id);
    expect(missing).toEqual([]);
  });
});
