// Which paging mode CR0, CR4 and EFER select (SDM Vol. 3 §4.1.1, Table 4-1), and the
// control-register bits the MMU reads.

export const CR0_WP = 1 << 16;
export const CR0_NW = 1 << 29;
export const CR0_CD = 1 << 30;
export const CR0_PG = 1 << 31;
export const CR4_PSE = 1 << 4;
export const CR4_PAE = 1 << 5;
export const CR4_PGE = 1 << 7;
export const EFER_LME = 1 << 8;
export const EFER_NXE = 1 << 11;

export const PAGING_NONE = 0;
export const PAGING_32 = 1;
export const PAGING_PAE = 2;
export const PAGING_4LEVEL = 3;
export type PagingMode = typeof PAGING_NONE | typeof PAGING_32 | typeof PAGING_PAE | typeof PAGING_4LEVEL;

export const PAGING_MODE_NAMES = ['none', '32-bit', 'PAE', '4-level'] as const;

/**
 * SDM §4.1.1: CR0.PG = 0 → no paging; else CR4.PAE = 0 → 32-bit paging; else
 * IA32_EFER.LME = 0 → PAE paging; else 4-level paging (CR4.LA57 is not supported).
 */
export function pagingMode(cr0: number, cr4: number, efer: number): PagingMode {
  if ((cr0 & CR0_PG) === 0) return PAGING_NONE;
  if ((cr4 & CR4_PAE) === 0) return PAGING_32;
  if ((efer & EFER_LME) === 0) return PAGING_PAE;
  return PAGING_4LEVEL;
}
