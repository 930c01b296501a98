// What the CPU needs from the MMU (src/emu/mmu): linear → physical translation with
// permission checks and the architectural TLB-flush operations. The MMU implements it;
// the CPU keeps only a small software TLB of page pointers in front of it (cpu-memory.ts),
// flushed whenever it calls one of the flush operations below.

/** Access kinds for translate(); the values are the MMU's (src/emu/mmu/access.ts). */
export const ACC_READ = 0, ACC_WRITE = 1, ACC_EXEC = 16;

export interface Translator {
  /** Called on every write to CR0, CR3, CR4 or EFER (and on VM entry/exit). */
  setPagingState(cr0: number, cr3Lo: number, cr3Hi: number, cr4: number, efer: number): void;
  /**
   * The physical address for `linear` (a canonical address as a signed number), or -1 when
   * the access faults; then faultAddress (CR2) and faultErrorCode describe the #PF.
   */
  translate(linear: number, access: number, cpl: number): number;
  readonly faultAddress: number;
  readonly faultErrorCode: number;
  flushAll(): void;
  flushNonGlobal(): void;
  invlpg(linear: number): void;
}
