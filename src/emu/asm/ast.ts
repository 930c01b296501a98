// The contract between the assembler's front end (parser, directives, symbols, relaxation)
// and the instruction encoder: one parsed instruction with its operands in AT&T order.
import type { RegInfo } from '../cpu/isa/registers';

/**
 * A value known only up to a symbol: `symbol + addend`, or a plain constant when `symbol`
 * is undefined. The front end folds everything it can (absolute `.equ` symbols, `.`-relative
 * differences inside one section) before encoding; what remains is a link-time fixup.
 */
export interface Value {
  readonly symbol?: string;
  readonly addend: bigint;
}

export type Operand =
  /** `%eax`; `indirect` marks the `*%rax` of `call *%rax` / `jmp *%rax`. */
  | { readonly kind: 'reg'; readonly reg: RegInfo; readonly indirect?: boolean }
  /** `$expr` */
  | { readonly kind: 'imm'; readonly value: Value }
  /**
   * `seg:disp(base,index,scale)`; a bare `expr` (no `$`) is a memory operand with only a
   * displacement, which is also how branch targets (`jmp label`) are written.
   * `base` may be %rip/%eip for RIP-relative addressing.
   */
  | {
      readonly kind: 'mem';
      readonly seg?: RegInfo;
      readonly disp?: Value;
      readonly base?: RegInfo;
      readonly index?: RegInfo;
      readonly scale: 1 | 2 | 4 | 8;
      readonly indirect?: boolean;
    };

export interface Instruction {
  /** Mnemonic as written, lower-cased, without prefixes (e.g. `movl`, `rep`, `ljmp`). */
  readonly mnemonic: string;
  /** Prefix mnemonics written before it on the same line: `lock`, `rep`, `repe`, `repz`, `repne`, `repnz`, `data16`, `addr32`, `rex.w`, ... */
  readonly prefixes: readonly string[];
  /** Operands in AT&T (source-first) order. */
  readonly operands: readonly Operand[];
}

/** A field the linker (or the front end, once addresses are known) must fill in. */
export interface Fixup {
  /** Byte offset inside the encoded instruction. */
  readonly offset: number;
  readonly size: 1 | 2 | 4 | 8;
  /** PC-relative: the stored value is target - (address of the end of the instruction). */
  readonly pcrel: boolean;
  /** For non-pcrel 4-byte fields in 64-bit code: sign-extended (R_X86_64_32S) vs zero-extended (R_X86_64_32). */
  readonly signed: boolean;
  readonly value: Value;
  /**
   * The relative target of a direct jmp/jcc/call/loop (not a RIP-relative operand): in 64-bit
   * code GNU as relocates a rel32 branch to a global, weak or undefined symbol (with no
   * addend) with R_X86_64_PLT32 rather than R_X86_64_PC32.
   */
  readonly branch?: boolean;
}

export interface Encoded {
  readonly bytes: Uint8Array;
  readonly fixups: readonly Fixup[];
}

export type CodeMode = 16 | 32 | 64;

/** How a relaxable branch (jmp/jcc/loop/jrcxz family) should be sized; the front end relaxes. */
export type BranchSize = 'short' | 'near';

export interface EncodeOptions {
  readonly mode: CodeMode;
  /** For jmp/jcc with a symbolic target: the size the relaxation pass chose. Default 'near'. */
  readonly branch?: BranchSize;
}

/** An encoding error the front end reports as `file:line:col: message`. */
export class EncodeError extends Error {}
