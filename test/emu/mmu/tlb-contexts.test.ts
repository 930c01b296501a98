// Translation contexts of the TLB (SDM Vol. 3C §28.3): cached mappings tagged with a VPID and,
// with EPT, an EP4TA; what selecting a context keeps, and what INVVPID, INVEPT and the
// "current VPID" invalidations (INVLPG, MOV to CR3) remove.
import { describe, expect, it } from 'vitest';
import { ACC_READ } from '../../../src/emu/mmu/access.js';
import {
  INVVPID_ALL_CONTEXT, INVVPID_INDIVIDUAL_ADDRESS, INVVPID_SINGLE_CONTEXT, INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS, NO_EPT,
} from '../../../src/emu/mmu/mmu.js';
import type { NestedTranslator, PageWalk } from '../../../src/emu/mmu/page-walk.js';
import { CR0_PE, CR0_PG, CR0_WP, CR4_PAE, CR4_PGE, EFER_LMA, EFER_LME, EFER_NXE, G, Machine, P, RW } from './paging-fixture.js';

/** The controls Machine.longMode loads. */
const cr0 = CR0_PE | CR0_PG | CR0_WP, cr4 = CR4_PAE | CR4_PGE, efer = EFER_LME | EFER_LMA | EFER_NXE;

/** Guest-physical = host-physical, but counts its walks (a stand-in for an identity EPT). */
class IdentityNested implements NestedTranslator {
  translate(gpa: number): number {
    return gpa;
  }

  explain(gpa: number, access: number, linear: number): PageWalk {
    return {
      linear, access, cpl: 0, mode: 'EPT', ok: true, physical: gpa, guestPhysical: gpa, pageSize: 4096, steps: [], tlb: null,
      memoryAccesses: 0, updates: [], summary: '',
    };
  }
}

/**
 * Page 0x1000 (non-global) and 0x2000 (global) mapped to 0x5000 / 0x6000, cached in the
 * context (vpid, ep4ta), then remapped in memory to 0x7000 / 0x8000 without invalidation.
 */
function cached(m: Machine, root: number, vpid: number, ep4ta = NO_EPT): void {
  const nested = ep4ta === NO_EPT ? null : new IdentityNested();
  m.mmu.selectContext(vpid, ep4ta, nested, cr0, root, 0, cr4, efer);
  expect(m.mmu.translate(0x1000, ACC_READ, 0)).toBe(0x5000);
  expect(m.mmu.translate(0x2000, ACC_READ, 0)).toBe(0x6000);
}

function setup(): { m: Machine; root: number; remap: () => void; back: () => void } {
  const m = new Machine();
  const root = m.table();
  const pte = m.map4(root, 0x1000, 0x5000, P | RW)[3];
  const gpte = m.map4(root, 0x2000, 0x6000, P | RW | G)[3];
  m.longMode(root, { pge: true });
  return {
    m, root,
    remap: () => { m.write64(pte, 0x7000 | P | RW); m.write64(gpte, 0x8000 | P | RW | G); },
    back: () => { m.write64(pte, 0x5000 | P | RW); m.write64(gpte, 0x6000 | P | RW | G); },
  };
}

/** What the context (vpid, ep4ta) translates 0x1000 and 0x2000 to now. */
function seen(m: Machine, root: number, vpid: number, ep4ta = NO_EPT): [number, number] {
  m.mmu.selectContext(vpid, ep4ta, ep4ta === NO_EPT ? null : new IdentityNested(), cr0, root, 0, cr4, efer);
  return [m.mmu.translate(0x1000, ACC_READ, 0), m.mmu.translate(0x2000, ACC_READ, 0)];
}

describe('TLB translation contexts (SDM §28.3.1, §28.3.3.1)', () => {
  it('§28.3.1: selecting another VPID and coming back keeps both contexts\' entries (no flush on VM transitions with VPIDs)', () => {
    const { m, root, remap } = setup();
    cached(m, root, 1);
    cached(m, root, 0);
    remap();
    expect(seen(m, root, 1)).toEqual([0x5000, 0x6000]);
    expect(seen(m, root, 0)).toEqual([0x5000, 0x6000]);
    expect(seen(m, root, 2)).toEqual([0x7000, 0x8000]); // a VPID never used walks afresh
  });

  it('§28.3.1: a CR3 change between selections does not flush a context (mappings are tagged by VPID, not CR3)', () => {
    const { m, root, remap } = setup();
    cached(m, root, 1);
    remap();
    const other = m.table();
    m.mmu.selectContext(1, NO_EPT, null, cr0, other, 0, cr4, efer);
    expect(m.mmu.translate(0x1000, ACC_READ, 0)).toBe(0x5000);
  });

  it('INVVPID single-context (type 1) empties that VPID\'s contexts, for every EP4TA, and no other VPID\'s', () => {
    const { m, root, remap } = setup();
    cached(m, root, 1);
    cached(m, root, 1, 0x40_0000);
    cached(m, root, 2);
    remap();
    m.mmu.invalidateVpid(INVVPID_SINGLE_CONTEXT, 1, 0);
    expect(seen(m, root, 1)).toEqual([0x7000, 0x8000]);
    expect(seen(m, root, 1, 0x40_0000)).toEqual([0x7000, 0x8000]);
    expect(seen(m, root, 2)).toEqual([0x5000, 0x6000]);
  });

  it('INVVPID individual-address (type 0) removes one page of that VPID; single-context-retaining-globals (type 3) keeps global pages', () => {
    const { m, root, remap } = setup();
    cached(m, root, 1);
    remap();
    m.mmu.invalidateVpid(INVVPID_INDIVIDUAL_ADDRESS, 1, 0x2abc);
    expect(seen(m, root, 1)).toEqual([0x5000, 0x8000]);
    const { m: m2, root: root2, remap: remap2 } = setup();
    cached(m2, root2, 1);
    remap2();
    m2.mmu.invalidateVpid(INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS, 1, 0);
    expect(seen(m2, root2, 1)).toEqual([0x7000, 0x6000]);
  });

  it('INVVPID all-context (type 2) empties every VPID but VPID 0 (the VMM\'s own mappings)', () => {
    const { m, root, remap } = setup();
    cached(m, root, 1);
    cached(m, root, 7);
    cached(m, root, 0);
    remap();
    m.mmu.invalidateVpid(INVVPID_ALL_CONTEXT, 0, 0);
    expect(seen(m, root, 1)).toEqual([0x7000, 0x8000]);
    expect(seen(m, root, 7)).toEqual([0x7000, 0x8000]);
    expect(seen(m, root, 0)).toEqual([0x5000, 0x6000]);
  });

  it('INVEPT: single-context empties the combined mappings of one EP4TA (every VPID), all-context those of every EP4TA, never linear mappings', () => {
    const { m, root, remap } = setup();
    cached(m, root, 1, 0x40_0000);
    cached(m, root, 2, 0x40_0000);
    cached(m, root, 1, 0x50_0000);
    cached(m, root, 1);
    remap();
    m.mmu.invalidateEpt(0x40_0000);
    expect(seen(m, root, 1, 0x40_0000)).toEqual([0x7000, 0x8000]);
    expect(seen(m, root, 2, 0x40_0000)).toEqual([0x7000, 0x8000]);
    expect(seen(m, root, 1, 0x50_0000)).toEqual([0x5000, 0x6000]);
    m.mmu.invalidateEpt(NO_EPT);
    expect(seen(m, root, 1, 0x50_0000)).toEqual([0x7000, 0x8000]);
    expect(seen(m, root, 1)).toEqual([0x5000, 0x6000]);
  });

  it('§28.3.3.1: INVLPG and MOV to CR3 invalidate for the current VPID under every EP4TA, and leave other VPIDs alone', () => {
    const { m, root, remap } = setup();
    cached(m, root, 1, 0x40_0000);
    cached(m, root, 2);
    cached(m, root, 1);
    remap();
    m.mmu.invlpg(0x1000);
    expect(seen(m, root, 1, 0x40_0000)).toEqual([0x7000, 0x6000]);
    m.mmu.selectContext(1, NO_EPT, null, cr0, root, 0, cr4, efer);
    m.mmu.setPagingState(cr0, root, 0, cr4, efer); // MOV to CR3: non-global entries
    expect(seen(m, root, 2)).toEqual([0x5000, 0x6000]);
  });

  it('a context is emptied when selected with other paging controls than its entries were made under', () => {
    const { m, root, remap } = setup();
    cached(m, root, 1);
    remap();
    m.mmu.selectContext(1, NO_EPT, null, cr0, root, 0, CR4_PAE, efer); // PGE now 0
    expect(m.mmu.translate(0x1000, ACC_READ, 0)).toBe(0x7000);
  });

  it('beyond the contexts kept at once, the least recently used one is emptied to make room', () => {
    const { m, root, remap, back } = setup();
    for (let vpid = 1; vpid <= 8; vpid++) cached(m, root, vpid);
    remap();
    expect(seen(m, root, 2)).toEqual([0x5000, 0x6000]); // VPID 1 is now the least recently used
    back();
    cached(m, root, 9); // takes VPID 1's place
    remap();
    expect(seen(m, root, 3)).toEqual([0x5000, 0x6000]);
    expect(seen(m, root, 1)).toEqual([0x7000, 0x8000]);
  });
});
