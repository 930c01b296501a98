// The VM-entry check cache (entry-checks.ts): an unchanged VMCS skips the VMCS-only checks,
// invalidate() brings them back, memory-reading checks always run; and the order of checks
// follows the SDM (the first failing check in SDM order is the one reported).

import { describe, expect, it } from 'vitest';
import { VmEntryChecker, checkVmEntry, ENTRY_CHECK_CATALOGUE, formatEntryFailure } from '../../../src/emu/vmx/entry-checks';
import { SUPPORTED_VMCS_FIELDS, fieldByName } from '../../../src/emu/vmx/vmcs-fields';
import { long64, prot32, realMode, v86, baseMemory, FACTS64, FACTS32, PAE_PDPT, type FakeVmcs } from './entry-checks.fixture';

const encOf = (name: string): number => fieldByName(name)!.field.encoding;

describe('VM-entry check cache', () => {
  it('skips the VMCS-only checks for an unchanged VMCS and runs them again after invalidate()', () => {
    const checker = new VmEntryChecker();
    const v = long64();
    const m = baseMemory();
    expect(checker.check(v, FACTS64, m).ok).toBe(true);
    const fullReads = v.reads;
    v.reads = 0;
    expect(checker.check(v, FACTS64, m).ok).toBe(true);
    expect(checker.fullRuns).toBe(1);
    expect(checker.cachedRuns).toBe(1);
    expect(v.reads).toBeLessThan(fullReads / 10);
    // A VMWRITE that breaks the guest state, reported after invalidate().
    v.set('GUEST_CR4', 0);
    checker.invalidate();
    const r = checker.check(v, FACTS64, m);
    expect(r.ok).toBe(false);
    expect(checker.fullRuns).toBe(2);
  });

  it('re-runs the memory-reading checks on every entry: a PDPTE written after the last entry is caught (SDM 26.3.1.6)', () => {
    const checker = new VmEntryChecker();
    const v = prot32();
    const m = baseMemory();
    expect(checker.check(v, FACTS64, m).ok).toBe(true);
    m.write32(PAE_PDPT + 24, 0x105); // PDPTE3: present, reserved bits 2 and 8 set
    const r = checker.check(v, FACTS64, m);
    expect(r.ok ? 'ok' : r.check.id).toBe('guest.pdpte-reserved');
    expect(checker.fullRuns).toBe(1);
  });

  it('re-checks when IA32_EFER.LMA differs from the cached entry (SDM 26.2.4)', () => {
    const checker = new VmEntryChecker();
    const v = long64();
    expect(checker.check(v, FACTS64, baseMemory()).ok).toBe(true);
    const r = checker.check(v, FACTS32, baseMemory());
    expect(r.ok ? 'ok' : r.check.id).toBe('host.outside-ia32e-guest');
    expect(checker.fullRuns).toBe(2);
  });

  it('a VMWRITE to a field no check reads (GUEST_RSP, CR0_READ_SHADOW) keeps the cache', () => {
    const checker = new VmEntryChecker();
    const v = long64();
    expect(checker.check(v, FACTS64, baseMemory()).ok).toBe(true);
    for (const name of ['GUEST_RSP', 'CR0_READ_SHADOW', 'EXCEPTION_BITMAP', 'TSC_OFFSET']) {
      v.set(name, 0x12345678, 0x9abc);
      checker.invalidate(encOf(name));
    }
    expect(checker.check(v, FACTS64, baseMemory()).ok).toBe(true);
    expect(checker.fullRuns).toBe(1);
  });

  it('a VMWRITE to GUEST_RIP re-runs only the RIP check (SDM 26.3.1.4)', () => {
    const checker = new VmEntryChecker();
    const v = long64();
    expect(checker.check(v, FACTS64, baseMemory()).ok).toBe(true);
    v.set('GUEST_RIP', 0x100003);
    checker.invalidate(encOf('GUEST_RIP'));
    expect(checker.check(v, FACTS64, baseMemory()).ok).toBe(true);
    v.set('GUEST_RIP', 0, 0x8000);
    checker.invalidate(encOf('GUEST_RIP'));
    const r = checker.check(v, FACTS64, baseMemory());
    expect(r.ok ? 'ok' : r.check.id).toBe('guest.rip-canonical');
    expect(checker.fullRuns).toBe(1);
    v.set('GUEST_RIP', 0x100000);
    checker.invalidate(encOf('GUEST_RIP'));
    expect(checker.check(v, FACTS64, baseMemory()).ok).toBe(true);
  });

  it('for every VMCS field, a VMWRITE then invalidate(encoding) gives the same result as a fresh check', () => {
    const values: readonly (readonly [number, number])[] = [[0, 0], [-1, -1], [0x80000000 | 0, 1], [0x1000, 0], [0x13, 0x8000], [2, 0]];
    for (const base of [long64, prot32, realMode, v86]) {
      for (const f of SUPPORTED_VMCS_FIELDS) {
        if (f.area === 'exit-info') continue;
        for (const [lo, hi] of values) {
          const v: FakeVmcs = base();
          const checker = new VmEntryChecker();
          expect(checker.check(v, FACTS64, baseMemory()).ok).toBe(true);
          const is64 = f.width === '64' || f.width === 'natural';
          v.values.set(f.encoding, [f.width === '16' ? lo & 0xffff : lo, is64 ? hi : 0]);
          checker.invalidate(f.width === '64' && hi !== 0 ? f.encoding | 1 : f.encoding);
          const cached = checker.check(v, FACTS64, baseMemory());
          const fresh = checkVmEntry(v, FACTS64, baseMemory());
          expect(cached, `${f.name}=${lo}:${hi}`).toEqual(fresh);
        }
      }
    }
  });

  it('does not cache a failure: a fixed VMCS passes on the next entry', () => {
    const checker = new VmEntryChecker();
    const v = long64().set('GUEST_RFLAGS', 0);
    expect(checker.check(v, FACTS64, baseMemory()).ok).toBe(false);
    v.set('GUEST_RFLAGS', 2);
    expect(checker.check(v, FACTS64, baseMemory()).ok).toBe(true);
  });
});

describe('VM-entry check order (SDM 26.2 before 26.3; sections in order)', () => {
  it('the catalogue lists controls, then host state, then guest state, sections non-decreasing', () => {
    const key = (s: string) => s.split('.').map((n) => n.padStart(3, '0')).join('.');
    const stages = ENTRY_CHECK_CATALOGUE.map((c) => c.stage);
    expect(stages.indexOf('host-state')).toBeGreaterThan(stages.lastIndexOf('controls'));
    expect(stages.indexOf('guest-state')).toBeGreaterThan(stages.lastIndexOf('host-state'));
    for (let i = 1; i < ENTRY_CHECK_CATALOGUE.length; i++) {
      expect(key(ENTRY_CHECK_CATALOGUE[i].sdm) >= key(ENTRY_CHECK_CATALOGUE[i - 1].sdm), ENTRY_CHECK_CATALOGUE[i].id).toBe(true);
    }
  });

  it('reports a host-state failure (SDM 26.2.2) before a guest-state one (SDM 26.3.1.1)', () => {
    const v = long64().set('GUEST_CR4', 0x2000).set('HOST_CR3', 0, 0x100);
    const r = checkVmEntry(v, FACTS64, baseMemory());
    expect(r.ok ? 'ok' : `${r.sdm} ${r.check.id}`).toBe('26.2.2 host.cr3-width');
  });

  it('reports CS access rights (SDM 26.3.1.2) before RIP (SDM 26.3.1.4) and the link pointer (26.3.1.5)', () => {
    const v = long64().set('GUEST_CS_AR_BYTES', 0xa09a).set('GUEST_RIP', 0, 0x8000).set('VMCS_LINK_POINTER', 0x1234);
    const r = checkVmEntry(v, FACTS64, baseMemory());
    expect(r.ok ? 'ok' : r.check.id).toBe('guest.cs-type');
  });

  it('formats the failure as the CLI prints it', () => {
    const r = checkVmEntry(long64().set('SECONDARY_VM_EXEC_CONTROL', 0x80).set('GUEST_CR0', 0x80000030), FACTS64, baseMemory());
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(formatEntryFailure(r)).toBe('VM entry failed: invalid VMX control field (SDM 26.2.1.1): '
        + 'SECONDARY_EXEC_UNRESTRICTED_GUEST=1 requires SECONDARY_EXEC_ENABLE_EPT=1 (SECONDARY_VM_EXEC_CONTROL=0x80)');
    }
    const g = checkVmEntry(long64().set('SECONDARY_VM_EXEC_CONTROL', 0x82).set('GUEST_CR0', 0x80000030), FACTS64, baseMemory());
    expect(g.ok ? 'ok' : formatEntryFailure(g)).toBe('VM entry failed: invalid guest state (SDM 26.3.1.1): GUEST_CR0.PG=1 requires GUEST_CR0.PE=1');
  });
});
