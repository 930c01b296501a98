// A small VMM in our assembly dialect (fixtures/vmm.S) runs a guest through thousands of VM
// exits (SDM Vol. 3C ch. 26 VM entry, ch. 27 VM exits, ch. 30 VMX instructions): VMXON,
// VMCLEAR, VMPTRLD, VMWRITE of a whole VMCS, VMLAUNCH, then CPUID / RDTSC / VMCALL / I/O / HLT
// exits handled and VMRESUMEd. The guest checks what the VMM emulated; the VMM reports its
// own exit counts, which must agree with the machine's.
import { describe, expect, it } from 'vitest';
import { EXIT_REASON } from '../../../src/emu/vmx/exit-reasons';
import { bootWithVmx, buildKernel, VMM_SOURCE } from './vmm-fixture';

describe('VMM fixture (SDM 26, 27, 30)', () => {
  it('VMXON → VMLAUNCH → thousands of CPUID/RDTSC/VMCALL/I/O exits → VMRESUME → HLT', () => {
    const loops = 1000;
    const { m, vmx, out } = bootWithVmx(buildKernel(VMM_SOURCE, { GUEST_LOOPS: String(loops) }));
    const stop = m.run({ maxInstructions: 50_000_000, timeoutMs: 50_000 });
    const text = out();
    expect(vmx.lastEntryFailure?.message).toBeUndefined();
    expect(text).toContain(`guest: iterations ${loops}\n`);
    const c = vmx.exitCounts;
    expect(c[EXIT_REASON.CPUID]).toBe(2 * loops);
    expect(c[EXIT_REASON.RDTSC]).toBe(loops);
    expect(c[EXIT_REASON.VMCALL]).toBe(loops);
    expect(c[EXIT_REASON.HLT]).toBe(1);
    expect(c[EXIT_REASON.IO_INSTRUCTION]).toBeGreaterThan(2 * 'guest: iterations 1000\n'.length - 1);
    expect(text).toContain(`vmm: cpuid=${2 * loops} rdtsc=${loops} vmcall=${loops} io=${c[EXIT_REASON.IO_INSTRUCTION]}\n`);
    expect(stop).toEqual({ kind: 'debug-exit', value: 0, status: 1 });
    // One VMLAUNCH plus one VMRESUME per exit but the last (HLT).
    expect(vmx.entries).toBe(c.reduce((a, b) => a + b, 0));
  });
});
