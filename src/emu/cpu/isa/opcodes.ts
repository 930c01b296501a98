/**
 * THE x86 instruction table (DESIGN.md "One instruction table, everything generated from it",
 * in the spirit of v86 gen/x86_table.js, Bochs ia_opcodes.def, GNU i386-opc.tbl). The decoder
 * (src/emu/cpu/decoder.ts) builds its dispatch tables from it at module load, the
 * disassembler (src/emu/asm/disasm.ts) prints from it, the encoder (src/emu/asm/encoder.ts)
 * selects encodings from it, and the test corpus (test/support/corpus.ts) is generated from it.
 *
 * ## Schema
 * One `OpcodeForm` per encoding form, written SDM-style as `[mnemonic, encoding, operands, flags]`
 * and parsed once at load into numeric fields:
 *
 * - `mnem`: base mnemonic as objdump prints it in AT&T syntax, before any size suffix
 *   (`add`, `movzb` (+ `l` → `movzbl`), `jne`, `lcall`, `vmptrld`). See `sfx` and `sizeNames`.
 * - encoding (SDM Vol. 2 §3.1.1.1 notation): optional mandatory prefix `66`/`F2`/`F3`, optional
 *   `REX.W` (form needs REX.W=1), map escape `0F` / `0F 38` / `0F 3A`, then exactly one opcode
 *   byte, optionally `+r` (register in the opcode's low 3 bits: operand `Zb`/`Zv`/`Zy`), then
 *   the ModRM part: `/r` (ModRM present, reg = register operand), `/0`..`/7` (ModRM present,
 *   reg = opcode extension) or a full ModRM byte in hex (`0F 01 C1` = vmcall: ModRM must equal it).
 *   → fields `prefix` (0 or 0x66/0xF2/0xF3), `rexW`, `map` (0 one-byte, 1 = 0F, 2 = 0F38,
 *   3 = 0F3A), `opcode`, `plusR`, `hasModrm`, `ext` (-1 or 0..7), `modrm` (-1 or the exact byte).
 * - operands, comma separated, in **Intel order** (destination first), SDM Appendix A codes:
 *     Eb Ew Ed Eq Ev   ModRM r/m, register or memory (b=8, w=16, d=32, q=64, v=operand size)
 *     Ey               ModRM r/m: 32-bit, or 64-bit when the operand size is 64
 *     MwRv             ModRM r/m: a 16-bit memory word, or a register of the operand size
 *                      (mov Sreg, str, sldt, smsw, lar, lsl)
 *     Rv               ModRM r/m, register only (mod=11)
 *     Ry               ModRM r/m always names a register, mod is ignored (mov CRn/DRn, SDM
 *                      Vol. 2 MOV—Move to/from Control Registers: "the mod field is ignored")
 *     M                ModRM r/m, memory only, no size (lea, invlpg, clflush)
 *     Mb Mw Md Mq Mo   ModRM r/m, memory only, of that size (o = 16 bytes, cmpxchg16b/invept)
 *     Ms               memory pseudo-descriptor (6 bytes; 10 in 64-bit mode): lgdt/sgdt/lidt/sidt
 *     Mp               memory far pointer m16:16/m16:32/m16:64 (lcall/ljmp indirect, lss/lfs/lgs)
 *     Ma               memory pair of words/dwords (bound)
 *     Gb Gw Gd Gq Gv Gy ModRM.reg general register (sizes as for E)
 *     Sw               ModRM.reg segment register;  Cd / Dd: ModRM.reg control / debug register
 *     Zb Zv Zy         register number in the opcode's low 3 bits (+REX.B); Zy (bswap) is meant
 *                      for 32/64-bit registers, a 66 prefix gives the 16-bit one (undefined result)
 *     Ib               imm8, printed unsigned; Ibs: imm8 sign-extended to the operand size
 *     Iw               imm16; Iz: imm16/imm32 (imm32 sign-extended for 64-bit operands);
 *     Iv               imm16/imm32/imm64 (mov r, imm: `movabs` with REX.W)
 *     Jb Jz            relative branch displacement (rel8; rel16/rel32)
 *     Ob Ov            moffs: absolute address of address-size width, no ModRM (mov al/eax,moffs)
 *     Ap               far pointer immediate sel:off (not in 64-bit mode)
 *     AL CL DX         fixed registers (DX is the I/O port and prints `(%dx)`)
 *     eAX              AX or EAX by operand size (in/out);  rAX: AX/EAX/RAX by operand size
 *     aAX              AX/EAX/RAX by address size (monitor's implicit operand);  EAX ECX EDX
 *     Xb Xv Xz         string source DS:(rSI) (segment overridable); z = 16/32 by operand size
 *     Yb Yv Yz         string destination ES:(rDI)
 *     XLb              xlat's memory byte DS:(rBX+AL)
 *     1                shift count of one (objdump 2.40 does not print it)
 *     ES CS SS DS FS GS segment register operand of push/pop
 *   x87 (SDM Vol. 2 Tables A-7..A-22, the D8-DF escape maps; Vol. 1 chapter 8):
 *     ST               the stack top ST(0), printed `%st`
 *     STi              ModRM r/m names ST(i), register only (mod=11), printed `%st(i)`
 *     AX               the register AX (fnstsw %ax)
 *     Mt               memory, 80-bit extended real or 80-bit BCD (fldt, fstpt, fbld)
 *     M                also the x87 environment/state images (fldenv, fnsave) and the FXSAVE area
 *   SSE (SDM Vol. 2 Appendix A.2: V = ModRM.reg names an XMM register, W = ModRM r/m an XMM
 *   register or memory, U = ModRM r/m an XMM register only):
 *     Vx               XMM register (128 bits)
 *     Wx Wq Wd         XMM register or memory of 128 / 64 / 32 bits
 *     Ux               XMM register, mod=11 only
 *   Listed operands are the ones that appear in AT&T text (objdump prints monitor's and
 *   mwait's implicit registers, so they are listed). AT&T syntax lists them in reverse,
 *   except for forms flagged `noswap` (enter, bound), which GNU as writes in Intel order.
 * - flags (space separated):
 *     d64   operand size defaults to 64 in 64-bit mode; 66 selects 16 (SDM Vol. 2 Table A-1 "d64")
 *     f64   operand size is 64 in 64-bit mode whatever 66/REX.W say (mov CRn, vmread, lgdt, ...)
 *     i64   invalid in 64-bit mode;  o64: valid only in 64-bit mode
 *     lock  LOCK prefix allowed (with a memory destination, SDM Vol. 2 "LOCK" description)
 *     rep   REP (F3) repeats it (movs/stos/lods/ins/outs); repcc: REPE/REPNE (cmps/scas)
 *     star  printed with `*` before its E operand (indirect call/jmp)
 *     nop90 the one-byte NOP: only without 66 and REX.B (otherwise it is xchg)
 *     now   REX.W does not change the operand size (objdump shows it as an unused `rex.W`)
 *     np    no 66/F2/F3 prefix allowed (SDM "NP"; with one they encode something else)
 *     norep no F2/F3 prefix allowed (movbe; F2 makes it crc32)
 *     no66  a 66 prefix does not change the operand size (sysret, sysexit)
 *     noswap AT&T operand order equals Intel order (enter $size,$level; bound %reg,mem)
 *     sfx=mem|opsz|always|none  how objdump appends the size letter (b/w/l/q):
 *       mem: when no operand is a register (`addl $0x1,(%rax)`); the default for forms with an
 *       Eb/Ev operand. opsz: when the operand size is not the mode's default (`pushw`, `iretq`,
 *       `lretw`). always: every time (`movzbl`, `sysretq`, `movsl`). none: never (the default
 *       for everything else).
 *     names=a/b/c  objdump's mnemonic for operand sizes 16/32/64 (cbtw/cwtl/cltq)
 *     anames=a/b/c objdump's mnemonic for address sizes 16/32/64 (jcxz/jecxz/jrcxz)
 *     amovabs      named `movabs` when the address size is 64 (moffs forms)
 *     sfx=legacy   suffix w/l in 16/32-bit mode, none in 64-bit mode (lgdtl, lgdt)
 *     sfx=long     suffix l/q in 64-bit mode, none in 16/32-bit mode (sysretq, sysret)
 *     sfx=adsz     suffix w/l/q when the address size is not the mode's default (loopw, loopl)
 *     sfx=mem64    as mem, in 64-bit mode only (cvtsi2sdl/q (%rax): the size is ambiguous there only)
 *     sfx=env      x87 environment/state forms (fnstenv, fldenv, fnsave, frstor): their image is
 *                  the 16- or 32-bit format by operand size (SDM Vol. 1 §8.1.10); objdump adds
 *                  `s` (16-bit) or `l` (32-bit) when that is not the mode's default size
 *     wait=NAME    the form also exists as the waiting NAME, which is FWAIT (9B) followed by it
 *                  (finit = 9B + fninit, SDM Vol. 2 FINIT/FNINIT). The CPU executes the two
 *                  instructions; GNU as writes 9B for NAME, and objdump prints 9B plus the form
 *                  as one instruction named NAME (it takes any 9B before an x87 opcode as a
 *                  prefix and prints other x87 forms under their own name, see disasm.ts).
 *
 * Order matters twice. The decoder tries the forms of one opcode byte in table order, so a
 * form with a mandatory prefix, a REX.W requirement or an exact ModRM comes before the
 * general one. And where GNU as could pick several forms for the same operands, the first
 * form listed is the one it picks (except that imm8 forms apply only when the value fits,
 * and GNU as prefers the short accumulator forms for immediates that need imm16/32).
 */

export type OpMap = 0 | 1 | 2 | 3;

export type OperandCode =
  | 'Eb' | 'Ew' | 'Ed' | 'Eq' | 'Ev' | 'Ey' | 'MwRv' | 'Rv' | 'Ry'
  | 'M' | 'Mb' | 'Mw' | 'Md' | 'Mq' | 'Mo' | 'Ms' | 'Mp' | 'Ma'
  | 'Gb' | 'Gw' | 'Gd' | 'Gq' | 'Gv' | 'Gy' | 'Sw' | 'Cd' | 'Dd'
  | 'Zb' | 'Zv' | 'Zy'
  | 'Ib' | 'Ibs' | 'Iw' | 'Iz' | 'Iv' | 'Jb' | 'Jz' | 'Ob' | 'Ov' | 'Ap'
  | 'AL' | 'CL' | 'DX' | 'eAX' | 'rAX' | 'aAX' | 'EAX' | 'ECX' | 'EDX'
  | 'Xb' | 'Xv' | 'Xz' | 'Yb' | 'Yv' | 'Yz' | 'XLb' | '1'
  | 'ES' | 'CS' | 'SS' | 'DS' | 'FS' | 'GS'
  | 'ST' | 'STi' | 'AX' | 'Mt' | 'Vx' | 'Wx' | 'Wq' | 'Wd' | 'Ux';

export type SuffixRule = 'mem' | 'mem64' | 'opsz' | 'adsz' | 'always' | 'legacy' | 'long' | 'env' | 'none';

export interface OpcodeForm {
  /** Index of this form in OPCODES (the decoder's `entry`, the CPU's handler index). */
  readonly index: number;
  readonly mnem: string;
  /** Mandatory prefix byte (0x66, 0xF2, 0xF3) or 0. */
  readonly prefix: number;
  /** Form requires REX.W = 1. */
  readonly rexW: boolean;
  readonly map: OpMap;
  readonly opcode: number;
  /** Register number in the low 3 bits of the opcode (`+r`): the form covers opcode..opcode+7. */
  readonly plusR: boolean;
  readonly hasModrm: boolean;
  /** ModRM.reg opcode extension (/digit), or -1. */
  readonly ext: number;
  /** Exact ModRM byte (e.g. 0xC1 for vmcall), or -1. */
  readonly modrm: number;
  /** ModRM.mod restriction implied by the operands: 'mem' (mod≠11), 'reg' (mod=11) or 'any'. */
  readonly mod: 'mem' | 'reg' | 'any';
  readonly ops: readonly OperandCode[];
  readonly d64: boolean;
  readonly f64: boolean;
  readonly i64: boolean;
  readonly o64: boolean;
  readonly lock: boolean;
  readonly rep: boolean;
  readonly repcc: boolean;
  readonly star: boolean;
  readonly nop90: boolean;
  readonly now: boolean;
  /** A 66 prefix does not change the operand size (sysret/sysexit: only REX.W does). */
  readonly no66: boolean;
  /** No 66/F2/F3 prefix allowed (SDM "NP"): with one the bytes are another instruction or invalid. */
  readonly np: boolean;
  /** No F2/F3 prefix allowed (with one the bytes are another instruction: movbe vs crc32). */
  readonly norep: boolean;
  /** AT&T syntax keeps the Intel operand order (enter, bound: GNU as does not reverse them). */
  readonly noswap: boolean;
  readonly sfx: SuffixRule;
  /** objdump mnemonics for operand size 16/32/64, when the size picks the name. */
  readonly sizeNames?: readonly [string, string, string];
  /** objdump mnemonics for address size 16/32/64 (jcxz/jecxz/jrcxz). */
  readonly addrNames?: readonly [string, string, string];
  /** Named `movabs` when the address size is 64 (moffs forms in 64-bit mode). */
  readonly amovabs: boolean;
  /** The waiting spelling (FWAIT + this form, e.g. `finit` for fninit), see `wait=` above. */
  readonly waitName?: string;
  /** The source line this form was parsed from (for messages and docs). */
  readonly spec: string;
}

/** Condition-code mnemonic tails in encoding order (SDM Vol. 1 Table B-1), as objdump names them. */
export const CONDITION_CODES = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'] as const;

/**
 * Other names GNU as accepts for a condition (SDM Vol. 2 Jcc/SETcc/CMOVcc tables), mapped to
 * the encoding's index in CONDITION_CODES.
 */
export const CONDITION_ALIASES: Readonly<Record<string, number>> = {
  o: 0, no: 1, b: 2, c: 2, nae: 2, ae: 3, nb: 3, nc: 3, e: 4, z: 4, ne: 5, nz: 5, be: 6, na: 6,
  a: 7, nbe: 7, s: 8, ns: 9, p: 10, pe: 10, np: 11, po: 11, l: 12, nge: 12, ge: 13, nl: 13,
  le: 14, ng: 14, g: 15, nle: 15,
};

type Row = readonly [mnem: string, enc: string, ops: string, flags?: string];

/** Group 1 ALU operations (SDM Vol. 2 Table A-6 group 1): name, base opcode, /digit. */
const ALU: readonly (readonly [string, number, number])[] = [
  ['add', 0x00, 0], ['or', 0x08, 1], ['adc', 0x10, 2], ['sbb', 0x18, 3],
  ['and', 0x20, 4], ['sub', 0x28, 5], ['xor', 0x30, 6], ['cmp', 0x38, 7],
];

/** Group 2 shifts and rotates by /digit (SDM Vol. 2 Table A-6); /6 is an alias of shl. */
const SHIFTS = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'shl', 'sar'];

const hex = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');

function aluRows(): Row[] {
  const rows: Row[] = [];
  for (const [m, b, d] of ALU) {
    const lk = m === 'cmp' ? '' : 'lock';
    rows.push(
      [m, `${hex(b)} /r`, 'Eb,Gb', lk], [m, `${hex(b + 1)} /r`, 'Ev,Gv', lk],
      [m, `${hex(b + 2)} /r`, 'Gb,Eb'], [m, `${hex(b + 3)} /r`, 'Gv,Ev'],
      [m, `${hex(b + 4)}`, 'AL,Ib'], [m, `83 /${d}`, 'Ev,Ibs', lk], [m, `${hex(b + 5)}`, 'rAX,Iz'],
      [m, `80 /${d}`, 'Eb,Ib', lk], [m, `81 /${d}`, 'Ev,Iz', lk], [m, `82 /${d}`, 'Eb,Ib', `i64 ${lk}`],
    );
  }
  return rows;
}

function shiftRows(): Row[] {
  const rows: Row[] = [];
  SHIFTS.forEach((m, d) => {
    rows.push(
      [m, `D0 /${d}`, 'Eb,1'], [m, `D1 /${d}`, 'Ev,1'], [m, `D2 /${d}`, 'Eb,CL'], [m, `D3 /${d}`, 'Ev,CL'],
      [m, `C0 /${d}`, 'Eb,Ib'], [m, `C1 /${d}`, 'Ev,Ib'],
    );
  });
  return rows;
}

function conditionRows(): Row[] {
  const rows: Row[] = [];
  CONDITION_CODES.forEach((cc, i) => {
    rows.push([`j${cc}`, `${hex(0x70 + i)}`, 'Jb', 'd64']);
    rows.push([`j${cc}`, `0F ${hex(0x80 + i)}`, 'Jz', 'd64']);
    rows.push([`set${cc}`, `0F ${hex(0x90 + i)} /0`, 'Eb', 'sfx=none']);
    rows.push([`cmov${cc}`, `0F ${hex(0x40 + i)} /r`, 'Gv,Ev']);
  });
  return rows;
}

/** The eight arithmetic operations of the D8/DC/DA/DE escapes by /digit, as AT&T names them. */
const X87_ARITH = ['add', 'mul', 'com', 'comp', 'sub', 'subr', 'div', 'divr'];

/**
 * x87 rows (SDM Vol. 2 Tables A-7..A-22). Memory forms carry objdump's size letter in the
 * mnemonic (flds/fldl/fldt, filds/fildl/fildll). The register forms DC E0-FF and DE E0-FF
 * use GNU's names, which swap sub/subr and div/divr against the SDM's (DC E0+i is the SDM's
 * FSUBR ST(i),ST(0) and objdump's `fsub %st,%st(i)`): binutils keeps the old AT&T (SVR4)
 * assembler's reading, so that is the name on both sides of our toolchain.
 */
function x87Rows(): Row[] {
  const rows: Row[] = [];
  X87_ARITH.forEach((op, d) => {
    rows.push([`f${op}s`, `D8 /${d}`, 'Md'], [`f${op}l`, `DC /${d}`, 'Mq'], [`fi${op}l`, `DA /${d}`, 'Md'], [`fi${op}s`, `DE /${d}`, 'Mw']);
    rows.push(d === 2 || d === 3 ? [`f${op}`, `D8 /${d}`, 'STi'] : [`f${op}`, `D8 /${d}`, 'ST,STi']);
    if (d !== 2 && d !== 3) rows.push([`f${op}`, `DC /${d}`, 'STi,ST'], [`f${op}p`, `DE /${d}`, 'STi,ST']);
  });
  rows.push(['fcompp', 'DE D9', '']);
  // D9: loads, stores, control word, environment, constants and one-operand functions.
  rows.push(
    ['flds', 'D9 /0', 'Md'], ['fsts', 'D9 /2', 'Md'], ['fstps', 'D9 /3', 'Md'],
    ['fldenv', 'D9 /4', 'M', 'now sfx=env'], ['fldcw', 'D9 /5', 'Mw'],
    ['fnstenv', 'D9 /6', 'M', 'now sfx=env wait=fstenv'], ['fnstcw', 'D9 /7', 'Mw', 'wait=fstcw'],
    ['fld', 'D9 /0', 'STi'], ['fxch', 'D9 /1', 'STi'], ['fnop', 'D9 D0', ''],
  );
  const d9: readonly (readonly [string, number])[] = [
    ['fchs', 0xe0], ['fabs', 0xe1], ['ftst', 0xe4], ['fxam', 0xe5],
    ['fld1', 0xe8], ['fldl2t', 0xe9], ['fldl2e', 0xea], ['fldpi', 0xeb], ['fldlg2', 0xec], ['fldln2', 0xed], ['fldz', 0xee],
    ['f2xm1', 0xf0], ['fyl2x', 0xf1], ['fptan', 0xf2], ['fpatan', 0xf3], ['fxtract', 0xf4], ['fprem1', 0xf5],
    ['fdecstp', 0xf6], ['fincstp', 0xf7], ['fprem', 0xf8], ['fyl2xp1', 0xf9], ['fsqrt', 0xfa], ['fsincos', 0xfb],
    ['frndint', 0xfc], ['fscale', 0xfd], ['fsin', 0xfe], ['fcos', 0xff],
  ];
  for (const [m, b] of d9) rows.push([m, `D9 ${hex(b)}`, '']);
  // DA/DB: conditional moves, integer loads/stores, 80-bit loads/stores, control.
  ['fcmovb', 'fcmove', 'fcmovbe', 'fcmovu'].forEach((m, d) => rows.push([m, `DA /${d}`, 'ST,STi']));
  ['fcmovnb', 'fcmovne', 'fcmovnbe', 'fcmovnu'].forEach((m, d) => rows.push([m, `DB /${d}`, 'ST,STi']));
  rows.push(
    ['fucompp', 'DA E9', ''],
    ['fildl', 'DB /0', 'Md'], ['fisttpl', 'DB /1', 'Md'], ['fistl', 'DB /2', 'Md'], ['fistpl', 'DB /3', 'Md'],
    ['fldt', 'DB /5', 'Mt'], ['fstpt', 'DB /7', 'Mt'],
    ['fnclex', 'DB E2', '', 'wait=fclex'], ['fninit', 'DB E3', '', 'wait=finit'],
    ['fucomi', 'DB /5', 'ST,STi'], ['fcomi', 'DB /6', 'ST,STi'],
  );
  // DD: 64-bit loads/stores, state save/restore, status word, register stores.
  rows.push(
    ['fldl', 'DD /0', 'Mq'], ['fisttpll', 'DD /1', 'Mq'], ['fstl', 'DD /2', 'Mq'], ['fstpl', 'DD /3', 'Mq'],
    ['frstor', 'DD /4', 'M', 'now sfx=env'], ['fnsave', 'DD /6', 'M', 'now sfx=env wait=fsave'], ['fnstsw', 'DD /7', 'Mw', 'wait=fstsw'],
    ['ffree', 'DD /0', 'STi'], ['fst', 'DD /2', 'STi'], ['fstp', 'DD /3', 'STi'], ['fucom', 'DD /4', 'STi'], ['fucomp', 'DD /5', 'STi'],
  );
  // DF: 16/64-bit integers, BCD, status word to AX, compares that pop.
  rows.push(
    ['filds', 'DF /0', 'Mw'], ['fisttps', 'DF /1', 'Mw'], ['fists', 'DF /2', 'Mw'], ['fistps', 'DF /3', 'Mw'],
    ['fbld', 'DF /4', 'Mt'], ['fildll', 'DF /5', 'Mq'], ['fbstp', 'DF /6', 'Mt'], ['fistpll', 'DF /7', 'Mq'],
    ['fnstsw', 'DF E0', 'AX', 'wait=fstsw'], ['ffreep', 'DF /0', 'STi'], ['fucomip', 'DF /5', 'ST,STi'], ['fcomip', 'DF /6', 'ST,STi'],
  );
  return rows;
}

/** Packed/scalar single/double arithmetic (0F 51-5F) by opcode: SDM Vol. 2 Table A-3 rows 5x. */
const SSE_FP_ARITH: readonly (readonly [string, number])[] = [
  ['sqrt', 0x51], ['add', 0x58], ['mul', 0x59], ['sub', 0x5c], ['min', 0x5d], ['div', 0x5e], ['max', 0x5f],
];

/** SSE/SSE2 integer operations on XMM registers (66 0F xx /r, Vx,Wx). */
const SSE_INT: readonly (readonly [string, number])[] = [
  ['punpcklbw', 0x60], ['punpcklwd', 0x61], ['punpckldq', 0x62], ['packsswb', 0x63], ['pcmpgtb', 0x64], ['pcmpgtw', 0x65],
  ['pcmpgtd', 0x66], ['packuswb', 0x67], ['punpckhbw', 0x68], ['punpckhwd', 0x69], ['punpckhdq', 0x6a], ['packssdw', 0x6b],
  ['punpcklqdq', 0x6c], ['punpckhqdq', 0x6d], ['pcmpeqb', 0x74], ['pcmpeqw', 0x75], ['pcmpeqd', 0x76],
  ['paddq', 0xd4], ['pmullw', 0xd5], ['psubusb', 0xd8], ['psubusw', 0xd9], ['pminub', 0xda], ['pand', 0xdb],
  ['paddusb', 0xdc], ['paddusw', 0xdd], ['pmaxub', 0xde], ['pandn', 0xdf], ['pavgb', 0xe0], ['pavgw', 0xe3],
  ['pmulhuw', 0xe4], ['pmulhw', 0xe5], ['psubsb', 0xe8], ['psubsw', 0xe9], ['pminsw', 0xea], ['por', 0xeb],
  ['paddsb', 0xec], ['paddsw', 0xed], ['pmaxsw', 0xee], ['pxor', 0xef], ['pmuludq', 0xf4], ['pmaddwd', 0xf5],
  ['psadbw', 0xf6], ['psubb', 0xf8], ['psubw', 0xf9], ['psubd', 0xfa], ['psubq', 0xfb], ['paddb', 0xfc],
  ['paddw', 0xfd], ['paddd', 0xfe],
];

/** SSE/SSE2 rows (SDM Vol. 2 Table A-3, the 0F map with mandatory prefixes 66/F3/F2 or none). */
function sseRows(): Row[] {
  const rows: Row[] = [
    // Moves (SDM Vol. 2 MOVUPS..MOVDQU, MOVSS, MOVSD, MOVLPS/MOVHPS, MOVHLPS/MOVLHPS).
    ['movups', '0F 10 /r', 'Vx,Wx', 'np'], ['movups', '0F 11 /r', 'Wx,Vx', 'np'],
    ['movupd', '66 0F 10 /r', 'Vx,Wx'], ['movupd', '66 0F 11 /r', 'Wx,Vx'],
    ['movss', 'F3 0F 10 /r', 'Vx,Wd'], ['movss', 'F3 0F 11 /r', 'Wd,Vx'],
    ['movsd', 'F2 0F 10 /r', 'Vx,Wq'], ['movsd', 'F2 0F 11 /r', 'Wq,Vx'],
    ['movhlps', '0F 12 /r', 'Vx,Ux', 'np'], ['movlps', '0F 12 /r', 'Vx,Mq', 'np'], ['movlps', '0F 13 /r', 'Mq,Vx', 'np'],
    ['movlpd', '66 0F 12 /r', 'Vx,Mq'], ['movlpd', '66 0F 13 /r', 'Mq,Vx'],
    ['unpcklps', '0F 14 /r', 'Vx,Wx', 'np'], ['unpcklpd', '66 0F 14 /r', 'Vx,Wx'],
    ['unpckhps', '0F 15 /r', 'Vx,Wx', 'np'], ['unpckhpd', '66 0F 15 /r', 'Vx,Wx'],
    ['movlhps', '0F 16 /r', 'Vx,Ux', 'np'], ['movhps', '0F 16 /r', 'Vx,Mq', 'np'], ['movhps', '0F 17 /r', 'Mq,Vx', 'np'],
    ['movhpd', '66 0F 16 /r', 'Vx,Mq'], ['movhpd', '66 0F 17 /r', 'Mq,Vx'],
    ['movaps', '0F 28 /r', 'Vx,Wx', 'np'], ['movaps', '0F 29 /r', 'Wx,Vx', 'np'],
    ['movapd', '66 0F 28 /r', 'Vx,Wx'], ['movapd', '66 0F 29 /r', 'Wx,Vx'],
    ['movntps', '0F 2B /r', 'Mo,Vx', 'np'], ['movntpd', '66 0F 2B /r', 'Mo,Vx'],
    // Conversions and compares setting EFLAGS (SDM Vol. 2 CVTSI2SD.., UCOMISD, COMISD).
    // With F2/F3 selecting the instruction, a 66 prefix is ignored (objdump: `data16`): no66.
    ['cvtsi2ss', 'F3 0F 2A /r', 'Vx,Ey', 'no66 sfx=mem64'], ['cvtsi2sd', 'F2 0F 2A /r', 'Vx,Ey', 'no66 sfx=mem64'],
    ['cvttss2si', 'F3 0F 2C /r', 'Gy,Wd', 'no66'], ['cvttsd2si', 'F2 0F 2C /r', 'Gy,Wq', 'no66'],
    ['cvtss2si', 'F3 0F 2D /r', 'Gy,Wd', 'no66'], ['cvtsd2si', 'F2 0F 2D /r', 'Gy,Wq', 'no66'],
    ['ucomiss', '0F 2E /r', 'Vx,Wd', 'np'], ['ucomisd', '66 0F 2E /r', 'Vx,Wq'],
    ['comiss', '0F 2F /r', 'Vx,Wd', 'np'], ['comisd', '66 0F 2F /r', 'Vx,Wq'],
    ['cvtss2sd', 'F3 0F 5A /r', 'Vx,Wd'], ['cvtsd2ss', 'F2 0F 5A /r', 'Vx,Wq'],
    // Packed conversions (SDM Vol. 2 CVTPS2PD, CVTPD2PS, CVTDQ2PS, CVTPS2DQ, CVTTPS2DQ, CVTTPD2DQ, CVTDQ2PD, CVTPD2DQ).
    ['cvtps2pd', '0F 5A /r', 'Vx,Wq', 'np'], ['cvtpd2ps', '66 0F 5A /r', 'Vx,Wx'],
    ['cvtdq2ps', '0F 5B /r', 'Vx,Wx', 'np'], ['cvtps2dq', '66 0F 5B /r', 'Vx,Wx'], ['cvttps2dq', 'F3 0F 5B /r', 'Vx,Wx'],
    ['cvttpd2dq', '66 0F E6 /r', 'Vx,Wx'], ['cvtdq2pd', 'F3 0F E6 /r', 'Vx,Wq'], ['cvtpd2dq', 'F2 0F E6 /r', 'Vx,Wx'],
    // Logic on packed single/double (SDM Vol. 2 ANDPS.., XORPD).
    ['andps', '0F 54 /r', 'Vx,Wx', 'np'], ['andpd', '66 0F 54 /r', 'Vx,Wx'],
    ['andnps', '0F 55 /r', 'Vx,Wx', 'np'], ['andnpd', '66 0F 55 /r', 'Vx,Wx'],
    ['orps', '0F 56 /r', 'Vx,Wx', 'np'], ['orpd', '66 0F 56 /r', 'Vx,Wx'],
    ['xorps', '0F 57 /r', 'Vx,Wx', 'np'], ['xorpd', '66 0F 57 /r', 'Vx,Wx'],
  ];
  for (const [op, b] of SSE_FP_ARITH) {
    rows.push(
      [`${op}ps`, `0F ${hex(b)} /r`, 'Vx,Wx', 'np'], [`${op}pd`, `66 0F ${hex(b)} /r`, 'Vx,Wx'],
      [`${op}ss`, `F3 0F ${hex(b)} /r`, 'Vx,Wd'], [`${op}sd`, `F2 0F ${hex(b)} /r`, 'Vx,Wq'],
    );
  }
  for (const [m, b] of SSE_INT) rows.push([m, `66 0F ${hex(b)} /r`, 'Vx,Wx']);
  rows.push(
    // MOVD/MOVQ between XMM and general registers or memory (SDM Vol. 2 MOVD/MOVQ), MOVDQA/MOVDQU.
    // GNU as picks the F3 0F 7E / 66 0F D6 forms for XMM-memory movq, so they are listed first.
    ['movq', 'F3 0F 7E /r', 'Vx,Wq'], ['movq', '66 0F D6 /r', 'Wq,Vx'],
    ['movq', '66 REX.W 0F 6E /r', 'Vx,Eq', 'o64'], ['movd', '66 0F 6E /r', 'Vx,Ed'],
    ['movdqa', '66 0F 6F /r', 'Vx,Wx'], ['movdqu', 'F3 0F 6F /r', 'Vx,Wx'],
    ['pshufd', '66 0F 70 /r', 'Vx,Wx,Ib'], ['pshufhw', 'F3 0F 70 /r', 'Vx,Wx,Ib'], ['pshuflw', 'F2 0F 70 /r', 'Vx,Wx,Ib'],
    // Shifts by immediate (groups 12-14 with 66: SDM Vol. 2 Table A-6).
    ['psrlw', '66 0F 71 /2', 'Ux,Ib'], ['psraw', '66 0F 71 /4', 'Ux,Ib'], ['psllw', '66 0F 71 /6', 'Ux,Ib'],
    ['psrld', '66 0F 72 /2', 'Ux,Ib'], ['psrad', '66 0F 72 /4', 'Ux,Ib'], ['pslld', '66 0F 72 /6', 'Ux,Ib'],
    ['psrlq', '66 0F 73 /2', 'Ux,Ib'], ['psrldq', '66 0F 73 /3', 'Ux,Ib'], ['psllq', '66 0F 73 /6', 'Ux,Ib'], ['pslldq', '66 0F 73 /7', 'Ux,Ib'],
    ['movq', '66 REX.W 0F 7E /r', 'Eq,Vx', 'o64'], ['movd', '66 0F 7E /r', 'Ed,Vx'],
    ['movdqa', '66 0F 7F /r', 'Wx,Vx'], ['movdqu', 'F3 0F 7F /r', 'Wx,Vx'],
    ['pmovmskb', '66 0F D7 /r', 'Gy,Ux', 'no66'],
    ['movntdq', '66 0F E7 /r', 'Mo,Vx'], ['movnti', '0F C3 /r', 'M,Gy', 'np no66'],
    ['shufps', '0F C6 /r', 'Vx,Wx,Ib', 'np'], ['shufpd', '66 0F C6 /r', 'Vx,Wx,Ib'],
    // FXSAVE/FXRSTOR, MXCSR (SDM Vol. 2 FXSAVE, FXRSTOR, LDMXCSR, STMXCSR; group 15).
    ['fxsave64', 'REX.W 0F AE /0', 'M', 'o64'], ['fxsave', '0F AE /0', 'M'],
    ['fxrstor64', 'REX.W 0F AE /1', 'M', 'o64'], ['fxrstor', '0F AE /1', 'M'],
    ['ldmxcsr', '0F AE /2', 'Md'], ['stmxcsr', '0F AE /3', 'Md'],
  );
  return rows;
}

/**
 * The rows. Within an opcode, specific forms (mandatory prefix, REX.W, exact ModRM, mod
 * restriction) come before general ones; see the module comment for the GNU as order rule.
 */
const ROWS: readonly Row[] = [
  // ---- Data movement (SDM Vol. 2 MOV, MOVZX, MOVSX, MOVSXD, LEA, XCHG) ----
  ['mov', '88 /r', 'Eb,Gb'], ['mov', '89 /r', 'Ev,Gv'], ['mov', '8A /r', 'Gb,Eb'], ['mov', '8B /r', 'Gv,Ev'],
  ['mov', '8C /r', 'MwRv,Sw'], ['mov', '8E /r', 'Sw,MwRv'],
  ['mov', 'B0+r', 'Zb,Ib'], ['mov', 'C7 /0', 'Ev,Iz'], ['movabs', 'REX.W B8+r', 'Zv,Iv'], ['mov', 'B8+r', 'Zv,Iv'],
  ['mov', 'C6 /0', 'Eb,Ib'],
  // moffs forms: objdump (and GNU as) call them movabs when the address is 64-bit.
  ['mov', 'A0', 'AL,Ob', 'amovabs'], ['mov', 'A1', 'rAX,Ov', 'amovabs'],
  ['mov', 'A2', 'Ob,AL', 'amovabs'], ['mov', 'A3', 'Ov,rAX', 'amovabs'],
  ['mov', '0F 20 /r', 'Ry,Cd', 'f64'], ['mov', '0F 22 /r', 'Cd,Ry', 'f64'],
  ['mov', '0F 21 /r', 'Ry,Dd', 'f64'], ['mov', '0F 23 /r', 'Dd,Ry', 'f64'],
  ['movzb', '0F B6 /r', 'Gv,Eb', 'sfx=always'], ['movzw', '0F B7 /r', 'Gv,Ew', 'sfx=always'],
  ['movsb', '0F BE /r', 'Gv,Eb', 'sfx=always'], ['movsw', '0F BF /r', 'Gv,Ew', 'sfx=always'],
  ['movsl', 'REX.W 63 /r', 'Gv,Ed', 'o64 sfx=always'], ['movsxd', '63 /r', 'Gv,Ed', 'o64'],
  ['arpl', '63 /r', 'Ew,Gw', 'i64'],
  ['lea', '8D /r', 'Gv,M'],
  ['pause', 'F3 90', ''], ['nop', '90', '', 'nop90'], ['xchg', '90+r', 'Zv,rAX'], ['xchg', '86 /r', 'Eb,Gb', 'lock'], ['xchg', '87 /r', 'Ev,Gv', 'lock'],
  ['bswap', '0F C8+r', 'Zy'],
  ['movbe', '0F 38 F0 /r', 'Gv,M', 'norep'], ['movbe', '0F 38 F1 /r', 'M,Gv', 'norep'],
  ['cbw', '98', '', 'names=cbtw/cwtl/cltq'], ['cwd', '99', '', 'names=cwtd/cltd/cqto'],
  ['xlat', 'D7', 'XLb'],
  ['lahf', '9F', ''], ['sahf', '9E', ''],
  ['les', 'C4 /r', 'Gv,Mp', 'i64'], ['lds', 'C5 /r', 'Gv,Mp', 'i64'],
  ['lss', '0F B2 /r', 'Gv,Mp'], ['lfs', '0F B4 /r', 'Gv,Mp'], ['lgs', '0F B5 /r', 'Gv,Mp'],

  // ---- Stack (SDM Vol. 2 PUSH, POP, PUSHF, POPF, PUSHA, POPA, ENTER, LEAVE) ----
  ['push', '50+r', 'Zv', 'd64'], ['push', 'FF /6', 'Ev', 'd64 sfx=opsz'],
  ['push', '6A', 'Ibs', 'd64 sfx=opsz'], ['push', '68', 'Iz', 'd64 sfx=opsz'],
  ['push', '06', 'ES', 'i64 sfx=opsz'], ['push', '0E', 'CS', 'i64 sfx=opsz'], ['push', '16', 'SS', 'i64 sfx=opsz'],
  ['push', '1E', 'DS', 'i64 sfx=opsz'], ['push', '0F A0', 'FS', 'd64 sfx=opsz'], ['push', '0F A8', 'GS', 'd64 sfx=opsz'],
  ['pop', '58+r', 'Zv', 'd64'], ['pop', '8F /0', 'Ev', 'd64 sfx=opsz'],
  ['pop', '07', 'ES', 'i64 sfx=opsz'], ['pop', '17', 'SS', 'i64 sfx=opsz'], ['pop', '1F', 'DS', 'i64 sfx=opsz'],
  ['pop', '0F A1', 'FS', 'd64 sfx=opsz'], ['pop', '0F A9', 'GS', 'd64 sfx=opsz'],
  ['pushf', '9C', '', 'd64 sfx=opsz'], ['popf', '9D', '', 'd64 sfx=opsz'],
  ['pusha', '60', '', 'i64 sfx=opsz'], ['popa', '61', '', 'i64 sfx=opsz'],
  ['enter', 'C8', 'Iw,Ib', 'd64 noswap sfx=opsz'], ['leave', 'C9', '', 'd64 sfx=opsz'],

  // ---- Binary arithmetic and logic (SDM Vol. 2 ADD..CMP, INC, DEC, NEG, NOT, MUL, IMUL, DIV, IDIV, TEST) ----
  ...aluRows(),
  ['test', '84 /r', 'Eb,Gb'], ['test', '85 /r', 'Ev,Gv'], ['test', 'A8', 'AL,Ib'], ['test', 'A9', 'rAX,Iz'],
  ['test', 'F6 /0', 'Eb,Ib'], ['test', 'F7 /0', 'Ev,Iz'], ['test', 'F6 /1', 'Eb,Ib'], ['test', 'F7 /1', 'Ev,Iz'],
  ['not', 'F6 /2', 'Eb', 'lock'], ['not', 'F7 /2', 'Ev', 'lock'],
  ['neg', 'F6 /3', 'Eb', 'lock'], ['neg', 'F7 /3', 'Ev', 'lock'],
  ['mul', 'F6 /4', 'Eb'], ['mul', 'F7 /4', 'Ev'], ['imul', 'F6 /5', 'Eb'], ['imul', 'F7 /5', 'Ev'],
  ['div', 'F6 /6', 'Eb'], ['div', 'F7 /6', 'Ev'], ['idiv', 'F6 /7', 'Eb'], ['idiv', 'F7 /7', 'Ev'],
  ['imul', '0F AF /r', 'Gv,Ev'], ['imul', '6B /r', 'Gv,Ev,Ibs'], ['imul', '69 /r', 'Gv,Ev,Iz'],
  ['inc', '40+r', 'Zv', 'i64'], ['dec', '48+r', 'Zv', 'i64'],
  ['inc', 'FE /0', 'Eb', 'lock'], ['inc', 'FF /0', 'Ev', 'lock'],
  ['dec', 'FE /1', 'Eb', 'lock'], ['dec', 'FF /1', 'Ev', 'lock'],
  ['xadd', '0F C0 /r', 'Eb,Gb', 'lock'], ['xadd', '0F C1 /r', 'Ev,Gv', 'lock'],
  ['cmpxchg', '0F B0 /r', 'Eb,Gb', 'lock'], ['cmpxchg', '0F B1 /r', 'Ev,Gv', 'lock'],
  ['cmpxchg16b', 'REX.W 0F C7 /1', 'Mo', 'o64 lock'], ['cmpxchg8b', '0F C7 /1', 'Mq', 'lock'],
  // Decimal arithmetic (SDM Vol. 2 AAA..DAS): legacy, invalid in 64-bit mode.
  ['daa', '27', '', 'i64'], ['das', '2F', '', 'i64'], ['aaa', '37', '', 'i64'], ['aas', '3F', '', 'i64'],
  ['aam', 'D4', 'Ib', 'i64'], ['aad', 'D5', 'Ib', 'i64'],
  ['bound', '62 /r', 'Gv,Ma', 'i64 noswap'],

  // ---- Shifts, rotates, bit operations (SDM Vol. 2 SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR, SHLD, SHRD, BT*, BSF, BSR, POPCNT, LZCNT, TZCNT) ----
  ...shiftRows(),
  ['shld', '0F A4 /r', 'Ev,Gv,Ib'], ['shld', '0F A5 /r', 'Ev,Gv,CL'],
  ['shrd', '0F AC /r', 'Ev,Gv,Ib'], ['shrd', '0F AD /r', 'Ev,Gv,CL'],
  ['bt', '0F A3 /r', 'Ev,Gv'], ['bts', '0F AB /r', 'Ev,Gv', 'lock'],
  ['btr', '0F B3 /r', 'Ev,Gv', 'lock'], ['btc', '0F BB /r', 'Ev,Gv', 'lock'],
  ['bt', '0F BA /4', 'Ev,Ib'], ['bts', '0F BA /5', 'Ev,Ib', 'lock'],
  ['btr', '0F BA /6', 'Ev,Ib', 'lock'], ['btc', '0F BA /7', 'Ev,Ib', 'lock'],
  // F2 0F BC/BD are undefined (objdump's `(bad)`): bsf/bsr take no repeat prefix.
  ['tzcnt', 'F3 0F BC /r', 'Gv,Ev'], ['bsf', '0F BC /r', 'Gv,Ev', 'norep'],
  ['lzcnt', 'F3 0F BD /r', 'Gv,Ev'], ['bsr', '0F BD /r', 'Gv,Ev', 'norep'],
  ['popcnt', 'F3 0F B8 /r', 'Gv,Ev'],

  // ---- Conditional moves, sets and branches (SDM Vol. 2 CMOVcc, SETcc, Jcc) ----
  ...conditionRows(),

  // ---- Control transfer (SDM Vol. 2 JMP, CALL, RET, LOOP, JCXZ, INT, IRET) ----
  ['jmp', 'EB', 'Jb', 'd64'], ['jmp', 'E9', 'Jz', 'd64 sfx=opsz'], ['jmp', 'FF /4', 'Ev', 'd64 star sfx=opsz'],
  ['call', 'E8', 'Jz', 'd64 sfx=opsz'], ['call', 'FF /2', 'Ev', 'd64 star sfx=opsz'],
  ['ljmp', 'EA', 'Ap', 'i64 sfx=opsz'], ['ljmp', 'FF /5', 'Mp', 'star now sfx=opsz'],
  ['lcall', '9A', 'Ap', 'i64 sfx=opsz'], ['lcall', 'FF /3', 'Mp', 'star now sfx=opsz'],
  ['ret', 'C3', '', 'd64 sfx=opsz'], ['ret', 'C2', 'Iw', 'd64 sfx=opsz'],
  ['lret', 'CB', '', 'sfx=opsz'], ['lret', 'CA', 'Iw', 'sfx=opsz'],
  ['loopne', 'E0', 'Jb', 'd64 sfx=adsz'], ['loope', 'E1', 'Jb', 'd64 sfx=adsz'], ['loop', 'E2', 'Jb', 'd64 sfx=adsz'],
  ['jcxz', 'E3', 'Jb', 'd64 anames=jcxz/jecxz/jrcxz'],
  ['int3', 'CC', ''], ['int', 'CD', 'Ib'], ['into', 'CE', '', 'i64'], ['int1', 'F1', ''],
  ['iret', 'CF', '', 'sfx=opsz'],

  // ---- String operations (SDM Vol. 2 MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS) ----
  ['movsb', 'A4', 'Yb,Xb', 'rep'], ['movs', 'A5', 'Yv,Xv', 'rep sfx=always'],
  ['cmpsb', 'A6', 'Xb,Yb', 'repcc'], ['cmps', 'A7', 'Xv,Yv', 'repcc sfx=always'],
  ['stos', 'AA', 'Yb,AL', 'rep'], ['stos', 'AB', 'Yv,rAX', 'rep'],
  ['lods', 'AC', 'AL,Xb', 'rep'], ['lods', 'AD', 'rAX,Xv', 'rep'],
  ['scas', 'AE', 'AL,Yb', 'repcc'], ['scas', 'AF', 'rAX,Yv', 'repcc'],
  ['insb', '6C', 'Yb,DX', 'rep'], ['ins', '6D', 'Yz,DX', 'rep sfx=always'],
  ['outsb', '6E', 'DX,Xb', 'rep'], ['outs', '6F', 'DX,Xz', 'rep sfx=always'],

  // ---- I/O (SDM Vol. 2 IN, OUT) ----
  ['in', 'E4', 'AL,Ib'], ['in', 'E5', 'eAX,Ib'], ['in', 'EC', 'AL,DX'], ['in', 'ED', 'eAX,DX'],
  ['out', 'E6', 'Ib,AL'], ['out', 'E7', 'Ib,eAX'], ['out', 'EE', 'DX,AL'], ['out', 'EF', 'DX,eAX'],

  // ---- Flags and miscellaneous (SDM Vol. 2 CLC..STD, CMC, NOP, PAUSE, HLT, UD, ENDBR64, CPUID) ----
  ['clc', 'F8', ''], ['stc', 'F9', ''], ['cli', 'FA', ''], ['sti', 'FB', ''], ['cld', 'FC', ''], ['std', 'FD', ''],
  ['cmc', 'F5', ''], ['hlt', 'F4', ''], ['fwait', '9B', ''],
  ['nop', '0F 1F /0', 'Ev'],
  ['ud2', '0F 0B', ''], ['ud1', '0F B9 /r', 'Gv,Ev', 'sfx=none'], ['ud0', '0F FF /r', 'Gv,Ev', 'sfx=none'],
  ['endbr64', 'F3 0F 1E FA', ''], ['endbr32', 'F3 0F 1E FB', ''],
  ['cpuid', '0F A2', ''],
  ['lfence', '0F AE E8', '', 'np'], ['mfence', '0F AE F0', '', 'np'], ['sfence', '0F AE F8', '', 'np'],
  ['clflush', '0F AE /7', 'Mb', 'np'],

  // ---- System instructions (SDM Vol. 2; Vol. 3 §2.8 system instruction summary) ----
  ['sldt', '0F 00 /0', 'MwRv'], ['str', '0F 00 /1', 'MwRv'], ['lldt', '0F 00 /2', 'Ew'], ['ltr', '0F 00 /3', 'Ew'],
  ['verr', '0F 00 /4', 'Ew'], ['verw', '0F 00 /5', 'Ew'],
  ['vmcall', '0F 01 C1', ''], ['vmlaunch', '0F 01 C2', ''], ['vmresume', '0F 01 C3', ''], ['vmxoff', '0F 01 C4', ''],
  ['monitor', '0F 01 C8', 'EDX,ECX,aAX'], ['mwait', '0F 01 C9', 'ECX,EAX'],
  ['clac', '0F 01 CA', ''], ['stac', '0F 01 CB', ''],
  ['xgetbv', '0F 01 D0', ''], ['xsetbv', '0F 01 D1', ''], ['vmfunc', '0F 01 D4', ''],
  ['swapgs', '0F 01 F8', '', 'o64'], ['rdtscp', '0F 01 F9', ''],
  ['sgdt', '0F 01 /0', 'Ms', 'f64 sfx=legacy'], ['sidt', '0F 01 /1', 'Ms', 'f64 sfx=legacy'],
  ['lgdt', '0F 01 /2', 'Ms', 'f64 sfx=legacy'], ['lidt', '0F 01 /3', 'Ms', 'f64 sfx=legacy'],
  ['smsw', '0F 01 /4', 'MwRv'], ['lmsw', '0F 01 /6', 'Ew'], ['invlpg', '0F 01 /7', 'Mb'],
  ['lar', '0F 02 /r', 'Gv,MwRv'], ['lsl', '0F 03 /r', 'Gv,MwRv'],
  ['syscall', '0F 05', ''], ['clts', '0F 06', ''], ['sysret', '0F 07', '', 'no66 sfx=long'],
  ['invd', '0F 08', ''], ['wbnoinvd', 'F3 0F 09', ''], ['wbinvd', '0F 09', '', 'np'],
  ['wrmsr', '0F 30', ''], ['rdtsc', '0F 31', ''], ['rdmsr', '0F 32', ''], ['rdpmc', '0F 33', ''],
  ['sysenter', '0F 34', ''], ['sysexit', '0F 35', '', 'no66 sfx=long'], ['getsec', '0F 37', ''],
  ['rsm', '0F AA', ''],
  ['invpcid', '66 0F 38 82 /r', 'Gy,Mo', 'f64'],

  // ---- VMX (SDM Vol. 3C chapter 30, VMX instruction reference) ----
  ['vmxon', 'F3 0F C7 /6', 'Mq'], ['vmclear', '66 0F C7 /6', 'Mq'], ['vmptrld', '0F C7 /6', 'Mq', 'norep'],
  ['vmptrst', '0F C7 /7', 'Mq'],
  ['vmread', '0F 78 /r', 'Ey,Gy', 'f64 np'], ['vmwrite', '0F 79 /r', 'Gy,Ey', 'f64 np'],
  ['invept', '66 0F 38 80 /r', 'Gy,Mo', 'f64'], ['invvpid', '66 0F 38 81 /r', 'Gy,Mo', 'f64'],

  // ---- x87 FPU (SDM Vol. 1 chapter 8; Vol. 2 F2XM1..FYL2XP1; escape maps Tables A-7..A-22) ----
  ...x87Rows(),

  // ---- SSE, SSE2 (SDM Vol. 1 chapters 10-11; Vol. 2 Table A-3) ----
  ...sseRows(),
];

const FLAG_NAMES = new Set(['d64', 'f64', 'i64', 'o64', 'lock', 'rep', 'repcc', 'star', 'nop90', 'now', 'amovabs', 'noswap', 'no66', 'np', 'norep']);
const OPERAND_CODES: ReadonlySet<string> = new Set<OperandCode>([
  'Eb', 'Ew', 'Ed', 'Eq', 'Ev', 'Ey', 'MwRv', 'Rv', 'Ry', 'M', 'Mb', 'Mw', 'Md', 'Mq', 'Mo', 'Ms', 'Mp', 'Ma',
  'Gb', 'Gw', 'Gd', 'Gq', 'Gv', 'Gy', 'Sw', 'Cd', 'Dd', 'Zb', 'Zv', 'Zy',
  'Ib', 'Ibs', 'Iw', 'Iz', 'Iv', 'Jb', 'Jz', 'Ob', 'Ov', 'Ap',
  'AL', 'CL', 'DX', 'eAX', 'rAX', 'aAX', 'EAX', 'ECX', 'EDX',
  'Xb', 'Xv', 'Xz', 'Yb', 'Yv', 'Yz', 'XLb', '1', 'ES', 'CS', 'SS', 'DS', 'FS', 'GS',
  'ST', 'STi', 'AX', 'Mt', 'Vx', 'Wx', 'Wq', 'Wd', 'Ux',
]);

/** Operand codes that live in ModRM.rm and need a memory operand (mod≠11). */
const MEM_ONLY = new Set(['M', 'Mb', 'Mw', 'Md', 'Mq', 'Mo', 'Ms', 'Mp', 'Ma', 'Mt']);
const REG_ONLY = new Set(['Rv', 'STi', 'Ux']);

function parseRow(row: Row, index: number): OpcodeForm {
  const [mnem, enc, opText, flagText = ''] = row;
  const spec = `${mnem} ${enc} ${opText} ${flagText}`.trim();
  const fail = (why: string): never => { throw new Error(`opcodes.ts: bad row "${spec}": ${why}`); };
  const toks = enc.split(/\s+/);
  let i = 0;
  let prefix = 0;
  let rexW = false;
  if (toks[i] === '66' || toks[i] === 'F2' || toks[i] === 'F3') {
    // A prefix token followed by more bytes is a mandatory prefix (`F3 90` pause, `66 0F C7`).
    if (toks.length > i + 1) prefix = parseInt(toks[i++], 16);
  }
  if (toks[i] === 'REX.W') { rexW = true; i++; }
  let map: OpMap = 0;
  if (toks[i] === '0F') {
    i++;
    map = 1;
    if (toks[i] === '38' && i + 1 < toks.length) { map = 2; i++; } else if (toks[i] === '3A' && i + 1 < toks.length) { map = 3; i++; }
  }
  const opTok = toks[i++] ?? fail('no opcode byte');
  const plusR = opTok.endsWith('+r');
  const opcode = parseInt(plusR ? opTok.slice(0, -2) : opTok, 16);
  if (!(opcode >= 0 && opcode <= 0xff)) fail('opcode');
  let hasModrm = false;
  let ext = -1;
  let modrm = -1;
  const mTok = toks[i];
  if (mTok !== undefined) {
    i++;
    hasModrm = true;
    if (mTok === '/r') { /* register operand in ModRM.reg */ } else if (/^\/[0-7]$/.test(mTok)) ext = Number(mTok[1]);
    else if (/^[0-9A-F]{2}$/.test(mTok)) { modrm = parseInt(mTok, 16); ext = (modrm >> 3) & 7; } else fail(`token ${mTok}`);
  }
  if (i !== toks.length) fail('trailing tokens');
  const ops = opText === '' ? [] : opText.split(',');
  for (const o of ops) if (!OPERAND_CODES.has(o)) fail(`operand ${o}`);
  const flags = new Set<string>();
  let sfx: SuffixRule | undefined;
  let sizeNames: [string, string, string] | undefined;
  let addrNames: [string, string, string] | undefined;
  let waitName: string | undefined;
  for (const f of flagText.split(/\s+/).filter(Boolean)) {
    if (f.startsWith('sfx=')) sfx = f.slice(4) as SuffixRule;
    else if (f.startsWith('wait=')) waitName = f.slice(5);
    else if (f.startsWith('names=')) sizeNames = f.slice(6).split('/') as [string, string, string];
    else if (f.startsWith('anames=')) addrNames = f.slice(7).split('/') as [string, string, string];
    else if (FLAG_NAMES.has(f)) flags.add(f);
    else fail(`flag ${f}`);
  }
  const hasSizedE = ops.some((o) => o === 'Eb' || o === 'Ev');
  const mod = modrm >= 0 || ops.some((o) => REG_ONLY.has(o)) ? 'reg' : ops.some((o) => MEM_ONLY.has(o)) ? 'mem' : 'any';
  return {
    index, mnem, prefix, rexW, map, opcode, plusR, hasModrm, ext, modrm, mod, ops: ops as OperandCode[],
    d64: flags.has('d64'), f64: flags.has('f64'), i64: flags.has('i64'), o64: flags.has('o64'),
    lock: flags.has('lock'), rep: flags.has('rep'), repcc: flags.has('repcc'), star: flags.has('star'),
    nop90: flags.has('nop90'), now: flags.has('now'), noswap: flags.has('noswap'), no66: flags.has('no66'), np: flags.has('np'), norep: flags.has('norep'),
    sfx: sfx ?? (hasSizedE ? 'mem' : 'none'),
    sizeNames, addrNames, amovabs: flags.has('amovabs'), waitName, spec,
  };
}

/** Every encoding form, in table order; `OPCODES[i].index === i`. */
export const OPCODES: readonly OpcodeForm[] = ROWS.map(parseRow);

/**
 * The x87 spellings of a form besides its mnemonic: the waiting name (`finit`) and, for the
 * environment/state forms, both with the s/l size letters GNU as accepts (`fnstenvs`, `fsavel`).
 */
export function spellings(f: OpcodeForm): string[] {
  const names = f.waitName !== undefined ? [f.mnem, f.waitName] : [f.mnem];
  if (f.sfx !== 'env') return names.slice(1);
  return [...names.slice(1), ...names.flatMap((n) => [`${n}s`, `${n}l`])];
}

/** Forms by base mnemonic (objdump's, without size suffix), in table order. */
export const FORMS_BY_MNEMONIC: ReadonlyMap<string, readonly OpcodeForm[]> = (() => {
  const m = new Map<string, OpcodeForm[]>();
  for (const f of OPCODES) {
    for (const name of new Set([f.mnem, ...(f.sizeNames ?? []), ...(f.addrNames ?? []), ...(f.amovabs ? ['movabs'] : []), ...spellings(f)])) {
      const list = m.get(name) ?? [];
      list.push(f);
      m.set(name, list);
    }
  }
  return m;
})();
