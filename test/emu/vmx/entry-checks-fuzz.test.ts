// Fuzzing the VM-entry checks (issue 4, "Bad input"): 10,000 random VMCS states, biased toward
// the valid baselines (a few fields changed at a time), must never throw and must always give a
// well-formed result; the cached checker must agree with a fresh one on every state.

import { describe, expect, it } from 'vitest';
import {
  VmEntryChecker, checkVmEntry, ENTRY_CHECK_CATALOGUE, DEFAULT_ENTRY_PROCESSOR, type EntryCheckProcessor, type EntryCheckResult,
} from '../../../src/emu/vmx/entry-checks';
import { SUPPORTED_VMCS_FIELDS, fieldByName } from '../../../src/emu/vmx/vmcs-fields';
import { readVmxCapabilityMsr, MSR_IA32_VMX_BASIC } from '../../../src/emu/vmx/capabilities';
import { FakeVmcs, long64, realMode, prot32, v86, host32, baseMemory, FACTS64, FACTS32, CURRENT_VMCS, PAE_PDPT } from './entry-checks.fixture';

/** mulberry32: a small seeded PRNG, so a failing state can be reproduced from its index. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const WRITABLE = SUPPORTED_VMCS_FIELDS.filter((f) => f.area !== 'exit-info');
const BASES = [long64, realMode, prot32, v86, () => host32(prot32())];
const NO_TRUE: EntryCheckProcessor = {
  ...DEFAULT_ENTRY_PROCESSOR,
  readCapability: (n) => (n === MSR_IA32_VMX_BASIC ? { lo: readVmxCapabilityMsr(n)!.lo, hi: readVmxCapabilityMsr(n)!.hi & ~(1 << 23) } : readVmxCapabilityMsr(n)),
};

function wellFormed(r: EntryCheckResult): void {
  if (r.ok) return;
  expect(ENTRY_CHECK_CATALOGUE).toContain(r.check);
  expect(r.stage).toBe(r.check.stage);
  expect(r.sdm).toBe(r.check.sdm);
  expect(r.fields.length).toBeGreaterThan(0);
  for (const f of r.fields) expect(fieldByName(f), f).toBeDefined();
  expect(r.message.length).toBeGreaterThan(10);
  expect(r.message).not.toMatch(/undefined|NaN|\[object/);
  if (r.stage === 'controls' || r.stage === 'host-state') expect(r.outcome).toEqual({ kind: 'vmfail-valid', error: r.stage === 'controls' ? 7 : 8 });
  else expect(r.outcome).toEqual({ kind: 'vm-exit', exitReason: 0x80000021, qualification: r.check.qualification });
}

describe('VM-entry checks under random VMCS states', () => {
  it('10,000 states: no exception, well-formed results, cache agrees with a fresh check', () => {
    const rnd = prng(0x564d584c);
    const hits = new Map<string, number>();
    let passed = 0;
    const cached = new VmEntryChecker();
    for (let n = 0; n < 10_000; n++) {
      const v: FakeVmcs = BASES[rnd() % BASES.length]();
      const m = baseMemory();
      const changes = 1 + (rnd() % 4);
      for (let k = 0; k < changes; k++) {
        const f = WRITABLE[rnd() % WRITABLE.length];
        const old = v.values.get(f.encoding) ?? [0, 0];
        let lo: number, hi = 0;
        switch (rnd() % 6) {
          case 0: lo = rnd() | 0; hi = f.width === '64' || f.width === 'natural' ? rnd() | 0 : 0; break;
          case 1: lo = old[0] ^ (1 << (rnd() % 32)); hi = old[1]; break;
          case 2: lo = old[0]; hi = (f.width === '64' || f.width === 'natural') ? old[1] ^ (1 << (rnd() % 32)) : 0; break;
          case 3: lo = 0; break;
          case 4: lo = -1; hi = f.width === '64' || f.width === 'natural' ? -1 : 0; break;
          default: lo = rnd() % 64;
        }
        if (f.width === '16') lo &= 0xffff;
        v.values.set(f.encoding, [lo | 0, hi | 0]);
      }
      if (rnd() % 8 === 0) m.write32(PAE_PDPT + 8 * (rnd() % 4), rnd() | 0);
      if (rnd() % 16 === 0) v.set('VMCS_LINK_POINTER', rnd() % 2 === 0 ? CURRENT_VMCS : rnd() & ~0xfff, rnd() % 4 === 0 ? rnd() : 0);
      const facts = rnd() % 5 === 0 ? FACTS32 : FACTS64;
      const processor = rnd() % 10 === 0 ? NO_TRUE : DEFAULT_ENTRY_PROCESSOR;
      let r: EntryCheckResult;
      try {
        r = checkVmEntry(v, facts, m, processor);
      } catch (e) {
        throw new Error(`state ${n} threw: ${(e as Error).stack}`);
      }
      wellFormed(r);
      if (processor === DEFAULT_ENTRY_PROCESSOR) {
        cached.invalidate();
        const first = cached.check(v, facts, m);
        const again = cached.check(v, facts, m);
        expect(first).toEqual(r);
        expect(again).toEqual(r);
      }
      if (r.ok) passed++;
      else hits.set(r.check.id, (hits.get(r.check.id) ?? 0) + 1);
    }
    // Biased toward the baselines: some states stay valid, and many different checks fire.
    expect(passed).toBeGreaterThan(200);
    expect(hits.size).toBeGreaterThan(60);
  });
});
