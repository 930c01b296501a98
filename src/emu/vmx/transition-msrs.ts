/**
 * The MSRs every VM entry and VM exit load from the VMCS (IA32_SYSENTER_CS/ESP/EIP, SDM
 * §26.3.2.1 and §27.5.1; IA32_PAT under the "load IA32_PAT" controls): the processor's MSR
 * store is a Map, and a Map store costs more than the rest of a field's load, so a
 * transition skips the store when the MSR already holds the value. This class remembers
 * what the last transition stored, valid until anything else may have written the MSR:
 * WRMSR of any of them (root or guest, and the MSR-load lists, which use WRMSR) reaches
 * `Vmx.writeMsr`, which calls `forget`, and so does a processor reset.
 */

import type { Cpu } from '../cpu/cpu';
import { MSR_PAT, MSR_SYSENTER_CS, MSR_SYSENTER_EIP, MSR_SYSENTER_ESP } from '../cpu/msrs';

/** Slot of each MSR in the arrays below (bit k of `known`). */
const CS_SLOT = 0, ESP_SLOT = 1, EIP_SLOT = 2, PAT_SLOT = 3;

export class TransitionMsrs {
  private readonly lo = new Int32Array(4);
  private readonly hi = new Int32Array(4);
  /** Bit k: the CPU holds lo[k] (and, but for IA32_SYSENTER_CS, hi[k]) in slot k's MSR. */
  private known = 0;

  /** WRMSR (or a reset) may have changed any of them. */
  forget(): void {
    this.known = 0;
  }

  /**
   * IA32_SYSENTER_CS := cs (the VMCS field is 32 bits: the low half only), IA32_SYSENTER_ESP
   * and IA32_SYSENTER_EIP := their hi:lo, as every VM entry and VM exit loads them.
   */
  loadSysenter(c: Cpu, cs: number, espLo: number, espHi: number, eipLo: number, eipHi: number): void {
    const known = this.known, lo = this.lo, hi = this.hi;
    if ((known & (1 << CS_SLOT)) === 0 || lo[CS_SLOT] !== cs) {
      c.msrLo.set(MSR_SYSENTER_CS, cs);
      lo[CS_SLOT] = cs;
    }
    if ((known & (1 << ESP_SLOT)) === 0 || lo[ESP_SLOT] !== espLo || hi[ESP_SLOT] !== espHi) this.store(c, ESP_SLOT, MSR_SYSENTER_ESP, espLo, espHi);
    if ((known & (1 << EIP_SLOT)) === 0 || lo[EIP_SLOT] !== eipLo || hi[EIP_SLOT] !== eipHi) this.store(c, EIP_SLOT, MSR_SYSENTER_EIP, eipLo, eipHi);
    this.known = known | (1 << CS_SLOT) | (1 << ESP_SLOT) | (1 << EIP_SLOT);
  }

  /** IA32_PAT := hi:lo (the "load IA32_PAT" controls). */
  loadPat(c: Cpu, lo: number, hi: number): void {
    if ((this.known & (1 << PAT_SLOT)) !== 0 && this.lo[PAT_SLOT] === lo && this.hi[PAT_SLOT] === hi) return;
    this.store(c, PAT_SLOT, MSR_PAT, lo, hi);
    this.known |= 1 << PAT_SLOT;
  }

  private store(c: Cpu, k: number, index: number, lo: number, hi: number): void {
    c.msrLo.set(index, lo);
    c.msrHi.set(index, hi);
    this.lo[k] = lo;
    this.hi[k] = hi;
  }
}
