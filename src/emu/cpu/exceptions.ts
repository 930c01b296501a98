// Exception and interrupt delivery through the IVT (real mode) or the IDT (protected mode and
// IA-32e mode): SDM Vol. 3 §6.12 (protected mode), §6.14 (64-bit mode), §20.1.4 (real mode).
// Every event goes through deliverEvent, which is where VMX non-root operation will decide
// whether the event causes a VM exit instead (cpu.ts module comment).
import type { Cpu } from './cpu';
import { commitDebugEvent } from './debug';
import { CpuFault, DB, GP, NP, TS, hasErrorCode } from './fault';
import { AC, IF, NT, RF, TF, VM, getFlags, materialize } from './flags';
import { checkCodeDescriptor, desc, descAr, descBase, descLimit, loadCodeSegment, markAccessed, readDescriptor, sysRead32, sysWrite16, sysWrite32 } from './segments';
import { AR_DB, AR_DPL_SHIFT, AR_UNUSABLE, AR_TYPE_EC, CS, MODE_REAL, MODE_V8086, SS, TR } from './state';

/** Event kinds (VMX interruption types use the same distinctions, SDM Vol. 3C §24.8.3). */
export const EVENT_EXTINT = 0, EVENT_NMI = 2, EVENT_EXCEPTION = 3, INT_SOFTWARE = 4, INT_PRIV_SOFTWARE = 5;

const TWO32 = 4294967296;

/**
 * INT n / INT3 / INTO / INT1 from a handler: the return address is the next instruction.
 * With stopOnException the run stops at the instruction instead (differential tests).
 */
export function softwareInterrupt(c: Cpu, vector: number, kind: number): void {
  if (c.stopOnException) throw new CpuFault(vector, -1, 'software interrupt');
  deliverEvent(c, kind, vector, -1, c.nextRip);
}

/**
 * Delivers an event. `returnRip` is what the handler's IRET returns to (the faulting
 * instruction for faults, the next one for traps and software interrupts); defaults to RIP.
 * On success RIP (and nextRip) point at the handler. Throws CpuFault when delivery itself
 * faults (the caller turns that into #DF or a triple fault).
 */
export function deliverEvent(c: Cpu, kind: number, vector: number, errorCode: number, returnRip: number = c.rip): void {
  const trace = c.onEvent;
  if (trace !== undefined) trace(kind, vector, errorCode, c.rip, c.segSel[CS]);
  const filter = c.eventFilter;
  if (filter !== undefined && filter(kind, vector, errorCode, returnRip)) return; // VMX non-root: it caused a VM exit
  if (vector === DB && c.debug.event !== 0) commitDebugEvent(c); // a #DB of the debug unit: DR6, DR7.GD (debug.ts)
  const ext = kind === EVENT_EXTINT || kind === EVENT_NMI || kind === EVENT_EXCEPTION ? 1 : 0;
  const pushError = kind === EVENT_EXCEPTION && hasErrorCode(vector) && errorCode >= 0;
  // The RFLAGS image saved for a fault has RF set, so that IRET back to the faulting
  // instruction does not raise an instruction breakpoint again (SDM Vol. 3B §18.3.1.1).
  const rf = kind === EVENT_EXCEPTION && isFaultClass(vector) ? RF : 0;
  materialize(c);
  if (c.mode === MODE_REAL) deliverReal(c, vector, returnRip);
  else if (c.mode === MODE_V8086) throw new CpuFault(GP, 0, 'interrupts in virtual-8086 mode are not emulated');
  else if (c.long64 || (c.efer & 0x400) !== 0) deliverLong(c, kind, vector, errorCode, pushError, ext, returnRip, rf);
  else deliverProtected(c, kind, vector, errorCode, pushError, ext, returnRip, rf);
  c.nextRip = c.rip;
  c.halted = false;
  if (filter !== undefined) c.eventDelivered?.(); // VMX non-root: no longer "during event delivery" (IDT-vectoring information)
}

/**
 * Exceptions of the fault class (SDM Vol. 3A §6.15, "Exception Class" of each vector): #DE,
 * #BR, #UD, #NM, #TS, #NP, #SS, #GP, #PF, #MF, #AC, #XM, #VE, #CP. #DB is left out: as a
 * trap it must not set RF, and an instruction-breakpoint fault is the exception to the rule.
 */
function isFaultClass(vector: number): boolean {
  return vector === 0 || vector === 5 || vector === 6 || vector === 7 || (vector >= 10 && vector <= 14) || vector === 16 || vector === 17 || (vector >= 19 && vector <= 21);
}

function deliverReal(c: Cpu, vector: number, returnRip: number): void {
  if (vector * 4 + 3 > c.idtrLimit) throw new CpuFault(GP, 0, 'interrupt vector beyond the IVT limit');
  const entry = c.idtrBase + vector * 4;
  const off = c.rd16(entry | 0, 0);
  const sel = c.rd16((entry + 2) | 0, 0);
  const flags = getFlags(c);
  c.push(2, flags, 0);
  c.push(2, c.segSel[CS], 0);
  c.push(2, returnRip, 0);
  c.flagsVal &= ~(IF | TF | AC | RF);
  c.loadSegmentCache(CS, sel, sel << 4, 0, c.segLimit[CS], c.segAr[CS]);
  c.rip = off;
}

/** Reads the gate for `vector` (8 or 16 bytes) into g0..g3 and checks it (SDM Vol. 3 §6.12.1.1, §6.14.1). */
const gate = new Int32Array(4);

function readGate(c: Cpu, kind: number, vector: number, ext: number, long: boolean): number {
  const size = long ? 16 : 8;
  const code = vector * 8 + 2 + ext;
  if (vector * size + size - 1 > c.idtrLimit) throw new CpuFault(GP, code, 'interrupt vector beyond the IDT limit');
  const base = c.idtrBase + vector * size;
  gate[0] = sysRead32(c, base);
  gate[1] = sysRead32(c, base + 4);
  if (long) { gate[2] = sysRead32(c, base + 8); gate[3] = sysRead32(c, base + 12); }
  const type = (gate[1] >> 8) & 0x1f;
  const ok = long ? type === 0x0e || type === 0x0f : type === 0x0e || type === 0x0f || type === 0x06 || type === 0x07;
  if (!ok) throw new CpuFault(GP, code, type === 0x05 ? 'task gates are not emulated' : 'not an interrupt or trap gate');
  const dpl = (gate[1] >> 13) & 3;
  if ((kind === INT_SOFTWARE) && dpl < c.cpl) throw new CpuFault(GP, vector * 8 + 2, 'gate DPL below CPL for a software interrupt');
  if ((gate[1] & 0x8000) === 0) throw new CpuFault(NP, code, 'gate not present');
  return type;
}

/** Target code segment of the gate: checks it and returns the new CPL. */
function gateTarget(c: Cpu, ext: number, long: boolean): number {
  const sel = (gate[0] >>> 16) & 0xffff;
  if ((sel & 0xfffc) === 0) throw new CpuFault(GP, ext, 'null code selector in a gate');
  if (!readDescriptor(c, sel)) throw new CpuFault(GP, (sel & 0xfffc) + ext, 'gate selector beyond the descriptor table limit');
  const dpl = checkCodeDescriptor(sel, long);
  if (dpl > c.cpl) throw new CpuFault(GP, (sel & 0xfffc) + ext, 'gate target code segment less privileged than CPL');
  return (descAr(desc.hi) & AR_TYPE_EC) !== 0 ? c.cpl : dpl;
}

function deliverLong(c: Cpu, kind: number, vector: number, errorCode: number, pushError: boolean, ext: number, returnRip: number, rf: number): void {
  const type = readGate(c, kind, vector, ext, true);
  const sel = (gate[0] >>> 16) & 0xffff;
  const newCpl = gateTarget(c, ext, true);
  const target = gate[2] * TWO32 + (((gate[0] & 0xffff) | (gate[1] & 0xffff0000)) >>> 0);
  const ist = gate[1] & 7;
  const regs = c.regs;
  let rsp = regs[9] * TWO32 + (regs[8] >>> 0);
  if (newCpl < c.cpl || ist !== 0) {
    // New stack from the 64-bit TSS: RSPn at 4 + 8n, ISTn at 0x24 + 8(n-1) (SDM Vol. 3 §7.7 Fig. 7-11).
    const off = ist !== 0 ? 0x24 + 8 * (ist - 1) : 4 + 8 * newCpl;
    if (off + 7 > c.segLimit[TR]) throw new CpuFault(TS, (c.segSel[TR] & 0xfffc) + ext, 'TSS too small for the stack pointer');
    const tss = c.segBase(TR) + off;
    rsp = sysRead32(c, tss + 4) * TWO32 + (sysRead32(c, tss) >>> 0);
  }
  rsp -= ((rsp % 16) + 16) % 16; // align down to 16 bytes (SDM Vol. 3 §6.14.2)
  const flags = getFlags(c) | rf;
  const frame = [c.segSel[SS], regs[9] * TWO32 + (regs[8] >>> 0), flags, c.segSel[CS], returnRip];
  let sp = rsp;
  const push = (v: number): void => {
    sp -= 8;
    sysWrite32(c, sp, v | 0);
    sysWrite32(c, sp + 4, Math.floor(v / TWO32) | 0);
  };
  for (const v of frame) push(v);
  if (pushError) push(errorCode);
  if (target >= 140737488355328 || target < -140737488355328) throw new CpuFault(GP, ext, 'non-canonical interrupt handler address');
  const oldCpl = c.cpl;
  loadCodeSegment(c, sel, newCpl);
  if (newCpl !== oldCpl) c.loadSegmentCache(SS, newCpl, 0, 0, 0, AR_UNUSABLE | (newCpl << AR_DPL_SHIFT) | AR_DB);
  regs[8] = sp | 0;
  regs[9] = Math.floor(sp / TWO32) | 0;
  c.flagsVal &= ~(TF | NT | RF | VM | (type === 0x0e ? IF : 0));
  c.updateMode();
  c.rip = target;
}

function deliverProtected(c: Cpu, kind: number, vector: number, errorCode: number, pushError: boolean, ext: number, returnRip: number, rf: number): void {
  const type = readGate(c, kind, vector, ext, false);
  const sel = (gate[0] >>> 16) & 0xffff;
  const newCpl = gateTarget(c, ext, false);
  const csDesc = { lo: desc.lo, hi: desc.hi, addr: desc.addr };
  const gate32 = (type & 8) !== 0;
  const size = gate32 ? 4 : 2;
  const target = gate32 ? ((gate[0] & 0xffff) | (gate[1] & 0xffff0000)) >>> 0 : gate[0] & 0xffff;
  const regs = c.regs;
  const flags = getFlags(c) | rf;
  const oldSs = c.segSel[SS], oldEsp = regs[8], oldCs = c.segSel[CS];
  if (newCpl < c.cpl) {
    // Stack switch from the 32-bit TSS: ESPn at 4 + 8n, SSn at 8 + 8n (SDM Vol. 3 §6.12.1, §7.2.1).
    const off = 4 + 8 * newCpl;
    if (off + 5 > c.segLimit[TR]) throw new CpuFault(TS, (c.segSel[TR] & 0xfffc) + ext, 'TSS too small for the stack pointer');
    const tss = c.segBase(TR);
    const esp = sysRead32(c, tss + off);
    const ss = sysRead32(c, tss + off + 4) & 0xffff;
    if ((ss & 0xfffc) === 0 || !readDescriptor(c, ss)) throw new CpuFault(TS, (ss & 0xfffc) + ext, 'invalid stack segment in the TSS');
    const ar = descAr(desc.hi);
    if ((ss & 3) !== newCpl || ((ar >> AR_DPL_SHIFT) & 3) !== newCpl || (ar & 0x1a) !== 0x12) throw new CpuFault(TS, (ss & 0xfffc) + ext, 'invalid stack segment in the TSS');
    markAccessed(c);
    const ssBase = descBase(desc.lo, desc.hi);
    const ssLimit = descLimit(desc.lo, desc.hi);
    const ssB = (ar & AR_DB) !== 0;
    let sp = esp;
    const push = (v: number): void => {
      sp = ssB ? (sp - size) >>> 0 : (sp - size) & 0xffff;
      const lin = (ssBase + sp) >>> 0;
      if (size === 4) sysWrite32(c, lin, v);
      else sysWrite16(c, lin, v);
    };
    push(oldSs); push(oldEsp); push(flags); push(oldCs); push(returnRip);
    if (pushError) push(errorCode);
    c.loadSegmentCache(SS, ss, ssBase, 0, ssLimit, ar | 1); // type bit 0: accessed, set by markAccessed above
    regs[8] = ssB ? sp | 0 : (regs[8] & ~0xffff) | sp;
  } else {
    if (pushError) { c.stackAddr(-4 * size, 4 * size, true); }
    c.push(size, flags, 0);
    c.push(size, oldCs, 0);
    c.push(size, returnRip, 0);
    if (pushError) c.push(size, errorCode, 0);
  }
  desc.lo = csDesc.lo; desc.hi = csDesc.hi; desc.addr = csDesc.addr;
  loadCodeSegment(c, sel, newCpl);
  c.flagsVal &= ~(TF | NT | RF | VM | (type & 1 ? 0 : IF));
  c.updateMode();
  c.rip = target;
}

