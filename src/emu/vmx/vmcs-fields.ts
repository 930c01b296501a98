/**
 * Every VMCS field of SDM Vol. 3D Appendix B ("Field Encoding in VMCS"), written once: its
 * encoding, Linux vmx.h name, SDM title, width, area, access, whether our core supports it, and
 * where it lives in our VMCS region image.
 *
 * ## Encodings (SDM §24.11.2, Table 24-21 "Structure of VMCS Component Encoding")
 *   bit 0      access type: 0 = full, 1 = high (the upper 32 bits of a 64-bit field; only
 *              64-bit fields have a high encoding)
 *   bits 9:1   index
 *   bits 11:10 type: 0 control, 1 VM-exit information (read-only data), 2 guest state, 3 host state
 *   bit 12     reserved, must be 0
 *   bits 14:13 width: 0 16-bit, 1 64-bit, 2 32-bit, 3 natural width
 *   bits 31:15 reserved, must be 0 (and, for VMREAD/VMWRITE in 64-bit mode, bits 63:32 too)
 * An encoding that sets a reserved bit, names no field, or names a field our core does not
 * support makes VMREAD/VMWRITE fail with VMfailValid(12) "VMREAD/VMWRITE from/to unsupported
 * VMCS component" (SDM §30.3 VMREAD/VMWRITE, §30.4), exactly as a real CPU without that
 * feature does.
 *
 * ## Which fields exist
 * The SDM says a field "exists only on processors that support the 1-setting of" a control. Here
 * each field lists those controls in `requires` (any one suffices); the field is supported iff
 * one of them is supported in controls.ts (so the VMCS, VMREAD/VMWRITE and the capability MSRs
 * cannot disagree). Fields with no footnote exist on every VMX processor.
 *
 * ## Our VMCS region layout (SDM §24.2: the format of the region past offset 8 is
 * implementation-specific; a real CPU has its own, and so do we)
 *   offset 0   revision identifier (bits 30:0) and shadow-VMCS indicator (bit 31), SDM Table 24-1
 *   offset 4   VMX-abort indicator, SDM §27.7
 *   offset 8   launch state, ours: 0 = clear, 1 = launched (SDM §24.1 keeps it "in the VMCS")
 *   offset 12  reserved (0)
 *   offset 16  the supported fields, 8-byte ones (64-bit and natural width) first, then 32-bit,
 *              then 16-bit, each group in table order; every field naturally aligned, 64-bit and
 *              natural-width values little-endian (low dword at `offset`, high dword at +4).
 * The whole layout fits well inside the 4 KiB region IA32_VMX_BASIC advertises (VMCS_DATA_END).
 * Unsupported fields have no storage (`offset` = -1).
 *
 * Titles are the SDM's. Names are Linux `enum vmcs_field` names; `linux: false` marks names vmx.h
 * does not define (ours, same style).
 */

import { isControlSupported, CONTROL_BY_NAME } from './controls';

/** Encoding bits 14:13. */
export type VmcsWidth = '16' | '64' | '32' | 'natural';
/** Encoding bits 11:10. `exit-info` is the SDM's "read-only data" (VM-exit information) area. */
export type VmcsArea = 'control' | 'exit-info' | 'guest' | 'host';

export const WIDTH_CODES: Readonly<Record<VmcsWidth, number>> = { '16': 0, '64': 1, '32': 2, natural: 3 };
export const AREA_CODES: Readonly<Record<VmcsArea, number>> = { control: 0, 'exit-info': 1, guest: 2, host: 3 };
/** Storage size in bytes by width (natural width is 64 bits on Intel 64 processors). */
export const WIDTH_BYTES: Readonly<Record<VmcsWidth, number>> = { '16': 2, '64': 8, '32': 4, natural: 8 };

export interface VmcsField {
  /** Position in VMCS_FIELDS. */
  readonly index: number;
  /** Full-access encoding (always even). */
  readonly encoding: number;
  readonly name: string;
  readonly linux: boolean;
  readonly title: string;
  readonly width: VmcsWidth;
  readonly area: VmcsArea;
  /** VM-exit information fields are read-only to VMWRITE (VMfailValid 13, SDM §30.3). */
  readonly readOnly: boolean;
  /** Controls of which any one being supported makes the field exist (empty: always exists). */
  readonly requires: readonly string[];
  readonly supported: boolean;
  /** Byte offset in our VMCS region image, or -1 when unsupported. */
  readonly offset: number;
  /** The SDM table the field is listed in. */
  readonly sdm: string;
}

type Row = readonly [encoding: number, name: string, title: string, requires?: string, linux?: boolean];

interface Section {
  readonly width: VmcsWidth;
  readonly area: VmcsArea;
  readonly sdm: string;
  readonly rows: readonly Row[];
}

const SEG = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'LDTR', 'TR'] as const;

/**
 * Appendix B, one section per SDM table (B.1.1 ... B.4.4), in encoding order. `requires` is a
 * '|'-separated list of control names (any one suffices).
 */
const SECTIONS: readonly Section[] = [
  { width: '16', area: 'control', sdm: 'SDM B.1.1', rows: [
    [0x0000, 'VIRTUAL_PROCESSOR_ID', 'Virtual-processor identifier (VPID)', 'SECONDARY_EXEC_ENABLE_VPID'],
    [0x0002, 'POSTED_INTR_NV', 'Posted-interrupt notification vector', 'PIN_BASED_POSTED_INTR'],
    [0x0004, 'EPTP_INDEX', 'EPTP index', 'SECONDARY_EXEC_EPT_VIOLATION_VE', false],
    [0x0006, 'HLAT_PREFIX_SIZE', 'HLAT prefix size', 'TERTIARY_EXEC_ENABLE_HLAT', false],
    [0x0008, 'LAST_PID_POINTER_INDEX', 'Last PID-pointer index', 'TERTIARY_EXEC_IPI_VIRT'],
  ] },
  { width: '16', area: 'guest', sdm: 'SDM B.1.2', rows: [
    ...SEG.map((s, i): Row => [0x0800 + 2 * i, `GUEST_${s}_SELECTOR`, `Guest ${s} selector`]),
    [0x0810, 'GUEST_INTR_STATUS', 'Guest interrupt status', 'SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY'],
    [0x0812, 'GUEST_PML_INDEX', 'PML index', 'SECONDARY_EXEC_ENABLE_PML'],
    [0x0814, 'GUEST_UINV', 'Guest UINV', 'VM_ENTRY_LOAD_UINV|VM_EXIT_CLEAR_UINV', false],
  ] },
  { width: '16', area: 'host', sdm: 'SDM B.1.3', rows: [
    ...['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'TR'].map((s, i): Row => [0x0c00 + 2 * i, `HOST_${s}_SELECTOR`, `Host ${s} selector`]),
  ] },
  { width: '64', area: 'control', sdm: 'SDM B.2.1', rows: [
    [0x2000, 'IO_BITMAP_A', 'Address of I/O bitmap A'],
    [0x2002, 'IO_BITMAP_B', 'Address of I/O bitmap B'],
    [0x2004, 'MSR_BITMAP', 'Address of MSR bitmaps', 'CPU_BASED_USE_MSR_BITMAPS'],
    [0x2006, 'VM_EXIT_MSR_STORE_ADDR', 'VM-exit MSR-store address'],
    [0x2008, 'VM_EXIT_MSR_LOAD_ADDR', 'VM-exit MSR-load address'],
    [0x200a, 'VM_ENTRY_MSR_LOAD_ADDR', 'VM-entry MSR-load address'],
    [0x200c, 'EXECUTIVE_VMCS_POINTER', 'Executive-VMCS pointer', undefined, false],
    [0x200e, 'PML_ADDRESS', 'PML address', 'SECONDARY_EXEC_ENABLE_PML'],
    [0x2010, 'TSC_OFFSET', 'TSC offset'],
    [0x2012, 'VIRTUAL_APIC_PAGE_ADDR', 'Virtual-APIC address', 'CPU_BASED_TPR_SHADOW'],
    [0x2014, 'APIC_ACCESS_ADDR', 'APIC-access address', 'SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES'],
    [0x2016, 'POSTED_INTR_DESC_ADDR', 'Posted-interrupt descriptor address', 'PIN_BASED_POSTED_INTR'],
    [0x2018, 'VM_FUNCTION_CONTROL', 'VM-function controls', 'SECONDARY_EXEC_ENABLE_VMFUNC'],
    [0x201a, 'EPT_POINTER', 'EPT pointer (EPTP)', 'SECONDARY_EXEC_ENABLE_EPT'],
    [0x201c, 'EOI_EXIT_BITMAP0', 'EOI-exit bitmap 0 (EOI_EXIT0)', 'SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY'],
    [0x201e, 'EOI_EXIT_BITMAP1', 'EOI-exit bitmap 1 (EOI_EXIT1)', 'SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY'],
    [0x2020, 'EOI_EXIT_BITMAP2', 'EOI-exit bitmap 2 (EOI_EXIT2)', 'SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY'],
    [0x2022, 'EOI_EXIT_BITMAP3', 'EOI-exit bitmap 3 (EOI_EXIT3)', 'SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY'],
    [0x2024, 'EPTP_LIST_ADDRESS', 'EPTP-list address', 'SECONDARY_EXEC_ENABLE_VMFUNC'],
    [0x2026, 'VMREAD_BITMAP', 'VMREAD-bitmap address', 'SECONDARY_EXEC_SHADOW_VMCS'],
    [0x2028, 'VMWRITE_BITMAP', 'VMWRITE-bitmap address', 'SECONDARY_EXEC_SHADOW_VMCS'],
    [0x202a, 'VE_INFORMATION_ADDRESS', 'Virtualization-exception information address', 'SECONDARY_EXEC_EPT_VIOLATION_VE'],
    [0x202c, 'XSS_EXIT_BITMAP', 'XSS-exiting bitmap', 'SECONDARY_EXEC_ENABLE_XSAVES'],
    [0x202e, 'ENCLS_EXITING_BITMAP', 'ENCLS-exiting bitmap', 'SECONDARY_EXEC_ENCLS_EXITING'],
    [0x2030, 'SPPT_POINTER', 'Sub-page-permission-table pointer (SPPTP)', 'SECONDARY_EXEC_ENABLE_SPP', false],
    [0x2032, 'TSC_MULTIPLIER', 'TSC multiplier', 'SECONDARY_EXEC_TSC_SCALING'],
    [0x2034, 'TERTIARY_VM_EXEC_CONTROL', 'Tertiary processor-based VM-execution controls', 'CPU_BASED_ACTIVATE_TERTIARY_CONTROLS'],
    [0x2036, 'ENCLV_EXITING_BITMAP', 'ENCLV-exiting bitmap', 'SECONDARY_EXEC_ENCLV_EXITING', false],
    [0x2038, 'LOW_PASID_DIRECTORY_ADDR', 'Low PASID directory address', 'SECONDARY_EXEC_PASID_TRANSLATION', false],
    [0x203a, 'HIGH_PASID_DIRECTORY_ADDR', 'High PASID directory address', 'SECONDARY_EXEC_PASID_TRANSLATION', false],
    // Exists only in SEAM VMX root operation (TDX); no control of ours enables it.
    [0x203c, 'SHARED_EPT_POINTER', 'Shared EPT pointer', 'SEAM_VMX_ROOT_OPERATION'],
    [0x203e, 'PCONFIG_EXITING_BITMAP', 'PCONFIG-exiting bitmap', 'SECONDARY_EXEC_ENABLE_PCONFIG', false],
    [0x2040, 'HLAT_POINTER', 'Hypervisor-managed linear-address translation pointer (HLATP)', 'TERTIARY_EXEC_ENABLE_HLAT', false],
    [0x2042, 'PID_POINTER_TABLE', 'PID-pointer table address', 'TERTIARY_EXEC_IPI_VIRT'],
    [0x2044, 'SECONDARY_VM_EXIT_CONTROLS', 'Secondary VM-exit controls', 'VM_EXIT_ACTIVATE_SECONDARY_CONTROLS', false],
    [0x204a, 'IA32_SPEC_CTRL_MASK', 'IA32_SPEC_CTRL mask', 'TERTIARY_EXEC_SPEC_CTRL_SHADOW', false],
    [0x204c, 'IA32_SPEC_CTRL_SHADOW', 'IA32_SPEC_CTRL shadow', 'TERTIARY_EXEC_SPEC_CTRL_SHADOW', false],
    [0x2052, 'INJECTED_EVENT_DATA', 'Injected-event data (FRED)', 'VM_ENTRY_LOAD_IA32_FRED', false],
  ] },
  { width: '64', area: 'exit-info', sdm: 'SDM B.2.2', rows: [
    [0x2400, 'GUEST_PHYSICAL_ADDRESS', 'Guest-physical address', 'SECONDARY_EXEC_ENABLE_EPT'],
    [0x2404, 'ORIGINAL_EVENT_DATA', 'Original-event data (FRED)', 'VM_ENTRY_LOAD_IA32_FRED', false],
  ] },
  { width: '64', area: 'guest', sdm: 'SDM B.2.3', rows: [
    [0x2800, 'VMCS_LINK_POINTER', 'VMCS link pointer'],
    [0x2802, 'GUEST_IA32_DEBUGCTL', 'Guest IA32_DEBUGCTL'],
    [0x2804, 'GUEST_IA32_PAT', 'Guest IA32_PAT', 'VM_ENTRY_LOAD_IA32_PAT|VM_EXIT_SAVE_IA32_PAT'],
    [0x2806, 'GUEST_IA32_EFER', 'Guest IA32_EFER', 'VM_ENTRY_LOAD_IA32_EFER|VM_EXIT_SAVE_IA32_EFER'],
    [0x2808, 'GUEST_IA32_PERF_GLOBAL_CTRL', 'Guest IA32_PERF_GLOBAL_CTRL', 'VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL|VM_EXIT_SAVE_IA32_PERF_GLOBAL_CTRL'],
    [0x280a, 'GUEST_PDPTR0', 'Guest PDPTE0', 'SECONDARY_EXEC_ENABLE_EPT'],
    [0x280c, 'GUEST_PDPTR1', 'Guest PDPTE1', 'SECONDARY_EXEC_ENABLE_EPT'],
    [0x280e, 'GUEST_PDPTR2', 'Guest PDPTE2', 'SECONDARY_EXEC_ENABLE_EPT'],
    [0x2810, 'GUEST_PDPTR3', 'Guest PDPTE3', 'SECONDARY_EXEC_ENABLE_EPT'],
    [0x2812, 'GUEST_BNDCFGS', 'Guest IA32_BNDCFGS', 'VM_ENTRY_LOAD_BNDCFGS|VM_EXIT_CLEAR_BNDCFGS'],
    [0x2814, 'GUEST_IA32_RTIT_CTL', 'Guest IA32_RTIT_CTL', 'VM_ENTRY_LOAD_IA32_RTIT_CTL|VM_EXIT_CLEAR_IA32_RTIT_CTL'],
    [0x2816, 'GUEST_IA32_LBR_CTL', 'Guest IA32_LBR_CTL', 'VM_ENTRY_LOAD_IA32_LBR_CTL|VM_EXIT_CLEAR_IA32_LBR_CTL', false],
    [0x2818, 'GUEST_IA32_PKRS', 'Guest IA32_PKRS', 'VM_ENTRY_LOAD_IA32_PKRS', false],
    [0x281a, 'GUEST_IA32_FRED_CONFIG', 'Guest IA32_FRED_CONFIG', 'VM_ENTRY_LOAD_IA32_FRED', false],
    [0x281c, 'GUEST_IA32_FRED_RSP1', 'Guest IA32_FRED_RSP1', 'VM_ENTRY_LOAD_IA32_FRED', false],
    [0x281e, 'GUEST_IA32_FRED_RSP2', 'Guest IA32_FRED_RSP2', 'VM_ENTRY_LOAD_IA32_FRED', false],
    [0x2820, 'GUEST_IA32_FRED_RSP3', 'Guest IA32_FRED_RSP3', 'VM_ENTRY_LOAD_IA32_FRED', false],
    [0x2822, 'GUEST_IA32_FRED_STKLVLS', 'Guest IA32_FRED_STKLVLS', 'VM_ENTRY_LOAD_IA32_FRED', false],
    [0x2824, 'GUEST_IA32_FRED_SSP1', 'Guest IA32_FRED_SSP1', 'VM_ENTRY_LOAD_IA32_FRED', false],
    [0x2826, 'GUEST_IA32_FRED_SSP2', 'Guest IA32_FRED_SSP2', 'VM_ENTRY_LOAD_IA32_FRED', false],
    [0x2828, 'GUEST_IA32_FRED_SSP3', 'Guest IA32_FRED_SSP3', 'VM_ENTRY_LOAD_IA32_FRED', false],
  ] },
  { width: '64', area: 'host', sdm: 'SDM B.2.4', rows: [
    [0x2c00, 'HOST_IA32_PAT', 'Host IA32_PAT', 'VM_EXIT_LOAD_IA32_PAT'],
    [0x2c02, 'HOST_IA32_EFER', 'Host IA32_EFER', 'VM_EXIT_LOAD_IA32_EFER'],
    [0x2c04, 'HOST_IA32_PERF_GLOBAL_CTRL', 'Host IA32_PERF_GLOBAL_CTRL', 'VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL'],
    [0x2c06, 'HOST_IA32_PKRS', 'Host IA32_PKRS', 'VM_EXIT_LOAD_IA32_PKRS', false],
    [0x2c08, 'HOST_IA32_FRED_CONFIG', 'Host IA32_FRED_CONFIG', 'VM_EXIT_ACTIVATE_SECONDARY_CONTROLS', false],
    [0x2c0a, 'HOST_IA32_FRED_RSP1', 'Host IA32_FRED_RSP1', 'VM_EXIT_ACTIVATE_SECONDARY_CONTROLS', false],
    [0x2c0c, 'HOST_IA32_FRED_RSP2', 'Host IA32_FRED_RSP2', 'VM_EXIT_ACTIVATE_SECONDARY_CONTROLS', false],
    [0x2c0e, 'HOST_IA32_FRED_RSP3', 'Host IA32_FRED_RSP3', 'VM_EXIT_ACTIVATE_SECONDARY_CONTROLS', false],
    [0x2c10, 'HOST_IA32_FRED_STKLVLS', 'Host IA32_FRED_STKLVLS', 'VM_EXIT_ACTIVATE_SECONDARY_CONTROLS', false],
    [0x2c12, 'HOST_IA32_FRED_SSP1', 'Host IA32_FRED_SSP1', 'VM_EXIT_ACTIVATE_SECONDARY_CONTROLS', false],
    [0x2c14, 'HOST_IA32_FRED_SSP2', 'Host IA32_FRED_SSP2', 'VM_EXIT_ACTIVATE_SECONDARY_CONTROLS', false],
    [0x2c16, 'HOST_IA32_FRED_SSP3', 'Host IA32_FRED_SSP3', 'VM_EXIT_ACTIVATE_SECONDARY_CONTROLS', false],
  ] },
  { width: '32', area: 'control', sdm: 'SDM B.3.1', rows: [
    [0x4000, 'PIN_BASED_VM_EXEC_CONTROL', 'Pin-based VM-execution controls'],
    [0x4002, 'CPU_BASED_VM_EXEC_CONTROL', 'Primary processor-based VM-execution controls'],
    [0x4004, 'EXCEPTION_BITMAP', 'Exception bitmap'],
    [0x4006, 'PAGE_FAULT_ERROR_CODE_MASK', 'Page-fault error-code mask'],
    [0x4008, 'PAGE_FAULT_ERROR_CODE_MATCH', 'Page-fault error-code match'],
    [0x400a, 'CR3_TARGET_COUNT', 'CR3-target count'],
    [0x400c, 'VM_EXIT_CONTROLS', 'Primary VM-exit controls'],
    [0x400e, 'VM_EXIT_MSR_STORE_COUNT', 'VM-exit MSR-store count'],
    [0x4010, 'VM_EXIT_MSR_LOAD_COUNT', 'VM-exit MSR-load count'],
    [0x4012, 'VM_ENTRY_CONTROLS', 'VM-entry controls'],
    [0x4014, 'VM_ENTRY_MSR_LOAD_COUNT', 'VM-entry MSR-load count'],
    [0x4016, 'VM_ENTRY_INTR_INFO_FIELD', 'VM-entry interruption-information field'],
    [0x4018, 'VM_ENTRY_EXCEPTION_ERROR_CODE', 'VM-entry exception error code'],
    [0x401a, 'VM_ENTRY_INSTRUCTION_LEN', 'VM-entry instruction length'],
    [0x401c, 'TPR_THRESHOLD', 'TPR threshold', 'CPU_BASED_TPR_SHADOW'],
    [0x401e, 'SECONDARY_VM_EXEC_CONTROL', 'Secondary processor-based VM-execution controls', 'CPU_BASED_ACTIVATE_SECONDARY_CONTROLS'],
    [0x4020, 'PLE_GAP', 'PLE_Gap', 'SECONDARY_EXEC_PAUSE_LOOP_EXITING'],
    [0x4022, 'PLE_WINDOW', 'PLE_Window', 'SECONDARY_EXEC_PAUSE_LOOP_EXITING'],
    [0x4024, 'NOTIFY_WINDOW', 'Instruction-timeout control', 'SECONDARY_EXEC_NOTIFY_VM_EXITING'],
  ] },
  { width: '32', area: 'exit-info', sdm: 'SDM B.3.2', rows: [
    [0x4400, 'VM_INSTRUCTION_ERROR', 'VM-instruction error'],
    [0x4402, 'VM_EXIT_REASON', 'Exit reason'],
    [0x4404, 'VM_EXIT_INTR_INFO', 'VM-exit interruption information'],
    [0x4406, 'VM_EXIT_INTR_ERROR_CODE', 'VM-exit interruption error code'],
    [0x4408, 'IDT_VECTORING_INFO_FIELD', 'IDT-vectoring information field'],
    [0x440a, 'IDT_VECTORING_ERROR_CODE', 'IDT-vectoring error code'],
    [0x440c, 'VM_EXIT_INSTRUCTION_LEN', 'VM-exit instruction length'],
    [0x440e, 'VMX_INSTRUCTION_INFO', 'VM-exit instruction information'],
  ] },
  { width: '32', area: 'guest', sdm: 'SDM B.3.3', rows: [
    ...SEG.map((s, i): Row => [0x4800 + 2 * i, `GUEST_${s}_LIMIT`, `Guest ${s} limit`]),
    [0x4810, 'GUEST_GDTR_LIMIT', 'Guest GDTR limit'],
    [0x4812, 'GUEST_IDTR_LIMIT', 'Guest IDTR limit'],
    ...SEG.map((s, i): Row => [0x4814 + 2 * i, `GUEST_${s}_AR_BYTES`, `Guest ${s} access rights`]),
    [0x4824, 'GUEST_INTERRUPTIBILITY_INFO', 'Guest interruptibility state'],
    [0x4826, 'GUEST_ACTIVITY_STATE', 'Guest activity state'],
    [0x4828, 'GUEST_SMBASE', 'Guest SMBASE', undefined, false],
    [0x482a, 'GUEST_SYSENTER_CS', 'Guest IA32_SYSENTER_CS'],
    [0x482e, 'VMX_PREEMPTION_TIMER_VALUE', 'VMX-preemption timer value', 'PIN_BASED_VMX_PREEMPTION_TIMER'],
  ] },
  { width: '32', area: 'host', sdm: 'SDM B.3.4', rows: [
    [0x4c00, 'HOST_IA32_SYSENTER_CS', 'Host IA32_SYSENTER_CS'],
  ] },
  { width: 'natural', area: 'control', sdm: 'SDM B.4.1', rows: [
    [0x6000, 'CR0_GUEST_HOST_MASK', 'CR0 guest/host mask'],
    [0x6002, 'CR4_GUEST_HOST_MASK', 'CR4 guest/host mask'],
    [0x6004, 'CR0_READ_SHADOW', 'CR0 read shadow'],
    [0x6006, 'CR4_READ_SHADOW', 'CR4 read shadow'],
    [0x6008, 'CR3_TARGET_VALUE0', 'CR3-target value 0'],
    [0x600a, 'CR3_TARGET_VALUE1', 'CR3-target value 1'],
    [0x600c, 'CR3_TARGET_VALUE2', 'CR3-target value 2'],
    [0x600e, 'CR3_TARGET_VALUE3', 'CR3-target value 3'],
  ] },
  { width: 'natural', area: 'exit-info', sdm: 'SDM B.4.2', rows: [
    [0x6400, 'EXIT_QUALIFICATION', 'Exit qualification'],
    [0x6402, 'IO_RCX', 'I/O RCX', undefined, false],
    [0x6404, 'IO_RSI', 'I/O RSI', undefined, false],
    [0x6406, 'IO_RDI', 'I/O RDI', undefined, false],
    [0x6408, 'IO_RIP', 'I/O RIP', undefined, false],
    [0x640a, 'GUEST_LINEAR_ADDRESS', 'Guest-linear address'],
  ] },
  { width: 'natural', area: 'guest', sdm: 'SDM B.4.3', rows: [
    [0x6800, 'GUEST_CR0', 'Guest CR0'],
    [0x6802, 'GUEST_CR3', 'Guest CR3'],
    [0x6804, 'GUEST_CR4', 'Guest CR4'],
    ...SEG.map((s, i): Row => [0x6806 + 2 * i, `GUEST_${s}_BASE`, `Guest ${s} base`]),
    [0x6816, 'GUEST_GDTR_BASE', 'Guest GDTR base'],
    [0x6818, 'GUEST_IDTR_BASE', 'Guest IDTR base'],
    [0x681a, 'GUEST_DR7', 'Guest DR7'],
    [0x681c, 'GUEST_RSP', 'Guest RSP'],
    [0x681e, 'GUEST_RIP', 'Guest RIP'],
    [0x6820, 'GUEST_RFLAGS', 'Guest RFLAGS'],
    [0x6822, 'GUEST_PENDING_DBG_EXCEPTIONS', 'Guest pending debug exceptions'],
    [0x6824, 'GUEST_SYSENTER_ESP', 'Guest IA32_SYSENTER_ESP'],
    [0x6826, 'GUEST_SYSENTER_EIP', 'Guest IA32_SYSENTER_EIP'],
    [0x6828, 'GUEST_S_CET', 'Guest IA32_S_CET', 'VM_ENTRY_LOAD_CET_STATE'],
    [0x682a, 'GUEST_SSP', 'Guest SSP', 'VM_ENTRY_LOAD_CET_STATE'],
    [0x682c, 'GUEST_INTR_SSP_TABLE', 'Guest IA32_INTERRUPT_SSP_TABLE_ADDR', 'VM_ENTRY_LOAD_CET_STATE'],
  ] },
  { width: 'natural', area: 'host', sdm: 'SDM B.4.4', rows: [
    [0x6c00, 'HOST_CR0', 'Host CR0'],
    [0x6c02, 'HOST_CR3', 'Host CR3'],
    [0x6c04, 'HOST_CR4', 'Host CR4'],
    [0x6c06, 'HOST_FS_BASE', 'Host FS base'],
    [0x6c08, 'HOST_GS_BASE', 'Host GS base'],
    [0x6c0a, 'HOST_TR_BASE', 'Host TR base'],
    [0x6c0c, 'HOST_GDTR_BASE', 'Host GDTR base'],
    [0x6c0e, 'HOST_IDTR_BASE', 'Host IDTR base'],
    [0x6c10, 'HOST_IA32_SYSENTER_ESP', 'Host IA32_SYSENTER_ESP'],
    [0x6c12, 'HOST_IA32_SYSENTER_EIP', 'Host IA32_SYSENTER_EIP'],
    [0x6c14, 'HOST_RSP', 'Host RSP'],
    [0x6c16, 'HOST_RIP', 'Host RIP'],
    [0x6c18, 'HOST_S_CET', 'Host IA32_S_CET', 'VM_EXIT_LOAD_CET_STATE'],
    [0x6c1a, 'HOST_SSP', 'Host SSP', 'VM_EXIT_LOAD_CET_STATE'],
    [0x6c1c, 'HOST_INTR_SSP_TABLE', 'Host IA32_INTERRUPT_SSP_TABLE_ADDR', 'VM_EXIT_LOAD_CET_STATE'],
  ] },
];

/**
 * Requirements that name no control of ours: features that exist only outside what we model
 * (the shared EPTP exists only for TDX's SEAM mode). Such fields are never supported.
 */
const UNMODELLED_REQUIREMENTS: ReadonlySet<string> = new Set(['SEAM_VMX_ROOT_OPERATION']);

/** Region header offsets (see the module comment). */
export const VMCS_REVISION_OFFSET = 0;
export const VMCS_ABORT_OFFSET = 4;
export const VMCS_LAUNCH_STATE_OFFSET = 8;
export const VMCS_DATA_OFFSET = 16;
/** Size of the VMCS region (and of the VMXON region), as IA32_VMX_BASIC[44:32] says. */
export const VMCS_REGION_SIZE = 4096;

/** Launch-state values stored at VMCS_LAUNCH_STATE_OFFSET (SDM §24.1: "clear" / "launched"). */
export const LAUNCH_STATE_CLEAR = 0;
export const LAUNCH_STATE_LAUNCHED = 1;

function buildFields(): { fields: VmcsField[]; end: number } {
  const draft: Omit<VmcsField, 'offset'>[] = [];
  for (const s of SECTIONS) {
    for (const [encoding, name, title, req, linux = true] of s.rows) {
      const requires = req === undefined ? [] : req.split('|');
      for (const r of requires) {
        if (!CONTROL_BY_NAME.has(r) && !UNMODELLED_REQUIREMENTS.has(r)) throw new Error(`vmcs-fields.ts: ${name} requires unknown control ${r}`);
      }
      draft.push({
        index: draft.length, encoding, name, linux, title, width: s.width, area: s.area,
        readOnly: s.area === 'exit-info', requires,
        supported: requires.length === 0 || requires.some(isControlSupported), sdm: s.sdm,
      });
    }
  }
  const offsets = new Map<number, number>();
  let at = VMCS_DATA_OFFSET;
  for (const size of [8, 4, 2]) {
    for (const f of draft) {
      if (!f.supported || WIDTH_BYTES[f.width] !== size) continue;
      offsets.set(f.index, at);
      at += size;
    }
  }
  return { fields: draft.map((f) => ({ ...f, offset: offsets.get(f.index) ?? -1 })), end: at };
}

const built = buildFields();

/** Every field of Appendix B, in the appendix's order. */
export const VMCS_FIELDS: readonly VmcsField[] = built.fields;

/** First byte past the last field in our VMCS region image. */
export const VMCS_DATA_END: number = built.end;

/** Fields our core supports (those VMREAD/VMWRITE accept), in table order. */
export const SUPPORTED_VMCS_FIELDS: readonly VmcsField[] = VMCS_FIELDS.filter((f) => f.supported);

/** Field index by encoding (both the full and, for 64-bit fields, the high encoding); -1 if none. */
const INDEX_BY_ENCODING: Int16Array = (() => {
  const t = new Int16Array(0x8000).fill(-1);
  for (const f of VMCS_FIELDS) {
    t[f.encoding] = f.index;
    if (f.width === '64') t[f.encoding | 1] = f.index;
  }
  return t;
})();

const BY_NAME: ReadonlyMap<string, VmcsField> = new Map(VMCS_FIELDS.map((f) => [f.name, f]));

/** Encoding bit 0: 1 = high access (upper half of a 64-bit field). */
export function encodingIsHigh(encoding: number): boolean { return (encoding & 1) !== 0; }
/** Encoding bits 9:1. */
export function encodingIndex(encoding: number): number { return (encoding >>> 1) & 0x1ff; }
/** Encoding bits 11:10 (0 control, 1 exit information, 2 guest, 3 host). */
export function encodingType(encoding: number): number { return (encoding >>> 10) & 3; }
/** Encoding bits 14:13 (0 16-bit, 1 64-bit, 2 32-bit, 3 natural). */
export function encodingWidth(encoding: number): number { return (encoding >>> 13) & 3; }
/** Whether a 32-bit encoding sets a bit SDM Table 24-21 reserves (bit 12, bits 31:15). */
export function encodingHasReservedBits(encoding: number): boolean { return (encoding & ~0x6fff) !== 0; }

/** Builds an encoding from its parts (SDM Table 24-21). */
export function makeEncoding(width: VmcsWidth, area: VmcsArea, index: number, high = false): number {
  return (WIDTH_CODES[width] << 13) | (AREA_CODES[area] << 10) | ((index & 0x1ff) << 1) | (high ? 1 : 0);
}

/**
 * Resolves a VMREAD/VMWRITE encoding operand, given as two 32-bit halves (bits 63:32 matter in
 * 64-bit mode and must be 0), to the index in VMCS_FIELDS of a field our core supports, or -1:
 * the caller then fails with VMfailValid(12) (SDM §30.3). Allocation-free, for the hot path.
 * Whether the access is the high half is `encodingIsHigh(lo)`.
 */
export function supportedFieldIndex(encodingLo: number, encodingHi = 0): number {
  if (encodingHi !== 0 || (encodingLo & ~0x6fff) !== 0) return -1;
  const i = INDEX_BY_ENCODING[encodingLo];
  return i >= 0 && VMCS_FIELDS[i].supported ? i : -1;
}

/** The Appendix B field an encoding names (full or high access), supported or not. */
export function fieldByEncoding(encoding: number): VmcsField | undefined {
  if ((encoding & ~0x6fff) !== 0) return undefined;
  const i = INDEX_BY_ENCODING[encoding];
  return i >= 0 ? VMCS_FIELDS[i] : undefined;
}

/**
 * A field by its vmx.h name. Accepts the `_HIGH` names of 64-bit fields' high halves
 * (e.g. EPT_POINTER_HIGH) as vmx.h spells them, returning the field and `high: true`.
 */
export function fieldByName(name: string): { field: VmcsField; high: boolean } | undefined {
  const f = BY_NAME.get(name);
  if (f !== undefined) return { field: f, high: false };
  if (name.endsWith('_HIGH')) {
    const g = BY_NAME.get(name.slice(0, -5));
    if (g !== undefined && g.width === '64') return { field: g, high: true };
  }
  return undefined;
}

/** Highest index (encoding bits 9:1) of any supported field: IA32_VMX_VMCS_ENUM[9:1] (SDM A.9). */
export function highestSupportedIndex(): number {
  let m = 0;
  for (const f of SUPPORTED_VMCS_FIELDS) m = Math.max(m, encodingIndex(f.encoding));
  return m;
}
