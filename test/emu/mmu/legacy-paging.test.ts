// 32-bit paging (SDM Vol. 3 §4.3) and PAE paging (§4.4), including the PDPTE registers.
import { describe, expect, it } from 'vitest';
import { ACC_EXEC, ACC_READ, ACC_WRITE, MAXPHYADDR } from '../../../src/emu/mmu/access.js';
import { A, CR0_PE, CR0_PG, CR0_WP, CR4_PAE, CR4_PGE, CR4_PSE, D, EFER_NXE, G, Machine, P, pfCode, PS, RW, US, XD_HI } from './paging-fixture.js';

const cr0 = CR0_PE | CR0_PG | CR0_WP;

describe('32-bit paging (SDM §4.3)', () => {
  function build(m: Machine, pse: boolean): number {
    const pd = m.table();
    const pt = m.table();
    m.mem.write32(pd + (0x0040_1000 >>> 22) * 4, pt | P | RW | US);
    m.mem.write32(pt + ((0x0040_1000 >>> 12) & 0x3FF) * 4, 0x20_3000 | P | RW | US);
    m.mmu.setPagingState(cr0, pd, 0, pse ? CR4_PSE : 0, 0);
    return pd;
  }

  it('Figure 4-2: CR3 → PDE (linear 31:22) → PTE (21:12) → 4 KiB page; A set on both, D on the PTE for a write (§4.8)', () => {
    const m = new Machine();
    const pd = build(m, false);
    expect(m.mmu.translate(0x40_1ABC, ACC_WRITE, 3)).toBe(0x20_3ABC);
    const pt = m.mem.read32(pd + 4) & ~0xFFF;
    expect(m.mem.read32(pd + 4) & (A | D)).toBe(A);
    expect(m.mem.read32(pt + 4) & (A | D)).toBe(A | D);
    const ex = m.mmu.explainWalk(0x40_1ABC, ACC_READ, 0);
    expect(ex.steps.map((s) => s.level)).toEqual(['PDE', 'PTE']);
    expect(ex.steps[0].value).toMatch(/^0x[0-9a-f]{8}$/);
    expect(ex.memoryAccesses).toBe(2);
  });

  it('Table 4-4: with CR4.PSE=1 a PDE with PS=1 maps a 4 MiB page; bits 19:13 give physical bits 38:32 (PSE-36)', () => {
    const m = new Machine();
    const pd = build(m, true);
    m.mem.write32(pd + 2 * 4, 0x0080_0000 | P | RW | PS);
    m.mem.write32(pd + 3 * 4, (0x00C0_0000 | (0x5 << 13) | P | RW | PS) | 0);
    m.mmu.flushAll();
    expect(m.mmu.translate(0x0080_0000 + 0x3F_FFFF, ACC_READ, 0)).toBe(0x00BF_FFFF);
    expect(m.mmu.translate(0x00C0_1234, ACC_READ, 0)).toBe(5 * 2 ** 32 + 0x00C0_1234);
  });

  it('Table 4-4: bit 21 of a 4 MiB PDE is reserved (bits 21:(M-19), M = min(MAXPHYADDR, 40))', () => {
    const m = new Machine();
    const pd = build(m, true);
    m.mem.write32(pd + 2 * 4, 0x0080_0000 | (1 << 21) | P | RW | PS);
    expect(m.mmu.translate(0x0080_0000, ACC_READ, 0)).toBe(-1);
    expect(m.mmu.faultErrorCode).toBe(pfCode({ p: true, rsvd: true }));
  });

  it('§4.3: with CR4.PSE=0 the PS bit is ignored and the PDE references a page table', () => {
    const m = new Machine();
    const pd = build(m, false);
    m.mem.write32(pd + 4, m.mem.read32(pd + 4) | PS);
    expect(m.mmu.translate(0x40_1000, ACC_READ, 0)).toBe(0x20_3000);
  });

  it('§4.7: 32-bit paging has no XD and never reports I/D; fetches follow the read rules', () => {
    const m = new Machine();
    build(m, false);
    expect(m.mmu.translate(0x40_1000, ACC_EXEC, 3)).toBe(0x20_3000);
    expect(m.mmu.translate(0x80_0000, ACC_EXEC, 3)).toBe(-1);
    expect(m.mmu.faultErrorCode).toBe(pfCode({ u: true }));
  });

  it('§4.10.2.4: global 4 MiB pages survive a CR3 load with CR4.PGE=1', () => {
    const m = new Machine();
    const pd = build(m, true);
    m.mem.write32(pd + 2 * 4, 0x0080_0000 | P | RW | PS | G);
    m.mmu.setPagingState(cr0, pd, 0, CR4_PSE | CR4_PGE, 0);
    expect(m.mmu.translate(0x80_0000, ACC_READ, 0)).toBe(0x80_0000);
    m.mem.write32(pd + 2 * 4, 0x0100_0000 | P | RW | PS | G);
    m.mmu.setPagingState(cr0, pd, 0, CR4_PSE | CR4_PGE, 0);
    expect(m.mmu.translate(0x80_0000, ACC_READ, 0)).toBe(0x80_0000);
    expect(m.mmu.tlbEntries()[0].pageSize).toBe(4 * 2 ** 20);
  });
});

describe('PAE paging (SDM §4.4)', () => {
  /** PDPT at `pdpt` (32-byte aligned), one page directory per PDPTE used. */
  function build(m: Machine, nxe = true): { pdpt: number; pd: number; pt: number } {
    const pdpt = m.table() + 0x20;
    const pd = m.table();
    const pt = m.table();
    m.write64(pdpt + 1 * 8, pd | P); // PDPTE 1: linear 0x4000_0000..0x7FFF_FFFF
    m.write64(pd + 2 * 8, pt | P | RW | US);
    m.write64(pt + 3 * 8, 0x0030_0000 | P | RW | US);
    m.write64(pd + 5 * 8, 0x0120_0000 | P | RW | PS); // 2 MiB page
    m.mmu.setPagingState(cr0, pdpt, 0, CR4_PAE, nxe ? EFER_NXE : 0);
    return { pdpt, pd, pt };
  }
  const lin = 0x4000_0000 + 2 * 2 ** 21 + 3 * 4096;

  it('Figure 4-5: PDPTE register (linear 31:30) → PDE (29:21) → PTE (20:12); only PDE and PTE are read from memory', () => {
    const m = new Machine();
    build(m);
    expect(m.mmu.translate(lin + 0x10, ACC_READ, 3)).toBe(0x30_0010);
    const ex = m.mmu.explainWalk(lin + 0x10, ACC_READ, 3);
    expect(ex.mode).toBe('PAE');
    expect(ex.steps.map((s) => [s.level, s.memoryAccess])).toEqual([['PDPTE', false], ['PDE', true], ['PTE', true]]);
    expect(ex.memoryAccesses).toBe(2);
    expect(ex.steps[2].value).toMatch(/^0x[0-9a-f]{16}$/);
  });

  it('Table 4-9: a PDE with PS=1 maps a 2 MiB page', () => {
    const m = new Machine();
    build(m);
    expect(m.mmu.translate(0x4000_0000 + 5 * 2 ** 21 + 0x1_2345, ACC_WRITE, 0)).toBe(0x120_0000 + 0x1_2345);
  });

  it('§4.4.1: the PDPTEs are registers loaded at MOV to CR3; changing the PDPT in memory has no effect until the next load', () => {
    const m = new Machine();
    const { pdpt } = build(m);
    m.write64(pdpt + 8, 0); // PDPTE 1 not present in memory
    m.mmu.flushAll();
    m.mmu.invlpg(lin);
    expect(m.mmu.translate(lin, ACC_READ, 0)).toBe(0x30_0000);
    m.mmu.setPagingState(cr0, pdpt, 0, CR4_PAE, EFER_NXE); // MOV to CR3 reloads them
    expect(m.mmu.translate(lin, ACC_READ, 0)).toBe(-1);
    expect(m.mmu.faultErrorCode).toBe(pfCode({}));
    expect(m.mmu.explainWalk(lin, ACC_READ, 0).fault?.reason).toMatch(/PDPTE register 1 not present/);
  });

  it('§4.4.1: MOV to CR4 changing PSE reloads the PDPTEs; one changing nothing relevant does not', () => {
    const m = new Machine();
    const { pdpt } = build(m);
    m.write64(pdpt + 8, 0);
    m.mmu.setPagingState(cr0 & ~CR0_WP, pdpt, 0, CR4_PAE, EFER_NXE, false); // MOV to CR0 changing WP only
    expect(m.mmu.translate(lin, ACC_READ, 0)).toBe(0x30_0000);
    m.mmu.setPagingState(cr0, pdpt, 0, CR4_PAE | CR4_PSE, EFER_NXE, false);
    expect(m.mmu.translate(lin, ACC_READ, 0)).toBe(-1);
  });

  it('§4.4.1 / Table 4-8: a present PDPTE with a reserved bit (2:1, 8:5, 63:MAXPHYADDR) makes the load #GP', () => {
    const m = new Machine();
    const { pdpt, pd } = build(m);
    expect(m.mmu.pdptesInvalid(pdpt)).toBe(false);
    for (const [lo, hi] of [[RW, 0], [US, 0], [A, 0], [PS, 0], [G, 0], [0, XD_HI], [0, 1 << (MAXPHYADDR - 32)]]) {
      m.write64(pdpt + 8, pd | P | lo, hi);
      expect(m.mmu.pdptesInvalid(pdpt), `lo=${lo} hi=${hi}`).toBe(true);
    }
    m.write64(pdpt + 8, RW | US, XD_HI); // not present: reserved bits do not matter
    expect(m.mmu.pdptesInvalid(pdpt)).toBe(false);
  });

  it('Table 4-11: bits 62:MAXPHYADDR of a PAE PTE are reserved (unlike 4-level, where 62:52 are ignored)', () => {
    const m = new Machine();
    const { pt } = build(m);
    m.write64(pt + 3 * 8, 0x0030_0000 | P | RW | US, 1 << 30);
    expect(m.mmu.translate(lin, ACC_READ, 0)).toBe(-1);
    expect(m.mmu.faultErrorCode).toBe(pfCode({ p: true, rsvd: true }));
  });

  it('§4.6: XD in a PAE PDE forbids fetches with NXE=1 (I/D reported), and is reserved with NXE=0', () => {
    const m = new Machine();
    const { pd } = build(m);
    m.write64(pd + 2 * 8, m.lo(pd + 2 * 8), XD_HI);
    m.mmu.flushAll();
    expect(m.mmu.translate(lin, ACC_EXEC, 3)).toBe(-1);
    expect(m.mmu.faultErrorCode).toBe(pfCode({ p: true, u: true, i: true }));
    const m2 = new Machine();
    const b2 = build(m2, false);
    m2.write64(b2.pd + 2 * 8, m2.lo(b2.pd + 2 * 8), XD_HI);
    expect(m2.mmu.translate(lin, ACC_READ, 0)).toBe(-1);
    expect(m2.mmu.faultErrorCode).toBe(pfCode({ p: true, rsvd: true }));
  });
});
