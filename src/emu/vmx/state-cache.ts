/**
 * Decoded copies of VMCS areas that every VM transition loads (SDM-invisible: a real CPU
 * reads its VMCS every time, we only skip decoding work):
 *
 * - the host-state area as VM exits load it (SDM §27.5): control registers, MSRs, the segment
 *   registers with the hidden parts §27.5.2 gives them, GDTR/IDTR bases, RSP and RIP. Valid
 *   while no VMWRITE to a host-state field happened and the VM-exit controls it was decoded
 *   under ("host address-space size", "load IA32_EFER", "load IA32_PAT") are still in force;
 * - the guest's segment registers, GDTR and IDTR as the guest-state area holds them (SDM
 *   §24.4.1), which VM entries load (§26.3.2.2) and VM exits save (§27.3.2). Valid while no
 *   VMWRITE to one of those fields happened.
 *
 * Both end with anything that changes the current VMCS behind VMWRITE's back: VMPTRLD,
 * VMCLEAR, VMXON, VMXOFF, a reset and a tool's edit of the region (Vmx.vmcsChanged), the
 * same contract as the entry-check cache (entry-checks.ts). The VM exit keeps the guest copy
 * current itself when it saves new segment values (vm-exit.ts).
 */

import { CS, DS, ES, LDTR, SS, TR } from '../cpu/state';
import { SUPPORTED_VMCS_FIELDS } from './vmcs-fields';

/**
 * Per segment register in the arrays below, at SEG_STRIDE * its number (cpu/state.ts: ES, CS,
 * SS, DS, FS, GS, LDTR, TR, the VMCS field order of SDM Appendix B): selector, base (low,
 * high), limit (as int32), access rights.
 */
export const SEG_STRIDE = 5;
/**
 * Segment registers whose values may be the same in the guest and host copies (sameSegments):
 * not FS and GS, whose bases WRMSR and SWAPGS change without a segment load (Cpu.segmentLoads).
 */
const SHAREABLE = [ES, CS, SS, DS, LDTR, TR];

/** Full-access encodings of the guest segment, GDTR and IDTR fields (names match vmx.h). */
const GUEST_SEGMENT_FIELD: Uint8Array = (() => {
  const t = new Uint8Array(0x8000);
  const re = /^GUEST_(ES|CS|SS|DS|FS|GS|LDTR|TR)_(SELECTOR|BASE|LIMIT|AR_BYTES)$|^GUEST_(GDTR|IDTR)_(BASE|LIMIT)$/;
  for (const f of SUPPORTED_VMCS_FIELDS) {
    if (!re.test(f.name)) continue;
    t[f.encoding] = 1;
    t[f.encoding | 1] = 1; // the high access of the natural-width bases
  }
  return t;
})();

/** Host-state area: encoding bits 11:10 = 3 (SDM Table 24-21). */
function isHostField(encoding: number): boolean {
  return ((encoding >>> 10) & 3) === 3;
}

export class TransitionStateCache {
  // ---- host-state area (SDM §27.5), decoded under `hostExitCtl` ----
  hostValid = false;
  hostExitCtl = 0;
  hostCr0 = 0;
  hostCr3Lo = 0;
  hostCr3Hi = 0;
  hostCr4 = 0;
  hostEfer = 0;
  hostPatLo = 0;
  hostPatHi = 0;
  hostSysenterCs = 0;
  hostSysenterEspLo = 0;
  hostSysenterEspHi = 0;
  hostSysenterEipLo = 0;
  hostSysenterEipHi = 0;
  hostGdtrBase = 0;
  hostIdtrBase = 0;
  hostRspLo = 0;
  hostRspHi = 0;
  hostRip = 0;
  /** The segment registers as the exit loads them (SEG_STRIDE values each). */
  readonly hostSeg = new Int32Array(8 * SEG_STRIDE);
  /**
   * Cpu.segmentLoads right after the last VM exit loaded the host's segment registers (they
   * then hold hostSeg but for FS/GS bases), -1 when the entry must load all of the guest's.
   */
  segmentLoadsAtExit = -1;

  // ---- guest segment registers, GDTR, IDTR (SDM §24.4.1) ----
  /** guestSeg and the guest descriptor-table values equal the current VMCS's fields. */
  guestValid = false;
  /** The guest's segment registers (SEG_STRIDE values each). */
  readonly guestSeg = new Int32Array(8 * SEG_STRIDE);
  guestGdtrBase = 0;
  guestGdtrLimit = 0;
  guestIdtrBase = 0;
  guestIdtrLimit = 0;
  /**
   * Cpu.segmentLoads right after the last VM entry loaded the guest's segment registers, -1
   * when the exit must save them whatever the count (vm-exit.ts).
   */
  segmentLoadsAtEntry = -1;

  /** sameSegs is up to date: neither copy changed since it was computed (whoever writes a copy clears this). */
  sameSegsValid = false;
  private sameSegs = 0;

  /**
   * Bit `seg` set when segment register `seg` has the same values in the guest and the host
   * copy (SHAREABLE ones only): a transition from a processor holding one copy to the other
   * need not store it (the usual VMM runs its guest with its own flat segments).
   */
  sameSegments(): number {
    if (this.sameSegsValid) return this.sameSegs;
    const g = this.guestSeg, h = this.hostSeg;
    let same = 0;
    for (const seg of SHAREABLE) {
      const j = seg * SEG_STRIDE;
      if (g[j] === h[j] && g[j + 1] === h[j + 1] && g[j + 2] === h[j + 2] && g[j + 3] === h[j + 3] && g[j + 4] === h[j + 4]) same |= 1 << seg;
    }
    this.sameSegs = same;
    this.sameSegsValid = true;
    return same;
  }

  /** A VMWRITE to the field `encoding` (full or high access); without it, anything may have changed. */
  invalidate(encoding?: number): void {
    if (encoding === undefined) {
      this.hostValid = false;
      this.guestValid = false;
      this.segmentLoadsAtEntry = -1;
      this.segmentLoadsAtExit = -1;
    } else if (isHostField(encoding)) {
      this.hostValid = false;
    } else if (GUEST_SEGMENT_FIELD[encoding] !== 0) {
      this.guestValid = false;
    }
  }
}
