// TEST ONLY: a Translator that maps every linear address to the same physical address and
// never faults, for CPU tests written before (or independently of) the real MMU. It checks
// nothing (no paging structures, no permissions); tests that need paging use src/emu/mmu.
import { ACC_EXEC, ACC_IMPLICIT, ACC_WRITE, type Translator } from '../../src/emu/cpu/translator';

export class IdentityTranslatorForTests implements Translator {
  faultAddress = 0;
  faultErrorCode = 0;
  translations = 0;
  tlbInvalidations = 0;
  setPagingState(): void {}
  pdptesInvalid(): boolean { return false; }
  cr3HasReservedBits(): boolean { return false; }
  translate(linear: number): number {
    this.translations++;
    if (linear >= 0 && linear < 0x1_0000_0000) return linear;
    this.faultAddress = linear;
    this.faultErrorCode = 0;
    return -1;
  }
  flushAll(): void {}
  flushNonGlobal(): void {}
  invlpg(): void {}
}

/**
 * TEST ONLY: identity mapping restricted to a list of 4 KiB pages; any other access faults
 * with a not-present #PF (error code: W for writes, U for CPL 3, I/D for fetches). Stands in
 * for page tables that map just those pages.
 */
export class PageListTranslatorForTests implements Translator {
  faultAddress = 0;
  faultErrorCode = 0;
  private readonly pages: Set<number>;
  constructor(pages: readonly number[]) {
    this.pages = new Set(pages.map((p) => Math.floor(p / 4096)));
  }
  tlbInvalidations = 0;
  setPagingState(): void {}
  pdptesInvalid(): boolean { return false; }
  cr3HasReservedBits(): boolean { return false; }
  translate(linear: number, access: number, cpl: number): number {
    if (linear >= 0 && this.pages.has(Math.floor(linear / 4096))) return linear;
    this.faultAddress = linear;
    this.faultErrorCode = (access & (ACC_WRITE | ACC_EXEC)) | (cpl === 3 && (access & ACC_IMPLICIT) === 0 ? 4 : 0);
    return -1;
  }
  flushAll(): void {}
  flushNonGlobal(): void {}
  invlpg(): void {}
}
