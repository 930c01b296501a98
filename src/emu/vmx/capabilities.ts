/**
 * The VMX capability MSRs our core reports (SDM Vol. 3D Appendix A), modelled on an Intel core
 * with EPT, VPID, unrestricted guest and the VMX-preemption timer. Everything that depends on
 * what we implement is derived from controls.ts (control bits) and vmcs-fields.ts (fields), so the
 * MSRs advertise exactly what the emulator does and nothing else.
 *
 * Values are pairs of 32-bit halves (RDMSR returns EDX:EAX; no BigInt on the CPU's path).
 *
 * Choices, each a real core's behaviour:
 * - VMCS revision identifier VMCS_REVISION_ID: ours, because our VMCS layout is ours
 *   (vmcs-fields.ts); VMCS/VMXON region size 4096; VMCS memory type WB.
 * - TRUE controls (bit 55) with the usual Intel allowed-0 settings (CR3-load/store exiting and
 *   save/load debug controls may be 0); INS/OUTS instruction information (bit 54).
 * - EPT: 4-level walks, UC and WB paging-structure memory types, 2 MiB and 1 GiB pages,
 *   execute-only translations, INVEPT single- and all-context. No accessed/dirty flags and no
 *   advanced EPT-violation information: guest paging-structure reads stay EPT reads (only the
 *   processor's A/D updates of guest entries are EPT writes, as on every core) and EPT A/D bits
 *   are never set (EPTP bit 6 must be 0), which keeps the nested walk the lab shows exactly the
 *   SDM's basic one.
 * - VPID: INVVPID individual-address, single-context, all-context and single-context-retaining-
 *   globals.
 * - MISC: preemption timer counts at TSC >> 5, CR3-target count 4, activity states HLT and
 *   wait-for-SIPI (no shutdown), MSR lists up to 512 entries, LMA saved in the "IA-32e mode guest"
 *   control on exit, VMWRITE to exit-information fields NOT allowed (VMfailValid 13).
 * - VM functions: EPTP switching (function 0).
 */

import {
  type ControlGroup, PIN_BASED_CONTROLS, PRIMARY_PROCBASED_CONTROLS, SECONDARY_PROCBASED_CONTROLS, VM_EXIT_CONTROLS,
  VM_ENTRY_CONTROLS, supportedMask,
} from './controls';
import { CR4_IMPLEMENTED, CR4_VMXE } from '../cpu/state';
import { VMCS_REGION_SIZE, highestSupportedIndex } from './vmcs-fields';

// ---- MSR numbers (SDM Vol. 4 Table 2-2; Vol. 3D Appendix A) ----
export const MSR_IA32_VMX_BASIC = 0x480;
export const MSR_IA32_VMX_PINBASED_CTLS = 0x481;
export const MSR_IA32_VMX_PROCBASED_CTLS = 0x482;
export const MSR_IA32_VMX_EXIT_CTLS = 0x483;
export const MSR_IA32_VMX_ENTRY_CTLS = 0x484;
export const MSR_IA32_VMX_MISC = 0x485;
export const MSR_IA32_VMX_CR0_FIXED0 = 0x486;
export const MSR_IA32_VMX_CR0_FIXED1 = 0x487;
export const MSR_IA32_VMX_CR4_FIXED0 = 0x488;
export const MSR_IA32_VMX_CR4_FIXED1 = 0x489;
export const MSR_IA32_VMX_VMCS_ENUM = 0x48a;
export const MSR_IA32_VMX_PROCBASED_CTLS2 = 0x48b;
export const MSR_IA32_VMX_EPT_VPID_CAP = 0x48c;
export const MSR_IA32_VMX_TRUE_PINBASED_CTLS = 0x48d;
export const MSR_IA32_VMX_TRUE_PROCBASED_CTLS = 0x48e;
export const MSR_IA32_VMX_TRUE_EXIT_CTLS = 0x48f;
export const MSR_IA32_VMX_TRUE_ENTRY_CTLS = 0x490;
export const MSR_IA32_VMX_VMFUNC = 0x491;

/**
 * Our VMCS revision identifier (bits 30:0 of IA32_VMX_BASIC and of every VMCS/VMXON region):
 * "VMXL" in ASCII, since it names our own region layout, which no real CPU shares.
 */
export const VMCS_REVISION_ID = 0x564d584c;

/** A 64-bit MSR value as halves: RDMSR puts `lo` in EAX and `hi` in EDX. */
export interface MsrValue { readonly lo: number; readonly hi: number }

export interface CapabilityMsr {
  readonly msr: number;
  /** Linux msr-index.h name, e.g. MSR_IA32_VMX_BASIC. */
  readonly name: string;
  readonly value: MsrValue;
  /** The Appendix A section that defines its format. */
  readonly sdm: string;
}

const v = (lo: number, hi: number): MsrValue => ({ lo: lo >>> 0, hi: hi >>> 0 });

/**
 * A VMX control capability MSR (SDM A.3-A.5): bits 31:0 allowed-0 settings (a 1 there means the
 * control must be 1), bits 63:32 allowed-1 settings (a 0 there means the control must be 0).
 * Non-TRUE MSRs report the whole default1 class as must-be-1 (SDM A.2); TRUE MSRs release the
 * default1 bits our core lets software clear.
 */
function controlCapability(g: ControlGroup, trueMsr: boolean): MsrValue {
  const allowed0 = trueMsr ? g.default1 & ~g.clearable : g.default1;
  const allowed1 = g.default1 | supportedMask(g);
  return v(allowed0, allowed1);
}

/** IA32_VMX_BASIC (SDM A.1). */
const BASIC_MEMTYPE_WB = 6;
const BASIC = v(VMCS_REVISION_ID, VMCS_REGION_SIZE /* bits 44:32 */ | (BASIC_MEMTYPE_WB << 18) /* 53:50 */ | (1 << 22) /* 54 INS/OUTS info */ | (1 << 23) /* 55 TRUE controls */);

/** IA32_VMX_MISC (SDM A.6). */
export const PREEMPTION_TIMER_RATE = 5;
export const CR3_TARGET_COUNT_MAX = 4;
/** Recommended maximum MSR-list entries: 512 * (N + 1) with N = bits 27:25 (SDM A.6). */
export const MSR_LIST_MAX_ENTRIES = 512;
const MISC = v(
  PREEMPTION_TIMER_RATE            // bits 4:0: timer ticks when TSC bit 5 changes
  | (1 << 5)                       // bit 5: VM exits store EFER.LMA into "IA-32e mode guest"
  | (1 << 6)                       // bit 6: activity state HLT (bit 7, shutdown: no)
  | (1 << 8)                       // bit 8: activity state wait-for-SIPI (vmx/signals.ts)
  | (CR3_TARGET_COUNT_MAX << 16)   // bits 24:16: number of CR3-target values
  | (0 << 25),                     // bits 27:25: N = 0 → 512 MSR-list entries; bit 29 = 0: no VMWRITE to exit information
  0,                               // bits 63:32: MSEG revision identifier 0
);

/** CR0 bits fixed to 1 in VMX operation: PE, NE, PG (SDM A.7; unrestricted guest relaxes PE/PG for guests). */
const CR0_FIXED0 = v(0x80000021, 0);
/** CR0 bits allowed to be 1: bits 31:0 (SDM A.7). */
const CR0_FIXED1 = v(0xffffffff, 0);
/** CR4 bits fixed to 1 in VMX operation: VMXE (SDM A.8). */
const CR4_FIXED0 = v(0x00002000, 0);
/** CR4 bits allowed to be 1 in VMX operation (SDM A.8): exactly the CR4 bits our CPU implements, plus VMXE. */
export const CR4_SUPPORTED_BITS = CR4_IMPLEMENTED | CR4_VMXE;
const CR4_FIXED1 = v(CR4_SUPPORTED_BITS, 0);

/** IA32_VMX_VMCS_ENUM (SDM A.9): bits 9:1 the highest index of any supported field. */
const VMCS_ENUM = v(highestSupportedIndex() << 1, 0);

/** IA32_VMX_EPT_VPID_CAP (SDM A.10). */
export const EPT_CAP_EXECUTE_ONLY = 1 << 0;
export const EPT_CAP_PAGE_WALK_4 = 1 << 6;
export const EPT_CAP_PAGE_WALK_5 = 1 << 7;
export const EPT_CAP_MEMTYPE_UC = 1 << 8;
export const EPT_CAP_MEMTYPE_WB = 1 << 14;
export const EPT_CAP_2MB_PAGE = 1 << 16;
export const EPT_CAP_1GB_PAGE = 1 << 17;
export const EPT_CAP_INVEPT = 1 << 20;
export const EPT_CAP_AD_FLAGS = 1 << 21;
export const EPT_CAP_ADVANCED_EXIT_INFO = 1 << 22;
export const EPT_CAP_SSS = 1 << 23;
export const EPT_CAP_INVEPT_SINGLE_CONTEXT = 1 << 25;
export const EPT_CAP_INVEPT_ALL_CONTEXT = 1 << 26;
/** High-half bits (bit 32 + n). */
export const VPID_CAP_INVVPID = 1 << 0;
export const VPID_CAP_INVVPID_INDIVIDUAL_ADDR = 1 << 8;
export const VPID_CAP_INVVPID_SINGLE_CONTEXT = 1 << 9;
export const VPID_CAP_INVVPID_ALL_CONTEXT = 1 << 10;
export const VPID_CAP_INVVPID_SINGLE_CONTEXT_RETAIN_GLOBALS = 1 << 11;

const EPT_VPID_CAP = v(
  EPT_CAP_EXECUTE_ONLY | EPT_CAP_PAGE_WALK_4 | EPT_CAP_MEMTYPE_UC | EPT_CAP_MEMTYPE_WB | EPT_CAP_2MB_PAGE | EPT_CAP_1GB_PAGE
  | EPT_CAP_INVEPT | EPT_CAP_INVEPT_SINGLE_CONTEXT | EPT_CAP_INVEPT_ALL_CONTEXT,
  VPID_CAP_INVVPID | VPID_CAP_INVVPID_INDIVIDUAL_ADDR | VPID_CAP_INVVPID_SINGLE_CONTEXT | VPID_CAP_INVVPID_ALL_CONTEXT
  | VPID_CAP_INVVPID_SINGLE_CONTEXT_RETAIN_GLOBALS,
);

/** IA32_VMX_VMFUNC (SDM A.11): bit 0 EPTP switching. */
export const VMFUNC_EPTP_SWITCHING = 1 << 0;
const VMFUNC = v(VMFUNC_EPTP_SWITCHING, 0);

/** Every capability MSR we implement, by number. */
export const VMX_CAPABILITY_MSRS: readonly CapabilityMsr[] = [
  { msr: MSR_IA32_VMX_BASIC, name: 'MSR_IA32_VMX_BASIC', value: BASIC, sdm: 'SDM A.1' },
  { msr: MSR_IA32_VMX_PINBASED_CTLS, name: 'MSR_IA32_VMX_PINBASED_CTLS', value: controlCapability(PIN_BASED_CONTROLS, false), sdm: 'SDM A.3.1' },
  { msr: MSR_IA32_VMX_PROCBASED_CTLS, name: 'MSR_IA32_VMX_PROCBASED_CTLS', value: controlCapability(PRIMARY_PROCBASED_CONTROLS, false), sdm: 'SDM A.3.2' },
  { msr: MSR_IA32_VMX_EXIT_CTLS, name: 'MSR_IA32_VMX_EXIT_CTLS', value: controlCapability(VM_EXIT_CONTROLS, false), sdm: 'SDM A.4.1' },
  { msr: MSR_IA32_VMX_ENTRY_CTLS, name: 'MSR_IA32_VMX_ENTRY_CTLS', value: controlCapability(VM_ENTRY_CONTROLS, false), sdm: 'SDM A.5' },
  { msr: MSR_IA32_VMX_MISC, name: 'MSR_IA32_VMX_MISC', value: MISC, sdm: 'SDM A.6' },
  { msr: MSR_IA32_VMX_CR0_FIXED0, name: 'MSR_IA32_VMX_CR0_FIXED0', value: CR0_FIXED0, sdm: 'SDM A.7' },
  { msr: MSR_IA32_VMX_CR0_FIXED1, name: 'MSR_IA32_VMX_CR0_FIXED1', value: CR0_FIXED1, sdm: 'SDM A.7' },
  { msr: MSR_IA32_VMX_CR4_FIXED0, name: 'MSR_IA32_VMX_CR4_FIXED0', value: CR4_FIXED0, sdm: 'SDM A.8' },
  { msr: MSR_IA32_VMX_CR4_FIXED1, name: 'MSR_IA32_VMX_CR4_FIXED1', value: CR4_FIXED1, sdm: 'SDM A.8' },
  { msr: MSR_IA32_VMX_VMCS_ENUM, name: 'MSR_IA32_VMX_VMCS_ENUM', value: VMCS_ENUM, sdm: 'SDM A.9' },
  { msr: MSR_IA32_VMX_PROCBASED_CTLS2, name: 'MSR_IA32_VMX_PROCBASED_CTLS2', value: controlCapability(SECONDARY_PROCBASED_CONTROLS, false), sdm: 'SDM A.3.3' },
  { msr: MSR_IA32_VMX_EPT_VPID_CAP, name: 'MSR_IA32_VMX_EPT_VPID_CAP', value: EPT_VPID_CAP, sdm: 'SDM A.10' },
  { msr: MSR_IA32_VMX_TRUE_PINBASED_CTLS, name: 'MSR_IA32_VMX_TRUE_PINBASED_CTLS', value: controlCapability(PIN_BASED_CONTROLS, true), sdm: 'SDM A.3.1' },
  { msr: MSR_IA32_VMX_TRUE_PROCBASED_CTLS, name: 'MSR_IA32_VMX_TRUE_PROCBASED_CTLS', value: controlCapability(PRIMARY_PROCBASED_CONTROLS, true), sdm: 'SDM A.3.2' },
  { msr: MSR_IA32_VMX_TRUE_EXIT_CTLS, name: 'MSR_IA32_VMX_TRUE_EXIT_CTLS', value: controlCapability(VM_EXIT_CONTROLS, true), sdm: 'SDM A.4.1' },
  { msr: MSR_IA32_VMX_TRUE_ENTRY_CTLS, name: 'MSR_IA32_VMX_TRUE_ENTRY_CTLS', value: controlCapability(VM_ENTRY_CONTROLS, true), sdm: 'SDM A.5' },
  { msr: MSR_IA32_VMX_VMFUNC, name: 'MSR_IA32_VMX_VMFUNC', value: VMFUNC, sdm: 'SDM A.11' },
];

const BY_MSR: ReadonlyMap<number, CapabilityMsr> = new Map(VMX_CAPABILITY_MSRS.map((c) => [c.msr, c]));

/**
 * RDMSR of a VMX capability MSR: the value, or undefined for numbers that are not one of ours
 * (0x492 PROCBASED_CTLS3 and 0x493 EXIT_CTLS2 exist only when tertiary / secondary exit controls
 * are supported, SDM A.3.4, A.4.2; we support neither, so RDMSR of them is #GP like any unknown MSR).
 */
export function readVmxCapabilityMsr(msr: number): MsrValue | undefined {
  return BY_MSR.get(msr)?.value;
}

/**
 * The settings a control field must have on VM entry given the capability MSR in force (SDM
 * §26.2.1.1): with TRUE controls advertised (IA32_VMX_BASIC[55] = 1), the TRUE MSR's allowed
 * settings apply to pin-based, primary processor-based, exit and entry controls.
 */
export function controlBounds(g: ControlGroup): { mustBe1: number; mayBe1: number } {
  const c = controlCapability(g, g !== SECONDARY_PROCBASED_CONTROLS);
  return { mustBe1: c.lo, mayBe1: c.hi };
}
