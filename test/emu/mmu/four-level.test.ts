// 4-level paging (SDM Vol. 3 §4.5): walks, page sizes, reserved bits, A/D bits, #PF codes.
import { describe, expect, it } from 'vitest';
import { ACC_EXEC, ACC_READ, ACC_WRITE, MAXPHYADDR } from '../../../src/emu/mmu/access.js';
import { A, D, G, Machine, P, pfCode, PS, RW, US, XD_HI } from './paging-fixture.js';

describe('4-level paging', () => {
  it('§4.5.4: a 4 KiB page is found through PML4E, PDPTE, PDE and PTE', () => {
    const m = new Machine();
    const root = m.table();
    m.map4(root, 0x40_1000, 0x20_3000, P | RW | US);
    m.longMode(root);
    expect(m.mmu.translate(0x40_1234, ACC_READ, 0)).toBe(0x20_3234);
    expect(m.mmu.translate(0x40_1FFF, ACC_WRITE, 3)).toBe(0x20_3FFF);
  });

  it('§4.5.4: linear bits 47:39 select the PML4E, so a higher-half (negative) address walks its own tables', () => {
    const m = new Machine();
    const root = m.table();
    const high = -(2 ** 31); // 0xFFFFFFFF80000000
    m.map4(root, high + 0x5000, 0x30_0000, P | RW);
    m.map4(root, 0x8000_5000, 0x31_0000, P | RW); // same low 32 bits, different PML4E
    m.longMode(root);
    expect(Machine.index(high, 0)).toBe(511);
    expect(m.mmu.translate(high + 0x5008, ACC_READ, 0)).toBe(0x30_0008);
    expect(m.mmu.translate(0x8000_5008, ACC_READ, 0)).toBe(0x31_0008);
    expect(m.mmu.translate(high + 0x6000, ACC_READ, 0)).toBe(-1);
    expect(m.mmu.faultAddress).toBe(high + 0x6000);
  });

  it('Table 4-17: a PDE with PS=1 maps a 2 MiB page (linear bits 20:0 are the offset)', () => {
    const m = new Machine();
    const root = m.table();
    m.map4(root, 0x60_0000, 0x120_0000, P | RW | PS, 2);
    m.longMode(root);
    expect(m.mmu.translate(0x60_0000 + 0x1_2345, ACC_READ, 0)).toBe(0x120_0000 + 0x1_2345);
    expect(m.mmu.translate(0x7F_FFFF, ACC_READ, 0)).toBe(0x13F_FFFF);
  });

  it('Table 4-16: a PDPTE with PS=1 maps a 1 GiB page, also above 4 GiB (bits 38:30 of the frame)', () => {
    const m = new Machine();
    const root = m.table();
    m.map4(root, 0x40_0000_0000, 0x1_4000_0000, P | RW | PS, 1); // linear 256 GiB -> physical 5 GiB
    m.map4(root, 0x4000_0000, 0, P | RW | PS, 1);
    m.longMode(root);
    expect(m.mmu.translate(0x40_0000_0000 + 0x3ABC_DEF0, ACC_READ, 0)).toBe(0x1_4000_0000 + 0x3ABC_DEF0);
    expect(m.mmu.translate(0x4000_0000 + 0x12_3456, ACC_READ, 0)).toBe(0x12_3456);
  });

  it('§4.7: a not-present entry at each level gives #PF with P=0, W/R and U/S from the access, CR2 = linear', () => {
    for (let level = 0; level < 4; level++) {
      const m = new Machine();
      const root = m.table();
      const path = m.map4(root, 0x40_1000, 0x20_3000, P | RW | US);
      m.write64(path[level], 0); // clear P (and everything) at this level
      m.longMode(root);
      expect(m.mmu.translate(0x40_1010, ACC_WRITE, 3)).toBe(-1);
      expect(m.mmu.faultErrorCode).toBe(pfCode({ w: true, u: true }));
      expect(m.mmu.faultAddress).toBe(0x40_1010);
      expect(m.mmu.explainWalk(0x40_1010, ACC_WRITE, 3).steps).toHaveLength(level + 1);
    }
  });

  it('§4.5.4 Tables 4-15..4-20: reserved bits give #PF with P=1 and RSVD=1 at any level', () => {
    const cases: { name: string; level: number; leafLevel: number; lo: number; hi: number }[] = [
      { name: 'PML4E bit 7 (PS)', level: 0, leafLevel: 3, lo: PS, hi: 0 },
      { name: `PML4E bit ${MAXPHYADDR} (MAXPHYADDR)`, level: 0, leafLevel: 3, lo: 0, hi: 1 << (MAXPHYADDR - 32) },
      { name: 'PDPTE bit 51', level: 1, leafLevel: 3, lo: 0, hi: 1 << 19 },
      { name: '1 GiB PDPTE bit 13', level: 1, leafLevel: 1, lo: 1 << 13, hi: 0 },
      { name: '1 GiB PDPTE bit 29', level: 1, leafLevel: 1, lo: 1 << 29, hi: 0 },
      { name: '2 MiB PDE bit 20', level: 2, leafLevel: 2, lo: 1 << 20, hi: 0 },
      { name: 'PTE bit 45', level: 3, leafLevel: 3, lo: 0, hi: 1 << 13 },
    ];
    for (const c of cases) {
      const m = new Machine();
      const root = m.table();
      const leafFlags = P | RW | (c.leafLevel < 3 ? PS : 0);
      const path = m.map4(root, 0, 0, leafFlags, c.leafLevel);
      m.write64(path[c.level], m.lo(path[c.level]) | c.lo, m.hi(path[c.level]) | c.hi);
      m.longMode(root);
      expect(m.mmu.translate(0x123, ACC_READ, 0), c.name).toBe(-1);
      expect(m.mmu.faultErrorCode, c.name).toBe(pfCode({ p: true, rsvd: true }));
      expect(m.mmu.explainWalk(0x123, ACC_READ, 0).fault?.reason, c.name).toMatch(/reserved bit/);
    }
  });

  it('Table 4-20: bits 62:52 are ignored in 4-level paging (not reserved)', () => {
    const m = new Machine();
    const root = m.table();
    const path = m.map4(root, 0x1000, 0x5000, P | RW);
    m.write64(path[3], m.lo(path[3]), 0x7FF0_0000);
    m.longMode(root);
    expect(m.mmu.translate(0x1000, ACC_READ, 0)).toBe(0x5000);
  });

  it('§4.6: XD=1 forbids instruction fetches when EFER.NXE=1; the #PF reports I/D=1 (§4.7)', () => {
    const m = new Machine();
    const root = m.table();
    m.map4(root, 0x1000, 0x5000, P | RW | US, 3, P | RW | US, XD_HI);
    m.longMode(root, { nxe: true });
    expect(m.mmu.translate(0x1000, ACC_READ, 3)).toBe(0x5000);
    expect(m.mmu.translate(0x1000, ACC_EXEC, 3)).toBe(-1);
    expect(m.mmu.faultErrorCode).toBe(pfCode({ p: true, u: true, i: true }));
    expect(m.mmu.translate(0x1000, ACC_EXEC, 0)).toBe(-1);
    expect(m.mmu.faultErrorCode).toBe(pfCode({ p: true, i: true }));
  });

  it('§4.6: XD=1 in a non-final entry also forbids fetches through it', () => {
    const m = new Machine();
    const root = m.table();
    const path = m.map4(root, 0x1000, 0x5000, P | RW);
    m.write64(path[1], m.lo(path[1]), XD_HI);
    m.longMode(root, { nxe: true });
    expect(m.mmu.translate(0x1000, ACC_EXEC, 0)).toBe(-1);
    expect(m.mmu.explainWalk(0x1000, ACC_EXEC, 0).fault?.reason).toMatch(/XD=1 in the PDPTE/);
  });

  it('§4.5.4: with EFER.NXE=0 the XD bit is reserved: RSVD fault for any access', () => {
    const m = new Machine();
    const root = m.table();
    m.map4(root, 0x1000, 0x5000, P | RW, 3, P | RW | US, XD_HI);
    m.longMode(root, { nxe: false });
    expect(m.mmu.translate(0x1000, ACC_READ, 0)).toBe(-1);
    expect(m.mmu.faultErrorCode).toBe(pfCode({ p: true, rsvd: true }));
    // §4.7: I/D is reported only when EFER.NXE = 1 (or SMEP); here a fetch fault has I/D = 0.
    expect(m.mmu.translate(0x1000, ACC_EXEC, 0)).toBe(-1);
    expect(m.mmu.faultErrorCode).toBe(pfCode({ p: true, rsvd: true }));
  });

  it('§4.7: a fetch from a not-present page sets I/D when NXE=1', () => {
    const m = new Machine();
    const root = m.table();
    m.longMode(root, { nxe: true });
    expect(m.mmu.translate(0x7000, ACC_EXEC, 3)).toBe(-1);
    expect(m.mmu.faultErrorCode).toBe(pfCode({ u: true, i: true }));
  });

  it('§4.8: a read sets A in every entry used and leaves D clear; a write sets D in the final entry only', () => {
    const m = new Machine();
    const root = m.table();
    const path = m.map4(root, 0x40_1000, 0x20_3000, P | RW | US);
    m.longMode(root);
    m.mmu.translate(0x40_1000, ACC_READ, 0);
    for (const e of path) expect(m.lo(e) & (A | D)).toBe(A);
    m.mmu.translate(0x40_1000, ACC_WRITE, 0);
    expect(path.slice(0, 3).map((e) => m.lo(e) & (A | D))).toEqual([A, A, A]);
    expect(m.lo(path[3]) & (A | D)).toBe(A | D);
  });

  it('§4.8: D is set in the PDE that maps a 2 MiB page and in the PDPTE that maps a 1 GiB page', () => {
    const m = new Machine();
    const root = m.table();
    const p2 = m.map4(root, 0x20_0000, 0x40_0000, P | RW | PS, 2);
    const p1 = m.map4(root, 0x80_0000_0000, 0x4000_0000, P | RW | PS, 1);
    m.longMode(root);
    m.mmu.translate(0x20_0010, ACC_WRITE, 0);
    m.mmu.translate(0x80_0000_0010, ACC_WRITE, 0);
    expect(m.lo(p2[2]) & (A | D)).toBe(A | D);
    expect(m.lo(p2[1]) & (A | D)).toBe(A);
    expect(m.lo(p1[1]) & (A | D)).toBe(A | D);
    expect(m.lo(p1[0]) & (A | D)).toBe(A);
  });

  it('§4.8: a faulting access sets no A or D bit', () => {
    const m = new Machine();
    const root = m.table();
    const path = m.map4(root, 0x1000, 0x5000, P);
    m.longMode(root);
    expect(m.mmu.translate(0x1000, ACC_WRITE, 0)).toBe(-1);
    for (const e of path) expect(m.lo(e) & (A | D)).toBe(0);
  });

  it('§4.10.2.2: G only counts in the final entry (CR4.PGE=1)', () => {
    const m = new Machine();
    const root = m.table();
    const path = m.map4(root, 0x1000, 0x5000, P | RW);
    m.write64(path[2], m.lo(path[2]) | G);
    m.map4(root, 0x2000, 0x6000, P | RW | G);
    m.longMode(root, { pge: true });
    m.mmu.translate(0x1000, ACC_READ, 0);
    m.mmu.translate(0x2000, ACC_READ, 0);
    const entries = m.mmu.tlbEntries();
    expect(entries.find((e) => e.linear === 0x1000)?.global).toBe(false);
    expect(entries.find((e) => e.linear === 0x2000)?.global).toBe(true);
  });

  it('page tables beyond the 4 GiB this machine decodes read as all ones: a reserved-bit fault', () => {
    const m = new Machine();
    const root = m.table();
    m.write64(root, 0x0000_1000 | P | RW, 0x10); // PDPT at 68 GiB: no memory there
    m.longMode(root);
    expect(m.mmu.translate(0x1000, ACC_READ, 0)).toBe(-1);
    expect(m.mmu.faultErrorCode).toBe(pfCode({ p: true, rsvd: true }));
  });
});
