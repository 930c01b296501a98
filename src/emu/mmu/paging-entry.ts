// Paging-structure entry formats: flag bits, reserved-bit masks for our MAXPHYADDR, and
// decoding for the debugger. SDM Vol. 3 §4.3 (32-bit, Tables 4-4..4-6), §4.4.2 (PAE,
// Tables 4-8..4-11), §4.5.4 (4-level, Tables 4-15..4-20). 64-bit entries are two int32
// halves (lo = bits 31:0, hi = bits 63:32).

import { MAXPHYADDR } from './access.js';
import type { EntryFlags, WalkLevel } from './page-walk.js';
import { PAGING_32, PAGING_PAE, type PagingMode } from './paging-mode.js';

export const PTE_P = 1 << 0;
export const PTE_RW = 1 << 1;
export const PTE_US = 1 << 2;
export const PTE_PWT = 1 << 3;
export const PTE_PCD = 1 << 4;
export const PTE_A = 1 << 5;
export const PTE_D = 1 << 6;
/** PS in a PDPTE/PDE (a large page); PAT in a PTE. */
export const PTE_PS = 1 << 7;
export const PTE_G = 1 << 8;
/** XD is bit 63: bit 31 of the high half. */
export const PTE_HI_XD = 1 << 31;

/** Bits (MAXPHYADDR-1):32 of an entry's address field, as a mask of the high half. */
export const HI_ADDRESS_MASK = (1 << (MAXPHYADDR - 32)) - 1;
/** 4-level paging: bits 51:MAXPHYADDR are reserved in every entry (62:52 are ignored). */
export const HI_RSVD_4LEVEL = ((1 << 20) - 1) & ~HI_ADDRESS_MASK;
/** PAE paging: bits 62:MAXPHYADDR are reserved in PDEs and PTEs (Tables 4-9..4-11). */
export const HI_RSVD_PAE = 0x7FFF_FFFF & ~HI_ADDRESS_MASK;
/** PAE PDPTE registers: bits 2:1 and 8:5 are reserved (Table 4-8)... */
export const LO_RSVD_PAE_PDPTE = 0x1E6;
/** ...and so are bits 63:MAXPHYADDR, XD included. */
export const HI_RSVD_PAE_PDPTE = ~HI_ADDRESS_MASK;
/** PML4E: PS (bit 7) is reserved (Table 4-15). */
export const LO_RSVD_PML4E = PTE_PS;
/** 1-GiB page PDPTE: bits 29:13 are reserved (Table 4-16). */
export const LO_RSVD_1G = 0x3FFF_E000;
/** 2-MiB page PDE: bits 20:13 are reserved (Tables 4-9, 4-17). */
export const LO_RSVD_2M = 0x001F_E000;
/**
 * 32-bit paging (MAXPHYADDR capped at 40, §4.3): a 4-MiB page PDE holds physical-address
 * bits (M-1):32 in bits (M-20):13 (PSE-36); bits 21:(M-19) are reserved (Table 4-4).
 */
const M32 = Math.min(MAXPHYADDR, 40);
export const PSE36_HIGH_BITS = M32 - 32;
export const LO_RSVD_4M = (0x3F_FFFF >>> (M32 - 19)) << (M32 - 19) & 0x3F_E000;

/** Decoded flags of an entry at `level` in `mode`; `leaf` says whether it maps a page. */
export function decodeEntryFlags(mode: PagingMode, level: WalkLevel, lo: number, hi: number, leaf: boolean): EntryFlags {
  const f: EntryFlags = {
    present: (lo & PTE_P) !== 0,
    writeThrough: (lo & PTE_PWT) !== 0,
    cacheDisabled: (lo & PTE_PCD) !== 0,
  };
  // A PAE PDPTE has only P, PWT, PCD and the address (Table 4-8).
  if (mode === PAGING_PAE && level === 'PDPTE') return f;
  f.writable = (lo & PTE_RW) !== 0;
  f.user = (lo & PTE_US) !== 0;
  f.accessed = (lo & PTE_A) !== 0;
  if (leaf) f.dirty = (lo & PTE_D) !== 0;
  if (level === 'PDPTE' || level === 'PDE') f.pageSize = (lo & PTE_PS) !== 0;
  if (leaf) f.global = (lo & PTE_G) !== 0;
  if (mode !== PAGING_32) f.executeDisable = (hi & PTE_HI_XD) !== 0;
  return f;
}

/** "P RW US A D PS G XD"-style text of the flags that are set; "-" when none is. */
export function flagText(f: EntryFlags): string {
  const parts: string[] = [];
  if (f.present) parts.push('P');
  if (f.writable) parts.push('RW');
  if (f.user) parts.push('US');
  if (f.writeThrough) parts.push('PWT');
  if (f.cacheDisabled) parts.push('PCD');
  if (f.accessed) parts.push('A');
  if (f.dirty) parts.push('D');
  if (f.pageSize) parts.push('PS');
  if (f.global) parts.push('G');
  if (f.executeDisable) parts.push('XD');
  return parts.length === 0 ? '-' : parts.join(' ');
}

/** Entry value as hex, 8 digits for 32-bit paging's 4-byte entries and 16 otherwise. */
export function entryHex(mode: PagingMode, lo: number, hi: number): string {
  const low = (lo >>> 0).toString(16).padStart(8, '0');
  return mode === PAGING_32 ? `0x${low}` : `0x${(hi >>> 0).toString(16).padStart(8, '0')}${low}`;
}

/** Human page size: "4 KiB", "2 MiB", "4 MiB", "1 GiB". */
export function pageSizeText(size: number): string {
  return size >= 1 << 30 ? `${size / (1 << 30)} GiB` : size >= 1 << 20 ? `${size / (1 << 20)} MiB` : `${size / 1024} KiB`;
}
