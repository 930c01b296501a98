// A guest halted in VMX non-root operation wakes for what the VMX controls say, not only
// for what wakes a halted CPU in root operation: the VMX-preemption timer counts in the HLT
// state (SDM 25.5.1) and external-interrupt exiting exits whatever RFLAGS.IF is (SDM 25.2).
// The machine's idle loop (Machine.sleep) must skip virtual time to those wake-ups instead
// of ending the run as 'halted-forever'.
import { beforeEach, describe, expect, it } from 'vitest';
import { EXIT_REASON as R } from '../../../src/emu/vmx/exit-reasons';
import { GUEST_CODE, HOST_EXIT, Rig } from './rig';

let rig: Rig;
beforeEach(() => {
  rig ??= new Rig();
  rig.reset();
  rig.enterVmx();
});

const PIN_EXT_INTR = 1, PIN_TIMER = 1 << 6, EXIT_SAVE_TIMER = 1 << 22;

describe('SDM 25.5.1 VMX-preemption timer in the HLT state', () => {
  it('a guest HLT with IF=0 ends in exit 52 once the timer expires; virtual time skips to it', () => {
    const ticks = 0x1000000; // 2^24 ticks of TSC/32: about 2.7 s of virtual time at 2 GHz, far beyond the instruction budget
    rig.setupGuest('cli\nhlt\nnop', { pin: PIN_TIMER, exit: EXIT_SAVE_TIMER });
    rig.write('VMX_PREEMPTION_TIMER_VALUE', ticks);
    const before = rig.vmx.tscNow();
    const stop = rig.launch(10_000);
    expect(rig.vmx.lastEntryFailure?.message).toBeUndefined();
    expect(stop.kind).toBe('halted-forever'); // the host's own HLT with IF=0, after the exit
    expect(rig.cpu.rip).toBe(HOST_EXIT + 1);
    expect(rig.vmx.nonRoot).toBe(false);
    expect(rig.exitReason()).toBe(R.PREEMPTION_TIMER);
    expect(rig.read('GUEST_RIP')).toBe(GUEST_CODE + 2); // after the HLT
    expect(rig.read('GUEST_ACTIVITY_STATE')).toBe(1); // saved as HLT (SDM 27.3.4)
    expect(rig.read('VMX_PREEMPTION_TIMER_VALUE')).toBe(0);
    const elapsed = rig.vmx.tscNow() - before;
    expect(elapsed).toBeGreaterThanOrEqual((ticks - 1) * 32);
    expect(elapsed).toBeLessThan((ticks + 2) * 32 + 10_000 * 40);
  });

  it('without the timer the same guest HLT with IF=0 still ends the run as halted forever', () => {
    rig.setupGuest('cli\nhlt\nnop');
    const stop = rig.launch(10_000);
    expect(stop.kind).toBe('halted-forever');
    expect(rig.vmx.nonRoot).toBe(true);
  });
});

describe('SDM 25.2 external-interrupt exiting wakes a guest halted with IF=0', () => {
  it('an interrupt raised by a device timer during the halt exits with reason 1', () => {
    const clock = rig.m.board.clock;
    let raised = false;
    const timer = clock.createTimer('test-irq', () => { raised = true; });
    const saved = rig.cpu.interrupts;
    rig.cpu.interrupts = {
      get intrPending() { return raised; },
      nmiPending: false,
      acknowledge: () => { raised = false; return 0x30; },
      acknowledgeNmi: () => undefined,
    };
    try {
      rig.setupGuest('cli\nhlt\nnop', { pin: PIN_EXT_INTR, exit: 1 << 15 });
      clock.schedule(timer, clock.now + 5_000_000);
      const stop = rig.launch(10_000);
      expect(rig.vmx.lastEntryFailure?.message).toBeUndefined();
      expect(stop.kind).toBe('halted-forever');
      expect(rig.vmx.nonRoot).toBe(false);
      expect(rig.exitReason()).toBe(R.EXTERNAL_INTERRUPT);
      expect(rig.read('VM_EXIT_INTR_INFO')).toBe(0x80000030);
      expect(rig.read('GUEST_ACTIVITY_STATE')).toBe(1);
    } finally {
      clock.cancel(timer);
      rig.cpu.interrupts = saved;
    }
  });
});
