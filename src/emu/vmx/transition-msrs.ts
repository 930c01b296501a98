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

/** Slot of each MSR in the arrays below. */
function slot(index: number): number {
  switch (index) {
    case MSR_SYSENTER_CS: return 0;
    case MSR_SYSENTER_ESP: return 1;
    case MSR_SYSENTER_EIP: return 2;
    case MSR_PAT: return 3;
    default: throw new Error(`transition-msrs.ts: MSR 0x${index.toString(16)} is not tracked`);
  }
}

export class TransitionMsrs {
  private readonly lo = new Int32Array(4);
  private readonly hi = new Int32Array(4);
  /** Bit k: the CPU holds lo[k] (and, but for IA32_SYSENTER_CS, hi[k]) in slot k's MSR. */
  private known = 0;

  /** WRMSR (or a reset) may have changed any of them. */
  forget(): void {
    this.known = 0;
  }

  /** MSR `index` := hi:lo. */
  load(c: Cpu, index: number, lo: number, hi: number): void {
    const k = slot(index);
    if ((this.known & (1 << k)) !== 0 && this.lo[k] === lo && this.hi[k] === hi) return;
    c.msrLo.set(index, lo);
    c.msrHi.set(index, hi);
    this.lo[k] = lo;
    this.hi[k] = hi;
    this.known |= 1 << k;
  }

  /** The low half of MSR `index` := lo (IA32_SYSENTER_CS: the VMCS field is 32 bits). */
  loadLow(c: Cpu, index: number, lo: number): void {
    const k = slot(index);
    if ((this.known & (1 << k)) !== 0 && this.lo[k] === lo) return;
    c.msrLo.set(index, lo);
    this.lo[k] = lo;
    this.known |= 1 << k;
  }
}
