// INIT and SIPI in VMX operation (src/emu/vmx/signals.ts), SDM Vol. 3C: §25.2 (INIT causes a
// VM exit in non-root operation, reason 3; a SIPI causes one, reason 4 with the vector as the
// qualification, only in the wait-for-SIPI activity state), §23.8 (INIT is blocked in VMX
// root operation and taken after VMXOFF), §26.6.2 (the activity states that block SIPIs and
// the wait-for-SIPI state that blocks the rest), App. A.6 (IA32_VMX_MISC bit 8 advertises
// wait-for-SIPI). The signals come in through the local APIC, as an IPI from another
// processor would bring them; kvm-unit-tests' vmx_init_signal_test and vmx_sipi_signal_test
// check the same on two processors.
import { beforeEach, describe, expect, it } from 'vitest';
import { EXIT_REASON as R } from '../../../src/emu/vmx/exit-reasons';
import { GUEST_CODE, HOST_CODE, HOST_EXIT, Rig } from './rig';

let rig: Rig;
beforeEach(() => {
  rig ??= new Rig();
  rig.reset();
  rig.enterVmx();
});

const SPIN = '1: incq %rax\njmp 1b';

describe('SDM 25.2: INIT in VMX non-root operation', () => {
  it('causes a VM exit with reason 3 at the guest\'s next instruction boundary, saving its state untouched', () => {
    rig.setupGuest(SPIN);
    expect(rig.launch(500).kind).toBe('instruction-limit');
    expect(rig.vmx.nonRoot).toBe(true);
    const rip = rig.cpu.rip;
    rig.m.board.lapic.acceptInit();
    const stop = rig.m.run({ maxInstructions: rig.m.instructions + 100 });
    expect(stop.kind).toBe('halted-forever');
    expect(rig.vmx.nonRoot).toBe(false);
    expect(rig.exitReason()).toBe(R.INIT_SIGNAL);
    expect(rig.read('EXIT_QUALIFICATION')).toBe(0);
    expect(rig.read('GUEST_RIP')).toBe(rip);
    expect(rig.read('GUEST_ACTIVITY_STATE')).toBe(0);
    expect(rig.cpu.rip).toBe(HOST_EXIT + 1);
  });

  it('a guest halted in HLT is woken by it and saved as HLT', () => {
    rig.setupGuest('cli\nhlt\nnop');
    expect(rig.launch(100).kind).toBe('halted-forever');
    expect(rig.cpu.halted).toBe(true);
    rig.m.board.lapic.acceptInit();
    rig.m.run({ maxInstructions: rig.m.instructions + 100 });
    expect(rig.exitReason()).toBe(R.INIT_SIGNAL);
    expect(rig.read('GUEST_ACTIVITY_STATE')).toBe(1);
    expect(rig.read('GUEST_RIP')).toBe(GUEST_CODE + 2);
  });
});

describe('SDM 23.8: INIT is blocked in VMX root operation', () => {
  it('the host goes on; the latched INIT makes the next VM entry exit with reason 3 before any guest instruction', () => {
    rig.load(HOST_CODE, SPIN);
    rig.cpu.rip = HOST_CODE;
    rig.cpu.halted = false;
    rig.m.run({ maxInstructions: rig.m.instructions + 200 });
    rig.m.board.lapic.acceptInit();
    const before = rig.cpu.icount;
    expect(rig.m.run({ maxInstructions: rig.m.instructions + 300 }).kind).toBe('instruction-limit');
    expect(rig.cpu.icount - before).toBe(300); // not reset, not stopped
    expect(rig.vmx.initLatched).toBe(true);
    rig.setupGuest('movq $7, %rbx\nhlt');
    rig.cpu.regs[6] = 0;
    rig.launch(100);
    expect(rig.exitReason()).toBe(R.INIT_SIGNAL);
    expect(rig.read('GUEST_RIP')).toBe(GUEST_CODE);
    expect(rig.vmx.initLatched).toBe(false);
  });

  it('VMXOFF releases it: on the bootstrap processor (no firmware to restart) the run ends as a reset', () => {
    const rig = new Rig(); // the reset ends this machine for good
    rig.enterVmx();
    rig.m.board.lapic.acceptInit();
    rig.load(HOST_CODE, 'vmxoff\nmovq $1, %rbx\nhlt');
    rig.cpu.rip = HOST_CODE;
    rig.cpu.halted = false;
    rig.cpu.regs[6] = 0;
    const stop = rig.m.run({ maxInstructions: rig.m.instructions + 100 });
    expect(stop).toEqual({ kind: 'reset', source: 'an INIT signal to the bootstrap processor' });
    expect(rig.cpu.regs[6]).toBe(0); // nothing after VMXOFF ran
  });
});

describe('SDM 26.6.2 and 25.2: the wait-for-SIPI activity state', () => {
  it('IA32_VMX_MISC advertises it (bit 8), so VM entry accepts GUEST_ACTIVITY_STATE = 3', () => {
    rig.cpu.regs[2] = 0x485;
    rig.vmx.readMsr(0x485);
    expect((rig.cpu.regs[0] >>> 8) & 1).toBe(1);
  });

  it('a guest entered in it runs nothing until a SIPI, which exits with reason 4 and the vector as qualification', () => {
    rig.setupGuest('movq $7, %rbx\nhlt');
    rig.write('GUEST_ACTIVITY_STATE', 3);
    rig.cpu.regs[6] = 0;
    const stop = rig.launch(1000);
    expect(rig.vmx.lastEntryFailure).toBeUndefined();
    expect(stop).toMatchObject({ kind: 'halted-forever' });
    expect((stop as { why: string }).why).toContain('SIPI');
    expect(rig.vmx.nonRoot).toBe(true);
    expect(rig.cpu.waitForSipi).toBe(true);
    // INIT is blocked in this state: no exit.
    rig.m.board.lapic.acceptInit();
    expect(rig.m.run({ maxInstructions: rig.m.instructions + 100 }).kind).toBe('halted-forever');
    expect(rig.vmx.nonRoot).toBe(true);
    rig.m.board.lapic.acceptStartup(0x9a);
    rig.m.run({ maxInstructions: rig.m.instructions + 100 });
    expect(rig.vmx.nonRoot).toBe(false);
    expect(rig.exitReason()).toBe(R.SIPI_SIGNAL);
    expect(rig.read('EXIT_QUALIFICATION')).toBe(0x9a);
    expect(rig.read('GUEST_ACTIVITY_STATE')).toBe(3);
    expect(rig.read('GUEST_RIP')).toBe(GUEST_CODE);
    expect(rig.cpu.regs[6]).toBe(0);
    expect(rig.cpu.waitForSipi).toBe(false);
    // The INIT that was blocked is still latched: the next entry (now active) exits for it.
    rig.write('GUEST_ACTIVITY_STATE', 0);
    rig.resume(false, 100);
    expect(rig.exitReason()).toBe(R.INIT_SIGNAL);
  });

  it('in the active and HLT states a SIPI is discarded without a VM exit', () => {
    rig.setupGuest(SPIN);
    rig.launch(300);
    rig.m.board.lapic.acceptStartup(0x10);
    expect(rig.m.run({ maxInstructions: rig.m.instructions + 300 }).kind).toBe('instruction-limit');
    expect(rig.vmx.nonRoot).toBe(true);
    expect(rig.vmx.sipiVector).toBe(-1);
  });
});
