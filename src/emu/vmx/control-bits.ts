/**
 * The control bits the VMX implementation tests on its hot paths, as plain numbers resolved
 * once from the one table (controls.ts) by their vmx.h names, so nothing is written twice.
 */

import { controlMask } from './controls';

// Pin-based (SDM Table 24-5).
export const PIN_EXT_INTR = controlMask('PIN_BASED_EXT_INTR_MASK');
export const PIN_NMI_EXITING = controlMask('PIN_BASED_NMI_EXITING');
export const PIN_VIRTUAL_NMIS = controlMask('PIN_BASED_VIRTUAL_NMIS');
export const PIN_PREEMPTION_TIMER = controlMask('PIN_BASED_VMX_PREEMPTION_TIMER');

// Primary processor-based (SDM Table 24-6).
export const CPU_INTR_WINDOW = controlMask('CPU_BASED_INTR_WINDOW_EXITING');
export const CPU_TSC_OFFSETTING = controlMask('CPU_BASED_USE_TSC_OFFSETTING');
export const CPU_HLT = controlMask('CPU_BASED_HLT_EXITING');
export const CPU_INVLPG = controlMask('CPU_BASED_INVLPG_EXITING');
export const CPU_MWAIT = controlMask('CPU_BASED_MWAIT_EXITING');
export const CPU_RDPMC = controlMask('CPU_BASED_RDPMC_EXITING');
export const CPU_RDTSC = controlMask('CPU_BASED_RDTSC_EXITING');
export const CPU_CR3_LOAD = controlMask('CPU_BASED_CR3_LOAD_EXITING');
export const CPU_CR3_STORE = controlMask('CPU_BASED_CR3_STORE_EXITING');
export const CPU_CR8_LOAD = controlMask('CPU_BASED_CR8_LOAD_EXITING');
export const CPU_CR8_STORE = controlMask('CPU_BASED_CR8_STORE_EXITING');
export const CPU_NMI_WINDOW = controlMask('CPU_BASED_NMI_WINDOW_EXITING');
export const CPU_MOV_DR = controlMask('CPU_BASED_MOV_DR_EXITING');
export const CPU_UNCOND_IO = controlMask('CPU_BASED_UNCOND_IO_EXITING');
export const CPU_IO_BITMAPS = controlMask('CPU_BASED_USE_IO_BITMAPS');
export const CPU_MTF = controlMask('CPU_BASED_MONITOR_TRAP_FLAG');
export const CPU_MSR_BITMAPS = controlMask('CPU_BASED_USE_MSR_BITMAPS');
export const CPU_MONITOR = controlMask('CPU_BASED_MONITOR_EXITING');
export const CPU_PAUSE = controlMask('CPU_BASED_PAUSE_EXITING');
export const CPU_SECONDARY = controlMask('CPU_BASED_ACTIVATE_SECONDARY_CONTROLS') | 0;

// Secondary processor-based (SDM Table 24-7).
export const SEC_EPT = controlMask('SECONDARY_EXEC_ENABLE_EPT');
export const SEC_DESC = controlMask('SECONDARY_EXEC_DESC');
export const SEC_RDTSCP = controlMask('SECONDARY_EXEC_ENABLE_RDTSCP');
export const SEC_VPID = controlMask('SECONDARY_EXEC_ENABLE_VPID');
export const SEC_WBINVD = controlMask('SECONDARY_EXEC_WBINVD_EXITING');
export const SEC_UNRESTRICTED_GUEST = controlMask('SECONDARY_EXEC_UNRESTRICTED_GUEST');
export const SEC_INVPCID = controlMask('SECONDARY_EXEC_ENABLE_INVPCID');
export const SEC_VMFUNC = controlMask('SECONDARY_EXEC_ENABLE_VMFUNC');

// VM-exit controls (SDM Table 24-13).
export const EXIT_SAVE_DEBUG = controlMask('VM_EXIT_SAVE_DEBUG_CONTROLS');
export const EXIT_HOST_64 = controlMask('VM_EXIT_HOST_ADDR_SPACE_SIZE');
export const EXIT_ACK_INTR = controlMask('VM_EXIT_ACK_INTR_ON_EXIT');
export const EXIT_SAVE_PAT = controlMask('VM_EXIT_SAVE_IA32_PAT');
export const EXIT_LOAD_PAT = controlMask('VM_EXIT_LOAD_IA32_PAT');
export const EXIT_SAVE_EFER = controlMask('VM_EXIT_SAVE_IA32_EFER');
export const EXIT_LOAD_EFER = controlMask('VM_EXIT_LOAD_IA32_EFER');
export const EXIT_SAVE_TIMER = controlMask('VM_EXIT_SAVE_VMX_PREEMPTION_TIMER');

// VM-entry controls (SDM Table 24-15).
export const ENTRY_LOAD_DEBUG = controlMask('VM_ENTRY_LOAD_DEBUG_CONTROLS');
export const ENTRY_IA32E = controlMask('VM_ENTRY_IA32E_MODE');
export const ENTRY_LOAD_PAT = controlMask('VM_ENTRY_LOAD_IA32_PAT');
export const ENTRY_LOAD_EFER = controlMask('VM_ENTRY_LOAD_IA32_EFER');
