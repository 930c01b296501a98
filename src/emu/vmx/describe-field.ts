/**
 * One VMCS field value, decoded by field: what the debugger's VMCS tree, the CLI's VMCS dump and
 * the language server show, e.g.
 *   CPU_BASED_VM_EXEC_CONTROL = 0x8401e172 [CR3_LOAD_EXITING, CR3_STORE_EXITING, ACTIVATE_SECONDARY_CONTROLS]
 *   GUEST_CS_AR_BYTES = 0x0000a09b [type=11 (code XR accessed), S, DPL=0, P, L, G]
 * Control fields also report what VM entry would reject (reserved bits set, default1 bits clear,
 * SDM §26.2.1.1) and 1-settings our core does not support.
 *
 * The decoders for each kind of bit field live in bit-fields.ts and controls.ts; this module
 * only maps fields to them. The exit qualification and instruction information depend on the
 * exit reason and are decoded by exit-reasons.ts, not here.
 */

import { type VmcsField, fieldByEncoding } from './vmcs-fields';
import { CONTROL_GROUPS, type ControlGroup, namedMask } from './controls';
import {
  type FieldPart, type FlagRow, flag, sub, clearFlag, note, hex, hex64, flagParts, exceptionName, interruptionInfoParts,
  accessRightsParts, eptpParts, selectorParts, patParts, INTERRUPTIBILITY_FLAGS, ACTIVITY_STATES, PENDING_DEBUG_FLAGS,
  VMFUNC_FLAGS, EXIT_REASON_FLAGS, CR0_FLAGS, CR4_FLAGS, EFER_FLAGS, RFLAGS_FLAGS, PF_ERROR_FLAGS,
} from './bit-fields';
import { exitReason, vmInstructionError } from './exit-reasons';

export interface DecodedField {
  readonly encoding: number;
  /** The Appendix B field, or undefined for an encoding that names none. */
  readonly field: VmcsField | undefined;
  /** vmx.h name (with _HIGH for the high half of a 64-bit field), or `field 0x....` when unknown. */
  readonly name: string;
  readonly high: boolean;
  readonly lo: number;
  readonly hi: number;
  /** The value in hex, zero-padded to the field's width. */
  readonly valueText: string;
  readonly parts: readonly FieldPart[];
  /** Problems with the value as a VM entry would see them; empty when none. */
  readonly warnings: readonly string[];
}

interface Decoded { parts: FieldPart[]; warnings: string[] }
type Decoder = (lo: number, hi: number) => Decoded;

const plain = (f: (lo: number, hi: number) => FieldPart[]): Decoder => (lo, hi) => ({ parts: f(lo, hi), warnings: [] });
const flags = (rows: readonly FlagRow[]): Decoder => plain((lo) => flagParts(lo, rows));

function bitsOf(mask: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < 32; b++) if (((mask >>> b) & 1) !== 0) out.push(b);
  return out;
}

/** A control field: named bits set, plus VM-entry problems (SDM §26.2.1.1) and unsupported settings. */
function controlDecoder(g: ControlGroup): Decoder {
  const named = namedMask(g);
  return (lo, hi) => {
    const parts: FieldPart[] = [];
    const warnings: string[] = [];
    for (const b of g.bits) {
      if (((lo >>> b.bit) & 1) === 0) continue;
      parts.push(flag(b.short, b.bit));
      if (!b.supported && ((g.default1 >>> b.bit) & 1) === 0) warnings.push(`${b.name} is not supported by this core`);
    }
    for (const b of bitsOf(lo & ~named & ~g.default1)) warnings.push(`reserved bit ${b} is set`);
    for (const b of bitsOf(~lo & g.default1 & ~named)) warnings.push(`bit ${b} is reserved to 1 (default1) but clear`);
    for (const b of bitsOf(hi)) warnings.push(`reserved bit ${b + 32} is set`);
    return { parts, warnings };
  };
}

const exceptionBitmap: Decoder = plain((lo) => bitsOf(lo).map((b) => flag(exceptionName(b), b)));

const interruptionInfo: Decoder = plain((lo) => (lo === 0 ? [clearFlag('INVALID', 31)] : interruptionInfoParts(lo)));

const exitReasonField: Decoder = plain((lo) => {
  const basic = lo & 0xffff;
  return [sub('basic', basic, 0, exitReason(basic)?.short ?? 'unknown'), ...flagParts(lo, EXIT_REASON_FLAGS)];
});

const instructionError: Decoder = plain((lo) => (lo === 0 ? [] : [sub('error', lo, 0, vmInstructionError(lo)?.description ?? 'reserved')]));

const activityState: Decoder = (lo) => ({
  parts: [sub('state', lo, 0, ACTIVITY_STATES[lo] ?? 'reserved')],
  warnings: lo < ACTIVITY_STATES.length ? [] : [`activity state ${lo} is reserved`],
});

const rflags: Decoder = plain((lo) => {
  const parts = flagParts(lo, RFLAGS_FLAGS);
  const iopl = (lo >>> 12) & 3;
  if (iopl !== 0) parts.push(sub('IOPL', iopl, 12));
  return parts;
});

const linkPointer: Decoder = plain((lo, hi) => ((lo & hi) >>> 0 === 0xffffffff ? [note('NONE', 'none')] : []));

/** Decoder by field name. */
const DECODERS: ReadonlyMap<string, Decoder> = (() => {
  const m = new Map<string, Decoder>();
  for (const g of CONTROL_GROUPS) m.set(g.field, controlDecoder(g));
  m.set('EXCEPTION_BITMAP', exceptionBitmap);
  m.set('PAGE_FAULT_ERROR_CODE_MASK', flags(PF_ERROR_FLAGS));
  m.set('PAGE_FAULT_ERROR_CODE_MATCH', flags(PF_ERROR_FLAGS));
  for (const n of ['VM_ENTRY_INTR_INFO_FIELD', 'VM_EXIT_INTR_INFO', 'IDT_VECTORING_INFO_FIELD']) m.set(n, interruptionInfo);
  m.set('VM_EXIT_REASON', exitReasonField);
  m.set('VM_INSTRUCTION_ERROR', instructionError);
  m.set('GUEST_INTERRUPTIBILITY_INFO', flags(INTERRUPTIBILITY_FLAGS));
  m.set('GUEST_ACTIVITY_STATE', activityState);
  m.set('GUEST_PENDING_DBG_EXCEPTIONS', flags(PENDING_DEBUG_FLAGS));
  m.set('EPT_POINTER', plain(eptpParts));
  m.set('VM_FUNCTION_CONTROL', flags(VMFUNC_FLAGS));
  m.set('VMCS_LINK_POINTER', linkPointer);
  for (const s of ['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'LDTR', 'TR']) {
    m.set(`GUEST_${s}_AR_BYTES`, plain(accessRightsParts));
    m.set(`GUEST_${s}_SELECTOR`, plain(selectorParts));
    if (s !== 'LDTR') m.set(`HOST_${s}_SELECTOR`, plain(selectorParts));
  }
  for (const n of ['GUEST_CR0', 'HOST_CR0', 'CR0_GUEST_HOST_MASK', 'CR0_READ_SHADOW']) m.set(n, flags(CR0_FLAGS));
  for (const n of ['GUEST_CR4', 'HOST_CR4', 'CR4_GUEST_HOST_MASK', 'CR4_READ_SHADOW']) m.set(n, flags(CR4_FLAGS));
  for (const n of ['GUEST_IA32_EFER', 'HOST_IA32_EFER']) m.set(n, flags(EFER_FLAGS));
  for (const n of ['GUEST_IA32_PAT', 'HOST_IA32_PAT']) m.set(n, plain(patParts));
  m.set('GUEST_RFLAGS', rflags);
  return m;
})();

/** Whether describeField decodes this field's bits (others print as plain numbers). */
export function hasBitFieldDecoder(name: string): boolean { return DECODERS.has(name); }

const DIGITS = { '16': 4, '32': 8, '64': 16, natural: 16 } as const;

/**
 * Decodes a field value given as 32-bit halves (`hi` is ignored for 16/32-bit fields and for the
 * high half of a 64-bit field, whose value is `lo`).
 */
export function decodeField(encoding: number, lo: number, hi = 0): DecodedField {
  const field = fieldByEncoding(encoding);
  const high = field !== undefined && (encoding & 1) === 1;
  if (field === undefined) {
    return { encoding, field, name: `field ${hex(encoding, 8)}`, high: false, lo: lo >>> 0, hi: hi >>> 0, valueText: hex64(lo, hi), parts: [], warnings: [] };
  }
  const wide = !high && (field.width === '64' || field.width === 'natural');
  const vlo = lo >>> 0;
  const vhi = wide ? hi >>> 0 : 0;
  const digits = high ? 8 : DIGITS[field.width];
  const valueText = hex64(field.width === '16' && !high ? vlo & 0xffff : vlo, vhi, digits);
  const decoder = high ? undefined : DECODERS.get(field.name);
  const d = decoder?.(vlo, vhi) ?? { parts: [], warnings: [] };
  return { encoding, field, name: high ? `${field.name}_HIGH` : field.name, high, lo: vlo, hi: vhi, valueText, parts: d.parts, warnings: d.warnings };
}

/** `NAME = 0x... [PART, PART]`, with `; warning` clauses when VM entry would object. */
export function describeField(encoding: number, lo: number, hi = 0): string {
  const d = decodeField(encoding, lo, hi);
  let s = `${d.name} = ${d.valueText}`;
  if (d.parts.length > 0) s += ` [${d.parts.map((p) => p.text).join(', ')}]`;
  for (const w of d.warnings) s += `; ${w}`;
  return s;
}
