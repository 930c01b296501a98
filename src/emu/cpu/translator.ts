// What the CPU needs from the MMU (src/emu/mmu/mmu.ts implements it): linear → physical
// translation with permission checks, the paging-state loads that MOV CRn / WRMSR EFER do,
// and the architectural TLB-flush operations. The CPU keeps only a small software TLB of
// page pointers in front of translate() (cpu-memory.ts); it drops it whenever it asks the
// MMU to flush, after any #PF, and whenever `tlbInvalidations` moved.

/** Access kinds for translate(), defined by the MMU (bits of the #PF error code). */
export { ACC_EXEC, ACC_IMPLICIT, ACC_READ, ACC_WRITE } from '../mmu/access';

export interface Translator {
  /**
   * Loads CR0/CR3/CR4/EFER into the MMU, flushing as the SDM says for what changed;
   * `cr3Loaded` is true for MOV to CR3 (and state loads), false for CR0/CR4/EFER writes.
   * `pdptes` (lo, hi pairs): PAE PDPTE register values to load instead of reading memory
   * (VM entry with EPT, SDM §26.3.2.4).
   */
  setPagingState(cr0: number, cr3Lo: number, cr3Hi: number, cr4: number, efer: number, cr3Loaded?: boolean, pdptes?: Int32Array): void;
  /** The PAE PDPTE registers as (lo, hi) pairs (VM exits with EPT save them, SDM §27.3.4); absent in translators without PAE. */
  readPdptes?(out: Int32Array): void;
  /**
   * The physical address for `linear` (a canonical address as a signed number), or -1 when
   * the access faults; then faultAddress (CR2) and faultErrorCode describe the #PF.
   */
  translate(linear: number, access: number, cpl: number): number;
  readonly faultAddress: number;
  readonly faultErrorCode: number;
  /** Counts TLB invalidations of any extent; a cache in front of translate() is current while it is unchanged. */
  readonly tlbInvalidations: number;
  /** MOV to CR3 under PAE paging: would this CR3 load a PDPTE with reserved bits set (#GP(0))? */
  pdptesInvalid(cr3Lo: number): boolean;
  /** MOV to CR3 in IA-32e mode: are bits 63:MAXPHYADDR set (#GP(0))? */
  cr3HasReservedBits(cr3Hi: number): boolean;
  flushAll(): void;
  flushNonGlobal(): void;
  invlpg(linear: number): void;
}
