/**
 * SDM Vol. 3C §26.2.1: checks on the VMX controls (VM-execution, VM-exit and VM-entry control
 * fields), in the order the SDM lists them. A failure is VMfailValid(7).
 *
 * Checks that depend on a control our core does not support (TPR shadow and APIC
 * virtualization, posted interrupts, PML, VMCS shadowing, #VE, sub-page permissions, TSC
 * scaling, mode-based EPT execute, secondary VM-exit controls, entry to SMM, PT, CET, PKRS, FRED)
 * cannot be reached: the capability MSRs report their allowed-1 setting as 0, so the
 * reserved-bit checks below reject the control first, with a message naming it.
 */

import {
  type ControlGroup, PIN_BASED_CONTROLS, PRIMARY_PROCBASED_CONTROLS, SECONDARY_PROCBASED_CONTROLS, VM_EXIT_CONTROLS,
  VM_ENTRY_CONTROLS, controlMask,
} from '../controls';
import {
  INTR_INFO_VALID_MASK, INTR_INFO_DELIVER_CODE_MASK, INTR_INFO_RESERVED_MASK, INTR_TYPE_RESERVED, INTR_TYPE_NMI_INTR,
  INTR_TYPE_HARD_EXCEPTION, INTR_TYPE_SOFT_INTR, INTR_TYPE_PRIV_SW_EXCEPTION, INTR_TYPE_SOFT_EXCEPTION, INTR_TYPE_OTHER_EVENT,
  INTERRUPTION_TYPES, VMX_EPTP_MT_MASK, VMX_EPTP_PWL_MASK, VMX_EPTP_PWL_4, VMX_EPTP_AD_ENABLE_BIT, VMX_EPTP_SSS_ENABLE_BIT,
  VMX_EPTP_RESERVED_LOW, VMX_VMFUNC_EPTP_SWITCHING, MEMORY_TYPES, exceptionName,
} from '../bit-fields';
import { EPT_CAP_MEMTYPE_UC, EPT_CAP_MEMTYPE_WB, EPT_CAP_PAGE_WALK_4, EPT_CAP_AD_FLAGS, EPT_CAP_SSS } from '../capabilities';
import { type EntryCheck, type EntryCheckFailure, defineCheck, fail } from './catalog';
import {
  type VmcsReader, type EntryCheckProcessor, type Caps, type EntryState, type ControlAllowed, enc, u32, hex, hex64,
  beyondMaxPhys, msrAreaEndBeyond, bitList,
} from './env';

const S1 = '26.2.1.1', S2 = '26.2.1.2', S3 = '26.2.1.3';
const ctl = (id: string, sdm: string, title: string): EntryCheck => defineCheck(`controls.${id}`, 'controls', sdm, title);

// ---- the checks, in SDM order ----
const PIN_ALLOWED0 = ctl('pin-allowed0', S1, 'Pin-based controls set every bit the capability MSR requires to be 1');
const PIN_ALLOWED1 = ctl('pin-allowed1', S1, 'Pin-based controls set no bit the capability MSR reports as unsupported');
const PROC_ALLOWED0 = ctl('proc-allowed0', S1, 'Primary processor-based controls set every bit the capability MSR requires to be 1');
const PROC_ALLOWED1 = ctl('proc-allowed1', S1, 'Primary processor-based controls set no unsupported bit');
const PROC2_ALLOWED0 = ctl('proc2-allowed0', S1, 'Secondary processor-based controls set every bit the capability MSR requires to be 1');
const PROC2_ALLOWED1 = ctl('proc2-allowed1', S1, 'Secondary processor-based controls (when activated) set no unsupported bit');
const CR3_TARGET_COUNT = ctl('cr3-target-count', S1, 'The CR3-target count is at most the number IA32_VMX_MISC[24:16] reports (4)');
const IO_BITMAP_ALIGN = ctl('io-bitmap-align', S1, 'With "use I/O bitmaps", bits 11:0 of each I/O-bitmap address are 0');
const IO_BITMAP_WIDTH = ctl('io-bitmap-width', S1, 'With "use I/O bitmaps", neither I/O-bitmap address sets a bit beyond MAXPHYADDR');
const MSR_BITMAP_ALIGN = ctl('msr-bitmap-align', S1, 'With "use MSR bitmaps", bits 11:0 of the MSR-bitmap address are 0');
const MSR_BITMAP_WIDTH = ctl('msr-bitmap-width', S1, 'With "use MSR bitmaps", the MSR-bitmap address sets no bit beyond MAXPHYADDR');
const VIRTUAL_NMIS = ctl('virtual-nmis-without-nmi-exiting', S1, '"Virtual NMIs" requires "NMI exiting"');
const NMI_WINDOW = ctl('nmi-window-without-virtual-nmis', S1, '"NMI-window exiting" requires "virtual NMIs"');
const VPID_ZERO = ctl('vpid-zero', S1, 'With "enable VPID", the VPID is not 0000H');
const EPTP_MEMTYPE = ctl('eptp-memory-type', S1, 'The EPTP memory type (bits 2:0) is one IA32_VMX_EPT_VPID_CAP reports (UC or WB)');
const EPTP_WALK = ctl('eptp-walk-length', S1, 'EPTP bits 5:3 (page-walk length - 1) are 3: a 4-level walk');
const EPTP_AD = ctl('eptp-ad', S1, 'EPTP bit 6 (accessed/dirty flags) is 0 unless IA32_VMX_EPT_VPID_CAP[21] reports support');
const EPTP_SSS = ctl('eptp-sss', S1, 'EPTP bit 7 (supervisor shadow stacks) is 0 unless IA32_VMX_EPT_VPID_CAP[23] reports support');
const EPTP_RESERVED = ctl('eptp-reserved', S1, 'EPTP bits 11:8 are 0');
const EPTP_WIDTH = ctl('eptp-width', S1, 'The EPTP sets no bit beyond MAXPHYADDR');
const UNRESTRICTED_NO_EPT = ctl('unrestricted-guest-without-ept', S1, '"Unrestricted guest" requires "enable EPT"');
const VMFUNC_RESERVED = ctl('vmfunc-reserved', S1, 'With "enable VM functions", VM-function controls set only functions IA32_VMX_VMFUNC reports');
const VMFUNC_EPT = ctl('eptp-switching-without-ept', S1, 'The EPTP-switching VM function requires "enable EPT"');
const EPTP_LIST_ALIGN = ctl('eptp-list-align', S1, 'With EPTP switching, bits 11:0 of the EPTP-list address are 0');
const EPTP_LIST_WIDTH = ctl('eptp-list-width', S1, 'With EPTP switching, the EPTP-list address sets no bit beyond MAXPHYADDR');

const EXIT_ALLOWED0 = ctl('exit-allowed0', S2, 'VM-exit controls set every bit the capability MSR requires to be 1');
const EXIT_ALLOWED1 = ctl('exit-allowed1', S2, 'VM-exit controls set no unsupported bit');
const SAVE_TIMER = ctl('save-timer-without-timer', S2, '"Save VMX-preemption timer value" requires "activate VMX-preemption timer"');
const MSR_STORE_ALIGN = ctl('exit-msr-store-align', S2, 'With a non-zero VM-exit MSR-store count, bits 3:0 of the address are 0');
const MSR_STORE_WIDTH = ctl('exit-msr-store-width', S2, 'With a non-zero VM-exit MSR-store count, the address sets no bit beyond MAXPHYADDR');
const MSR_STORE_END = ctl('exit-msr-store-end', S2, 'The last byte of the VM-exit MSR-store area sets no bit beyond MAXPHYADDR');
const EXIT_LOAD_ALIGN = ctl('exit-msr-load-align', S2, 'With a non-zero VM-exit MSR-load count, bits 3:0 of the address are 0');
const EXIT_LOAD_WIDTH = ctl('exit-msr-load-width', S2, 'With a non-zero VM-exit MSR-load count, the address sets no bit beyond MAXPHYADDR');
const EXIT_LOAD_END = ctl('exit-msr-load-end', S2, 'The last byte of the VM-exit MSR-load area sets no bit beyond MAXPHYADDR');

const ENTRY_ALLOWED0 = ctl('entry-allowed0', S3, 'VM-entry controls set every bit the capability MSR requires to be 1');
const ENTRY_ALLOWED1 = ctl('entry-allowed1', S3, 'VM-entry controls set no unsupported bit');
const INTR_TYPE = ctl('intr-type-reserved', S3, 'An injected event\'s interruption type is not reserved (1; 7 without monitor trap flag)');
const INTR_NMI_VECTOR = ctl('intr-nmi-vector', S3, 'An injected NMI has vector 2');
const INTR_EXC_VECTOR = ctl('intr-exception-vector', S3, 'An injected hardware exception has a vector at most 31');
const INTR_OTHER_VECTOR = ctl('intr-other-vector', S3, 'An injected "other event" has vector 0 (pending MTF VM exit)');
const INTR_ERROR_CODE = ctl('intr-deliver-error-code', S3,
  'Deliver-error-code is 1 iff the event is a hardware exception that pushes an error code (8, 10-14, 17) and the guest is in protected mode (or unrestricted guest is 0)');
const INTR_RESERVED = ctl('intr-reserved', S3, 'Bits 30:12 of the VM-entry interruption-information field are 0');
const INTR_ERROR_CODE_RESERVED = ctl('intr-error-code-reserved', S3, 'With deliver-error-code, bits 31:16 of the VM-entry exception error code are 0');
const INTR_LENGTH = ctl('intr-instruction-length', S3, 'A software interrupt or (privileged) software exception has a VM-entry instruction length of 1-15');
const ENTRY_LOAD_ALIGN = ctl('entry-msr-load-align', S3, 'With a non-zero VM-entry MSR-load count, bits 3:0 of the address are 0');
const ENTRY_LOAD_WIDTH = ctl('entry-msr-load-width', S3, 'With a non-zero VM-entry MSR-load count, the address sets no bit beyond MAXPHYADDR');
const ENTRY_LOAD_END = ctl('entry-msr-load-end', S3, 'The last byte of the VM-entry MSR-load area sets no bit beyond MAXPHYADDR');

// ---- fields ----
const PIN_BASED_VM_EXEC_CONTROL = enc('PIN_BASED_VM_EXEC_CONTROL');
const CPU_BASED_VM_EXEC_CONTROL = enc('CPU_BASED_VM_EXEC_CONTROL');
const SECONDARY_VM_EXEC_CONTROL = enc('SECONDARY_VM_EXEC_CONTROL');
const CR3_TARGET_COUNT_F = enc('CR3_TARGET_COUNT');
const IO_BITMAP_A = enc('IO_BITMAP_A');
const IO_BITMAP_B = enc('IO_BITMAP_B');
const MSR_BITMAP = enc('MSR_BITMAP');
const VIRTUAL_PROCESSOR_ID = enc('VIRTUAL_PROCESSOR_ID');
const EPT_POINTER = enc('EPT_POINTER');
const VM_FUNCTION_CONTROL = enc('VM_FUNCTION_CONTROL');
const EPTP_LIST_ADDRESS = enc('EPTP_LIST_ADDRESS');
const VM_EXIT_CONTROLS_F = enc('VM_EXIT_CONTROLS');
const VM_EXIT_MSR_STORE_COUNT = enc('VM_EXIT_MSR_STORE_COUNT');
const VM_EXIT_MSR_STORE_ADDR = enc('VM_EXIT_MSR_STORE_ADDR');
const VM_EXIT_MSR_LOAD_COUNT = enc('VM_EXIT_MSR_LOAD_COUNT');
const VM_EXIT_MSR_LOAD_ADDR = enc('VM_EXIT_MSR_LOAD_ADDR');
const VM_ENTRY_CONTROLS_F = enc('VM_ENTRY_CONTROLS');
const VM_ENTRY_MSR_LOAD_COUNT = enc('VM_ENTRY_MSR_LOAD_COUNT');
const VM_ENTRY_MSR_LOAD_ADDR = enc('VM_ENTRY_MSR_LOAD_ADDR');
const VM_ENTRY_INTR_INFO_FIELD = enc('VM_ENTRY_INTR_INFO_FIELD');
const VM_ENTRY_EXCEPTION_ERROR_CODE = enc('VM_ENTRY_EXCEPTION_ERROR_CODE');
const VM_ENTRY_INSTRUCTION_LEN = enc('VM_ENTRY_INSTRUCTION_LEN');
const GUEST_CR0 = enc('GUEST_CR0');

// ---- control bits ----
const NMI_EXITING = controlMask('PIN_BASED_NMI_EXITING');
const VIRTUAL_NMIS_BIT = controlMask('PIN_BASED_VIRTUAL_NMIS');
const PREEMPTION_TIMER = controlMask('PIN_BASED_VMX_PREEMPTION_TIMER');
const USE_IO_BITMAPS = controlMask('CPU_BASED_USE_IO_BITMAPS');
const USE_MSR_BITMAPS = controlMask('CPU_BASED_USE_MSR_BITMAPS');
const NMI_WINDOW_EXITING = controlMask('CPU_BASED_NMI_WINDOW_EXITING');
const MONITOR_TRAP_FLAG = controlMask('CPU_BASED_MONITOR_TRAP_FLAG');
const ACTIVATE_SECONDARY = controlMask('CPU_BASED_ACTIVATE_SECONDARY_CONTROLS');
const ENABLE_EPT = controlMask('SECONDARY_EXEC_ENABLE_EPT');
const ENABLE_VPID = controlMask('SECONDARY_EXEC_ENABLE_VPID');
const UNRESTRICTED_GUEST = controlMask('SECONDARY_EXEC_UNRESTRICTED_GUEST');
const ENABLE_VMFUNC = controlMask('SECONDARY_EXEC_ENABLE_VMFUNC');
const SAVE_PREEMPTION_TIMER = controlMask('VM_EXIT_SAVE_VMX_PREEMPTION_TIMER');
const IA32E_MODE = controlMask('VM_ENTRY_IA32E_MODE');

/** Exceptions that push an error code (SDM Vol. 3A Table 6-1): #DF #TS #NP #SS #GP #PF #AC. */
const ERROR_CODE_VECTORS = (1 << 8) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 14) | (1 << 17);

function bitName(g: ControlGroup, bit: number): string {
  return g.bits.find((b) => b.bit === bit)?.name ?? `reserved bit ${bit}`;
}

/** The two reserved-bit checks of one control field against its capability MSR (SDM A.3-A.5). */
function reservedBits(value: number, a: ControlAllowed, g: ControlGroup, c0: EntryCheck, c1: EntryCheck): EntryCheckFailure | undefined {
  const missing = u32(a.mustBe1 & ~value);
  if (missing !== 0) {
    return fail(c0, [g.field], `${g.field}=${hex(value)} must set ${bitList(missing, (b) => bitName(g, b))} (${a.msr} allowed-0 settings ${hex(a.mustBe1)})`);
  }
  const extra = u32(value & ~a.mayBe1);
  if (extra !== 0) {
    return fail(c1, [g.field], `${g.field}=${hex(value)} sets ${bitList(extra, (b) => bitName(g, b))}, which this processor does not support (${a.msr} allowed-1 settings ${hex(a.mayBe1)})`);
  }
  return undefined;
}

/** 4 KiB-aligned physical address within MAXPHYADDR. */
function pageAddress(r: VmcsReader, p: EntryCheckProcessor, e: number, name: string, align: EntryCheck, width: EntryCheck, why: string): EntryCheckFailure | undefined {
  const lo = r.lo(e), hi = r.hi(e);
  if ((lo & 0xfff) !== 0) return fail(align, [name], `${name}=${hex64(lo, hi)} must be 4-KiB aligned (bits 11:0 = 0) ${why}`);
  if (beyondMaxPhys(lo, hi, p.maxPhysAddr)) return fail(width, [name], `${name}=${hex64(lo, hi)} sets bits beyond the ${p.maxPhysAddr}-bit physical-address width`);
  return undefined;
}

/** An MSR-store/load area: 16-byte aligned, start and last byte within MAXPHYADDR (SDM 26.2.1.2-3). */
function msrArea(r: VmcsReader, p: EntryCheckProcessor, countE: number, addrE: number, countName: string, addrName: string,
  align: EntryCheck, width: EntryCheck, end: EntryCheck): EntryCheckFailure | undefined {
  const count = u32(r.lo(countE));
  if (count === 0) return undefined;
  const lo = r.lo(addrE), hi = r.hi(addrE);
  if ((lo & 0xf) !== 0) return fail(align, [addrName, countName], `${addrName}=${hex64(lo, hi)} must be 16-byte aligned (bits 3:0 = 0) when ${countName}=${count}`);
  if (beyondMaxPhys(lo, hi, p.maxPhysAddr)) return fail(width, [addrName, countName], `${addrName}=${hex64(lo, hi)} sets bits beyond the ${p.maxPhysAddr}-bit physical-address width`);
  if (msrAreaEndBeyond(lo, hi, count, p.maxPhysAddr)) {
    return fail(end, [addrName, countName], `the ${count} 16-byte entries at ${addrName}=${hex64(lo, hi)} (${countName}) end beyond the ${p.maxPhysAddr}-bit physical-address width`);
  }
  return undefined;
}

/** SDM 26.2.1.1: VM-execution control fields. */
function checkExecutionControls(r: VmcsReader, p: EntryCheckProcessor, caps: Caps, s: EntryState): EntryCheckFailure | undefined {
  const pin = u32(r.lo(PIN_BASED_VM_EXEC_CONTROL));
  const proc = u32(r.lo(CPU_BASED_VM_EXEC_CONTROL));
  s.pin = pin;
  s.proc = proc;
  // Reserved bits in the pin-based and primary processor-based controls (allowed-0/allowed-1
  // settings; the TRUE_ MSRs when IA32_VMX_BASIC[55] = 1).
  let f = reservedBits(pin, caps.pin, PIN_BASED_CONTROLS, PIN_ALLOWED0, PIN_ALLOWED1)
    ?? reservedBits(proc, caps.proc, PRIMARY_PROCBASED_CONTROLS, PROC_ALLOWED0, PROC_ALLOWED1);
  if (f !== undefined) return f;
  // Secondary controls are checked only when activated; otherwise they all act as 0.
  const proc2 = (proc & ACTIVATE_SECONDARY) !== 0 ? u32(r.lo(SECONDARY_VM_EXEC_CONTROL)) : 0;
  s.proc2 = proc2;
  if ((proc & ACTIVATE_SECONDARY) !== 0) {
    f = reservedBits(proc2, caps.proc2, SECONDARY_PROCBASED_CONTROLS, PROC2_ALLOWED0, PROC2_ALLOWED1);
    if (f !== undefined) return f;
  }
  s.ept = (proc2 & ENABLE_EPT) !== 0;
  s.unrestricted = (proc2 & UNRESTRICTED_GUEST) !== 0;
  // CR3-target count: at most what IA32_VMX_MISC[24:16] reports.
  const maxTargets = (caps.misc >>> 16) & 0x1ff;
  const targets = u32(r.lo(CR3_TARGET_COUNT_F));
  if (targets > maxTargets) return fail(CR3_TARGET_COUNT, ['CR3_TARGET_COUNT'], `CR3_TARGET_COUNT=${targets} exceeds the ${maxTargets} CR3-target values this processor supports`);
  // I/O bitmaps A and B; MSR bitmaps.
  if ((proc & USE_IO_BITMAPS) !== 0) {
    f = pageAddress(r, p, IO_BITMAP_A, 'IO_BITMAP_A', IO_BITMAP_ALIGN, IO_BITMAP_WIDTH, 'with CPU_BASED_USE_IO_BITMAPS=1')
      ?? pageAddress(r, p, IO_BITMAP_B, 'IO_BITMAP_B', IO_BITMAP_ALIGN, IO_BITMAP_WIDTH, 'with CPU_BASED_USE_IO_BITMAPS=1');
    if (f !== undefined) return f;
  }
  if ((proc & USE_MSR_BITMAPS) !== 0) {
    f = pageAddress(r, p, MSR_BITMAP, 'MSR_BITMAP', MSR_BITMAP_ALIGN, MSR_BITMAP_WIDTH, 'with CPU_BASED_USE_MSR_BITMAPS=1');
    if (f !== undefined) return f;
  }
  // NMI exiting / virtual NMIs / NMI-window exiting.
  if ((pin & NMI_EXITING) === 0 && (pin & VIRTUAL_NMIS_BIT) !== 0) {
    return fail(VIRTUAL_NMIS, ['PIN_BASED_VM_EXEC_CONTROL'], `PIN_BASED_VIRTUAL_NMIS=1 requires PIN_BASED_NMI_EXITING=1 (PIN_BASED_VM_EXEC_CONTROL=${hex(pin)})`);
  }
  if ((pin & VIRTUAL_NMIS_BIT) === 0 && (proc & NMI_WINDOW_EXITING) !== 0) {
    return fail(NMI_WINDOW, ['CPU_BASED_VM_EXEC_CONTROL', 'PIN_BASED_VM_EXEC_CONTROL'], `CPU_BASED_NMI_WINDOW_EXITING=1 requires PIN_BASED_VIRTUAL_NMIS=1 (CPU_BASED_VM_EXEC_CONTROL=${hex(proc)}, PIN_BASED_VM_EXEC_CONTROL=${hex(pin)})`);
  }
  // VPID.
  if ((proc2 & ENABLE_VPID) !== 0 && (r.lo(VIRTUAL_PROCESSOR_ID) & 0xffff) === 0) {
    return fail(VPID_ZERO, ['VIRTUAL_PROCESSOR_ID', 'SECONDARY_VM_EXEC_CONTROL'], 'VIRTUAL_PROCESSOR_ID must not be 0 with SECONDARY_EXEC_ENABLE_VPID=1 (VPID 0 is the host\'s)');
  }
  // EPTP (SDM Table 24-8).
  if (s.ept) {
    const lo = r.lo(EPT_POINTER), hi = r.hi(EPT_POINTER);
    const v = (): string => hex64(lo, hi);
    const mt = lo & VMX_EPTP_MT_MASK;
    const mtOk = (mt === 0 && (caps.eptVpidLo & EPT_CAP_MEMTYPE_UC) !== 0) || (mt === 6 && (caps.eptVpidLo & EPT_CAP_MEMTYPE_WB) !== 0);
    if (!mtOk) return fail(EPTP_MEMTYPE, ['EPT_POINTER'], `EPT_POINTER=${v()} has memory type ${mt} (${MEMORY_TYPES[mt]}); this processor supports UC (0) and WB (6) for EPT paging structures`);
    if ((lo & VMX_EPTP_PWL_MASK) !== VMX_EPTP_PWL_4 || (caps.eptVpidLo & EPT_CAP_PAGE_WALK_4) === 0) {
      return fail(EPTP_WALK, ['EPT_POINTER'], `EPT_POINTER=${v()} has page-walk length ${((lo & VMX_EPTP_PWL_MASK) >>> 3) + 1}; bits 5:3 must be 3 (a 4-level EPT walk)`);
    }
    if ((lo & VMX_EPTP_AD_ENABLE_BIT) !== 0 && (caps.eptVpidLo & EPT_CAP_AD_FLAGS) === 0) {
      return fail(EPTP_AD, ['EPT_POINTER'], `EPT_POINTER=${v()} sets bit 6 (EPT accessed/dirty flags), which this processor does not support`);
    }
    if ((lo & VMX_EPTP_SSS_ENABLE_BIT) !== 0 && (caps.eptVpidLo & EPT_CAP_SSS) === 0) {
      return fail(EPTP_SSS, ['EPT_POINTER'], `EPT_POINTER=${v()} sets bit 7 (supervisor shadow-stack control), which this processor does not support`);
    }
    if ((lo & VMX_EPTP_RESERVED_LOW) !== 0) return fail(EPTP_RESERVED, ['EPT_POINTER'], `EPT_POINTER=${v()} sets reserved bits 11:8`);
    if (beyondMaxPhys(lo, hi, p.maxPhysAddr)) return fail(EPTP_WIDTH, ['EPT_POINTER'], `EPT_POINTER=${v()} sets bits beyond the ${p.maxPhysAddr}-bit physical-address width`);
  }
  // Unrestricted guest needs EPT (the guest's unpaged modes run on guest-physical addresses).
  if (s.unrestricted && !s.ept) {
    return fail(UNRESTRICTED_NO_EPT, ['SECONDARY_VM_EXEC_CONTROL'], `SECONDARY_EXEC_UNRESTRICTED_GUEST=1 requires SECONDARY_EXEC_ENABLE_EPT=1 (SECONDARY_VM_EXEC_CONTROL=${hex(proc2)})`);
  }
  // VM functions.
  if ((proc2 & ENABLE_VMFUNC) !== 0) {
    const lo = r.lo(VM_FUNCTION_CONTROL), hi = r.hi(VM_FUNCTION_CONTROL);
    if ((lo & ~caps.vmfunc.lo) !== 0 || (hi & ~caps.vmfunc.hi) !== 0) {
      return fail(VMFUNC_RESERVED, ['VM_FUNCTION_CONTROL'], `VM_FUNCTION_CONTROL=${hex64(lo, hi)} enables VM functions this processor does not support (IA32_VMX_VMFUNC=${hex64(caps.vmfunc.lo, caps.vmfunc.hi)})`);
    }
    if ((lo & VMX_VMFUNC_EPTP_SWITCHING) !== 0) {
      if (!s.ept) return fail(VMFUNC_EPT, ['VM_FUNCTION_CONTROL', 'SECONDARY_VM_EXEC_CONTROL'], `the EPTP-switching VM function (VM_FUNCTION_CONTROL bit 0) requires SECONDARY_EXEC_ENABLE_EPT=1 (SECONDARY_VM_EXEC_CONTROL=${hex(proc2)})`);
      f = pageAddress(r, p, EPTP_LIST_ADDRESS, 'EPTP_LIST_ADDRESS', EPTP_LIST_ALIGN, EPTP_LIST_WIDTH, 'with EPTP switching enabled');
      if (f !== undefined) return f;
    }
  }
  return undefined;
}

/** SDM 26.2.1.2: VM-exit control fields. */
function checkExitControls(r: VmcsReader, p: EntryCheckProcessor, caps: Caps, s: EntryState): EntryCheckFailure | undefined {
  const exit = u32(r.lo(VM_EXIT_CONTROLS_F));
  s.exit = exit;
  const f = reservedBits(exit, caps.exit, VM_EXIT_CONTROLS, EXIT_ALLOWED0, EXIT_ALLOWED1);
  if (f !== undefined) return f;
  if ((s.pin & PREEMPTION_TIMER) === 0 && (exit & SAVE_PREEMPTION_TIMER) !== 0) {
    return fail(SAVE_TIMER, ['VM_EXIT_CONTROLS', 'PIN_BASED_VM_EXEC_CONTROL'], `VM_EXIT_SAVE_VMX_PREEMPTION_TIMER=1 requires PIN_BASED_VMX_PREEMPTION_TIMER=1 (VM_EXIT_CONTROLS=${hex(exit)}, PIN_BASED_VM_EXEC_CONTROL=${hex(s.pin)})`);
  }
  return msrArea(r, p, VM_EXIT_MSR_STORE_COUNT, VM_EXIT_MSR_STORE_ADDR, 'VM_EXIT_MSR_STORE_COUNT', 'VM_EXIT_MSR_STORE_ADDR', MSR_STORE_ALIGN, MSR_STORE_WIDTH, MSR_STORE_END)
    ?? msrArea(r, p, VM_EXIT_MSR_LOAD_COUNT, VM_EXIT_MSR_LOAD_ADDR, 'VM_EXIT_MSR_LOAD_COUNT', 'VM_EXIT_MSR_LOAD_ADDR', EXIT_LOAD_ALIGN, EXIT_LOAD_WIDTH, EXIT_LOAD_END);
}

/** SDM 26.2.1.3: VM-entry control fields, event injection, the MSR-load area. */
function checkEntryControls(r: VmcsReader, p: EntryCheckProcessor, caps: Caps, s: EntryState): EntryCheckFailure | undefined {
  const entry = u32(r.lo(VM_ENTRY_CONTROLS_F));
  s.entry = entry;
  s.ia32eGuest = (entry & IA32E_MODE) !== 0;
  const f = reservedBits(entry, caps.entry, VM_ENTRY_CONTROLS, ENTRY_ALLOWED0, ENTRY_ALLOWED1);
  if (f !== undefined) return f;
  const info = u32(r.lo(VM_ENTRY_INTR_INFO_FIELD));
  if ((info & INTR_INFO_VALID_MASK) !== 0) {
    const F = 'VM_ENTRY_INTR_INFO_FIELD';
    const type = info & 0x700;
    const vector = info & 0xff;
    const typeText = `type ${type >>> 8} (${INTERRUPTION_TYPES[type >>> 8][1]})`;
    if (type === INTR_TYPE_RESERVED || (type === INTR_TYPE_OTHER_EVENT && (caps.proc.mayBe1 & MONITOR_TRAP_FLAG) === 0)) {
      return fail(INTR_TYPE, [F], `${F}=${hex(info)} uses reserved interruption ${typeText}`);
    }
    if (type === INTR_TYPE_NMI_INTR && vector !== 2) return fail(INTR_NMI_VECTOR, [F], `${F}=${hex(info)} injects an NMI with vector ${vector}; an NMI must use vector 2`);
    if (type === INTR_TYPE_HARD_EXCEPTION && vector > 31) {
      return fail(INTR_EXC_VECTOR, [F], `${F}=${hex(info)} injects a hardware exception with vector ${vector}; exceptions are vectors 0-31`);
    }
    if (type === INTR_TYPE_OTHER_EVENT && vector !== 0) {
      return fail(INTR_OTHER_VECTOR, [F], `${F}=${hex(info)} injects "other event" vector ${vector}; only vector 0 (pending MTF VM exit) is defined`);
    }
    // Error codes are pushed only by the listed exceptions, and never in real mode (an
    // unrestricted guest with CR0.PE = 0).
    const realMode = s.unrestricted && (r.lo(GUEST_CR0) & 1) === 0;
    const wants = !realMode && type === INTR_TYPE_HARD_EXCEPTION && ((ERROR_CODE_VECTORS >>> vector) & 1) !== 0;
    const has = (info & INTR_INFO_DELIVER_CODE_MASK) !== 0;
    if (wants !== has) {
      const what = type === INTR_TYPE_HARD_EXCEPTION ? `${exceptionName(vector)} (vector ${vector})` : typeText;
      const why = has
        ? (realMode ? `, but the guest starts in real mode (unrestricted guest with GUEST_CR0.PE=0), where exceptions push no error code` : `, but ${what} pushes no error code`)
        : `: ${what} pushes an error code`;
      return fail(INTR_ERROR_CODE, [F, ...(realMode ? ['GUEST_CR0'] : [])], `${F}=${hex(info)} has deliver-error-code (bit 11) = ${has ? 1 : 0}${why}`);
    }
    if ((info & INTR_INFO_RESERVED_MASK) !== 0) return fail(INTR_RESERVED, [F], `${F}=${hex(info)} sets reserved bits 30:12`);
    if (has) {
      const code = u32(r.lo(VM_ENTRY_EXCEPTION_ERROR_CODE));
      if ((code >>> 16) !== 0) return fail(INTR_ERROR_CODE_RESERVED, ['VM_ENTRY_EXCEPTION_ERROR_CODE', F], `VM_ENTRY_EXCEPTION_ERROR_CODE=${hex(code)} sets bits 31:16, which must be 0`);
    }
    if (type === INTR_TYPE_SOFT_INTR || type === INTR_TYPE_PRIV_SW_EXCEPTION || type === INTR_TYPE_SOFT_EXCEPTION) {
      const len = u32(r.lo(VM_ENTRY_INSTRUCTION_LEN));
      // IA32_VMX_MISC[30] would allow length 0 for software interrupts and exceptions.
      const min = (caps.misc & (1 << 30)) !== 0 ? 0 : 1;
      if (len < min || len > 15) {
        return fail(INTR_LENGTH, ['VM_ENTRY_INSTRUCTION_LEN', F], `VM_ENTRY_INSTRUCTION_LEN=${len} must be ${min}-15 when injecting a ${INTERRUPTION_TYPES[type >>> 8][1]}`);
      }
    }
  }
  return msrArea(r, p, VM_ENTRY_MSR_LOAD_COUNT, VM_ENTRY_MSR_LOAD_ADDR, 'VM_ENTRY_MSR_LOAD_COUNT', 'VM_ENTRY_MSR_LOAD_ADDR', ENTRY_LOAD_ALIGN, ENTRY_LOAD_WIDTH, ENTRY_LOAD_END);
}

/** SDM 26.2.1: all checks on the VMX controls, in order. */
export function checkControls(r: VmcsReader, p: EntryCheckProcessor, caps: Caps, s: EntryState): EntryCheckFailure | undefined {
  return checkExecutionControls(r, p, caps, s) ?? checkExitControls(r, p, caps, s) ?? checkEntryControls(r, p, caps, s);
}
