// Mmu.explainWalk: the page walk that explains itself (issue 3 §4), and the nested-walk
// seam EPT will use (issue 4 §7; SDM Vol. 3 §28.2.2: with EPT every guest paging-structure
// address is guest-physical and is itself translated through EPT).
import { describe, expect, it } from 'vitest';
import { ACC_PAGING_STRUCTURE, ACC_READ, ACC_WRITE } from '../../../src/emu/mmu/access.js';
import type { NestedTranslator, PageWalk, WalkLevel } from '../../../src/emu/mmu/page-walk.js';
import { A, D, G, Machine, P, PS, RW, US, XD_HI } from './paging-fixture.js';

describe('explainWalk', () => {
  it('§4.5.4: a 4-level walk of a 4 KiB page lists 4 memory accesses: PML4E, PDPTE, PDE, PTE with address, value, flags', () => {
    const m = new Machine();
    const root = m.table();
    const linear = 0x7F_8040_1234;
    const path = m.map4(root, linear, 0x20_3000, P | RW | US | G, 3, P | RW | US, XD_HI);
    m.longMode(root);
    const ex = m.mmu.explainWalk(linear, ACC_WRITE, 3);
    expect(ex.ok).toBe(true);
    expect(ex.mode).toBe('4-level');
    expect(ex.memoryAccesses).toBe(4);
    expect(ex.physical).toBe(0x20_3234);
    expect(ex.pageSize).toBe(4096);
    expect(ex.steps.map((s) => s.level)).toEqual(['PML4E', 'PDPTE', 'PDE', 'PTE']);
    expect(ex.steps.map((s) => s.address)).toEqual(path);
    expect(ex.steps.map((s) => s.index)).toEqual([0, 1, 2, 3].map((l) => Machine.index(linear, l)));
    for (const s of ex.steps) {
      const want = (BigInt(m.hi(s.address)) << 32n) | BigInt(m.lo(s.address));
      expect(BigInt(s.value)).toBe(want);
      expect(s.memoryAccess).toBe(true);
    }
    expect(ex.steps[3].flags).toMatchObject({ present: true, writable: true, user: true, global: true, executeDisable: true, dirty: false });
    expect(ex.steps[3].flagText).toBe('P RW US G XD');
    expect(ex.steps[0].note).toBe(`page-directory-pointer table at 0x${(path[1] & ~0xFFF).toString(16)}`);
    expect(ex.steps[3].note).toBe('maps the 4 KiB page at 0x203000');
    expect(ex.summary).toBe('0x7f80401234 -> 0x203234 (4 KiB page, 4 memory accesses)');
    expect(ex.updates).toEqual([
      `sets A in the PML4E at 0x${path[0].toString(16)}`, `sets A in the PDPTE at 0x${path[1].toString(16)}`,
      `sets A in the PDE at 0x${path[2].toString(16)}`, `sets A and D in the PTE at 0x${path[3].toString(16)}`,
    ]);
  });

  it('explaining changes nothing: no A/D bit set, nothing cached', () => {
    const m = new Machine();
    const root = m.table();
    const path = m.map4(root, 0x1000, 0x5000, P | RW);
    m.longMode(root);
    m.mmu.explainWalk(0x1000, ACC_WRITE, 0);
    for (const e of path) expect(m.lo(e) & (A | D)).toBe(0);
    expect(m.mmu.tlbEntries()).toEqual([]);
  });

  it('a 1 GiB page takes 2 accesses; a 2 MiB page 3', () => {
    const m = new Machine();
    const root = m.table();
    m.map4(root, 0x4000_0000, 0x8000_0000, P | RW | PS, 1);
    m.map4(root, 0x20_0000, 0x60_0000, P | RW | PS, 2);
    m.longMode(root);
    expect(m.mmu.explainWalk(0x4000_0000, ACC_READ, 0).steps.map((s) => s.level)).toEqual(['PML4E', 'PDPTE']);
    expect(m.mmu.explainWalk(0x4000_0000, ACC_READ, 0).summary).toMatch(/1 GiB page, 2 memory accesses/);
    expect(m.mmu.explainWalk(0x20_0000, ACC_READ, 0).memoryAccesses).toBe(3);
  });

  it('§4.7: a failed walk says which entry stopped it and why, with the error code and CR2', () => {
    const m = new Machine();
    const root = m.table();
    m.map4(root, 0x1000, 0x5000, P); // supervisor, read-only
    m.longMode(root);
    const ex = m.mmu.explainWalk(0x1008, ACC_WRITE, 3);
    expect(ex.ok).toBe(false);
    expect(ex.fault).toEqual({ errorCode: 7, cr2: 0x1008, reason: 'user-mode write to a supervisor page (U/S=0 in the PTE)' });
    expect(m.mmu.explainWalk(0x1008, ACC_WRITE, 0).fault?.reason).toBe('supervisor write with CR0.WP=1 to a read-only page (R/W=0 in the PTE)');
    const np = m.mmu.explainWalk(0x80_0000_0000, ACC_READ, 0);
    expect(np.steps).toHaveLength(1);
    expect(np.steps[0].note).toBe('PML4E not present (P=0)');
    expect(np.summary).toBe('#PF, error code 0x0, CR2=0x8000000000: PML4E not present (P=0)');
  });
});

/**
 * A stand-in for EPT in these tests: guest-physical g is host-physical g + OFFSET, and
 * each translation is explained as a 4-entry EPT walk, as 4-level EPT would make.
 */
class OffsetEpt implements NestedTranslator {
  static readonly OFFSET = 0x100_0000;
  readonly calls: [number, number][] = [];
  translate(gpa: number, access: number): number {
    this.calls.push([gpa, access]);
    return gpa + OffsetEpt.OFFSET;
  }
  explain(gpa: number, access: number, linear: number): PageWalk {
    const levels: WalkLevel[] = ['EPT PML4E', 'EPT PDPTE', 'EPT PDE', 'EPT PTE'];
    return {
      linear, access, cpl: 0, mode: 'EPT', ok: true, physical: gpa + OffsetEpt.OFFSET, guestPhysical: gpa, pageSize: 4096,
      steps: levels.map((level) => ({ level, address: 0, hostAddress: 0, memoryAccess: true, value: '0x0', lo: 0, hi: 0, flags: { present: true, writeThrough: false, cacheDisabled: false }, flagText: 'P', index: 0, note: '' })),
      tlb: null, memoryAccesses: 4, updates: [], summary: '',
    };
  }
}

describe('nested translation seam (EPT, SDM §28.2.2)', () => {
  it('every guest paging-structure access and the final address go through the nested translator', () => {
    const m = new Machine();
    const ept = new OffsetEpt();
    // Build guest tables at guest-physical addresses, stored in host memory at +OFFSET.
    const root = m.table();
    const path = m.map4(root, 0x40_1000, 0x20_3000, P | RW | US);
    for (const e of [root, ...path.slice(0, 3).map((a) => m.lo(a) & ~0xFFF)]) {
      for (let o = 0; o < 4096; o += 8) m.write64(e + OffsetEpt.OFFSET + o, m.lo(e + o), m.hi(e + o));
      for (let o = 0; o < 4096; o += 8) m.write64(e + o, 0, 0); // guest-physical = host-physical would now fail
    }
    m.mmu.setNestedTranslator(ept);
    m.longMode(root);
    expect(m.mmu.translate(0x40_1010, ACC_WRITE, 0)).toBe(0x20_3010 + OffsetEpt.OFFSET);
    // Reads of the four entries, then the A/D updates of each (EPT data writes, SDM §28.3.3.2),
    // then the final address.
    expect(ept.calls).toEqual([
      ...path.map((a) => [a, ACC_PAGING_STRUCTURE]),
      ...path.map((a) => [a, ACC_PAGING_STRUCTURE | ACC_WRITE]),
      [0x20_3010, ACC_WRITE],
    ]);
    // A/D updates land in the host copy of the guest's entries.
    expect(m.lo(path[3] + OffsetEpt.OFFSET) & (A | D)).toBe(A | D);
  });

  it('a 4-level guest walk under 4-level EPT explains all 24 memory accesses', () => {
    const m = new Machine();
    const root = m.table();
    m.map4(root, 0x40_1000, 0x20_3000, P | RW | US);
    const ept = new OffsetEpt();
    // Identity copies are enough for the explanation: the OffsetEpt reads host = guest + OFFSET.
    for (let a = 0x10_0000; a < 0x10_5000; a += 8) m.write64(a + OffsetEpt.OFFSET, m.lo(a), m.hi(a));
    m.mmu.setNestedTranslator(ept);
    m.longMode(root);
    const ex = m.mmu.explainWalk(0x40_1010, ACC_READ, 0);
    expect(ex.ok).toBe(true);
    expect(ex.memoryAccesses).toBe(24);
    expect(ex.steps.map((s) => s.nested?.steps.length)).toEqual([4, 4, 4, 4]);
    expect(ex.steps.map((s) => s.hostAddress - s.address)).toEqual([1, 2, 3, 4].map(() => OffsetEpt.OFFSET));
    expect(ex.finalNested?.memoryAccesses).toBe(4);
    expect(ex.guestPhysical).toBe(0x20_3010);
    expect(ex.physical).toBe(0x20_3010 + OffsetEpt.OFFSET);
    expect(ept.calls).toEqual([]); // explaining does not translate for real
  });
});
