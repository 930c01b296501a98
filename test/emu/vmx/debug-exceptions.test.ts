// Debug exceptions in VMX non-root operation: a #DB the exception bitmap intercepts exits
// with the exit qualification holding what DR6 would have reported, and leaves DR6 alone
// (SDM 27.1, 27.2.1 Table 27-1); the pending-debug-exceptions field is saved at VM exits
// (27.3.4) and delivered after VM entry (26.6.3), below MTF and above the VMX-preemption
// timer in priority (25.5.2, Vol. 3A 6.9).
import { beforeEach, describe, expect, it } from 'vitest';
import { EXIT_REASON as R } from '../../../src/emu/vmx/exit-reasons';
import { GUEST_CODE, IDT, Rig, SCRATCH } from './rig';

let rig: Rig;
beforeEach(() => {
  rig ??= new Rig();
  rig.reset();
  rig.enterVmx();
});

const TF = 0x100;
const MTF = 1 << 27;
const PREEMPTION_TIMER = 1 << 6;
const LOAD_DEBUG = 1 << 2;
const BS = 0x4000, ENABLED_BP = 0x1000;
const HANDLER = GUEST_CODE + 0x100;
const DB_EXCEPTION = 0x80000301;

/** A 64-bit interrupt gate for `vector` to HANDLER (two NOPs and a VMCALL). */
function gate(vector: number): void {
  rig.mem.write32(IDT + 16 * vector, (0x08 << 16) | (HANDLER & 0xffff));
  rig.mem.write32(IDT + 16 * vector + 4, (HANDLER & 0xffff0000) | 0x8e00);
  rig.mem.write64(IDT + 16 * vector + 8, 0, 0);
  rig.load(HANDLER, 'nop\nnop\nvmcall');
}

function exit(): { reason: number; rip: number; qual: number; info: number } {
  expect(rig.vmx.lastEntryFailure?.message).toBeUndefined();
  return { reason: rig.exitReason(), rip: rig.read('GUEST_RIP'), qual: rig.read('EXIT_QUALIFICATION'), info: rig.read('VM_EXIT_INTR_INFO') };
}

describe('SDM 27.1 / 27.2.1 Table 27-1: #DB VM exits', () => {
  it('a single-step trap exits after the instruction with BS in the qualification; DR6 keeps its value', () => {
    rig.setupGuest('nop\nnop\nvmcall');
    rig.write('EXCEPTION_BITMAP', 1 << 1);
    rig.write('GUEST_RFLAGS', 2 | TF);
    rig.cpu.dr6 = 0xffff0ff0 | 0xa; // B1, B3: must survive, and not leak into the qualification
    rig.launch();
    expect(exit()).toEqual({ reason: R.EXCEPTION_NMI, rip: GUEST_CODE + 1, qual: BS, info: DB_EXCEPTION });
    expect(rig.cpu.dr6 >>> 0).toBe(0xffff0ffa);
    expect(rig.read('GUEST_PENDING_DBG_EXCEPTIONS')).toBe(0);
  });

  it('an enabled data breakpoint (DR7 loaded from GUEST_DR7) exits after the write with B0, and the host DR7 is 400H again', () => {
    rig.setupGuest(`movq $1, ${SCRATCH + 8}\nnop\nvmcall`, { entry: LOAD_DEBUG });
    rig.write('EXCEPTION_BITMAP', 1 << 1);
    rig.cpu.dr[0] = SCRATCH + 8;
    rig.write('GUEST_DR7', 0x400 | 0x2 | (0b1101 << 16)); // G0, R/W0 = 01 (writes), LEN0 = 11 (4 bytes)
    rig.launch();
    expect(exit()).toEqual({ reason: R.EXCEPTION_NMI, rip: GUEST_CODE + 12, qual: 0x1, info: DB_EXCEPTION });
    expect(rig.cpu.dr7).toBe(0x400);
  });

  it('an instruction breakpoint is a fault: the exit leaves GUEST_RIP at the instruction', () => {
    rig.setupGuest('nop\nnop\nvmcall', { entry: LOAD_DEBUG });
    rig.write('EXCEPTION_BITMAP', 1 << 1);
    rig.cpu.dr[2] = GUEST_CODE + 1;
    rig.write('GUEST_DR7', 0x400 | 0x20); // G2, R/W2 = 00 (execution)
    rig.launch();
    expect(exit()).toEqual({ reason: R.EXCEPTION_NMI, rip: GUEST_CODE + 1, qual: 0x4, info: DB_EXCEPTION });
  });

  it('INT1 exits as a privileged software exception (type 5) on the INT1 itself, with its length', () => {
    rig.setupGuest('nop\n.byte 0xf1\nvmcall');
    rig.write('EXCEPTION_BITMAP', 1 << 1);
    rig.launch();
    expect(exit()).toEqual({ reason: R.EXCEPTION_NMI, rip: GUEST_CODE + 1, qual: 0, info: 0x80000501 });
    expect(rig.read('VM_EXIT_INSTRUCTION_LEN')).toBe(1);
  });

  it('not intercepted, the #DB goes through the guest IDT and updates DR6 (BS, B0-B3 cleared)', () => {
    gate(1);
    rig.setupGuest('nop\nnop');
    rig.write('GUEST_RFLAGS', 2 | TF);
    rig.cpu.dr6 = 0xffff0ff0 | 0x3;
    rig.launch();
    expect(exit()).toMatchObject({ reason: R.VMCALL, rip: HANDLER + 2 });
    expect(rig.cpu.dr6 >>> 0).toBe(0xffff4ff0);
  });
});

describe('SDM 27.3.4: the pending-debug-exceptions field at VM exits', () => {
  it('an MTF VM exit after a single-stepped instruction saves BS (SDM 25.5.2)', () => {
    rig.setupGuest('nop\nnop', { proc: MTF });
    rig.write('GUEST_RFLAGS', 2 | TF);
    rig.launch();
    expect(exit()).toMatchObject({ reason: R.MONITOR_TRAP_FLAG, rip: GUEST_CODE + 1 });
    expect(rig.read('GUEST_PENDING_DBG_EXCEPTIONS')).toBe(BS);
  });

  it('an instruction VM exit (CPUID) with TF=1 saves 0 and takes no single step in the host', () => {
    rig.setupGuest('cpuid');
    rig.write('GUEST_RFLAGS', 2 | TF);
    const stop = rig.launch();
    expect(stop.kind).toBe('halted-forever');
    expect(exit()).toMatchObject({ reason: R.CPUID, rip: GUEST_CODE });
    expect(rig.read('GUEST_PENDING_DBG_EXCEPTIONS')).toBe(0);
  });

  it('an exit under MOV-SS blocking saves the single step MOV SS held back, which the next entry delivers (SDM 26.6.3)', () => {
    rig.setupGuest('movw %ss, %ax\nmovw %ax, %ss\ncpuid\nnop');
    rig.write('EXCEPTION_BITMAP', 1 << 1);
    rig.write('GUEST_RFLAGS', 2 | TF);
    rig.write('GUEST_PENDING_DBG_EXCEPTIONS', 0);
    rig.launch();
    // MOV from SS is stepped first: its trap exits.
    expect(exit()).toMatchObject({ reason: R.EXCEPTION_NMI, rip: GUEST_CODE + 3, qual: BS });
    rig.write('GUEST_PENDING_DBG_EXCEPTIONS', 0);
    rig.resume(false);
    expect(exit()).toMatchObject({ reason: R.CPUID, rip: GUEST_CODE + 5 });
    expect(rig.read('GUEST_INTERRUPTIBILITY_INFO')).toBe(2);
    expect(rig.read('GUEST_PENDING_DBG_EXCEPTIONS')).toBe(BS);
    // As a VMM that emulated CPUID: skip it, end the blocking; the held-back trap is taken at once.
    rig.write('GUEST_INTERRUPTIBILITY_INFO', 0);
    rig.resume(true);
    expect(exit()).toMatchObject({ reason: R.EXCEPTION_NMI, rip: GUEST_CODE + 7, qual: BS });
  });
});

describe('SDM 26.6.3: pending debug exceptions after VM entry', () => {
  it('under MOV-SS blocking they wait one instruction and go out with its single step, as one #DB', () => {
    rig.setupGuest('nop\nnop');
    rig.write('EXCEPTION_BITMAP', 1 << 1);
    rig.write('GUEST_RFLAGS', 2 | TF);
    rig.write('GUEST_PENDING_DBG_EXCEPTIONS', BS | ENABLED_BP | 0x1);
    rig.write('GUEST_INTERRUPTIBILITY_INFO', 2);
    rig.launch();
    expect(exit()).toEqual({ reason: R.EXCEPTION_NMI, rip: GUEST_CODE + 1, qual: BS | 0x1, info: DB_EXCEPTION });
  });

  it('they come before a VMX-preemption timer of 0: the timer exits at the #DB handler (SDM 25.5.1)', () => {
    gate(1);
    rig.setupGuest('nop\nnop', { pin: PREEMPTION_TIMER });
    rig.write('VMX_PREEMPTION_TIMER_VALUE', 0);
    rig.write('GUEST_PENDING_DBG_EXCEPTIONS', ENABLED_BP | 0x2);
    rig.cpu.dr6 = 0xffff0ff0;
    rig.launch();
    expect(exit()).toMatchObject({ reason: R.PREEMPTION_TIMER, rip: HANDLER });
    expect(rig.cpu.dr6 >>> 0).toBe(0xffff0ff2);
  });

  it('intercepted, they exit with their B0-B3 in the qualification', () => {
    rig.setupGuest('nop\nnop', { pin: PREEMPTION_TIMER });
    rig.write('VMX_PREEMPTION_TIMER_VALUE', 0);
    rig.write('EXCEPTION_BITMAP', 1 << 1);
    rig.write('GUEST_PENDING_DBG_EXCEPTIONS', ENABLED_BP | 0x2);
    rig.launch();
    expect(exit()).toEqual({ reason: R.EXCEPTION_NMI, rip: GUEST_CODE, qual: 0x2, info: DB_EXCEPTION });
  });

  it('injecting a hardware exception drops them', () => {
    gate(13);
    rig.setupGuest('nop\nnop');
    rig.write('EXCEPTION_BITMAP', 1 << 1);
    rig.write('GUEST_PENDING_DBG_EXCEPTIONS', ENABLED_BP | 0x1);
    rig.write('VM_ENTRY_INTR_INFO_FIELD', 0x80000b0d);
    rig.write('VM_ENTRY_EXCEPTION_ERROR_CODE', 0);
    rig.launch();
    expect(exit()).toMatchObject({ reason: R.VMCALL, rip: HANDLER + 2 });
  });
});
