// The TLB as software sees it (SDM Vol. 3 §4.10): what stays cached after the paging
// structures change, and what INVLPG, MOV to CR3, CR4.PGE and CR0.PG flush.
import { describe, expect, it } from 'vitest';
import { ACC_READ, ACC_WRITE } from '../../../src/emu/mmu/access.js';
import { tlbIndex } from '../../../src/emu/mmu/tlb.js';
import { A, CR0_PE, CR0_PG, CR0_WP, CR4_PAE, CR4_PGE, D, EFER_LMA, EFER_LME, EFER_NXE, G, Machine, P, pfCode, PS, RW } from './paging-fixture.js';

function setup(): { m: Machine; root: number; pte: number; gpte: number } {
  const m = new Machine();
  const root = m.table();
  const pte = m.map4(root, 0x1000, 0x5000, P | RW)[3];
  const gpte = m.map4(root, 0x2000, 0x6000, P | RW | G)[3];
  m.longMode(root, { pge: true });
  expect(m.mmu.translate(0x1000, ACC_READ, 0)).toBe(0x5000);
  expect(m.mmu.translate(0x2000, ACC_READ, 0)).toBe(0x6000);
  // Remap both pages in memory, without invalidating anything.
  m.write64(pte, 0x7000 | P | RW);
  m.write64(gpte, 0x8000 | P | RW | G);
  return { m, root, pte, gpte };
}

const cr4 = CR4_PAE | CR4_PGE;
const efer = EFER_LME | EFER_LMA | EFER_NXE;
const cr0 = CR0_PE | CR0_PG | CR0_WP;

describe('TLB (SDM §4.10)', () => {
  it('§4.10.2: translations stay cached after the paging structures change (stale until invalidated)', () => {
    const { m } = setup();
    expect(m.mmu.translate(0x1010, ACC_READ, 0)).toBe(0x5010);
    expect(m.mmu.translate(0x2010, ACC_READ, 0)).toBe(0x6010);
    const ex = m.mmu.explainWalk(0x1010, ACC_READ, 0);
    expect(ex.physical).toBe(0x7010);
    expect(ex.tlb?.physical).toBe(0x5000);
    expect(ex.summary).toMatch(/TLB still maps this page to 0x5000/);
  });

  it('§4.10.4.1 INVLPG: invalidates the page\'s entry, global or not, and nothing else', () => {
    const { m } = setup();
    m.mmu.invlpg(0x1FFF);
    expect(m.mmu.translate(0x1010, ACC_READ, 0)).toBe(0x7010);
    expect(m.mmu.translate(0x2010, ACC_READ, 0)).toBe(0x6010);
    m.mmu.invlpg(0x2000);
    expect(m.mmu.translate(0x2010, ACC_READ, 0)).toBe(0x8010);
  });

  it('§4.10.4.1 MOV to CR3: invalidates all entries except those for global pages, even with an unchanged value', () => {
    const { m, root } = setup();
    m.mmu.setPagingState(cr0, root, 0, cr4, efer);
    expect(m.mmu.translate(0x1010, ACC_READ, 0)).toBe(0x7010);
    expect(m.mmu.translate(0x2010, ACC_READ, 0)).toBe(0x6010);
    expect(m.mmu.tlbEntries().map((e) => [e.linear, e.global])).toEqual([[0x2000, true], [0x1000, false]]);
  });

  it('§4.10.2.4: without CR4.PGE the G bit makes no entry global', () => {
    const m = new Machine();
    const root = m.table();
    const gpte = m.map4(root, 0x2000, 0x6000, P | RW | G)[3];
    m.longMode(root, { pge: false });
    m.mmu.translate(0x2000, ACC_READ, 0);
    m.write64(gpte, 0x8000 | P | RW | G);
    m.longMode(root, { pge: false });
    expect(m.mmu.translate(0x2000, ACC_READ, 0)).toBe(0x8000);
  });

  it('§4.10.4.1 MOV to CR4: changing PGE invalidates all entries, global ones included (1→0 and 0→1)', () => {
    const { m, root, gpte } = setup();
    m.mmu.setPagingState(cr0, root, 0, CR4_PAE, efer, false);
    expect(m.mmu.tlbEntries()).toEqual([]);
    expect(m.mmu.translate(0x2010, ACC_READ, 0)).toBe(0x8010);
    m.write64(gpte, 0x9000 | P | RW | G);
    m.mmu.setPagingState(cr0, root, 0, cr4, efer, false);
    expect(m.mmu.translate(0x2010, ACC_READ, 0)).toBe(0x9010);
  });

  it('§4.10.4.1: MOV to CR4/CR0 changing other bits (not a CR3 load) keeps every entry', () => {
    const { m, root } = setup();
    m.mmu.setPagingState(cr0 & ~CR0_WP, root, 0, cr4, efer, false);
    expect(m.mmu.translate(0x1010, ACC_READ, 0)).toBe(0x5010);
    expect(m.mmu.translate(0x2010, ACC_READ, 0)).toBe(0x6010);
  });

  it('§4.10.4.1 MOV to CR0: clearing PG invalidates all entries, global ones included', () => {
    const { m, root } = setup();
    m.mmu.setPagingState(CR0_PE, root, 0, cr4, EFER_LME, false);
    expect(m.mmu.translate(0x1010, ACC_READ, 0)).toBe(0x1010); // identity without paging
    expect(m.mmu.tlbEntries()).toEqual([]); // identity is not an architectural TLB entry
    m.mmu.setPagingState(cr0, root, 0, cr4, efer, false);
    expect(m.mmu.translate(0x1010, ACC_READ, 0)).toBe(0x7010);
    expect(m.mmu.translate(0x2010, ACC_READ, 0)).toBe(0x8010);
  });

  it('§4.10.4.1: INVLPG on any address in a large page drops every 4 KiB piece cached for it', () => {
    const m = new Machine();
    const root = m.table();
    const pde = m.map4(root, 0x20_0000, 0x40_0000, P | RW | PS, 2)[2];
    m.map4(root, 0x40_0000, 0x90_0000, P | RW);
    m.longMode(root);
    expect(m.mmu.translate(0x20_0000, ACC_READ, 0)).toBe(0x40_0000);
    expect(m.mmu.translate(0x3F_F000, ACC_READ, 0)).toBe(0x5F_F000);
    expect(m.mmu.translate(0x40_0000, ACC_READ, 0)).toBe(0x90_0000);
    expect(m.mmu.tlbEntries().map((e) => e.pageSize)).toEqual([2 ** 21, 2 ** 21, 4096]);
    m.write64(pde, 0x60_0000 | P | RW | PS);
    m.mmu.invlpg(0x30_1234);
    expect(m.mmu.translate(0x20_0000, ACC_READ, 0)).toBe(0x60_0000);
    expect(m.mmu.translate(0x3F_F000, ACC_READ, 0)).toBe(0x7F_F000);
    expect(m.mmu.tlbEntries().filter((e) => e.linear === 0x40_0000)).toHaveLength(1); // the 4 KiB neighbour stays
  });

  it('§4.10.4.3: rights raised in memory without INVLPG: the cached entry faults once, and the #PF invalidates it (§4.10.4.1)', () => {
    const m = new Machine();
    const root = m.table();
    const pte = m.map4(root, 0x1000, 0x5000, P)[3];
    m.longMode(root);
    expect(m.mmu.translate(0x1000, ACC_READ, 0)).toBe(0x5000);
    m.write64(pte, 0x5000 | P | RW | A);
    expect(m.mmu.explainWalk(0x1000, ACC_WRITE, 0).summary).toMatch(/faults once/);
    expect(m.mmu.translate(0x1000, ACC_WRITE, 0)).toBe(-1);
    expect(m.mmu.faultErrorCode).toBe(pfCode({ p: true, w: true }));
    expect(m.mmu.translate(0x1000, ACC_WRITE, 0)).toBe(0x5000);
  });

  it('§4.10.4.1: a #PF from the page tables invalidates any entry for the faulting page', () => {
    const m = new Machine();
    const root = m.table();
    const pte = m.map4(root, 0x1000, 0x5000, P | RW)[3];
    m.longMode(root);
    m.mmu.translate(0x1000, ACC_READ, 0); // cached clean (D = 0)
    m.write64(pte, 0); // not present now; the write walks again (to set D) and faults
    expect(m.mmu.translate(0x1000, ACC_WRITE, 0)).toBe(-1);
    expect(m.mmu.faultErrorCode).toBe(pfCode({ w: true }));
    expect(m.mmu.translate(0x1000, ACC_READ, 0)).toBe(-1);
  });

  it('§4.8: the first write through an entry cached by a read walks again and sets D', () => {
    const m = new Machine();
    const root = m.table();
    const pte = m.map4(root, 0x1000, 0x5000, P | RW)[3];
    m.longMode(root);
    m.mmu.translate(0x1000, ACC_READ, 0);
    expect(m.lo(pte) & (A | D)).toBe(A);
    expect(m.mmu.translate(0x1000, ACC_WRITE, 0)).toBe(0x5000);
    expect(m.lo(pte) & (A | D)).toBe(A | D);
    // Now dirty in the TLB: clearing D in memory is not noticed until the entry is invalidated (§4.10.4.3).
    m.write64(pte, 0x5000 | P | RW | A);
    m.mmu.translate(0x1000, ACC_WRITE, 0);
    expect(m.lo(pte) & D).toBe(0);
    m.mmu.invlpg(0x1000);
    m.mmu.translate(0x1000, ACC_WRITE, 0);
    expect(m.lo(pte) & D).toBe(D);
  });

  it('pages that share a TLB slot evict each other (direct-mapped) and still translate correctly', () => {
    const m = new Machine();
    const root = m.table();
    let other = 0x2000;
    while (tlbIndex(other) !== tlbIndex(0x1000)) other += 0x1000;
    m.map4(root, 0x1000, 0x5000, P | RW);
    m.map4(root, other, 0x6000, P | RW);
    m.longMode(root);
    for (let k = 0; k < 3; k++) {
      expect(m.mmu.translate(0x1000, ACC_READ, 0)).toBe(0x5000);
      expect(m.mmu.translate(other, ACC_READ, 0)).toBe(0x6000);
    }
    expect(m.mmu.tlbEntries().map((e) => e.linear)).toEqual([other]);
  });

  it('paging off: linear = physical, and MOV to CR3 then does not disturb it', () => {
    const m = new Machine();
    m.mmu.setPagingState(CR0_PE, 0x1000, 0, 0, 0);
    expect(m.mmu.translate(0xFFFF_F123, ACC_WRITE, 3)).toBe(0xFFFF_F123);
    expect(m.mmu.translate(0x1234, ACC_READ, 0)).toBe(0x1234);
    expect(m.mmu.explainWalk(0x1234, ACC_READ, 0).summary).toMatch(/paging is off/);
  });
});
