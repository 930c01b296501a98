// What GNU as 2.40 does that the instruction table alone does not say: the extra mnemonics it
// accepts (condition-code synonyms, Intel names, movabs, movzx/movsx), and its preference
// where several forms of the table fit the same operands. Only GNU-as-specific choices live
// here; the encodings themselves all come from src/emu/cpu/isa/opcodes.ts.
import type { Operand } from '../ast';
import { CONDITION_ALIASES, CONDITION_CODES, type OpcodeForm } from '../../cpu/isa/opcodes';

/** Synonyms GNU as accepts for table mnemonics (SDM Vol. 2 names and AT&T spellings). */
const SYNONYMS: Readonly<Record<string, string>> = {
  sal: 'shl',
  loopz: 'loope',
  loopnz: 'loopne',
  wait: 'fwait',
  // Intel names of the sign-extension instructions; AT&T uses cbtw/cwtl/cltq, cwtd/cltd/cqto.
  cbw: 'cbtw', cwde: 'cwtl', cdqe: 'cltq', cwd: 'cwtd', cdq: 'cltd', cqo: 'cqto',
  icebp: 'int1',
};

/** 64-bit-only Intel names (GNU as: "`cdqe' is only supported in 64-bit mode"). */
export const ONLY_64BIT_NAMES: ReadonlySet<string> = new Set(['cdqe', 'cqo', 'jrcxz']);

/**
 * Canonical table mnemonic for what was written, before suffix stripping: condition-code
 * synonyms (jz → je, setc → setb, cmovnae → cmovb; SDM Vol. 2 Jcc/SETcc/CMOVcc), Intel names.
 */
export function canonicalMnemonic(name: string): string {
  const syn = SYNONYMS[name];
  if (syn !== undefined) return syn;
  for (const head of ['j', 'set', 'cmov']) {
    if (name.startsWith(head) && name !== 'jmp') {
      const cc = CONDITION_ALIASES[name.slice(head.length)];
      if (cc !== undefined) return head + CONDITION_CODES[cc];
    }
  }
  return name;
}

/**
 * GNU as's `movzx`/`movsx`: the table's movzb/movzw/movsb/movsw/movsxd chosen by the size of
 * the source register (a memory source means a byte, as GNU as assumes).
 */
export function extensionMnemonic(name: 'movzx' | 'movsx', ops: readonly Operand[]): string {
  const src = ops[0];
  const size = src?.kind === 'reg' ? src.reg.size : 1;
  const zx = name === 'movzx';
  if (size === 2) return zx ? 'movzw' : 'movsw';
  if (size === 4 && !zx) return 'movsxd';
  return zx ? 'movzb' : 'movsb';
}

/**
 * Forms whose ModRM register operand never takes REX.W in GNU as, even with a 64-bit register
 * (it treats `mov %ds,%rax`, `str %rax`, `sldt %rax` as their 32-bit forms, and `pmovmskb`
 * writes the whole register either way, SDM Vol. 2 PMOVMSKB "the upper bits are zeroed").
 */
export function dropsRexW(form: OpcodeForm): boolean {
  return form.mnem === 'str' || form.mnem === 'sldt' || form.mnem === 'pmovmskb' || (form.mnem === 'mov' && form.map === 0 && (form.opcode === 0x8c || form.opcode === 0x8e));
}

/** `mov %reg,%sreg` (8E) ignores the register's size entirely: never a 66 prefix. */
export function ignoresRegisterSize(form: OpcodeForm): boolean {
  return form.mnem === 'mov' && form.map === 0 && form.opcode === 0x8e;
}

/** Is this the MOV r, imm (B8+r) form? GNU as prefers it to C7 /0 for 16/32-bit registers. */
export function isMovRegImm(form: OpcodeForm): boolean {
  return form.mnem === 'mov' && form.map === 0 && form.plusR && form.opcode === 0xb8;
}

/** The moffs forms A0-A3 (mov between the accumulator and an absolute address). */
export function isMoffsForm(form: OpcodeForm): boolean {
  return form.ops.some((o) => o === 'Ob' || o === 'Ov');
}

/**
 * Table order adjusted to GNU as's: MOV r, imm (B8+r) is tried before MOV r/m, imm (C7 /0), and
 * the moffs forms before the ModRM forms (GNU as lists them first; whether they apply is
 * decided per operand by the matcher).
 */
export function gasOrder(forms: readonly OpcodeForm[]): OpcodeForm[] {
  const rank = (f: OpcodeForm) => (isMoffsForm(f) ? 0 : isMovRegImm(f) ? 1 : 2);
  return forms
    .map((f, i) => ({ f, i }))
    .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
    .map((x) => x.f);
}

/**
 * Mnemonics whose two register/memory operands GNU as accepts in either order (the operation
 * is symmetric): `xchg (%rax),%eax` and `test (%rax),%al` assemble as if swapped.
 */
export const COMMUTATIVE: ReadonlySet<string> = new Set(['xchg', 'test']);

/** Prefixes of the rep family may only precede these (besides string instructions). */
export const REP_ALLOWED: ReadonlySet<string> = new Set(['ret', 'nop', 'pause', 'bsf', 'bsr', 'tzcnt', 'lzcnt', 'popcnt']);

/** `aam` / `aad` without an operand mean base 10 (SDM Vol. 2 AAM/AAD: D4 0A / D5 0A). */
export const DEFAULT_IMMEDIATE: ReadonlyMap<string, bigint> = new Map([['aam', 10n], ['aad', 10n]]);
