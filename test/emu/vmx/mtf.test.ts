// Monitor trap flag (SDM 25.5.2): the MTF VM exit is pending on the instruction boundary
// after the first instruction following VM entry completes, or, when no instruction
// completes, after the delivery of an event: a fault the instruction caused, an event VM
// entry injected, an interrupt delivered before the first instruction. Entry can also
// inject a pending MTF VM exit (interruption type 7), which exits even with MTF off.
import { beforeEach, describe, expect, it } from 'vitest';
import { EXIT_REASON as R } from '../../../src/emu/vmx/exit-reasons';
import { GUEST_CODE, IDT, Rig } from './rig';

let rig: Rig;
beforeEach(() => {
  rig ??= new Rig();
  rig.reset();
  rig.enterVmx();
});

const MTF = 1 << 27;
const HANDLER = GUEST_CODE + 0x100;

/** A 64-bit interrupt gate for `vector` to HANDLER, whose code is a few NOPs and a VMCALL. */
function gate(vector: number): void {
  rig.mem.write32(IDT + 16 * vector, (0x08 << 16) | (HANDLER & 0xffff));
  rig.mem.write32(IDT + 16 * vector + 4, (HANDLER & 0xffff0000) | 0x8e00);
  rig.mem.write64(IDT + 16 * vector + 8, 0, 0);
  rig.load(HANDLER, 'nop\nnop\nvmcall');
}

function exitAt(): { reason: number; rip: number } {
  expect(rig.vmx.lastEntryFailure?.message).toBeUndefined();
  return { reason: rig.exitReason(), rip: rig.read('GUEST_RIP') };
}

describe('SDM 25.5.2 MTF VM exits', () => {
  it('after a completed instruction, then after MOV to CR3 faults (#GP delivered): RIP at the handler, before its first instruction', () => {
    gate(13);
    rig.setupGuest('movabsq $0xaaaaaaaaaaaaaaaa, %rax\nmovq %rax, %cr3\nnop', { proc: MTF });
    rig.launch();
    expect(exitAt()).toEqual({ reason: R.MONITOR_TRAP_FLAG, rip: GUEST_CODE + 10 });
    rig.resume(false);
    expect(exitAt()).toEqual({ reason: R.MONITOR_TRAP_FLAG, rip: HANDLER });
    rig.resume(false);
    expect(exitAt()).toEqual({ reason: R.MONITOR_TRAP_FLAG, rip: HANDLER + 1 });
  });

  it('after a MOV to CR3 that completes: RIP right after it', () => {
    rig.setupGuest('movq %cr3, %rax\nmovq %rax, %cr3\nnop', { proc: MTF });
    rig.launch();
    expect(exitAt()).toEqual({ reason: R.MONITOR_TRAP_FLAG, rip: GUEST_CODE + 3 });
    rig.resume(false);
    expect(exitAt()).toEqual({ reason: R.MONITOR_TRAP_FLAG, rip: GUEST_CODE + 6 });
  });

  it('after injecting a vectored event: before the handler\'s first instruction (SDM 26.6.1)', () => {
    gate(13);
    rig.setupGuest('nop\nnop', { proc: MTF });
    rig.write('VM_ENTRY_INTR_INFO_FIELD', 0x80000b0d);
    rig.write('VM_ENTRY_EXCEPTION_ERROR_CODE', 0);
    rig.launch();
    expect(exitAt()).toEqual({ reason: R.MONITOR_TRAP_FLAG, rip: HANDLER });
  });

  it('injected pending MTF VM exit (type 7) exits before the first instruction even with MTF off (SDM 26.6.2)', () => {
    rig.setupGuest('nop\nnop');
    rig.write('VM_ENTRY_INTR_INFO_FIELD', 0x80000700);
    rig.launch();
    expect(exitAt()).toEqual({ reason: R.MONITOR_TRAP_FLAG, rip: GUEST_CODE });
  });

  it('after an external interrupt delivered through the guest IDT before the first instruction', () => {
    gate(0x30);
    const saved = rig.cpu.interrupts;
    let pending = true;
    rig.cpu.interrupts = {
      get intrPending() { return pending && rig.vmx.nonRoot; },
      nmiPending: false,
      acknowledge: () => { pending = false; return 0x30; },
      acknowledgeNmi: () => undefined,
    };
    try {
      rig.setupGuest('nop\nnop', { proc: MTF });
      rig.write('GUEST_RFLAGS', 0x202);
      rig.launch();
      expect(exitAt()).toEqual({ reason: R.MONITOR_TRAP_FLAG, rip: HANDLER });
      expect(pending).toBe(false);
    } finally {
      rig.cpu.interrupts = saved;
    }
  });
});
