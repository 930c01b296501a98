/**
 * VM entries (SDM Vol. 3C chapter 26), after VMLAUNCH/VMRESUME's basic checks (§26.1,
 * instructions.ts): the checks of §26.2/§26.3.1 (entry-checks.ts, cached while the VMCS is
 * unchanged), decoding the controls the non-root hooks test, loading guest state (§26.3.2),
 * the MSR-load list (§26.4), entering non-root operation (dispatch array, event filter,
 * between-instruction service, EPT) and event injection through the guest IDT (§26.6).
 *
 * Failures behave as hardware: control and host-state checks → VMfailValid 7/8 (returned to
 * the instruction); guest-state checks → VM exit with reason 33 and bit 31, MSR loading →
 * reason 34 and bit 31, loading host state without saving guest state (§26.8). Either way the
 * failing check is kept as a sentence on `Vmx.lastEntryFailure` for the CLI and the debugger.
 *
 * TLBs: the MMU tags translations with the VPID and EP4TA; entries and exits switch
 * contexts and flush only what "enable VPID" = 0 requires (translation-context.ts, SDM §28.3.3.1).
 */

import type { Cpu } from '../cpu/cpu';
import { deliverEvent, EVENT_EXCEPTION, EVENT_EXTINT, EVENT_NMI, INT_PRIV_SOFTWARE, INT_SOFTWARE } from '../cpu/exceptions';
import { debugAtVmEntry } from '../cpu/debug';
import { materialize } from '../cpu/flags';
import { paePaging } from '../cpu/handlers/system';
import { MSR_DEBUGCTL } from '../cpu/msrs';
import { CR0_ET, CS, EFER_LMA, EFER_LME } from '../cpu/state';
import {
  CPU_MTF, CPU_SECONDARY, ENTRY_IA32E, EXIT_SAVE_PAT, PIN_NMI_EXITING, PIN_VIRTUAL_NMIS, ENTRY_LOAD_DEBUG, ENTRY_LOAD_EFER, ENTRY_LOAD_PAT, PIN_PREEMPTION_TIMER, SEC_EPT, SEC_VPID,
} from './control-bits';
import { EXIT_REASON_MSR_LOAD_FAIL, formatEntryFailure } from './entry-checks';
import { LAUNCH_STATE_LAUNCHED, VMCS_LAUNCH_STATE_OFFSET } from './vmcs-fields';
import { OFF } from './vmcs';
import { beginExit, loadMsrList, vmExit } from './vm-exit';
import { enterGuestContext } from './translation-context';
import { SEG_STRIDE } from './state-cache';
import type { Vmx } from './vmx';

const O = OFF;
/** By segment register number (cpu/state.ts: ES = 0 ... TR = 7, the VMCS field order). */
const SEG_NAMES = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'LDTR', 'TR'];
const O_SEL = SEG_NAMES.map((s) => OFF[`GUEST_${s}_SELECTOR`]);
const O_BASE = SEG_NAMES.map((s) => OFF[`GUEST_${s}_BASE`]);
const O_LIMIT = SEG_NAMES.map((s) => OFF[`GUEST_${s}_LIMIT`]);
const O_AR = SEG_NAMES.map((s) => OFF[`GUEST_${s}_AR_BYTES`]);
const FAILED_ENTRY = 0x80000000 | 0;

/** Event kinds by VMX interruption type (SDM Table 24-16): the CPU's deliverEvent distinctions. */
const KIND_BY_TYPE = [EVENT_EXTINT, -1, EVENT_NMI, EVENT_EXCEPTION, INT_SOFTWARE, INT_PRIV_SOFTWARE, INT_SOFTWARE, -1];

/** Reads the controls and per-entry values the non-root hooks test (SDM §24.6-24.8). */
function decodeControls(v: Vmx): void {
  const m = v.vmcs;
  v.pin = m.r32(O.PIN_BASED_VM_EXEC_CONTROL);
  v.proc = m.r32(O.CPU_BASED_VM_EXEC_CONTROL);
  v.proc2 = (v.proc & CPU_SECONDARY) !== 0 ? m.r32(O.SECONDARY_VM_EXEC_CONTROL) : 0;
  v.vpid = (v.proc2 & SEC_VPID) !== 0 ? m.r16(O.VIRTUAL_PROCESSOR_ID) : 0;
  v.exitCtl = m.r32(O.VM_EXIT_CONTROLS);
  v.entryCtl = m.r32(O.VM_ENTRY_CONTROLS);
  v.exceptionBitmap = m.r32(O.EXCEPTION_BITMAP);
  v.pfecMask = m.r32(O.PAGE_FAULT_ERROR_CODE_MASK);
  v.pfecMatch = m.r32(O.PAGE_FAULT_ERROR_CODE_MATCH);
  v.cr0Mask = m.r32(O.CR0_GUEST_HOST_MASK);
  v.cr0Shadow = m.r32(O.CR0_READ_SHADOW);
  v.cr4Mask = m.r32(O.CR4_GUEST_HOST_MASK);
  v.cr4Shadow = m.r32(O.CR4_READ_SHADOW);
  v.cr3TargetCount = Math.min(m.r32(O.CR3_TARGET_COUNT) >>> 0, 4);
  for (let i = 0; i < 4; i++) v.cr3Targets[i] = m.rNum(O.CR3_TARGET_VALUE0 + 8 * i);
  v.ioBitmapA = m.rNum(O.IO_BITMAP_A);
  v.ioBitmapB = m.rNum(O.IO_BITMAP_B);
  v.msrBitmap = m.rNum(O.MSR_BITMAP);
  v.tscOffsetLo = m.r32(O.TSC_OFFSET);
  v.tscOffsetHi = m.r32(O.TSC_OFFSET + 4);
}

/**
 * Reads the guest segment, GDTR and IDTR fields into the guest copy (state-cache.ts) as the
 * entry loads them (SDM §26.3.2.2): the limits of GDTR and IDTR are 16 bits (the checks made
 * bits 31:16 zero).
 */
function readGuestSegments(v: Vmx): void {
  const m = v.vmcs;
  const k = v.stateCache;
  const g = k.guestSeg;
  for (let seg = 0, j = 0; seg < 8; seg++, j += SEG_STRIDE) {
    g[j] = m.r16(O_SEL[seg]);
    g[j + 1] = m.r32(O_BASE[seg]);
    g[j + 2] = m.r32(O_BASE[seg] + 4);
    g[j + 3] = m.r32(O_LIMIT[seg]);
    g[j + 4] = m.r32(O_AR[seg]);
  }
  k.sameSegsValid = false;
  k.guestGdtrBase = m.rNum(O.GUEST_GDTR_BASE);
  k.guestGdtrLimit = m.r32(O.GUEST_GDTR_LIMIT) & 0xffff;
  k.guestIdtrBase = m.rNum(O.GUEST_IDTR_BASE);
  k.guestIdtrLimit = m.r32(O.GUEST_IDTR_LIMIT) & 0xffff;
  k.guestValid = true;
}

/** Loads the guest-state area into the processor (SDM §26.3.2). */
function loadGuestState(v: Vmx, c: Cpu): void {
  const m = v.vmcs;
  const ia32e = (v.entryCtl & ENTRY_IA32E) !== 0;
  c.cr0 = m.r32(O.GUEST_CR0) | CR0_ET;
  c.cr4 = m.r32(O.GUEST_CR4);
  c.cr3Lo = m.r32(O.GUEST_CR3);
  c.cr3Hi = ia32e ? m.r32(O.GUEST_CR3 + 4) : 0;
  if ((v.entryCtl & ENTRY_LOAD_DEBUG) !== 0) {
    // "Load debug controls": DR7 and IA32_DEBUGCTL (SDM §26.3.2.1; the checks kept reserved bits out).
    c.dr7 = m.r32(O.GUEST_DR7) | 0x400;
    const debugctl = m.r32(O.GUEST_IA32_DEBUGCTL);
    if (c.msrLo.get(MSR_DEBUGCTL) !== debugctl) c.msrLo.set(MSR_DEBUGCTL, debugctl); // a Map store costs more than the look-up
  }
  if ((v.entryCtl & ENTRY_LOAD_EFER) !== 0) c.efer = m.r32(O.GUEST_IA32_EFER);
  else c.efer = ia32e ? c.efer | EFER_LMA | EFER_LME : c.efer & ~(EFER_LMA | EFER_LME);
  if ((v.entryCtl & ENTRY_LOAD_PAT) !== 0) {
    v.msrs.loadPat(c, m.r32(O.GUEST_IA32_PAT), m.r32(O.GUEST_IA32_PAT + 4));
  }
  v.msrs.loadSysenter(c, m.r32(O.GUEST_SYSENTER_CS), m.r32(O.GUEST_SYSENTER_ESP), m.r32(O.GUEST_SYSENTER_ESP + 4),
    m.r32(O.GUEST_SYSENTER_EIP), m.r32(O.GUEST_SYSENTER_EIP + 4));
  const k = v.stateCache;
  if (!k.guestValid) readGuestSegments(v);
  const g = k.guestSeg;
  // Segment registers still holding the host copy the last exit loaded need no store where the guest's are the same.
  const same = c.segmentLoads === k.segmentLoadsAtExit ? k.sameSegments() : 0;
  for (let seg = 0, j = 0; seg < 8; seg++, j += SEG_STRIDE) {
    if (seg === CS || (same & (1 << seg)) !== 0) continue; // CS comes last
    c.loadSegmentCache(seg, g[j], g[j + 1], g[j + 2], g[j + 3] >>> 0, g[j + 4], true);
  }
  c.gdtrBase = k.guestGdtrBase;
  c.gdtrLimit = k.guestGdtrLimit;
  c.idtrBase = k.guestIdtrBase;
  c.idtrLimit = k.guestIdtrLimit;
  const r = c.regs;
  r[8] = m.r32(O.GUEST_RSP); r[9] = m.r32(O.GUEST_RSP + 4);
  materialize(c);
  c.flagsVal = m.r32(O.GUEST_RFLAGS) | 2;
  const intr = m.r32(O.GUEST_INTERRUPTIBILITY_INFO);
  c.interruptShadow = (intr & 3) !== 0;
  c.movSsShadow = (intr & 2) !== 0;
  // Bit 3 is blocking by NMI, or with "virtual NMIs" virtual-NMI blocking (physical NMIs are then
  // unblocked); IRET ends it unless "NMI exiting" = 1 and "virtual NMIs" = 0 (SDM §26.7.1, §25.3).
  c.nmiBlocked = (intr & 8) !== 0;
  c.iretUnblocksNmi = (v.pin & PIN_NMI_EXITING) === 0 || (v.pin & PIN_VIRTUAL_NMIS) !== 0;
  const activity = m.r32(O.GUEST_ACTIVITY_STATE);
  c.halted = activity === 1;
  c.waitForSipi = activity === 3; // only a SIPI ends it (signals.ts)
  // CS last: with CR0, EFER and SS loaded, updateMode sees the guest's mode.
  const j = CS * SEG_STRIDE;
  if ((same & (1 << CS)) === 0) c.loadSegmentCache(CS, g[j], g[j + 1], g[j + 2], g[j + 3] >>> 0, g[j + 4]);
  else c.updateMode();
  // The exit saves the segment registers only if one was loaded after this (vm-exit.ts saveGuestSegments).
  k.segmentLoadsAtEntry = c.segmentLoads;
  c.rip = c.long64 ? m.rNum(O.GUEST_RIP) : m.r32(O.GUEST_RIP) >>> 0;
}

/** Enters VMX non-root operation: hooks, EPT, timer, the guest's translation context (see the module comment). */
function enterNonRoot(v: Vmx, c: Cpu, tsc: number): void {
  v.nonRoot = true;
  c.handlers = v.nonRootHandlers;
  c.eventFilter = v.eventFilter;
  c.eventDelivered = v.eventDelivered;
  v.vectoringInfo = 0;
  v.guestCr2 = c.cr2;
  c.nonRootService = v.service;
  if ((v.proc2 & SEC_EPT) !== 0) v.ept.load(v.vmcs.r32(O.EPT_POINTER), v.vmcs.r32(O.EPT_POINTER + 4));
  let pdptes: Int32Array | undefined;
  if ((v.proc2 & SEC_EPT) !== 0 && paePaging(c.cr0, c.cr4, c.efer)) {
    // With EPT, a PAE guest's PDPTE registers come from GUEST_PDPTR0-3, not from the
    // memory at GUEST_CR3 (SDM §26.3.2.4; the entry checks vetted them, §26.3.1.6).
    const m = v.vmcs, p = v.pdptes;
    for (let i = 0; i < 4; i++) {
      p[2 * i] = m.r32(O.GUEST_PDPTR0 + 8 * i);
      p[2 * i + 1] = m.r32(O.GUEST_PDPTR0 + 8 * i + 4);
    }
    pdptes = p;
  }
  enterGuestContext(v, c, pdptes); // the guest's VPID-tagged translations (translation-context.ts)
  if ((v.pin & PIN_PREEMPTION_TIMER) !== 0) {
    const value = v.vmcs.r32(O.VMX_PREEMPTION_TIMER_VALUE) >>> 0;
    v.timerDeadline = (Math.floor(tsc / v.timerTicks) + value) * v.timerTicks;
  } else {
    v.timerDeadline = Infinity;
  }
  v.entryIcount = c.icount + 1; // the VMLAUNCH/VMRESUME itself retires after this
  v.mtfPending = false;
  c.attention = true;
}

/** Injects the event of the VM-entry interruption-information field through the guest IDT (SDM §26.6). */
function injectEvent(v: Vmx, c: Cpu): void {
  const m = v.vmcs;
  const info = m.r32(O.VM_ENTRY_INTR_INFO_FIELD);
  if (info >= 0) return; // valid bit (31) clear
  const type = (info >>> 8) & 7;
  const kind = KIND_BY_TYPE[type];
  if (type === 7) {
    // Type 7 injects a pending MTF VM exit: it happens before the first guest instruction,
    // even with the "monitor trap flag" control 0 (SDM §25.5.2, §26.6.2).
    v.mtfPending = true;
    return;
  }
  if (kind < 0) return;
  const vector = info & 0xff;
  // An injected NMI blocks NMIs, or with "virtual NMIs" virtual NMIs, as a delivered one does (SDM §26.6.1.2, §26.7.1).
  if (type === 2) c.nmiBlocked = true;
  const error = (info & 0x800) !== 0 ? m.r32(O.VM_ENTRY_EXCEPTION_ERROR_CODE) : -1;
  const returnRip = type >= 4 ? c.rip + (m.r32(O.VM_ENTRY_INSTRUCTION_LEN) >>> 0) : c.rip;
  // The injected event itself is delivered, never intercepted (faults during its delivery are).
  // An exit while delivering it reports it as IDT-vectoring information (SDM §27.2.4).
  v.vectoringInfo = info & ~0x1000;
  v.vectoringError = error < 0 ? 0 : error;
  v.vectoringLen = returnRip - c.rip;
  const filter = c.eventFilter;
  c.eventFilter = undefined;
  try {
    deliverEvent(c, kind, vector, error, returnRip);
  } finally {
    c.eventFilter = filter;
  }
  v.vectoringInfo = 0;
  // With MTF, an MTF VM exit is pending before the first instruction after injecting a vectored event (SDM §25.5.2).
  if ((v.proc & CPU_MTF) !== 0) v.mtfPending = true;
}

/**
 * A VM entry from VMLAUNCH (`launch`) or VMRESUME whose basic checks passed. Returns 0 when
 * the guest runs or a VM exit reported the failure, or the VM-instruction error (7, 8) for
 * VMfailValid.
 */
export function vmEntry(v: Vmx, launch: boolean): number {
  const c = v.cpu;
  const m = v.vmcs;
  const facts = v.entryFacts;
  facts.hostLma = (c.efer & EFER_LMA) !== 0;
  facts.currentVmcsLo = m.base | 0;
  facts.currentVmcsHi = Math.floor(m.base / 4294967296);
  const result = v.checker.check(m, facts, v.physReader);
  if (!result.ok) {
    const message = formatEntryFailure(result);
    v.lastEntryFailure = { failure: result, message, icount: c.icount };
    const out = result.outcome;
    if (out.kind === 'vmfail-valid') return out.error;
    v.exitCtl = m.r32(O.VM_EXIT_CONTROLS);
    v.controlsDirty = true;
    beginExit(v);
    v.exitQualLo = out.qualification;
    vmExit(v, out.exitReason, true, message);
    return 0;
  }
  const tsc = v.tscNow();
  if (v.lastExitReason >= 0 && v.lastExitReason < v.rootCycles.length) v.rootCycles[v.lastExitReason] += tsc - v.lastExitTsc;
  v.lastExitReason = -1;
  if (v.controlsDirty) {
    decodeControls(v);
    v.controlsDirty = false;
  }
  loadGuestState(v, c);
  const msrCount = m.r32(O.VM_ENTRY_MSR_LOAD_COUNT) >>> 0;
  const failed = msrCount === 0 ? 0 : loadMsrList(v, c, m.rNum(O.VM_ENTRY_MSR_LOAD_ADDR), msrCount);
  if (failed !== 0) {
    const message = `VM entry failed: MSR loading (SDM 26.4): entry ${failed} of the VM-entry MSR-load area (VM_ENTRY_MSR_LOAD_ADDR) cannot be loaded`;
    v.lastEntryFailure = { failure: undefined, message, icount: c.icount };
    beginExit(v);
    v.exitQualLo = failed;
    vmExit(v, FAILED_ENTRY | EXIT_REASON_MSR_LOAD_FAIL, true, message);
    return 0;
  }
  // MSRs the exit saves now equal their fields, unless the MSR-load list ran, or PAT is saved
  // without having been loaded (the guest then runs with the host's PAT).
  v.guestMsrWritten = msrCount !== 0 || ((v.exitCtl & EXIT_SAVE_PAT) !== 0 && (v.entryCtl & ENTRY_LOAD_PAT) === 0);
  if (launch) m.w32(VMCS_LAUNCH_STATE_OFFSET, LAUNCH_STATE_LAUNCHED);
  v.entries++;
  const inject = m.r32(O.VM_ENTRY_INTR_INFO_FIELD);
  const pendingDebug = m.r32(O.GUEST_PENDING_DBG_EXCEPTIONS);
  v.entryHadExtras = inject < 0 || pendingDebug !== 0 || m.r32(O.GUEST_PENDING_DBG_EXCEPTIONS + 4) !== 0 || (v.pin & PIN_PREEMPTION_TIMER) !== 0;
  // DR7 (maybe just loaded) and the guest's pending debug exceptions (SDM §26.6.3, debug.ts).
  const activity = m.r32(O.GUEST_ACTIVITY_STATE);
  debugAtVmEntry(c, pendingDebug, inject < 0 ? (inject >>> 8) & 7 : -1, activity === 2 || activity === 3);
  enterNonRoot(v, c, tsc);
  injectEvent(v, c);
  c.nextRip = c.rip;
  v.onEntry?.({ launch, guestRip: c.rip, tsc });
  return 0;
}
