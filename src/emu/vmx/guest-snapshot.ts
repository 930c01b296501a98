/**
 * The guest state a VM entry loaded, remembered so that the VM exit can tell the entry-check
 * cache (entry-checks.ts) exactly which checked fields the exit rewrote with a different
 * value. In the usual exit handler round trip only RIP and RSP change, and VMRESUME then
 * re-runs only the RIP check; any other difference (the guest changed CR0, a segment, ...)
 * re-runs every check, as a real CPU always does. Allocation-free: two flat arrays.
 */

import type { Cpu } from '../cpu/cpu';
import { getFlags } from '../cpu/flags';

/** The MSRs the exit saves (SYSENTER, PAT) change only by WRMSR: non-root.ts counts those instead. */
const SIZE = 13 + 8 * 5;

/** Writes the checked parts of the processor state into `out` (what the exit saves except RIP, RSP and MSRs). */
function capture(c: Cpu, nmiBlocked: boolean, out: Float64Array): void {
  out[0] = c.cr0; out[1] = c.cr3Lo; out[2] = c.cr3Hi; out[3] = c.cr4; out[4] = c.efer; out[5] = c.dr7;
  out[6] = getFlags(c);
  out[7] = (c.interruptShadow || c.shadowIcount === c.icount ? (c.movSsShadow ? 2 : 1) : 0) | (nmiBlocked ? 8 : 0);
  out[8] = c.halted ? 1 : 0;
  out[9] = c.gdtrBase; out[10] = c.gdtrLimit; out[11] = c.idtrBase; out[12] = c.idtrLimit;
  for (let s = 0, k = 13; s < 8; s++, k += 5) {
    out[k] = c.segSel[s]; out[k + 1] = c.segBaseLo[s]; out[k + 2] = c.segBaseHi[s]; out[k + 3] = c.segLimit[s]; out[k + 4] = c.segAr[s];
  }
}

export class GuestSnapshot {
  private readonly atEntry = new Float64Array(SIZE);
  private readonly atExit = new Float64Array(SIZE);

  /** At VM entry, after loading guest state. */
  takeAtEntry(c: Cpu, nmiBlocked: boolean): void {
    capture(c, nmiBlocked, this.atEntry);
  }

  /** At VM exit, before saving guest state: true when nothing but RIP/RSP differs from the entry. */
  unchangedAtExit(c: Cpu, nmiBlocked: boolean): boolean {
    const a = this.atEntry, b = this.atExit;
    capture(c, nmiBlocked, b);
    for (let i = 0; i < SIZE; i++) if (a[i] !== b[i]) return false;
    return true;
  }
}
