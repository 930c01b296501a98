/**
 * What tools ask of a processor's VMX (issue 4 §7): its operation state, the current VMCS as a
 * structured object decoded field by field (describe-field.ts), the last VM exit decoded
 * (exit-reasons.ts: reason name, qualification per reason, interruption information), the
 * last VM-entry failure with the check that failed, and per-reason statistics (exit counts
 * and virtual-TSC cycles spent in root operation after each reason, until the next entry).
 * Plain data (numbers, strings, arrays), so it crosses DAP as JSON unchanged. Not for hot
 * paths: everything here allocates. VM-entry/VM-exit events are `Vmx.onEntry`/`onExit`.
 */

import { decodeField, describeField } from './describe-field';
import { type FieldPart, decodeInterruptionInfo, interruptionEventName, hex64 } from './bit-fields';
import { decodeQualification, exitReason, formatExit, vmInstructionError } from './exit-reasons';
import { type VmcsArea, SUPPORTED_VMCS_FIELDS, LAUNCH_STATE_LAUNCHED, VMCS_LAUNCH_STATE_OFFSET, VMCS_ABORT_OFFSET } from './vmcs-fields';
import { OFF } from './vmcs';
import type { Vmx } from './vmx';

export interface VmxStatus {
  readonly inVmxOperation: boolean;
  readonly nonRoot: boolean;
  /** Physical address of the VMXON region, or -1. */
  readonly vmxonPointer: number;
  /** Physical address of the current VMCS, or -1 (FFFFFFFF_FFFFFFFFH). */
  readonly currentVmcs: number;
  readonly entries: number;
  readonly exits: number;
  /** `VM entry failed: ... (SDM x.y): ...` for the last failed entry, if any. */
  readonly lastEntryFailure?: string;
  /** Non-zero after a VMX abort (SDM §27.7). */
  readonly abortIndicator: number;
}

export interface VmcsFieldView {
  readonly name: string;
  readonly encoding: number;
  readonly area: VmcsArea;
  readonly lo: number;
  readonly hi: number;
  /** The value in hex at the field's width. */
  readonly value: string;
  /** `NAME = 0x... [PARTS]`, with warnings VM entry would raise. */
  readonly text: string;
  readonly parts: readonly FieldPart[];
  readonly warnings: readonly string[];
}

export interface VmcsView {
  readonly pointer: number;
  readonly revision: number;
  readonly launchState: 'clear' | 'launched';
  readonly abortIndicator: number;
  /** Every field our core supports, in Appendix B order. */
  readonly fields: readonly VmcsFieldView[];
  /** The last VM-instruction error, named (SDM §30.4), or undefined when 0. */
  readonly instructionError?: string;
}

export interface ExitView {
  /** The full exit-reason field (bit 31: VM-entry failure). */
  readonly exitReason: number;
  readonly basic: number;
  readonly name: string;
  readonly failedEntry: boolean;
  /** One trace line: `CR_ACCESS (28): mov %rax -> cr3`. */
  readonly text: string;
  readonly qualification: string;
  readonly qualificationParts: readonly FieldPart[];
  /** `#PF`, `ext-int 0x20`... when the exit delivered interruption information. */
  readonly event?: string;
  readonly guestRip: number;
  readonly instructionLength: number;
  readonly tsc: number;
  readonly message?: string;
}

export interface ExitStat {
  readonly reason: number;
  readonly name: string;
  readonly count: number;
  /** Virtual-TSC cycles the host spent after exits for this reason (exit to the next entry on this processor, or to VMCLEAR of that VMCS). */
  readonly rootCycles: number;
}

export function vmxStatus(v: Vmx): VmxStatus {
  let exits = 0;
  for (const n of v.exitCounts) exits += n;
  return {
    inVmxOperation: v.inVmx, nonRoot: v.nonRoot, vmxonPointer: v.vmxonPtr, currentVmcs: v.vmcs.base, entries: v.entries, exits,
    lastEntryFailure: v.lastEntryFailure?.message, abortIndicator: v.abortIndicator,
  };
}

/** The current VMCS, decoded field by field; undefined without a current VMCS. */
export function currentVmcs(v: Vmx): VmcsView | undefined {
  const m = v.vmcs;
  if (m.base < 0) return undefined;
  const pair = new Int32Array(2);
  const fields = SUPPORTED_VMCS_FIELDS.map((f): VmcsFieldView => {
    m.readField(f, pair);
    const d = decodeField(f.encoding, pair[0], pair[1]);
    return {
      name: f.name, encoding: f.encoding, area: f.area, lo: d.lo, hi: d.hi, value: d.valueText,
      text: describeField(f.encoding, pair[0], pair[1]), parts: d.parts, warnings: d.warnings,
    };
  });
  const err = m.r32(OFF.VM_INSTRUCTION_ERROR);
  return {
    pointer: m.base,
    revision: m.r32(0) >>> 0,
    launchState: m.r32(VMCS_LAUNCH_STATE_OFFSET) === LAUNCH_STATE_LAUNCHED ? 'launched' : 'clear',
    abortIndicator: m.r32(VMCS_ABORT_OFFSET),
    fields,
    instructionError: err === 0 ? undefined : `${err}: ${vmInstructionError(err)?.description ?? 'unknown error'}`,
  };
}

/** The last VM exit, decoded; undefined before the first. */
export function lastExit(v: Vmx): ExitView | undefined {
  const e = v.lastExit;
  if (e === undefined) return undefined;
  const basic = e.exitReason & 0xffff;
  const q = decodeQualification(basic, e.qualificationLo, e.qualificationHi, { interruptionInfo: e.interruptionInfo });
  const info = decodeInterruptionInfo(e.interruptionInfo);
  return {
    exitReason: e.exitReason >>> 0, basic, name: exitReason(basic)?.short ?? `UNKNOWN_${basic}`,
    failedEntry: (e.exitReason & 0x80000000) !== 0,
    text: formatExit(e.exitReason, e.qualificationLo, e.qualificationHi, { interruptionInfo: e.interruptionInfo }),
    qualification: hex64(e.qualificationLo, e.qualificationHi),
    qualificationParts: q.parts,
    event: info.valid ? interruptionEventName(info) : undefined,
    guestRip: e.guestRip, instructionLength: e.instructionLength, tsc: e.tsc, message: e.message,
  };
}

/** Exit counts and root-operation cycles per reason, for the reasons seen, by reason number. */
export function exitStats(v: Vmx): ExitStat[] {
  const out: ExitStat[] = [];
  for (let r = 0; r < v.exitCounts.length; r++) {
    if (v.exitCounts[r] === 0) continue;
    out.push({ reason: r, name: exitReason(r)?.short ?? `UNKNOWN_${r}`, count: v.exitCounts[r], rootCycles: v.rootCycles[r] });
  }
  return out;
}
