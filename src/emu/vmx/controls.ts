/**
 * The VMX control bits: pin-based, primary/secondary/tertiary processor-based VM-execution
 * controls, VM-exit and VM-entry controls (SDM Vol. 3C §24.6.1-24.6.2, §24.7.1, §24.8.1;
 * chapter and section numbers as in the SDM editions this project cites, where chapter 24 is
 * "Virtual Machine Control Structures").
 *
 * This is the ONE place that says which controls our core implements (`supported`). The
 * capability MSRs (capabilities.ts) derive their allowed-1 settings from it, and the VMCS field
 * table (vmcs-fields.ts) derives which fields exist from it (a field "exists only on processors
 * that support the 1-setting of" some control, SDM Appendix B footnotes). Turning a feature on
 * is a one-word change here plus its implementation.
 *
 * Names are Linux `arch/x86/include/asm/vmx.h` macro names. Where vmx.h has no macro for a bit
 * (`linux: false`) the name is ours, in the same style, so users can tell which names they can
 * grep for in KVM.
 *
 * What we implement, from the VT-x issue: EPT (4-level, 2 MiB/1 GiB pages), VPID, unrestricted
 * guest, the VMX-preemption timer, I/O and MSR bitmaps, save/load IA32_EFER and IA32_PAT, VM
 * functions (EPTP switching). Not implemented (allowed-1 = 0): TPR shadow and APIC
 * virtualization, posted interrupts, PML, VMCS shadowing, #VE, SGX/PCONFIG/PT/CET/PKRS/FRED
 * state, TSC scaling, PAUSE-loop exiting, tertiary controls.
 */

export interface ControlBit {
  readonly bit: number;
  /** vmx.h-style macro name, e.g. CPU_BASED_HLT_EXITING. */
  readonly name: string;
  /** The name without its group prefix, for compact listings: HLT_EXITING. */
  readonly short: string;
  /** The SDM's name of the control, e.g. "HLT exiting". */
  readonly title: string;
  /** Our core implements the 1-setting (and the 0-setting where the bit is default1 and `clearable`). */
  readonly supported: boolean;
  /** The name is a macro in Linux vmx.h (otherwise it is ours, same style). */
  readonly linux: boolean;
}

/** A 32-bit (or, for tertiary controls, 64-bit) control field and its named bits. */
export interface ControlGroup {
  /** vmx.h name of the VMCS field holding these controls. */
  readonly field: string;
  /** Prefix stripped from names for `short`. */
  readonly prefix: string;
  readonly title: string;
  readonly bits: readonly ControlBit[];
  /**
   * The "default1" class of SDM Appendix A.2-A.5: bits reserved to 1 that the non-TRUE capability
   * MSR reports as allowed-0 = 1 (0 for groups without such a class).
   */
  readonly default1: number;
  /**
   * Default1 bits whose 0-setting our core supports, reported as 0 in the allowed-0 half of the
   * TRUE_ capability MSR (SDM A.3.1, A.4.1, A.5.1). Matches what Intel cores report: CR3-load/
   * store exiting and save/load debug controls may be 0.
   */
  readonly clearable: number;
  /** Where the SDM defines the bits. */
  readonly sdm: string;
}

type BitRow = readonly [bit: number, short: string, title: string, supported: boolean, linux?: boolean];

function group(field: string, prefix: string, title: string, sdm: string, default1: number, clearable: number, rows: readonly BitRow[]): ControlGroup {
  const bits = rows.map(([bit, short, t, supported, linux = true]): ControlBit => ({ bit, name: prefix + short, short, title: t, supported, linux }));
  return { field, prefix, title, bits, default1, clearable, sdm };
}

/** Pin-based VM-execution controls (SDM Table 24-5); default1 = bits 1, 2, 4 (SDM A.3.1). */
export const PIN_BASED_CONTROLS = group('PIN_BASED_VM_EXEC_CONTROL', 'PIN_BASED_', 'Pin-based VM-execution controls', 'SDM 24.6.1', 0x00000016, 0, [
  [0, 'EXT_INTR_MASK', 'External-interrupt exiting', true],
  [3, 'NMI_EXITING', 'NMI exiting', true],
  [5, 'VIRTUAL_NMIS', 'Virtual NMIs', true],
  [6, 'VMX_PREEMPTION_TIMER', 'Activate VMX-preemption timer', true],
  [7, 'POSTED_INTR', 'Process posted interrupts', false],
]);

/**
 * Primary processor-based VM-execution controls (SDM Table 24-6); default1 = bits 1, 4-6, 8,
 * 13-16, 26 (SDM A.3.2), of which CR3-load/store exiting (15, 16) may be 0 with TRUE controls.
 */
export const PRIMARY_PROCBASED_CONTROLS = group('CPU_BASED_VM_EXEC_CONTROL', 'CPU_BASED_', 'Primary processor-based VM-execution controls', 'SDM 24.6.2', 0x0401e172, 0x00018000, [
  [2, 'INTR_WINDOW_EXITING', 'Interrupt-window exiting', true],
  [3, 'USE_TSC_OFFSETTING', 'Use TSC offsetting', true],
  [7, 'HLT_EXITING', 'HLT exiting', true],
  [9, 'INVLPG_EXITING', 'INVLPG exiting', true],
  [10, 'MWAIT_EXITING', 'MWAIT exiting', true],
  [11, 'RDPMC_EXITING', 'RDPMC exiting', true],
  [12, 'RDTSC_EXITING', 'RDTSC exiting', true],
  [15, 'CR3_LOAD_EXITING', 'CR3-load exiting', true],
  [16, 'CR3_STORE_EXITING', 'CR3-store exiting', true],
  [17, 'ACTIVATE_TERTIARY_CONTROLS', 'Activate tertiary controls', false],
  [19, 'CR8_LOAD_EXITING', 'CR8-load exiting', true],
  [20, 'CR8_STORE_EXITING', 'CR8-store exiting', true],
  [21, 'TPR_SHADOW', 'Use TPR shadow', false],
  [22, 'NMI_WINDOW_EXITING', 'NMI-window exiting', true],
  [23, 'MOV_DR_EXITING', 'MOV-DR exiting', true],
  [24, 'UNCOND_IO_EXITING', 'Unconditional I/O exiting', true],
  [25, 'USE_IO_BITMAPS', 'Use I/O bitmaps', true],
  [27, 'MONITOR_TRAP_FLAG', 'Monitor trap flag', true],
  [28, 'USE_MSR_BITMAPS', 'Use MSR bitmaps', true],
  [29, 'MONITOR_EXITING', 'MONITOR exiting', true],
  [30, 'PAUSE_EXITING', 'PAUSE exiting', true],
  [31, 'ACTIVATE_SECONDARY_CONTROLS', 'Activate secondary controls', true],
]);

/** Secondary processor-based VM-execution controls (SDM Table 24-7); no default1 class (SDM A.3.3). */
export const SECONDARY_PROCBASED_CONTROLS = group('SECONDARY_VM_EXEC_CONTROL', 'SECONDARY_EXEC_', 'Secondary processor-based VM-execution controls', 'SDM 24.6.2', 0, 0, [
  [0, 'VIRTUALIZE_APIC_ACCESSES', 'Virtualize APIC accesses', false],
  [1, 'ENABLE_EPT', 'Enable EPT', true],
  [2, 'DESC', 'Descriptor-table exiting', true],
  [3, 'ENABLE_RDTSCP', 'Enable RDTSCP', true],
  [4, 'VIRTUALIZE_X2APIC_MODE', 'Virtualize x2APIC mode', false],
  [5, 'ENABLE_VPID', 'Enable VPID', true],
  [6, 'WBINVD_EXITING', 'WBINVD exiting', true],
  [7, 'UNRESTRICTED_GUEST', 'Unrestricted guest', true],
  [8, 'APIC_REGISTER_VIRT', 'APIC-register virtualization', false],
  [9, 'VIRTUAL_INTR_DELIVERY', 'Virtual-interrupt delivery', false],
  [10, 'PAUSE_LOOP_EXITING', 'PAUSE-loop exiting', false],
  [11, 'RDRAND_EXITING', 'RDRAND exiting', false],
  [12, 'ENABLE_INVPCID', 'Enable INVPCID', true],
  [13, 'ENABLE_VMFUNC', 'Enable VM functions', true],
  [14, 'SHADOW_VMCS', 'VMCS shadowing', false],
  [15, 'ENCLS_EXITING', 'Enable ENCLS exiting', false],
  [16, 'RDSEED_EXITING', 'RDSEED exiting', false],
  [17, 'ENABLE_PML', 'Enable PML', false],
  [18, 'EPT_VIOLATION_VE', 'EPT-violation #VE', false],
  [19, 'PT_CONCEAL_VMX', 'Conceal VMX from PT', false],
  [20, 'ENABLE_XSAVES', 'Enable XSAVES/XRSTORS', false],
  [21, 'PASID_TRANSLATION', 'PASID translation', false, false],
  [22, 'MODE_BASED_EPT_EXEC', 'Mode-based execute control for EPT', false],
  [23, 'ENABLE_SPP', 'Sub-page write permissions for EPT', false, false],
  [24, 'PT_USE_GPA', 'Intel PT uses guest physical addresses', false],
  [25, 'TSC_SCALING', 'Use TSC scaling', false],
  [26, 'ENABLE_USR_WAIT_PAUSE', 'Enable user wait and pause', false],
  [27, 'ENABLE_PCONFIG', 'Enable PCONFIG', false, false],
  [28, 'ENCLV_EXITING', 'Enable ENCLV exiting', false],
  [30, 'BUS_LOCK_DETECTION', 'VMM bus-lock detection', false],
  [31, 'NOTIFY_VM_EXITING', 'Instruction timeout', false],
]);

/**
 * Tertiary processor-based VM-execution controls (a 64-bit field; SDM Table 24-8). Only the low
 * 32 bits are defined. We do not support "activate tertiary controls", so none is supported.
 */
export const TERTIARY_PROCBASED_CONTROLS = group('TERTIARY_VM_EXEC_CONTROL', 'TERTIARY_EXEC_', 'Tertiary processor-based VM-execution controls', 'SDM 24.6.2', 0, 0, [
  [0, 'LOADIWKEY_EXITING', 'LOADIWKEY exiting', false, false],
  [1, 'ENABLE_HLAT', 'Enable HLAT', false, false],
  [2, 'EPT_PAGING_WRITE', 'EPT paging-write control', false, false],
  [3, 'GUEST_PAGING_VERIFY', 'Guest-paging verification', false, false],
  [4, 'IPI_VIRT', 'IPI virtualization', false],
  [7, 'SPEC_CTRL_SHADOW', 'Virtualize IA32_SPEC_CTRL', false],
]);

/**
 * Primary VM-exit controls (SDM Table 24-13); default1 = bits 0-8, 10, 11, 13, 14, 16, 17
 * (SDM A.4.1), of which "save debug controls" (2) may be 0 with TRUE controls.
 */
export const VM_EXIT_CONTROLS = group('VM_EXIT_CONTROLS', 'VM_EXIT_', 'Primary VM-exit controls', 'SDM 24.7.1', 0x00036dff, 0x00000004, [
  [2, 'SAVE_DEBUG_CONTROLS', 'Save debug controls', true],
  [9, 'HOST_ADDR_SPACE_SIZE', 'Host address-space size', true],
  [12, 'LOAD_IA32_PERF_GLOBAL_CTRL', 'Load IA32_PERF_GLOBAL_CTRL', false],
  [15, 'ACK_INTR_ON_EXIT', 'Acknowledge interrupt on exit', true],
  [18, 'SAVE_IA32_PAT', 'Save IA32_PAT', true],
  [19, 'LOAD_IA32_PAT', 'Load IA32_PAT', true],
  [20, 'SAVE_IA32_EFER', 'Save IA32_EFER', true],
  [21, 'LOAD_IA32_EFER', 'Load IA32_EFER', true],
  [22, 'SAVE_VMX_PREEMPTION_TIMER', 'Save VMX-preemption timer value', true],
  [23, 'CLEAR_BNDCFGS', 'Clear IA32_BNDCFGS', false],
  [24, 'PT_CONCEAL_PIP', 'Conceal VMX from PT', false],
  [25, 'CLEAR_IA32_RTIT_CTL', 'Clear IA32_RTIT_CTL', false],
  [26, 'CLEAR_IA32_LBR_CTL', 'Clear IA32_LBR_CTL', false, false],
  [27, 'CLEAR_UINV', 'Clear UINV', false, false],
  [28, 'LOAD_CET_STATE', 'Load CET state', false],
  [29, 'LOAD_IA32_PKRS', 'Load PKRS', false, false],
  [30, 'SAVE_IA32_PERF_GLOBAL_CTRL', 'Save IA32_PERF_GLOBAL_CTL', false, false],
  [31, 'ACTIVATE_SECONDARY_CONTROLS', 'Activate secondary controls', false],
]);

/**
 * VM-entry controls (SDM Table 24-15); default1 = bits 0-8, 12 (SDM A.5), of which "load debug
 * controls" (2) may be 0 with TRUE controls.
 */
export const VM_ENTRY_CONTROLS = group('VM_ENTRY_CONTROLS', 'VM_ENTRY_', 'VM-entry controls', 'SDM 24.8.1', 0x000011ff, 0x00000004, [
  [2, 'LOAD_DEBUG_CONTROLS', 'Load debug controls', true],
  [9, 'IA32E_MODE', 'IA-32e mode guest', true],
  [10, 'SMM', 'Entry to SMM', false],
  [11, 'DEACT_DUAL_MONITOR', 'Deactivate dual-monitor treatment', false],
  [13, 'LOAD_IA32_PERF_GLOBAL_CTRL', 'Load IA32_PERF_GLOBAL_CTRL', false],
  [14, 'LOAD_IA32_PAT', 'Load IA32_PAT', true],
  [15, 'LOAD_IA32_EFER', 'Load IA32_EFER', true],
  [16, 'LOAD_BNDCFGS', 'Load IA32_BNDCFGS', false],
  [17, 'PT_CONCEAL_PIP', 'Conceal VMX from PT', false],
  [18, 'LOAD_IA32_RTIT_CTL', 'Load IA32_RTIT_CTL', false],
  [19, 'LOAD_UINV', 'Load UINV', false, false],
  [20, 'LOAD_CET_STATE', 'Load CET state', false],
  [21, 'LOAD_IA32_LBR_CTL', 'Load guest IA32_LBR_CTL', false, false],
  [22, 'LOAD_IA32_PKRS', 'Load PKRS', false, false],
  [23, 'LOAD_IA32_FRED', 'Load FRED state', false, false],
]);

/** Every control group, in the order a VMCS dump lists them. */
export const CONTROL_GROUPS: readonly ControlGroup[] = [
  PIN_BASED_CONTROLS, PRIMARY_PROCBASED_CONTROLS, SECONDARY_PROCBASED_CONTROLS, TERTIARY_PROCBASED_CONTROLS,
  VM_EXIT_CONTROLS, VM_ENTRY_CONTROLS,
];

/** Every control bit by its full name (e.g. SECONDARY_EXEC_ENABLE_EPT). */
export const CONTROL_BY_NAME: ReadonlyMap<string, { readonly group: ControlGroup; readonly bit: ControlBit }> = (() => {
  const m = new Map<string, { group: ControlGroup; bit: ControlBit }>();
  for (const g of CONTROL_GROUPS) {
    for (const b of g.bits) {
      if (m.has(b.name)) throw new Error(`controls.ts: duplicate control name ${b.name}`);
      m.set(b.name, { group: g, bit: b });
    }
  }
  return m;
})();

/** Named bits whose 1-setting our core supports (low 32 bits of the group's field). */
export function supportedMask(g: ControlGroup): number {
  let m = 0;
  for (const b of g.bits) if (b.supported && b.bit < 32) m |= 1 << b.bit;
  return m >>> 0;
}

/** Mask of all named bits of the group (low 32 bits). */
export function namedMask(g: ControlGroup): number {
  let m = 0;
  for (const b of g.bits) if (b.bit < 32) m |= 1 << b.bit;
  return m >>> 0;
}

/** Value of a control bit by name; throws for an unknown name (a programming error, not user input). */
export function controlMask(name: string): number {
  const c = CONTROL_BY_NAME.get(name);
  if (c === undefined) throw new Error(`controls.ts: unknown control ${name}`);
  return (1 << c.bit.bit) >>> 0;
}

/** Whether our core supports the 1-setting of the named control. */
export function isControlSupported(name: string): boolean {
  return CONTROL_BY_NAME.get(name)?.bit.supported ?? false;
}
