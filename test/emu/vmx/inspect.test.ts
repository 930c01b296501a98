// What tools read from a processor's VMX (issue 4 §7): the current VMCS decoded field by
// field, the last exit decoded with its qualification, per-reason statistics, and the
// VM-entry / VM-exit events.
import { describe, expect, it } from 'vitest';
import { EXIT_REASON as R } from '../../../src/emu/vmx/exit-reasons';
import { currentVmcs, exitStats, lastExit, vmxStatus } from '../../../src/emu/vmx/inspect';
import { GUEST_CODE, Rig, VMCS_REGION } from './rig';

describe('VMX inspection for tools', () => {
  it('status, current VMCS, last exit, statistics and events', () => {
    const rig = new Rig();
    expect(vmxStatus(rig.vmx)).toMatchObject({ inVmxOperation: false, currentVmcs: -1 });
    expect(currentVmcs(rig.vmx)).toBeUndefined();
    rig.enterVmx();
    rig.setupGuest('movq $0x3f8, %rdx\noutb %al, %dx', { proc: 1 << 24 });
    const events: string[] = [];
    rig.vmx.onEntry = (e) => events.push(`entry ${e.launch ? 'launch' : 'resume'} ${e.guestRip.toString(16)}`);
    rig.vmx.onExit = (e) => events.push(`exit ${e.exitReason}`);
    rig.launch();
    expect(events).toEqual([`entry launch ${GUEST_CODE.toString(16)}`, `exit ${R.IO_INSTRUCTION}`]);
    const vmcs = currentVmcs(rig.vmx)!;
    expect(vmcs.pointer).toBe(VMCS_REGION);
    expect(vmcs.launchState).toBe('launched');
    const proc = vmcs.fields.find((f) => f.name === 'CPU_BASED_VM_EXEC_CONTROL')!;
    expect(proc.text).toMatch(/^CPU_BASED_VM_EXEC_CONTROL = 0x[0-9a-f]{8} \[.*UNCOND_IO_EXITING/);
    expect(vmcs.fields.find((f) => f.name === 'GUEST_RIP')!.lo).toBe(GUEST_CODE + 7);
    const exit = lastExit(rig.vmx)!;
    expect(exit).toMatchObject({ basic: R.IO_INSTRUCTION, name: 'IO_INSTRUCTION', failedEntry: false, guestRip: GUEST_CODE + 7, instructionLength: 1 });
    expect(exit.text).toBe('IO_INSTRUCTION (30): out 1 byte port 0x3f8 (dx)');
    expect(exit.qualificationParts.map((p) => p.text)).toContain('port=0x3f8');
    expect(exitStats(rig.vmx)).toEqual([{ reason: R.IO_INSTRUCTION, name: 'IO_INSTRUCTION', count: 1, rootCycles: 0 }]);
    expect(vmxStatus(rig.vmx)).toMatchObject({ inVmxOperation: true, nonRoot: false, entries: 1, exits: 1 });
  });
});
