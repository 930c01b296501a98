// Access rights (SDM Vol. 3 §4.6) and the #PF error code (§4.7) over every combination of
// R/W, U/S and XD in the walk, CR0.WP, CPL, implicit supervisor accesses and access type.
// The oracle is §4.6.1 written out as rules in this file, independent of the MMU's tables.
import { describe, expect, it } from 'vitest';
import { ACC_EXEC, ACC_IMPLICIT, ACC_READ, ACC_WRITE } from '../../../src/emu/mmu/access.js';
import { CR0_PE, CR0_PG, CR0_WP, CR4_PAE, CR4_PGE, EFER_LMA, EFER_LME, EFER_NXE, Machine, P, pfCode, RW, US, XD_HI } from './paging-fixture.js';

type Kind = 'read' | 'write' | 'exec';

/** §4.6.1, "Determination of Access Rights", without SMEP/SMAP/PKE (not advertised). */
function allowed(kind: Kind, user: boolean, allRW: boolean, allUS: boolean, anyXD: boolean, wp: boolean): boolean {
  if (user) {
    // "Data may be read from any user-mode address with a valid translation";
    // "written to any user-mode address ... with R/W = 1 in every paging-structure entry";
    // "instructions may be fetched from any user-mode address ... with XD = 0 in every entry" (NXE = 1).
    if (!allUS) return false;
    if (kind === 'write') return allRW;
    if (kind === 'exec') return !anyXD;
    return true;
  }
  // Supervisor-mode: reads anywhere; writes anywhere if CR0.WP = 0, else only with R/W = 1
  // everywhere; fetches only with XD = 0 everywhere (NXE = 1).
  if (kind === 'write') return !wp || allRW;
  if (kind === 'exec') return !anyXD;
  return true;
}

describe('access rights (SDM §4.6) and #PF error codes (§4.7)', () => {
  it('every combination of R/W, U/S, XD (per level), CR0.WP, CPL, implicit access and access type', () => {
    const m = new Machine();
    const root = m.table();
    const linear = 0x40_3000;
    const path = m.map4(root, linear, 0x77_7000, P | RW | US);
    const base = path.map((e) => m.lo(e) & ~0xFFF);
    let checked = 0;
    for (const rwAt of [-1, 0, 2, 3]) {
      for (const usAt of [-1, 1, 3]) {
        for (const xdAt of [-1, 0, 3]) {
          for (const wp of [false, true]) {
            for (let lv = 0; lv < 4; lv++) {
              const lo = base[lv] | P | (rwAt === lv ? 0 : RW) | (usAt === lv ? 0 : US);
              m.write64(path[lv], lo, xdAt === lv ? XD_HI : 0);
            }
            m.longMode(root, { wp, nxe: true });
            for (const kind of ['read', 'write', 'exec'] as Kind[]) {
              for (const [cpl, implicit] of [[0, false], [3, false], [3, true]] as [number, boolean][]) {
                const access = (kind === 'write' ? ACC_WRITE : kind === 'exec' ? ACC_EXEC : ACC_READ) | (implicit ? ACC_IMPLICIT : 0);
                const user = cpl === 3 && !implicit;
                m.mmu.flushAll();
                const ok = allowed(kind, user, rwAt < 0, usAt < 0, xdAt >= 0, wp);
                const what = `rw0@${rwAt} us0@${usAt} xd@${xdAt} wp=${wp} ${kind} cpl=${cpl} implicit=${implicit}`;
                const got = m.mmu.translate(linear + 0x10, access, cpl);
                expect(got, what).toBe(ok ? 0x77_7010 : -1);
                if (!ok) {
                  expect(m.mmu.faultErrorCode, what).toBe(pfCode({ p: true, w: kind === 'write', u: user, i: kind === 'exec' }));
                  expect(m.mmu.faultAddress, what).toBe(linear + 0x10);
                  const ex = m.mmu.explainWalk(linear + 0x10, access, cpl);
                  expect(ex.fault?.errorCode, what).toBe(m.mmu.faultErrorCode);
                }
                // The same access again is served by the TLB (if it succeeded) with the same verdict.
                expect(m.mmu.translate(linear + 0x10, access, cpl), what).toBe(ok ? 0x77_7010 : -1);
                checked++;
              }
            }
          }
        }
      }
    }
    expect(checked).toBe(4 * 3 * 3 * 2 * 3 * 3);
  });

  it('§4.6: a TLB entry filled by one access kind answers other kinds with their own rights', () => {
    const m = new Machine();
    const root = m.table();
    m.map4(root, 0x1000, 0x9000, P | US); // read-only user page
    m.longMode(root, { wp: false });
    expect(m.mmu.translate(0x1000, ACC_READ, 3)).toBe(0x9000);
    expect(m.mmu.translate(0x1000, ACC_WRITE, 0)).toBe(0x9000); // supervisor write, WP=0
    expect(m.mmu.translate(0x1000, ACC_WRITE, 3)).toBe(-1); // user write
    expect(m.mmu.faultErrorCode).toBe(pfCode({ p: true, w: true, u: true }));
  });

  it('§4.6: CR0.WP takes effect on entries already in the TLB', () => {
    const m = new Machine();
    const root = m.table();
    m.map4(root, 0x1000, 0x9000, P);
    m.longMode(root, { wp: false });
    expect(m.mmu.translate(0x1000, ACC_WRITE, 0)).toBe(0x9000);
    // MOV to CR0 setting WP, not a CR3 load: nothing is flushed, the entry stays.
    m.mmu.setPagingState(CR0_PE | CR0_PG | CR0_WP, root, 0, CR4_PAE | CR4_PGE, EFER_LME | EFER_LMA | EFER_NXE, false);
    expect(m.mmu.tlbEntries().map((e) => e.linear)).toEqual([0x1000]);
    expect(m.mmu.translate(0x1000, ACC_WRITE, 0)).toBe(-1);
    expect(m.mmu.faultErrorCode).toBe(pfCode({ p: true, w: true }));
  });
});
