// Shared pieces of the instruction handlers: the handler signature and small operand helpers.
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoder';
import type { OpcodeForm } from '../isa/opcodes';

/** One signature for every handler (DESIGN.md "one handler signature, dense dispatch array"). */
export type Handler = (c: Cpu, d: DecodedInsn) => void;

/** Builds the handler for a table form, or undefined when the family does not cover it. */
export type HandlerFactory = (f: OpcodeForm) => Handler | undefined;

/** True when the form's first (destination) operand is byte-sized. */
export function isByteForm(f: OpcodeForm): boolean {
  const o = f.ops[0];
  return o === 'Eb' || o === 'Gb' || o === 'AL' || o === 'Zb' || o === 'Yb' || o === 'Xb';
}
