/**
 * VM exits (SDM Vol. 3C chapter 27): record the exit information (§27.2), save guest state
 * (§27.3), store guest MSRs (§27.4), load host state (§27.5) and host MSRs (§27.6), then leave
 * VMX non-root operation: the root dispatch array, no event filter, no EPT.
 *
 * Callers (non-root.ts, ept.ts, vm-entry.ts for entry failures) first call `beginExit` and set
 * the extra information their reason has (instruction length and information, interruption
 * information, guest-linear/physical address), then `vmExit`. When the exit interrupts an
 * instruction half-way (EPT violation, an exception), the caller then throws
 * `VM_EXIT_TAKEN` so the CPU abandons the instruction: RIP was saved as the instruction's own,
 * as the SDM requires for fault-like exits.
 */

import type { Cpu } from '../cpu/cpu';
import { CpuFault, VMEXIT_VECTOR } from '../cpu/fault';
import { debugAtVmExit, pendingDebugAtExit } from '../cpu/debug';
import { getFlags, materialize } from '../cpu/flags';
import { paePaging } from '../cpu/handlers/system';
import { MSR_DEBUGCTL, MSR_PAT, MSR_SYSENTER_CS, MSR_SYSENTER_EIP, MSR_SYSENTER_ESP, readMsr, writeMsr } from '../cpu/msrs';
import {
  AR_DB, AR_G, AR_L, AR_P, AR_S, AR_UNUSABLE, CR0_ET, CS, DS, EFER_LMA, EFER_LME, ES, FS, GS, LDTR, SS, TR,
} from '../cpu/state';
import {
  EXIT_HOST_64, EXIT_LOAD_EFER, EXIT_LOAD_PAT, EXIT_SAVE_DEBUG, EXIT_SAVE_EFER, EXIT_SAVE_PAT, EXIT_SAVE_TIMER, ENTRY_IA32E, PIN_VIRTUAL_NMIS, SEC_EPT,
} from './control-bits';
import { enterHostContext } from './translation-context';
import { SEG_STRIDE } from './state-cache';
import { MSR_LIST_MAX_ENTRIES } from './capabilities';
import { EXIT_REASON } from './exit-reasons';
import { OFF } from './vmcs';
import { fieldByName } from './vmcs-fields';
import type { Vmx } from './vmx';

/** Thrown after a VM exit performed in the middle of an instruction or event delivery. */
export const VM_EXIT_TAKEN = new CpuFault(VMEXIT_VECTOR, -1, 'VM exit');

const TWO32 = 4294967296;
/** By segment register number (cpu/state.ts: ES = 0 ... TR = 7, the VMCS field order). */
const SEG_NAMES = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'LDTR', 'TR'];
const O_SEL = SEG_NAMES.map((s) => OFF[`GUEST_${s}_SELECTOR`]);
const O_BASE = SEG_NAMES.map((s) => OFF[`GUEST_${s}_BASE`]);
const O_LIMIT = SEG_NAMES.map((s) => OFF[`GUEST_${s}_LIMIT`]);
const O_AR = SEG_NAMES.map((s) => OFF[`GUEST_${s}_AR_BYTES`]);
/** HOST_*_SELECTOR offsets by segment register number (ES = 0 ... GS = 5, cpu/state.ts). */
const HOST_SEL = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS'].map((s) => OFF[`HOST_${s}_SELECTOR`]);
const O = OFF;
const GUEST_RIP_ENCODING = fieldByName('GUEST_RIP')!.field.encoding;

/** saveGuestState's report. */
const SAVED_CHANGED = 1, SAVED_RIP = 2;

const REASON_EXCEPTION = EXIT_REASON.EXCEPTION_NMI, REASON_MTF = EXIT_REASON.MONITOR_TRAP_FLAG;

/** Interruptibility-state bits (SDM Table 24-3). */
const INTR_STI = 1, INTR_MOV_SS = 2, INTR_NMI = 8;

/** Clears the per-exit information before a cause fills in what it has. */
export function beginExit(v: Vmx): void {
  v.exitQualLo = 0; v.exitQualHi = 0;
  v.exitGuestLinear = 0; v.exitGuestPhysical = 0;
  v.exitInstrLen = 0; v.exitInstrInfo = 0;
  v.exitIntrInfo = 0; v.exitIntrError = 0;
}

/**
 * Saves the guest state into the VMCS (SDM §27.3). Returns SAVED_CHANGED when a field the
 * VM-entry checks read now holds another value than before, SAVED_RIP when GUEST_RIP does
 * (the entry-check cache, entry-checks.ts: an unchanged VMCS needs no new checks).
 */
function saveGuestState(v: Vmx, c: Cpu, reason: number): number {
  const m = v.vmcs;
  materialize(c);
  let ch = m.put64(O.GUEST_CR0, c.cr0, 0);
  ch |= m.put64(O.GUEST_CR3, c.cr3Lo, c.cr3Hi);
  ch |= m.put64(O.GUEST_CR4, c.cr4, 0);
  if ((v.exitCtl & EXIT_SAVE_DEBUG) !== 0) {
    // "Save debug controls": DR7 and IA32_DEBUGCTL (SDM §27.3.1).
    ch |= m.put64(O.GUEST_DR7, c.dr7, 0);
    ch |= m.put64(O.GUEST_IA32_DEBUGCTL, c.msrLo.get(MSR_DEBUGCTL) ?? 0, 0);
  }
  m.wNum(O.GUEST_RSP, c.regs[9] * TWO32 + (c.regs[8] >>> 0));
  const rip = m.putNum(O.GUEST_RIP, c.rip);
  ch |= m.put64(O.GUEST_RFLAGS, getFlags(c), 0);
  ch |= saveGuestSegments(v, c);
  if (v.guestMsrWritten) {
    // Unchanged since the entry loaded them from these fields unless a WRMSR ran in the guest.
    ch |= m.put32(O.GUEST_SYSENTER_CS, c.msrLo.get(MSR_SYSENTER_CS) ?? 0);
    ch |= m.put64(O.GUEST_SYSENTER_ESP, c.msrLo.get(MSR_SYSENTER_ESP) ?? 0, c.msrHi.get(MSR_SYSENTER_ESP) ?? 0);
    ch |= m.put64(O.GUEST_SYSENTER_EIP, c.msrLo.get(MSR_SYSENTER_EIP) ?? 0, c.msrHi.get(MSR_SYSENTER_EIP) ?? 0);
    if ((v.exitCtl & EXIT_SAVE_PAT) !== 0) ch |= m.put64(O.GUEST_IA32_PAT, c.msrLo.get(MSR_PAT) ?? 0, c.msrHi.get(MSR_PAT) ?? 0);
  }
  if ((v.exitCtl & EXIT_SAVE_EFER) !== 0) ch |= m.put64(O.GUEST_IA32_EFER, c.efer, 0);
  if ((v.proc2 & SEC_EPT) !== 0 && paePaging(c.cr0, c.cr4, c.efer) && c.mmu.readPdptes !== undefined) {
    // With EPT and PAE paging the PDPTE registers are saved (SDM §27.3.4): a guest MOV to CR3
    // reloaded them from its memory, and the next entry loads them from these fields.
    const p = v.pdptes;
    c.mmu.readPdptes(p);
    for (let i = 0; i < 4; i++) ch |= m.put64(O.GUEST_PDPTR0 + 8 * i, p[2 * i], p[2 * i + 1]);
  }
  // Bit 3: blocking by NMI, or virtual-NMI blocking with "virtual NMIs" (SDM §27.3.4); an NMI
  // that causes the exit blocks NMIs only once the exit completes (§27.1).
  let intr = c.nmiBlocked ? INTR_NMI : 0;
  // Blocking by STI / MOV SS: the exit happened at or inside the one-instruction shadow.
  if (c.interruptShadow || c.shadowIcount === c.icount) intr |= c.movSsShadow ? INTR_MOV_SS : INTR_STI;
  ch |= m.put32(O.GUEST_INTERRUPTIBILITY_INFO, intr);
  ch |= m.put32(O.GUEST_ACTIVITY_STATE, c.waitForSipi ? 3 : c.halted ? 1 : 0);
  // Pending debug exceptions (§27.3.4, debug.ts): none after a #DB exit (they are in the
  // qualification), the last instruction's traps after an MTF exit.
  const vector = v.exitIntrInfo & 0x7ff; // type and vector: #DB is hardware exception 1, or INT1 (type 5)
  const debugExit = reason === REASON_EXCEPTION && (vector === 0x301 || vector === 0x501);
  ch |= m.put64(O.GUEST_PENDING_DBG_EXCEPTIONS, pendingDebugAtExit(c, debugExit, reason === REASON_MTF), 0);
  if ((v.exitCtl & EXIT_SAVE_TIMER) !== 0 && v.timerDeadline !== Infinity) {
    const left = Math.max(0, Math.ceil((v.timerDeadline - v.tscNow()) / v.timerTicks));
    m.w32(O.VMX_PREEMPTION_TIMER_VALUE, Math.min(left, 0xffffffff) | 0);
  }
  // IA32_VMX_MISC[5]: the exit stores IA32_EFER.LMA into "IA-32e mode guest" (SDM §27.2, A.6).
  const entry = (c.efer & EFER_LMA) !== 0 ? v.entryCtl | ENTRY_IA32E : v.entryCtl & ~ENTRY_IA32E;
  ch |= m.put32(O.VM_ENTRY_CONTROLS, entry);
  v.entryCtl = entry;
  return (ch !== 0 ? SAVED_CHANGED : 0) | (rip !== 0 ? SAVED_RIP : 0);
}

/**
 * Saves the segment registers, GDTR and IDTR (SDM §27.3.2); returns 1 when a field changed.
 * The VM entry loaded the fields into the CPU bit for bit (sel, base, limit, AR as stored,
 * vm-entry.ts), so while no segment register was loaded since (Cpu.segmentLoads) and the
 * descriptor-table registers still hold what was loaded, the stores would write the values
 * the fields hold: only FS/GS bases, which WRMSR and SWAPGS change without a segment load,
 * are compared then. Whatever is saved also becomes the guest copy the next entry loads
 * (state-cache.ts).
 */
function saveGuestSegments(v: Vmx, c: Cpu): number {
  const m = v.vmcs;
  const k = v.stateCache;
  const g = k.guestSeg;
  let ch = 0;
  if (c.segmentLoads === k.segmentLoadsAtEntry && k.guestValid) {
    for (let seg = FS; seg <= GS; seg++) {
      if (m.put64(O_BASE[seg], c.segBaseLo[seg], c.segBaseHi[seg]) !== 0) {
        ch = 1;
        g[seg * SEG_STRIDE + 1] = c.segBaseLo[seg]; g[seg * SEG_STRIDE + 2] = c.segBaseHi[seg];
      }
    }
  } else {
    for (let seg = 0, j = 0; seg < 8; seg++, j += SEG_STRIDE) {
      ch |= m.put16(O_SEL[seg], c.segSel[seg]);
      ch |= m.put64(O_BASE[seg], c.segBaseLo[seg], c.segBaseHi[seg]);
      ch |= m.put32(O_LIMIT[seg], c.segLimit[seg]);
      ch |= m.put32(O_AR[seg], c.segAr[seg]);
      // The fields now hold the CPU's values, as the next entry would read them back.
      g[j] = c.segSel[seg]; g[j + 1] = c.segBaseLo[seg]; g[j + 2] = c.segBaseHi[seg]; g[j + 3] = c.segLimit[seg]; g[j + 4] = c.segAr[seg];
    }
    k.sameSegsValid = false;
  }
  if (!k.guestValid || c.gdtrBase !== k.guestGdtrBase || c.gdtrLimit !== k.guestGdtrLimit || c.idtrBase !== k.guestIdtrBase || c.idtrLimit !== k.guestIdtrLimit) {
    ch |= m.putNum(O.GUEST_GDTR_BASE, c.gdtrBase);
    ch |= m.put32(O.GUEST_GDTR_LIMIT, c.gdtrLimit);
    ch |= m.putNum(O.GUEST_IDTR_BASE, c.idtrBase);
    ch |= m.put32(O.GUEST_IDTR_LIMIT, c.idtrLimit);
    // As the next entry reads them (vm-entry.ts readGuestSegments).
    k.guestGdtrBase = m.rNum(O.GUEST_GDTR_BASE); k.guestGdtrLimit = m.r32(O.GUEST_GDTR_LIMIT) & 0xffff;
    k.guestIdtrBase = m.rNum(O.GUEST_IDTR_BASE); k.guestIdtrLimit = m.r32(O.GUEST_IDTR_LIMIT) & 0xffff;
  }
  k.guestValid = true;
  return ch;
}

/** Stores guest MSRs into the VM-exit MSR-store area (SDM §27.4); false on failure (VMX abort 1). */
function storeMsrs(v: Vmx, c: Cpu): boolean {
  const m = v.vmcs;
  const count = m.r32(O.VM_EXIT_MSR_STORE_COUNT) >>> 0;
  if (count === 0) return true;
  if (count > MSR_LIST_MAX_ENTRIES) return false; // beyond IA32_VMX_MISC's limit (SDM A.6): a VMX abort
  const area = m.rNum(O.VM_EXIT_MSR_STORE_ADDR);
  const r = c.regs;
  const eax = r[0], eaxHi = r[1], edx = r[4], edxHi = r[5];
  try {
    for (let i = 0; i < count; i++) {
      const e = area + 16 * i;
      const index = m.read32(e) >>> 0;
      if (m.read32(e + 4) !== 0 || index === 0x8b || (index >>> 8) === 8) return false;
      readMsr(c, index);
      m.write32(e + 8, r[0]);
      m.write32(e + 12, r[4]);
    }
  } catch (e) {
    if (e instanceof CpuFault) return false;
    throw e;
  } finally {
    r[0] = eax; r[1] = eaxHi; r[4] = edx; r[5] = edxHi;
  }
  return true;
}

/**
 * Loads MSRs from an MSR-load area (VM entry §26.4, VM exit §27.6). Returns 0 on success, or
 * the 1-based index of the failing entry (SDM: FS/GS base, x2APIC MSRs, reserved bits 63:32
 * of the entry's first quadword, a value WRMSR would refuse with #GP, or more entries than
 * IA32_VMX_MISC allows).
 */
export function loadMsrList(v: Vmx, c: Cpu, area: number, count: number): number {
  const m = v.vmcs;
  // Beyond the recommended maximum (IA32_VMX_MISC[27:25], SDM A.6) the SDM promises nothing;
  // we load that many entries and fail on the next one.
  const n = Math.min(count, MSR_LIST_MAX_ENTRIES + 1);
  for (let i = 0; i < n; i++) {
    if (i === MSR_LIST_MAX_ENTRIES) return i + 1;
    const e = area + 16 * i;
    const index = m.read32(e) >>> 0;
    if (m.read32(e + 4) !== 0 || index === 0xc0000100 || index === 0xc0000101 || (index >>> 8) === 8 || index === 0x9b) return i + 1;
    try {
      writeMsr(c, index, m.read32(e + 8), m.read32(e + 12));
    } catch (err) {
      if (err instanceof CpuFault) return i + 1;
      throw err;
    }
  }
  return 0;
}

/**
 * Decodes the host-state area under the current VM-exit controls into the host copy
 * (state-cache.ts): what loadHostState puts into the processor (SDM §27.5).
 */
function decodeHostState(v: Vmx): void {
  const m = v.vmcs;
  const k = v.stateCache;
  const host64 = (v.exitCtl & EXIT_HOST_64) !== 0;
  k.hostExitCtl = v.exitCtl;
  k.hostCr0 = m.r32(O.HOST_CR0) | CR0_ET;
  k.hostCr4 = m.r32(O.HOST_CR4);
  k.hostCr3Lo = m.r32(O.HOST_CR3);
  k.hostCr3Hi = host64 ? m.r32(O.HOST_CR3 + 4) : 0;
  k.hostEfer = m.r32(O.HOST_IA32_EFER);
  k.hostPatLo = m.r32(O.HOST_IA32_PAT);
  k.hostPatHi = m.r32(O.HOST_IA32_PAT + 4);
  k.hostSysenterCs = m.r32(O.HOST_IA32_SYSENTER_CS);
  k.hostSysenterEspLo = m.r32(O.HOST_IA32_SYSENTER_ESP);
  k.hostSysenterEspHi = host64 ? m.r32(O.HOST_IA32_SYSENTER_ESP + 4) : 0;
  k.hostSysenterEipLo = m.r32(O.HOST_IA32_SYSENTER_EIP);
  k.hostSysenterEipHi = host64 ? m.r32(O.HOST_IA32_SYSENTER_EIP + 4) : 0;
  // Segments (SDM §27.5.2): flat, DPL 0; a null data selector makes the register unusable.
  const h = k.hostSeg;
  const data = AR_P | AR_S | 3 | AR_DB | AR_G;
  for (const seg of [ES, SS, DS, FS, GS]) {
    const sel = m.r16(HOST_SEL[seg]);
    let baseLo = 0, baseHi = 0;
    if (seg === FS || seg === GS) {
      const o = seg === FS ? O.HOST_FS_BASE : O.HOST_GS_BASE;
      baseLo = m.r32(o); baseHi = host64 ? m.r32(o + 4) : 0;
    }
    const unusable = (sel & 0xfff8) === 0 && seg !== SS ? AR_UNUSABLE : 0;
    setSeg(h, seg, sel, baseLo, baseHi, 0xffffffff, data | unusable);
  }
  setSeg(h, TR, m.r16(O.HOST_TR_SELECTOR), m.r32(O.HOST_TR_BASE), host64 ? m.r32(O.HOST_TR_BASE + 4) : 0, 0x67, AR_P | 11);
  setSeg(h, LDTR, 0, 0, 0, 0, AR_UNUSABLE);
  setSeg(h, CS, m.r16(O.HOST_CS_SELECTOR), 0, 0, 0xffffffff, AR_P | AR_S | 11 | AR_G | (host64 ? AR_L : AR_DB));
  k.sameSegsValid = false;
  k.hostGdtrBase = host64 ? m.rNum(O.HOST_GDTR_BASE) : m.r32(O.HOST_GDTR_BASE) >>> 0;
  k.hostIdtrBase = host64 ? m.rNum(O.HOST_IDTR_BASE) : m.r32(O.HOST_IDTR_BASE) >>> 0;
  k.hostRspLo = m.r32(O.HOST_RSP);
  k.hostRspHi = host64 ? m.r32(O.HOST_RSP + 4) : 0;
  k.hostRip = host64 ? m.rNum(O.HOST_RIP) : m.r32(O.HOST_RIP) >>> 0;
  k.hostValid = true;
}

function setSeg(a: Int32Array, seg: number, sel: number, baseLo: number, baseHi: number, limit: number, ar: number): void {
  const j = seg * SEG_STRIDE;
  a[j] = sel; a[j + 1] = baseLo; a[j + 2] = baseHi; a[j + 3] = limit; a[j + 4] = ar;
}

/**
 * Loads the host state (SDM §27.5): control registers, MSRs, segments, descriptor tables,
 * RIP/RSP/RFLAGS. `guestSaved`: the exit saved the guest state, so the segment registers hold
 * the guest copy (state-cache.ts) and those equal in both copies need no store.
 */
export function loadHostState(v: Vmx, c: Cpu, guestSaved: boolean): void {
  const k = v.stateCache;
  if (!k.hostValid || k.hostExitCtl !== v.exitCtl) decodeHostState(v);
  const exitCtl = v.exitCtl;
  c.cr0 = k.hostCr0;
  c.cr4 = k.hostCr4;
  c.cr3Lo = k.hostCr3Lo;
  c.cr3Hi = k.hostCr3Hi;
  // DR7 and IA32_DEBUGCTL are not in the host-state area: the exit sets them to 400H and 0 (SDM §27.5.1).
  c.dr7 = 0x400;
  if (c.msrLo.get(MSR_DEBUGCTL) !== 0) c.msrLo.set(MSR_DEBUGCTL, 0); // a Map store costs more than the look-up
  debugAtVmExit(c); // the guest's debug traps were saved or are lost (debug.ts)
  if ((exitCtl & EXIT_LOAD_EFER) !== 0) c.efer = k.hostEfer;
  else c.efer = (exitCtl & EXIT_HOST_64) !== 0 ? c.efer | EFER_LMA | EFER_LME : c.efer & ~(EFER_LMA | EFER_LME);
  if ((exitCtl & EXIT_LOAD_PAT) !== 0) v.msrs.loadPat(c, k.hostPatLo, k.hostPatHi);
  v.msrs.loadSysenter(c, k.hostSysenterCs, k.hostSysenterEspLo, k.hostSysenterEspHi, k.hostSysenterEipLo, k.hostSysenterEipHi);
  const h = k.hostSeg;
  const same = guestSaved ? k.sameSegments() : 0;
  for (let seg = 0, j = 0; seg < 8; seg++, j += SEG_STRIDE) {
    if (seg === CS || (same & (1 << seg)) !== 0) continue; // CS comes last
    c.loadSegmentCache(seg, h[j], h[j + 1], h[j + 2], h[j + 3] >>> 0, h[j + 4], true);
  }
  c.gdtrBase = k.hostGdtrBase;
  c.gdtrLimit = 0xffff;
  c.idtrBase = k.hostIdtrBase;
  c.idtrLimit = 0xffff;
  const r = c.regs;
  r[8] = k.hostRspLo; r[9] = k.hostRspHi;
  const rip = k.hostRip;
  materialize(c);
  c.flagsVal = 2;
  c.interruptShadow = false;
  c.halted = false;
  c.waitForSipi = false;
  // CS last: its L bit and CR0/EFER decide the mode (updateMode).
  const j = CS * SEG_STRIDE;
  if ((same & (1 << CS)) === 0) c.loadSegmentCache(CS, h[j], h[j + 1], h[j + 2], h[j + 3] >>> 0, h[j + 4]);
  else c.updateMode();
  k.segmentLoadsAtExit = c.segmentLoads; // the segment registers hold hostSeg (vm-entry.ts loadGuestState)
  c.rip = rip;
  c.nextRip = rip;
}

/** Leaves non-root operation: root dispatch, no event hooks, the VMM's translation context (translation-context.ts). */
export function leaveNonRoot(v: Vmx, c: Cpu): void {
  v.nonRoot = false;
  c.handlers = v.rootHandlers;
  c.eventFilter = undefined;
  c.eventDelivered = undefined;
  c.nonRootService = undefined;
  enterHostContext(v, c); // the VMM's translations; VPID 0's flushed unless the guest had a VPID
  c.attention = true;
}

/**
 * Performs a VM exit with basic reason `reason` (or a full exit-reason field with bit 31 for
 * VM-entry failures, `entryFailure`: no guest state is saved then, SDM §26.8).
 */
export function vmExit(v: Vmx, reason: number, entryFailure = false, message?: string): void {
  const c = v.cpu;
  const m = v.vmcs;
  const tsc = v.tscNow();
  m.w32(O.VM_EXIT_REASON, reason);
  m.w64(O.EXIT_QUALIFICATION, v.exitQualLo, v.exitQualHi);
  m.w32(O.VM_EXIT_INTR_INFO, v.exitIntrInfo);
  m.w32(O.VM_EXIT_INTR_ERROR_CODE, v.exitIntrError);
  m.w32(O.VM_EXIT_INSTRUCTION_LEN, v.exitInstrLen);
  m.w32(O.VMX_INSTRUCTION_INFO, v.exitInstrInfo);
  // An exit during event delivery reports the event (SDM §27.2.4), and the length of a software one.
  const vectoring = v.vectoringInfo;
  m.w32(O.IDT_VECTORING_INFO_FIELD, vectoring);
  m.w32(O.IDT_VECTORING_ERROR_CODE, v.vectoringError);
  if (vectoring !== 0 && v.exitInstrLen === 0 && ((vectoring >>> 8) & 7) >= 4) m.w32(O.VM_EXIT_INSTRUCTION_LEN, v.vectoringLen);
  v.vectoringInfo = 0;
  m.wNum(O.GUEST_LINEAR_ADDRESS, v.exitGuestLinear);
  m.wNum(O.GUEST_PHYSICAL_ADDRESS, v.exitGuestPhysical);
  // Every VM exit clears the valid bit of the VM-entry interruption-information field (SDM §27.2.5).
  m.w32(O.VM_ENTRY_INTR_INFO_FIELD, m.r32(O.VM_ENTRY_INTR_INFO_FIELD) & 0x7fffffff);
  let abort = 0;
  if (entryFailure) {
    v.checker.invalidate();
  } else {
    // The exit rewrites the guest-state area: tell the entry-check cache what really changed.
    const saved = saveGuestState(v, c, reason);
    if (v.entryHadExtras || (saved & SAVED_CHANGED) !== 0) v.checker.invalidate();
    else if ((saved & SAVED_RIP) !== 0) v.checker.invalidate(GUEST_RIP_ENCODING);
    if (m.r32(O.VM_EXIT_MSR_STORE_COUNT) !== 0 && !storeMsrs(v, c)) abort = 1; // the usual empty list costs no call
  }
  const guestRip = c.rip;
  v.timerDeadline = Infinity;
  if (!entryFailure) {
    // Only an exit caused by an NMI blocks NMIs; others leave blocking by NMI as it was, and
    // with "virtual NMIs" the guest's blocking was virtual: NMIs were unblocked (SDM §27.5.5, §26.7.1).
    const nmiExit = reason === REASON_EXCEPTION && (v.exitIntrInfo & 0x700) === 0x200;
    c.nmiBlocked = nmiExit || ((v.pin & PIN_VIRTUAL_NMIS) === 0 && c.nmiBlocked);
  }
  c.iretUnblocksNmi = true;
  loadHostState(v, c, !entryFailure);
  leaveNonRoot(v, c);
  if (abort === 0) {
    const count = m.r32(O.VM_EXIT_MSR_LOAD_COUNT) >>> 0;
    const failed = count === 0 ? 0 : loadMsrList(v, c, m.rNum(O.VM_EXIT_MSR_LOAD_ADDR), count);
    if (failed !== 0) abort = 4;
  }
  const basic = reason & 0xffff;
  if (basic < v.exitCounts.length) v.exitCounts[basic]++;
  v.lastExitReason = basic;
  v.lastExitTsc = tsc;
  v.recordExit(reason, guestRip, tsc, message);
  if (abort !== 0) vmxAbort(v, abort);
}

/** VMX abort (SDM §27.7): the indicator goes into the VMCS and the processor shuts down. */
function vmxAbort(v: Vmx, indicator: number): void {
  v.vmcs.w32(4, indicator);
  v.abortIndicator = indicator;
  v.cpu.requestStop('triple-fault');
}
