// Bad input (issue 4): whatever a VMM writes into the VMCS, VMLAUNCH ends in an architected
// outcome (SDM Vol. 3C §26.1-26.8, §30.3 VMLAUNCH): VMfailValid with error 7 or 8, a VM exit
// with reason 33 or 34 and bit 31 set, or a VM entry (after which the guest runs under the
// random controls) — never an emulator exception. 10,000 random VMCS states per run: a valid
// VMCS with one to three fields overwritten by random values, bit flips or edge values.
import { describe, expect, it } from 'vitest';
import { SUPPORTED_VMCS_FIELDS } from '../../../src/emu/vmx/vmcs-fields';
import { HOST_CODE, Rig } from './rig';

/** A small deterministic PRNG (xorshift32) so that a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return x >>> 0;
  };
}

const WRITABLE = SUPPORTED_VMCS_FIELDS.filter((f) => !f.readOnly);

describe('fuzzing VMWRITE before VMLAUNCH (SDM 26)', () => {
  it('10,000 random VMCS states: an architected failure, exit or entry, never a JS exception', () => {
    const next = rng(0x5eed1234);
    let rig = new Rig();
    const counts = { entered: 0, failValid: 0, exit33: 0, exit34: 0, abort: 0 };
    const errors = new Set<number>();
    for (let iter = 0; iter < 10_000; iter++) {
      rig.reset();
      rig.enterVmx();
      rig.setupGuest('cpuid\nhlt', { proc: iter % 3 === 0 ? 1 << 7 : 0 });
      const n = 1 + (next() % 3);
      const written: string[] = [];
      for (let k = 0; k < n; k++) {
        const f = WRITABLE[next() % WRITABLE.length];
        const cur = new Int32Array(2);
        rig.vmx.vmcs.readField(f, cur);
        let lo: number, hi: number;
        switch (next() % 5) {
          case 0: lo = next(); hi = next(); break;
          case 1: { const b = next() % 64; lo = cur[0] ^ (b < 32 ? 1 << b : 0); hi = cur[1] ^ (b >= 32 ? 1 << (b - 32) : 0); break; }
          case 2: lo = 0; hi = 0; break;
          case 3: lo = -1; hi = -1; break;
          default: lo = next() & 0xff; hi = 0;
        }
        rig.vmx.vmcs.writeField(f, lo, hi);
        written.push(`${f.name}=${(hi >>> 0).toString(16)}_${(lo >>> 0).toString(16)}`);
      }
      rig.vmx.vmcsChanged();
      rig.load(HOST_CODE, 'vmlaunch\nhlt');
      rig.cpu.halted = false;
      rig.cpu.rip = HOST_CODE;
      rig.cpu.stopOnException = false;
      const where = `iteration ${iter}: ${written.join(' ')}`;
      const stop = rig.m.run({ budget: 1 });
      if (stop.kind === 'triple-fault') {
        // A VMX abort (SDM 27.7): the exit could not load host MSRs; the indicator says why.
        counts.abort++;
        expect(rig.vmx.abortIndicator, where).toBeGreaterThan(0);
        expect(rig.mem.read32(rig.vmx.vmcs.base + 4), where).toBe(rig.vmx.abortIndicator);
        rig = new Rig();
        continue;
      }
      expect(stop.kind, where).toBe('budget');
      if (rig.vmx.nonRoot) {
        counts.entered++;
        const after = rig.m.run({ budget: 300 });
        expect(after.kind, where).toBeTypeOf('string');
      } else if (rig.outcome() === 'failValid') {
        counts.failValid++;
        const e = rig.read('VM_INSTRUCTION_ERROR');
        errors.add(e);
        expect([7, 8], where).toContain(e);
        expect(rig.vmx.lastEntryFailure?.message, where).toMatch(/^VM entry failed: invalid (VMX control|host-state) field \(SDM 26\.2/);
      } else {
        const reason = rig.read('VM_EXIT_REASON');
        expect([0x80000021, 0x80000022], where).toContain(reason);
        if (reason === 0x80000021) counts.exit33++; else counts.exit34++;
        expect(rig.vmx.lastEntryFailure?.message, where).toMatch(/^VM entry failed: (invalid guest state|MSR loading) \(SDM 26\./);
      }
      // A guest (or a host resumed at a random HOST_RIP) may have ended the machine: start over.
      if (rig.m.run({ budget: 0 }).kind !== 'budget') rig = new Rig();
    }
    expect(counts.entered).toBeGreaterThan(1000);
    expect(counts.failValid).toBeGreaterThan(1000);
    expect(counts.exit33).toBeGreaterThan(500);
    expect(counts.exit34).toBeGreaterThan(10);
    expect([...errors].sort()).toEqual([7, 8]);
  }, 120_000);
});
