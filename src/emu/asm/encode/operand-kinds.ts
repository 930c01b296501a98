// How each operand code of the instruction table (SDM Vol. 2 Appendix A.2 notation, see
// src/emu/cpu/isa/opcodes.ts) relates to the instruction's operand size, for the encoder.
import type { OpcodeForm, OperandCode } from '../../cpu/isa/opcodes';

export type OperandSize = 8 | 16 | 32 | 64;

/** Codes whose width is the operand size (16/32/64). */
const V_CODES: ReadonlySet<OperandCode> = new Set(['Ev', 'Gv', 'Zv', 'Rv', 'rAX', 'Xv', 'Yv', 'Iz', 'Iv', 'Ov']);
/** 16 or 32 by operand size (eAX of in/out, the Xz/Yz of ins/outs). */
const Z_CODES: ReadonlySet<OperandCode> = new Set(['eAX', 'Xz', 'Yz']);
/** 32 or 64 by operand size. */
const Y_CODES: ReadonlySet<OperandCode> = new Set(['Ey', 'Gy', 'Ry', 'Zy']);
/** Byte-sized codes. */
const B_CODES: ReadonlySet<OperandCode> = new Set(['Eb', 'Gb', 'Zb', 'AL', 'Xb', 'Yb', 'XLb', 'Ob', 'Mb']);

/** Register width in bytes a fixed-size code requires (undefined when not fixed). */
export const FIXED_REGISTER_BYTES: Readonly<Partial<Record<OperandCode, 1 | 2 | 4 | 8>>> = {
  Ew: 2, Gw: 2, Ed: 4, Gd: 4, Eq: 8, Gq: 8, CL: 1, DX: 2, EAX: 4, ECX: 4, EDX: 4,
};

export function isVarCode(c: OperandCode): boolean {
  return V_CODES.has(c) || Z_CODES.has(c) || Y_CODES.has(c);
}
export function isZCode(c: OperandCode): boolean {
  return Z_CODES.has(c);
}
export function isYCode(c: OperandCode): boolean {
  return Y_CODES.has(c);
}
export function isByteCode(c: OperandCode): boolean {
  return B_CODES.has(c);
}

/**
 * A form's relation to the operand size: 'byte' (fixed 8-bit, opcode W bit clear), 'var'
 * (16/32/64 chosen by 66/REX.W, SDM Vol. 2 §2.2.1.2 / Table 3-4) or 'none'.
 */
export type SizeKind = 'byte' | 'var' | 'none';

export function sizeKind(f: OpcodeForm): SizeKind {
  return (SIZE_KINDS[f.index] ??= formSizeKind(f));
}

const SIZE_KINDS: SizeKind[] = [];

function formSizeKind(f: OpcodeForm): SizeKind {
  if (f.ops.some((c) => isVarCode(c) || c === 'MwRv')) return 'var';
  if (f.ops.some((c) => isByteCode(c) && c !== 'Mb')) return 'byte';
  // Forms without sized operands that still have an operand size (pushf, iret, ret, cbtw,
  // lcall *m16:32, enter, sysret, lgdt): the table says so through their suffix rule.
  if ((f.sfx !== 'none' && f.sfx !== 'mem' && f.sfx !== 'adsz') || f.sizeNames !== undefined) return 'var';
  return 'none';
}

export const SUFFIX_SIZE: Readonly<Record<string, OperandSize>> = { b: 8, w: 16, l: 32, q: 64 };
export const SIZE_LETTER: Readonly<Record<OperandSize, string>> = { 8: 'b', 16: 'w', 32: 'l', 64: 'q' };
