import { describe, expect, it } from 'vitest';
import {
  VMX_CAPABILITY_MSRS, readVmxCapabilityMsr, controlBounds, VMCS_REVISION_ID, CR4_SUPPORTED_BITS,
  MSR_IA32_VMX_BASIC, MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_ENTRY_CTLS,
  MSR_IA32_VMX_MISC, MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1, MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1,
  MSR_IA32_VMX_VMCS_ENUM, MSR_IA32_VMX_PROCBASED_CTLS2, MSR_IA32_VMX_EPT_VPID_CAP, MSR_IA32_VMX_TRUE_PINBASED_CTLS,
  MSR_IA32_VMX_TRUE_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS, MSR_IA32_VMX_VMFUNC,
} from '../../../src/emu/vmx/capabilities';
import {
  CONTROL_GROUPS, PIN_BASED_CONTROLS, PRIMARY_PROCBASED_CONTROLS, SECONDARY_PROCBASED_CONTROLS, VM_EXIT_CONTROLS, VM_ENTRY_CONTROLS,
  controlMask, namedMask,
} from '../../../src/emu/vmx/controls';
import { SUPPORTED_VMCS_FIELDS, fieldByName } from '../../../src/emu/vmx/vmcs-fields';

const msr = (n: number) => {
  const v = readVmxCapabilityMsr(n);
  if (v === undefined) throw new Error(`no MSR ${n.toString(16)}`);
  return v;
};

/** Non-TRUE / TRUE pairs with their control group (SDM A.3-A.5). */
const PAIRS = [
  [MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS, PIN_BASED_CONTROLS],
  [MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, PRIMARY_PROCBASED_CONTROLS],
  [MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS, VM_EXIT_CONTROLS],
  [MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS, VM_ENTRY_CONTROLS],
] as const;

describe('control bit tables', () => {
  it('have distinct bits, names with their group prefix, and default1 classes as Linux vmx.h *_ALWAYSON_WITHOUT_TRUE_MSR', () => {
    for (const g of CONTROL_GROUPS) {
      expect(new Set(g.bits.map((b) => b.bit)).size, g.field).toBe(g.bits.length);
      for (const b of g.bits) expect(b.name.startsWith(g.prefix) && b.name === g.prefix + b.short, b.name).toBe(true);
      expect((g.clearable & ~g.default1) >>> 0, g.field).toBe(0);
      // Only the named default1 controls may be cleared with TRUE MSRs.
      expect((g.clearable & ~namedMask(g)) >>> 0, g.field).toBe(0);
    }
    expect(PIN_BASED_CONTROLS.default1).toBe(0x00000016);
    expect(PRIMARY_PROCBASED_CONTROLS.default1).toBe(0x0401e172);
    expect(VM_EXIT_CONTROLS.default1).toBe(0x00036dff);
    expect(VM_ENTRY_CONTROLS.default1).toBe(0x000011ff);
    expect(SECONDARY_PROCBASED_CONTROLS.default1).toBe(0);
  });

  it('has the vmx.h values for the names the brief lists', () => {
    const expected: Record<string, number> = {
      PIN_BASED_EXT_INTR_MASK: 0x1, PIN_BASED_NMI_EXITING: 0x8, PIN_BASED_VIRTUAL_NMIS: 0x20, PIN_BASED_VMX_PREEMPTION_TIMER: 0x40, PIN_BASED_POSTED_INTR: 0x80,
      CPU_BASED_INTR_WINDOW_EXITING: 0x4, CPU_BASED_USE_TSC_OFFSETTING: 0x8, CPU_BASED_HLT_EXITING: 0x80, CPU_BASED_INVLPG_EXITING: 0x200,
      CPU_BASED_MWAIT_EXITING: 0x400, CPU_BASED_RDPMC_EXITING: 0x800, CPU_BASED_RDTSC_EXITING: 0x1000, CPU_BASED_CR3_LOAD_EXITING: 0x8000,
      CPU_BASED_CR3_STORE_EXITING: 0x10000, CPU_BASED_CR8_LOAD_EXITING: 0x80000, CPU_BASED_CR8_STORE_EXITING: 0x100000, CPU_BASED_TPR_SHADOW: 0x200000,
      CPU_BASED_NMI_WINDOW_EXITING: 0x400000, CPU_BASED_MOV_DR_EXITING: 0x800000, CPU_BASED_UNCOND_IO_EXITING: 0x1000000, CPU_BASED_USE_IO_BITMAPS: 0x2000000,
      CPU_BASED_MONITOR_TRAP_FLAG: 0x8000000, CPU_BASED_USE_MSR_BITMAPS: 0x10000000, CPU_BASED_MONITOR_EXITING: 0x20000000, CPU_BASED_PAUSE_EXITING: 0x40000000,
      CPU_BASED_ACTIVATE_SECONDARY_CONTROLS: 0x80000000,
      SECONDARY_EXEC_ENABLE_EPT: 0x2, SECONDARY_EXEC_DESC: 0x4, SECONDARY_EXEC_ENABLE_RDTSCP: 0x8, SECONDARY_EXEC_ENABLE_VPID: 0x20,
      SECONDARY_EXEC_WBINVD_EXITING: 0x40, SECONDARY_EXEC_UNRESTRICTED_GUEST: 0x80, SECONDARY_EXEC_ENABLE_INVPCID: 0x1000,
      SECONDARY_EXEC_ENABLE_VMFUNC: 0x2000, SECONDARY_EXEC_ENABLE_XSAVES: 0x100000,
      VM_EXIT_SAVE_DEBUG_CONTROLS: 0x4, VM_EXIT_HOST_ADDR_SPACE_SIZE: 0x200, VM_EXIT_ACK_INTR_ON_EXIT: 0x8000, VM_EXIT_SAVE_IA32_PAT: 0x40000,
      VM_EXIT_LOAD_IA32_PAT: 0x80000, VM_EXIT_SAVE_IA32_EFER: 0x100000, VM_EXIT_LOAD_IA32_EFER: 0x200000, VM_EXIT_SAVE_VMX_PREEMPTION_TIMER: 0x400000,
      VM_ENTRY_LOAD_DEBUG_CONTROLS: 0x4, VM_ENTRY_IA32E_MODE: 0x200, VM_ENTRY_SMM: 0x400, VM_ENTRY_DEACT_DUAL_MONITOR: 0x800,
      VM_ENTRY_LOAD_IA32_PAT: 0x4000, VM_ENTRY_LOAD_IA32_EFER: 0x8000,
    };
    for (const [name, mask] of Object.entries(expected)) expect(controlMask(name), name).toBe(mask);
  });
});

describe('VMX capability MSRs (SDM Appendix A)', () => {
  it('implements MSRs 0x480-0x491, each once', () => {
    const nums = VMX_CAPABILITY_MSRS.map((c) => c.msr).sort((a, b) => a - b);
    expect(nums).toEqual(Array.from({ length: 18 }, (_, i) => 0x480 + i));
    expect(readVmxCapabilityMsr(0x492)).toBeUndefined();
    expect(readVmxCapabilityMsr(0x47f)).toBeUndefined();
  });

  it('IA32_VMX_BASIC: revision id, 4 KiB regions, WB, INS/OUTS info, TRUE controls (SDM A.1)', () => {
    const b = msr(MSR_IA32_VMX_BASIC);
    expect(b.lo).toBe(VMCS_REVISION_ID);
    expect(b.lo >>> 31).toBe(0);
    expect(b.hi & 0x1fff).toBe(4096);
    expect((b.hi >>> 16) & 1).toBe(0);        // bit 48: addresses are not limited to 32 bits
    expect((b.hi >>> 17) & 1).toBe(0);        // bit 49: no dual-monitor SMM treatment
    expect((b.hi >>> 18) & 0xf).toBe(6);      // bits 53:50: WB
    expect((b.hi >>> 22) & 1).toBe(1);        // bit 54
    expect((b.hi >>> 23) & 1).toBe(1);        // bit 55
  });

  it('control MSRs: allowed-0 within allowed-1, default1 must-be-1 in non-TRUE MSRs, TRUE releases only clearable bits', () => {
    for (const [plain, tru, g] of PAIRS) {
      const p = msr(plain);
      const t = msr(tru);
      expect((p.lo & ~p.hi) >>> 0, g.field).toBe(0);
      expect((t.lo & ~t.hi) >>> 0, g.field).toBe(0);
      expect(p.lo, g.field).toBe(g.default1);                         // SDM A.2
      expect((t.lo & ~p.lo) >>> 0, g.field).toBe(0);                  // TRUE may only relax
      expect(t.hi, g.field).toBe(p.hi);
      expect((p.hi & g.default1) >>> 0, g.field).toBe(g.default1);    // default1 bits may be 1
      for (const b of g.bits) {
        if (((g.default1 >>> b.bit) & 1) === 0) expect((p.hi >>> b.bit) & 1, b.name).toBe(b.supported ? 1 : 0);
      }
      expect(controlBounds(g)).toEqual({ mustBe1: t.lo, mayBe1: t.hi });
    }
    // The allowed-0 settings Intel cores report with TRUE controls.
    expect(msr(MSR_IA32_VMX_TRUE_PINBASED_CTLS).lo).toBe(0x16);
    expect(msr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS).lo).toBe(0x04006172);
    expect(msr(MSR_IA32_VMX_TRUE_EXIT_CTLS).lo).toBe(0x00036dfb);
    expect(msr(MSR_IA32_VMX_TRUE_ENTRY_CTLS).lo).toBe(0x000011fb);
  });

  it('PROCBASED_CTLS2: no must-be-1 bits; EPT, VPID, unrestricted guest, VM functions allowed (SDM A.3.3)', () => {
    const c = msr(MSR_IA32_VMX_PROCBASED_CTLS2);
    expect(c.lo).toBe(0);
    for (const n of ['SECONDARY_EXEC_ENABLE_EPT', 'SECONDARY_EXEC_ENABLE_VPID', 'SECONDARY_EXEC_UNRESTRICTED_GUEST', 'SECONDARY_EXEC_ENABLE_VMFUNC']) {
      expect(c.hi & controlMask(n), n).not.toBe(0);
    }
    expect(c.hi & controlMask('SECONDARY_EXEC_ENABLE_PML')).toBe(0);
    expect(c.hi & controlMask('SECONDARY_EXEC_SHADOW_VMCS')).toBe(0);
    expect(msr(MSR_IA32_VMX_PROCBASED_CTLS).hi & controlMask('CPU_BASED_ACTIVATE_SECONDARY_CONTROLS')).not.toBe(0);
    expect(msr(MSR_IA32_VMX_PROCBASED_CTLS).hi & controlMask('CPU_BASED_ACTIVATE_TERTIARY_CONTROLS')).toBe(0);
  });

  it('MISC agrees with the field table (SDM A.6)', () => {
    const m = msr(MSR_IA32_VMX_MISC);
    expect(m.lo & 0x1f).toBe(5);
    expect((m.lo >>> 6) & 7).toBe(5);         // HLT and wait-for-SIPI (no shutdown)
    const cr3Targets = SUPPORTED_VMCS_FIELDS.filter((f) => f.name.startsWith('CR3_TARGET_VALUE')).length;
    expect((m.lo >>> 16) & 0x1ff).toBe(cr3Targets);
    expect((m.lo >>> 29) & 1).toBe(0);        // VMWRITE to exit-information fields fails
    expect(m.hi).toBe(0);
  });

  it('CR0/CR4 fixed bits are consistent (SDM A.7, A.8)', () => {
    for (const [f0, f1] of [[MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1], [MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1]]) {
      const a = msr(f0);
      const b = msr(f1);
      expect((a.lo & ~b.lo) >>> 0).toBe(0);
    }
    expect(msr(MSR_IA32_VMX_CR0_FIXED0).lo).toBe(0x80000021);
    expect(msr(MSR_IA32_VMX_CR4_FIXED0).lo).toBe(0x2000);
    expect(msr(MSR_IA32_VMX_CR4_FIXED1).lo).toBe(CR4_SUPPORTED_BITS);
  });

  it('VMCS_ENUM covers every supported field (SDM A.9)', () => {
    const max = (msr(MSR_IA32_VMX_VMCS_ENUM).lo >>> 1) & 0x1ff;
    for (const f of SUPPORTED_VMCS_FIELDS) expect((f.encoding >>> 1) & 0x1ff, f.name).toBeLessThanOrEqual(max);
  });

  it('EPT/VPID and VMFUNC capabilities match the fields and controls (SDM A.10, A.11)', () => {
    const e = msr(MSR_IA32_VMX_EPT_VPID_CAP);
    expect(e.lo & (1 << 6)).not.toBe(0);     // 4-level walk
    expect(e.lo & (1 << 14)).not.toBe(0);    // WB
    expect(e.lo & (1 << 16)).not.toBe(0);    // 2 MiB
    expect(e.lo & (1 << 17)).not.toBe(0);    // 1 GiB
    expect(e.lo & (1 << 20)).not.toBe(0);    // INVEPT
    expect(e.lo & (1 << 21)).toBe(0);        // no A/D flags (documented choice)
    expect(e.hi & 1).toBe(1);                // INVVPID
    expect(e.lo).toBe(0x06134141);
    expect(e.hi).toBe(0x00000f01);
    expect(msr(MSR_IA32_VMX_VMFUNC)).toEqual({ lo: 1, hi: 0 });
    expect(fieldByName('EPTP_LIST_ADDRESS')?.field.supported).toBe(true);
    expect(fieldByName('EPT_POINTER')?.field.supported).toBe(true);
    expect(fieldByName('VIRTUAL_PROCESSOR_ID')?.field.supported).toBe(true);
  });
});
