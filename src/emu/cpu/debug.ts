// Debug exceptions (#DB, vector 1) raised by the CPU itself: SDM Vol. 3B chapter 18 ("Debug,
// Branch Profile, TSC, and Intel Resource Director Technology Features") and Vol. 3A §6.15
// ("Interrupt 1—Debug Exception"). The debug registers' decoded state is in
// debug-registers.ts; this module is what the CPU does with it.
//
// - Faults, raised before the instruction runs: instruction breakpoints (§18.3.1.1, not while
//   RFLAGS.RF = 1) and general detect (§18.3.1.3: MOV DR with DR7.GD = 1). They throw a
//   CpuFault(#DB) with `DebugUnit.event` saying what to report.
// - Traps, recognized during an instruction and delivered at the boundary after it: single
//   step (RFLAGS.TF at the start of the instruction, §18.3.1.4), data and I/O breakpoints
//   (§18.3.1.2). They accumulate in `DebugUnit.pending`; cpu.ts service() delivers them
//   first at the next boundary (priority 4, "traps on the previous instruction", above NMI and
//   interrupts, §6.9), except right after MOV SS / POP SS, which holds them back for one more
//   instruction (§6.8.3). A fault in that instruction loses them; INT n does not (the #DB is
//   then taken before the handler's first instruction).
// - INT n, INT3, INTO and INT1 clear TF and take no single-step trap themselves (§18.3.1.4);
//   INT1 (ICEBP) is itself a #DB trap without BS.
// - Delivery (deliverEvent calls commitDebugEvent once the event goes through the IDT): DR6
//   gets B0-B3 of this event (the processor clears the others) and BD/BS/BT set, its other
//   bits untouched (§18.2.3); DR7.GD and IA32_DEBUGCTL.LBR/BTF are cleared (§18.2.4,
//   §18.4.1). A #DB that causes a VM exit changes none of them (SDM Vol. 3C §27.1): the VMX
//   event filter reports `event` as the exit qualification instead (Table 27-1).
import type { Cpu } from './cpu';
import {
  DR6_B_MASK, DR6_BD, DR6_BS, DR6_BT, DR6_FIXED1, DR6_WRITABLE, DR7_FIXED1, DR7_GD, DR7_WRITABLE, PENDING_ENABLED, PENDING_VALID,
} from './debug-registers';
import { deliverEvent, EVENT_EXCEPTION, INT_PRIV_SOFTWARE, softwareInterrupt } from './exceptions';
import { CpuFault, DB, GP } from './fault';
import { DEBUGCTL_BTF, DEBUGCTL_LBR, MSR_DEBUGCTL } from './msrs';
import { TF } from './flags';
import { CR4_DE, CS } from './state';

const TWO32 = 4294967296;
/** Marks `DebugUnit.event` as set even when the event reports no DR6 bit (INT1). */
const DEBUG_EVENT = 0x80000000 | 0;
/** DR6 bits a #DB reports (and a #DB VM exit's qualification holds, SDM Vol. 3C Table 27-1). */
export const DEBUG_EVENT_BITS = DR6_B_MASK | DR6_BD | DR6_BS | DR6_BT;

/** DR0-DR3 or DR7 changed (MOV DR, reset, VM entry and exit): re-decode, and drop cached pages if data breakpoints moved. */
export function debugRegistersChanged(c: Cpu): void {
  if (c.debug.decode(c.dr, c.dr7)) c.flushSoftTlb();
  c.attention = true; // the run loop chooses its debug loop when an instruction breakpoint is enabled
}

/** General detect (§18.2.4, §18.3.1.3): with DR7.GD = 1 any MOV DR faults with DR6.BD, before anything else it would do. */
function generalDetect(c: Cpu): void {
  if ((c.dr7 & DR7_GD) === 0) return;
  c.debug.event = DEBUG_EVENT | DR6_BD;
  throw new CpuFault(DB, -1, 'general detect: MOV DR with DR7.GD = 1');
}

/**
 * MOV to DRn, n the register after DR4/DR5 aliasing (SDM Vol. 2 MOV—Move to/from Debug
 * Registers; the CPL and CR4.DE checks come first). DR6 and DR7 keep their fixed bits; a 1 in
 * bits 63:32 of either is #GP(0), after general detect.
 */
export function writeDebugRegister(c: Cpu, n: number, lo: number, hi: number): void {
  generalDetect(c);
  if (n < 4) c.dr[n] = hi * TWO32 + (lo >>> 0);
  else {
    if (hi !== 0) throw new CpuFault(GP, 0, `MOV to DR${n} with bits 63:32 set`);
    if (n === 6) { c.dr6 = (lo & DR6_WRITABLE) | DR6_FIXED1; return; }
    c.dr7 = (lo & DR7_WRITABLE) | DR7_FIXED1;
  }
  debugRegistersChanged(c);
}

/** MOV from DRn (n after aliasing): the value as a number (DR6/DR7 are 32-bit). */
export function readDebugRegister(c: Cpu, n: number): number {
  generalDetect(c);
  return n < 4 ? c.dr[n] : n === 6 ? c.dr6 >>> 0 : c.dr7 >>> 0;
}

/** Before the instruction at RIP (RFLAGS.RF = 0): an enabled instruction breakpoint at its linear address is a #DB fault (§18.3.1.1). */
export function instructionBreakpoints(c: Cpu): void {
  const u = c.debug;
  const lin = c.long64 ? c.rip : (c.rip + c.segBaseLo[CS]) >>> 0;
  const m = u.execMatch(lin, c.long64);
  if ((m & u.execEnabled) === 0) return;
  // B0-B3: every breakpoint at this address, the disabled ones too (§18.2.3).
  u.event = DEBUG_EVENT | m;
  throw new CpuFault(DB, -1, `instruction breakpoint at 0x${lin.toString(16)}`);
}

/** The instruction just retired began with RFLAGS.TF = 1: a single-step trap (§18.3.1.4). */
export function singleStep(c: Cpu): void {
  c.debug.pending |= DR6_BS;
  c.attention = true;
}

/** Port I/O of `size` bytes at `port`: I/O breakpoints (R/W = 10, only with CR4.DE = 1) are traps (§18.3.1.2). */
export function ioBreakpoints(c: Cpu, port: number, size: number): void {
  if ((c.cr4 & CR4_DE) === 0) return;
  const u = c.debug;
  const m = u.ioMatch(port, size);
  if (m === 0) return;
  u.pending |= m | ((m & u.ioEnabled) !== 0 ? PENDING_ENABLED : 0);
  c.attention = true;
}

/**
 * MOV SS / POP SS blocking (§6.8.3): this boundary is the one right after such an instruction
 * (its shadow not yet consumed, or consumed at this same boundary by an earlier look, see
 * cpu.ts service and shadowIcount).
 */
export function movSsBlocking(c: Cpu): boolean {
  return c.movSsShadow && (c.interruptShadow || c.shadowIcount === c.icount);
}

/** A #DB trap is due at this boundary: one is pending and no MOV SS / POP SS holds it back. */
export function debugTrapDue(c: Cpu): boolean {
  return (c.debug.pending & PENDING_VALID) !== 0 && !movSsBlocking(c);
}

/**
 * At an instruction boundary (cpu.ts service): delivers the pending debug traps as one #DB
 * unless MOV SS blocking holds them back. Matches of disabled breakpoints alone deliver
 * nothing and are forgotten. Returns true when a #DB was raised (delivered, or a VM exit);
 * throws CpuFault when its delivery faults.
 */
export function deliverDebugTraps(c: Cpu): boolean {
  const u = c.debug;
  const p = u.pending;
  if ((p & PENDING_VALID) === 0) { u.pending = 0; return false; }
  if (movSsBlocking(c)) return false;
  u.pending = 0;
  u.event = DEBUG_EVENT | (p & (DR6_B_MASK | DR6_BS));
  try {
    deliverEvent(c, EVENT_EXCEPTION, DB, -1, c.rip);
  } finally {
    u.event = 0;
  }
  return true;
}

/**
 * INT1 / ICEBP (opcode F1, SDM Vol. 2 INT n/INTO/INT3/INT1): a #DB trap delivered as a
 * privileged software exception, without BS. Conditions a preceding MOV SS held back go out
 * with it, as one #DB.
 */
export function icebp(c: Cpu): void {
  const u = c.debug;
  u.stepCancel = true;
  u.event = DEBUG_EVENT | (u.pending & DR6_B_MASK);
  u.pending = 0;
  try {
    softwareInterrupt(c, DB, INT_PRIV_SOFTWARE);
  } finally {
    u.event = 0;
  }
}

/**
 * deliverEvent's hook for a #DB the debug unit raised, once it is delivered through the IDT
 * (not when it caused a VM exit): DR6, DR7.GD and IA32_DEBUGCTL as §18.2.3, §18.2.4 and
 * §18.4.1 say.
 */
export function commitDebugEvent(c: Cpu): void {
  const e = c.debug.event;
  c.debug.event = 0;
  c.dr6 = (c.dr6 & ~DR6_B_MASK) | (e & DEBUG_EVENT_BITS) | DR6_FIXED1;
  c.dr7 &= ~DR7_GD;
  const ctl = c.msrLo.get(MSR_DEBUGCTL);
  if (ctl !== undefined && (ctl & (DEBUGCTL_LBR | DEBUGCTL_BTF)) !== 0) c.msrLo.set(MSR_DEBUGCTL, ctl & ~(DEBUGCTL_LBR | DEBUGCTL_BTF));
}

// ---- VMX (SDM Vol. 3C) ----

/**
 * The pending-debug-exceptions field a VM exit saves (SDM Vol. 3C §27.3.4). An exit caused
 * by a #DB (`debugExit`) saves 0: its conditions are in the exit qualification. An MTF VM
 * exit (`keep`) saves the traps the last instruction raised (e.g. BS when it was
 * single-stepped, §25.5.2). Any other exit saves something only under STI or MOV-SS
 * blocking: the traps MOV SS held back; and under that blocking or in the HLT state, BS when
 * RFLAGS.TF = 1 and IA32_DEBUGCTL.BTF = 0, which the next VM entry's checks require (§26.3.1.5).
 */
export function pendingDebugAtExit(c: Cpu, debugExit: boolean, keep: boolean): number {
  if (debugExit) return 0;
  const blocking = c.interruptShadow || c.shadowIcount === c.icount;
  const bs = (blocking || c.halted) && (c.flagsVal & TF) !== 0 && ((c.msrLo.get(MSR_DEBUGCTL) ?? 0) & DEBUGCTL_BTF) === 0;
  if (!keep && !blocking && !bs) return 0;
  let p = c.debug.pending & (DR6_B_MASK | PENDING_VALID);
  if ((p & PENDING_VALID) === 0) p = 0;
  return bs ? p | DR6_BS : p;
}

/** Leaving the guest (VM exit, failed VM entry): the host's DR7 is decoded, the guest's traps are gone (saved or lost). */
export function debugAtVmExit(c: Cpu): void {
  c.debug.pending = 0;
  c.debug.stepCancel = true; // the guest instruction that exited takes no single-step trap in the host
  debugRegistersChanged(c);
}

/**
 * VM entry (SDM Vol. 3C §26.6.3): the guest's DR7 is decoded and its pending debug
 * exceptions are loaded (B0-B3, enabled breakpoint, BS), to be delivered at the first
 * boundary unless MOV-SS blocking holds them back. They are ignored when the entry injects
 * an event (`injectType`, -1 for none), except a software interrupt or software exception
 * (types 4, 6) injected under MOV-SS blocking, and in the shutdown and wait-for-SIPI
 * activity states (`inactive`). VMLAUNCH/VMRESUME themselves take no single-step trap.
 */
export function debugAtVmEntry(c: Cpu, field: number, injectType: number, inactive: boolean): void {
  const u = c.debug;
  u.stepCancel = true;
  debugRegistersChanged(c);
  let p = field & (DR6_B_MASK | PENDING_VALID);
  if ((p & PENDING_VALID) === 0 || inactive) p = 0;
  else if (injectType >= 0 && injectType !== 7 && !((injectType === 4 || injectType === 6) && movSsBlocking(c))) p = 0;
  u.pending = p;
}
