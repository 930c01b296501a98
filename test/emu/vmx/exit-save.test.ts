// What a VM exit's save of the guest state (SDM Vol. 3C §27.3) tells the VM-entry check cache
// (entry-checks.ts): stores that leave a checked field's value unchanged keep the cache, a
// changed RIP re-runs the RIP check only, any other changed field re-runs every check.
import { beforeEach, describe, expect, it } from 'vitest';
import { EXIT_REASON as R } from '../../../src/emu/vmx/exit-reasons';
import { Rig } from './rig';

let rig: Rig;
beforeEach(() => {
  rig ??= new Rig();
  rig.reset();
  rig.enterVmx();
});

/** A VMM's resume: GUEST_RIP += VM_EXIT_INSTRUCTION_LEN through VMREAD/VMWRITE, then VMRESUME. */
const VMM = 0x260000;
function vmmResume(): void {
  const c = rig.cpu;
  c.halted = false;
  c.rip = VMM;
  rig.m.run({ maxInstructions: rig.m.instructions + 100_000 });
  expect(rig.exitReason()).toBe(R.VMCALL);
}

describe('SDM 27.3 saving guest state, and the entry-check cache', () => {
  it('a round trip that moves only RIP keeps the checks cached; the guest loading FS re-runs them all', () => {
    rig.load(VMM, 'movl $0x681e, %edx\nvmread %rdx, %rax\nmovl $0x440c, %ecx\nvmread %rcx, %rbx\naddq %rbx, %rax\nvmwrite %rax, %rdx\nvmresume\nhlt');
    rig.setupGuest('pushq %rax\npopq %rax\nvmcall\nvmcall\nmovw $0x10, %ax\nmovw %ax, %fs\nvmcall\nvmcall');
    rig.launch();
    const checker = rig.vmx.checker;
    const full = checker.fullRuns;
    vmmResume();
    expect(checker.fullRuns).toBe(full); // only RIP changed: its check alone ran again, on the cached result
    vmmResume();
    expect(rig.read('GUEST_FS_SELECTOR')).toBe(0x10);
    expect(checker.fullRuns).toBe(full);
    vmmResume();
    expect(checker.fullRuns).toBe(full + 1); // GUEST_FS_* changed at the exit before
  });
});
