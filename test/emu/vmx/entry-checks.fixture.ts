// Test VMCS images for the VM-entry checks: a VMCS held in a Map by encoding, physical memory
// as a sparse dword map, and the baseline guests the tests start from (each must pass every
// check): a 64-bit guest with 4-level paging, a real-mode unrestricted guest, a 32-bit
// protected-mode guest with PAE paging (PDPTEs read from memory), and a virtual-8086 guest.
// All run under a 64-bit host. Values are written from the SDM's definitions, not from the
// code under test.

import type { VmcsReader, PhysicalMemoryReader, EntryFacts } from '../../../src/emu/vmx/entry-checks';
import { fieldByName } from '../../../src/emu/vmx/vmcs-fields';
import { controlMask } from '../../../src/emu/vmx/controls';
import { readVmxCapabilityMsr, MSR_IA32_VMX_TRUE_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS, VMCS_REVISION_ID } from '../../../src/emu/vmx/capabilities';

export class FakeVmcs implements VmcsReader {
  readonly values = new Map<number, [number, number]>();
  reads = 0;

  private encodingOf(name: string): number {
    const f = fieldByName(name);
    if (f === undefined) throw new Error(`no field ${name}`);
    return f.field.encoding;
  }
  set(name: string, lo: number, hi = 0): this { this.values.set(this.encodingOf(name), [lo | 0, hi | 0]); return this; }
  getLo(name: string): number { return this.values.get(this.encodingOf(name))?.[0] ?? 0; }
  getHi(name: string): number { return this.values.get(this.encodingOf(name))?.[1] ?? 0; }
  /** lo |= bits */
  or(name: string, bits: number): this { return this.set(name, this.getLo(name) | bits, this.getHi(name)); }
  /** lo &= ~bits */
  clear(name: string, bits: number): this { return this.set(name, this.getLo(name) & ~bits, this.getHi(name)); }
  lo(e: number): number { this.reads++; return this.values.get(e)?.[0] ?? 0; }
  hi(e: number): number { this.reads++; return this.values.get(e)?.[1] ?? 0; }
  clone(): FakeVmcs { const c = new FakeVmcs(); for (const [k, v] of this.values) c.values.set(k, [v[0], v[1]]); return c; }
}

export class FakeMemory implements PhysicalMemoryReader {
  readonly dwords = new Map<number, number>();
  write32(a: number, v: number): this { this.dwords.set(a, v | 0); return this; }
  readPhys32(a: number): number { return this.dwords.get(a) ?? 0; }
}

export const CURRENT_VMCS = 0x30000;
export const FACTS64: EntryFacts = { hostLma: true, currentVmcsLo: CURRENT_VMCS, currentVmcsHi: 0 };

const ctlMust1 = (msr: number): number => readVmxCapabilityMsr(msr)!.lo;
export const c = controlMask;

export const PAE_PDPT = 0xa000;

/** Memory with the current VMCS region and the PAE PDPT of the 32-bit guest (PDPTE0 present). */
export function baseMemory(): FakeMemory {
  return new FakeMemory().write32(CURRENT_VMCS, VMCS_REVISION_ID).write32(PAE_PDPT, 0xb001);
}

function host64(v: FakeVmcs): FakeVmcs {
  v.set('VM_EXIT_CONTROLS', ctlMust1(MSR_IA32_VMX_TRUE_EXIT_CTLS) | c('VM_EXIT_HOST_ADDR_SPACE_SIZE') | c('VM_EXIT_ACK_INTR_ON_EXIT') | c('VM_EXIT_LOAD_IA32_EFER') | c('VM_EXIT_SAVE_IA32_EFER'));
  v.set('HOST_CR0', 0x80050033).set('HOST_CR3', 0x5000).set('HOST_CR4', 0x2020);
  v.set('HOST_CS_SELECTOR', 0x08).set('HOST_SS_SELECTOR', 0x10).set('HOST_DS_SELECTOR', 0x10).set('HOST_ES_SELECTOR', 0x10);
  v.set('HOST_FS_SELECTOR', 0).set('HOST_GS_SELECTOR', 0).set('HOST_TR_SELECTOR', 0x18);
  v.set('HOST_FS_BASE', 0).set('HOST_GS_BASE', 0xffff8000, 0xffffffff).set('HOST_TR_BASE', 0x8000).set('HOST_GDTR_BASE', 0x6000).set('HOST_IDTR_BASE', 0x7000);
  v.set('HOST_IA32_SYSENTER_CS', 0).set('HOST_IA32_SYSENTER_ESP', 0).set('HOST_IA32_SYSENTER_EIP', 0);
  v.set('HOST_IA32_EFER', 0x500).set('HOST_IA32_PAT', 0x00070406, 0x00070406);
  v.set('HOST_RSP', 0x90000).set('HOST_RIP', 0x80001000, 0xffffffff);
  return v;
}

function commonControls(v: FakeVmcs, proc2: number): FakeVmcs {
  v.set('PIN_BASED_VM_EXEC_CONTROL', ctlMust1(MSR_IA32_VMX_TRUE_PINBASED_CTLS) | c('PIN_BASED_EXT_INTR_MASK') | c('PIN_BASED_NMI_EXITING'));
  v.set('CPU_BASED_VM_EXEC_CONTROL', ctlMust1(MSR_IA32_VMX_TRUE_PROCBASED_CTLS) | c('CPU_BASED_HLT_EXITING') | c('CPU_BASED_USE_IO_BITMAPS')
    | c('CPU_BASED_USE_MSR_BITMAPS') | c('CPU_BASED_ACTIVATE_SECONDARY_CONTROLS'));
  v.set('SECONDARY_VM_EXEC_CONTROL', proc2);
  v.set('IO_BITMAP_A', 0x2000).set('IO_BITMAP_B', 0x3000).set('MSR_BITMAP', 0x4000);
  v.set('VIRTUAL_PROCESSOR_ID', 1).set('EPT_POINTER', 0x10001e); // WB, 4-level walk, PML4 at 1 MiB
  v.set('CR3_TARGET_COUNT', 0).set('EXCEPTION_BITMAP', 0);
  v.set('VM_ENTRY_INTR_INFO_FIELD', 0).set('VM_EXIT_MSR_STORE_COUNT', 0).set('VM_EXIT_MSR_LOAD_COUNT', 0).set('VM_ENTRY_MSR_LOAD_COUNT', 0);
  v.set('VMCS_LINK_POINTER', -1, -1);
  v.set('GUEST_DR7', 0x400).set('GUEST_IA32_DEBUGCTL', 0).set('GUEST_RSP', 0x8000).set('GUEST_RFLAGS', 0x2);
  v.set('GUEST_ACTIVITY_STATE', 0).set('GUEST_INTERRUPTIBILITY_INFO', 0).set('GUEST_PENDING_DBG_EXCEPTIONS', 0);
  v.set('GUEST_IA32_PAT', 0x00070406, 0x00070406).set('GUEST_SYSENTER_ESP', 0).set('GUEST_SYSENTER_EIP', 0);
  v.set('GUEST_LDTR_SELECTOR', 0).set('GUEST_LDTR_BASE', 0).set('GUEST_LDTR_LIMIT', 0).set('GUEST_LDTR_AR_BYTES', 0x10000);
  return host64(v);
}

function seg(v: FakeVmcs, s: string, sel: number, base: number, limit: number, ar: number): void {
  v.set(`GUEST_${s}_SELECTOR`, sel).set(`GUEST_${s}_BASE`, base).set(`GUEST_${s}_LIMIT`, limit).set(`GUEST_${s}_AR_BYTES`, ar);
}

/** 64-bit guest: IA-32e mode, 4-level paging, EPT + VPID, flat segments, 64-bit CS (L=1). */
export function long64(): FakeVmcs {
  const v = commonControls(new FakeVmcs(), c('SECONDARY_EXEC_ENABLE_EPT') | c('SECONDARY_EXEC_ENABLE_VPID') | c('SECONDARY_EXEC_ENABLE_RDTSCP'));
  v.set('VM_ENTRY_CONTROLS', ctlMust1(MSR_IA32_VMX_TRUE_ENTRY_CTLS) | c('VM_ENTRY_IA32E_MODE') | c('VM_ENTRY_LOAD_IA32_EFER'));
  v.set('GUEST_CR0', 0x80000031).set('GUEST_CR3', 0x9000).set('GUEST_CR4', 0x2020).set('GUEST_IA32_EFER', 0x500);
  seg(v, 'CS', 0x08, 0, 0xffffffff, 0xa09b);
  for (const s of ['SS', 'DS', 'ES', 'FS', 'GS']) seg(v, s, 0x10, 0, 0xffffffff, 0xc093);
  seg(v, 'TR', 0x18, 0x8000, 0x67, 0x8b);
  v.set('GUEST_GDTR_BASE', 0x6000).set('GUEST_GDTR_LIMIT', 0x27).set('GUEST_IDTR_BASE', 0x7000).set('GUEST_IDTR_LIMIT', 0xfff);
  v.set('GUEST_RIP', 0x100000);
  return v;
}

/** Real-mode guest at F000:FFF0 under "unrestricted guest" (CR0.PE = PG = 0), as lvisor starts its guests. */
export function realMode(): FakeVmcs {
  const v = commonControls(new FakeVmcs(), c('SECONDARY_EXEC_ENABLE_EPT') | c('SECONDARY_EXEC_ENABLE_VPID') | c('SECONDARY_EXEC_UNRESTRICTED_GUEST'));
  v.set('VM_ENTRY_CONTROLS', ctlMust1(MSR_IA32_VMX_TRUE_ENTRY_CTLS) | c('VM_ENTRY_LOAD_IA32_EFER'));
  v.set('GUEST_CR0', 0x30).set('GUEST_CR3', 0).set('GUEST_CR4', 0x2000).set('GUEST_IA32_EFER', 0);
  seg(v, 'CS', 0xf000, 0xf0000, 0xffff, 0x9b);
  for (const s of ['SS', 'DS', 'ES', 'FS', 'GS']) seg(v, s, 0, 0, 0xffff, 0x93);
  seg(v, 'TR', 0, 0, 0xffff, 0x8b);
  v.set('GUEST_GDTR_BASE', 0).set('GUEST_GDTR_LIMIT', 0xffff).set('GUEST_IDTR_BASE', 0).set('GUEST_IDTR_LIMIT', 0x3ff);
  v.set('GUEST_RIP', 0xfff0);
  return v;
}

/** 32-bit protected-mode guest with PAE paging and no EPT (PDPTEs come from memory at PAE_PDPT). */
export function prot32(): FakeVmcs {
  const v = commonControls(new FakeVmcs(), c('SECONDARY_EXEC_ENABLE_VPID'));
  v.set('VM_ENTRY_CONTROLS', ctlMust1(MSR_IA32_VMX_TRUE_ENTRY_CTLS) | c('VM_ENTRY_LOAD_IA32_EFER'));
  v.set('GUEST_CR0', 0x80000031).set('GUEST_CR3', PAE_PDPT).set('GUEST_CR4', 0x2020).set('GUEST_IA32_EFER', 0);
  seg(v, 'CS', 0x08, 0, 0xffffffff, 0xc09b);
  for (const s of ['SS', 'DS', 'ES', 'FS', 'GS']) seg(v, s, 0x10, 0, 0xffffffff, 0xc093);
  seg(v, 'TR', 0x18, 0x8000, 0x67, 0x8b);
  v.set('GUEST_GDTR_BASE', 0x6000).set('GUEST_GDTR_LIMIT', 0x27).set('GUEST_IDTR_BASE', 0x7000).set('GUEST_IDTR_LIMIT', 0x7ff);
  v.set('GUEST_RIP', 0x100000);
  return v;
}

/** Virtual-8086 guest (RFLAGS.VM = 1) on top of the 32-bit protected-mode guest. */
export function v86(): FakeVmcs {
  const v = prot32();
  v.set('GUEST_RFLAGS', 0x20002);
  const sels: Record<string, number> = { CS: 0x1000, SS: 0x2000, DS: 0x3000, ES: 0x3000, FS: 0, GS: 0 };
  for (const [s, sel] of Object.entries(sels)) seg(v, s, sel, sel << 4, 0xffff, 0xf3);
  v.set('GUEST_RIP', 0x100);
  return v;
}

/** The 32-bit guest under a 32-bit host (IA32_EFER.LMA = 0 when VMLAUNCH runs). */
export function host32(v: FakeVmcs): FakeVmcs {
  return v.clear('VM_EXIT_CONTROLS', c('VM_EXIT_HOST_ADDR_SPACE_SIZE')).set('HOST_IA32_EFER', 0).set('HOST_CR4', 0x2000).set('HOST_RIP', 0x100000);
}
export const FACTS32: EntryFacts = { hostLma: false, currentVmcsLo: CURRENT_VMCS, currentVmcsHi: 0 };
