// TEST ONLY: a Translator that maps every linear address to the same physical address and
// never faults, for CPU tests written before (or independently of) the real MMU. It checks
// nothing (no paging structures, no permissions); tests that need paging use src/emu/mmu.
import type { Translator } from '../../src/emu/cpu/translator';

export class IdentityTranslatorForTests implements Translator {
  faultAddress = 0;
  faultErrorCode = 0;
  translations = 0;
  setPagingState(): void {}
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
