// Matching AT&T operands against one form of the instruction table and, when they fit,
// turning the form into an EncodingPlan. The order forms are tried in (and so which one wins
// when several fit) is the caller's: table order adjusted by gas-preferences.ts.
import { EncodeError, type CodeMode, type Operand, type Value } from '../ast';
import type { RegInfo } from '../../cpu/isa/registers';
import type { OpcodeForm, OperandCode } from '../../cpu/isa/opcodes';
import type { EncodingPlan, ImmField, RmTarget } from './emit';
import { dropsRexW, ignoresRegisterSize, isMovRegImm } from './gas-preferences';
import { fitsBits, fitsSigned, truncate } from './immediates';
import { addressSize, encodeMemory, fitsInt32, type MemOperand } from './modrm';
import { FIXED_REGISTER_BYTES, isByteCode, isVarCode, isYCode, isZCode, SIZE_LETTER, sizeKind, type OperandSize } from './operand-kinds';
import type { PrefixSet } from './prefixes';

/** What the whole instruction (not one form) says about itself. */
export interface MatchContext {
  readonly mode: CodeMode;
  readonly prefixes: PrefixSet;
  /** Base mnemonic for messages (`add` for `addl`). */
  readonly name: string;
  /** Operand size from the mnemonic's suffix letter (set per candidate form). */
  suffix?: OperandSize;
  /** Operand size fixed by the mnemonic itself (cwtl = 32). */
  nameSize?: 16 | 32 | 64;
  /** `movabs`: only the 64-bit moffs / imm64 forms. */
  readonly movabs: boolean;
  /** Address size named by the mnemonic (jecxz, loopl). */
  branchAddrSize?: 16 | 32 | 64;
  /** A byte form may not take the size when nothing names it and a wider form fits (GNU as defaults to l). */
  readonly byteNeedsEvidence: () => boolean;
}

/**
 * Why a form did not fit; the most specific reason of all forms becomes the error. The text
 * is built only when it is shown (most mismatches are just another form tried and dropped).
 */
export class Mismatch {
  constructor(readonly rank: number, private readonly text: string | ((name: string) => string), private readonly name = '') {}

  get message(): string {
    return typeof this.text === 'string' ? this.text : this.text(this.name);
  }
}

export type MatchResult = { readonly plan: EncodingPlan; readonly warnings: string[] } | Mismatch;

type Mem = MemOperand;
type Imm = Extract<Operand, { kind: 'imm' }>;
type Reg = Extract<Operand, { kind: 'reg' }>;

/** A general register operand (%riz/%eiz are only names for "no index" in an address). */
const isGpr = (op: Operand | undefined): op is Reg => op?.kind === 'reg' && op.reg.cls === 'gpr' && op.reg.noIndex !== true;
const isImm = (op: Operand | undefined): op is Imm => op?.kind === 'imm';
const isMem = (op: Operand | undefined): op is Mem => op?.kind === 'mem';
/** A bare `expr` with no registers: a branch target or an absolute address. */
const isDispOnly = (op: Mem) => op.base === undefined && op.index === undefined;

/** Implicit operands that AT&T text may leave out. */
function omittable(code: OperandCode, form: OpcodeForm): boolean {
  if (code === '1') return true;
  const m = form.mnem;
  if (form.rep || form.repcc || m === 'xlat') return true; // string instructions: all their operands
  if (m === 'in' || m === 'out') return code === 'AL' || code === 'eAX';
  if (m === 'monitor' || m === 'mwait') return true;
  if (m === 'shld' || m === 'shrd') return code === 'CL';
  return false;
}

const isMemoryCode = (c: OperandCode) => c[0] === 'X' || c[0] === 'Y';

/**
 * The form's operand codes in AT&T order, in every shape the text may take (all operands;
 * without the implicit registers; without any implicit operand).
 */
function shapes(form: OpcodeForm): readonly (readonly OperandCode[])[] {
  return (SHAPES[form.index] ??= formShapes(form));
}

const SHAPES: (readonly (readonly OperandCode[])[])[] = [];

function formShapes(form: OpcodeForm): OperandCode[][] {
  const att = form.noswap ? [...form.ops] : [...form.ops].reverse();
  const out = [att];
  const noRegs = att.filter((c) => !omittable(c, form) || isMemoryCode(c));
  if (noRegs.length !== att.length) out.push(noRegs);
  const none = att.filter((c) => !omittable(c, form));
  if (none.length !== noRegs.length) out.push(none);
  return out;
}

interface Binding {
  readonly code: OperandCode;
  readonly op: Operand;
}

const typeMessage = (name: string) => `operand type mismatch for \`${name}'`;
const sizeMessage = (name: string) => `operand size mismatch for \`${name}'`;
const TYPE = (name: string) => new Mismatch(1, typeMessage, name);
const SIZE = (name: string) => new Mismatch(2, sizeMessage, name);

/** Does operand `op` have the kind `code` asks for (sizes are checked later)? */
function kindFits(code: OperandCode, op: Operand, form: OpcodeForm, warnings: string[], name: string): boolean {
  const indirect = op.kind !== 'imm' && op.indirect === true;
  if (indirect && !(form.star && (code[0] === 'E' || code === 'Mp'))) return false;
  switch (code) {
    case 'Eb': case 'Ew': case 'Ed': case 'Eq': case 'Ev': case 'Ey': case 'MwRv':
      if (form.star && !indirect) {
        // `jmp foo` is a relative branch; `jmp %rax` / `jmp (%rax)` are indirect, with a warning.
        if (isMem(op) && isDispOnly(op)) return false;
        if (!isGpr(op) && !isMem(op)) return false;
        warnings.push(`indirect ${name} without \`*'`);
        return true;
      }
      return isGpr(op) || (isMem(op) && !(isDispOnly(op) && op.disp === undefined));
    case 'Rv': case 'Ry':
      return isGpr(op);
    case 'M': case 'Mb': case 'Mw': case 'Md': case 'Mq': case 'Mo': case 'Ms': case 'Ma': case 'Mp':
      if (form.star && !indirect && isMem(op) && isDispOnly(op)) return false;
      return isMem(op);
    case 'Gb': case 'Gw': case 'Gd': case 'Gq': case 'Gv': case 'Gy': case 'Zb': case 'Zv': case 'Zy':
      return isGpr(op);
    case 'Sw':
      return op.kind === 'reg' && op.reg.cls === 'seg';
    case 'Cd':
      return op.kind === 'reg' && op.reg.cls === 'cr';
    case 'Dd':
      return op.kind === 'reg' && op.reg.cls === 'dr';
    case 'Ib': case 'Ibs': case 'Iw': case 'Iz': case 'Iv':
      return isImm(op);
    case '1':
      return isImm(op) && op.value.symbol === undefined && op.value.addend === 1n;
    case 'Jb': case 'Jz':
      return isMem(op) && isDispOnly(op) && op.seg === undefined && op.disp !== undefined;
    case 'Ob': case 'Ov':
      return isMem(op) && isDispOnly(op) && op.disp !== undefined;
    case 'AL':
      return isGpr(op) && op.reg.num === 0 && op.reg.size === 1;
    case 'CL':
      return isGpr(op) && op.reg.name === 'cl';
    case 'DX':
      return (isGpr(op) && op.reg.name === 'dx') || (isMem(op) && op.base?.name === 'dx' && !op.index && !op.disp && !op.seg);
    case 'eAX': case 'rAX': case 'aAX':
      return isGpr(op) && op.reg.num === 0 && op.reg.size >= 2;
    case 'EAX':
      return isGpr(op) && op.reg.name === 'eax';
    case 'ECX':
      return isGpr(op) && op.reg.name === 'ecx';
    case 'EDX':
      return isGpr(op) && op.reg.name === 'edx';
    case 'Xb': case 'Xv': case 'Xz':
      return isMem(op) && !op.index && !op.disp && op.base?.cls === 'gpr' && op.base.num === 6 && op.base.size >= 2;
    case 'Yb': case 'Yv': case 'Yz':
      return isMem(op) && !op.index && !op.disp && op.base?.cls === 'gpr' && op.base.num === 7 && op.base.size >= 2 &&
        (op.seg === undefined || op.seg.name === 'es');
    case 'XLb':
      return isMem(op) && !op.index && !op.disp && op.base?.cls === 'gpr' && op.base.num === 3 && op.base.size >= 2;
    case 'ES': case 'CS': case 'SS': case 'DS': case 'FS': case 'GS':
      return op.kind === 'reg' && op.reg.cls === 'seg' && op.reg.name === code.toLowerCase();
    case 'Ap':
      return false; // far pointers are matched as a pair of immediates by matchFarPointer
    case 'ST':
      return op.kind === 'reg' && op.reg.cls === 'st' && op.reg.num === 0;
    case 'STi':
      return op.kind === 'reg' && op.reg.cls === 'st';
    case 'AX':
      return isGpr(op) && op.reg.name === 'ax';
    case 'Mt':
      return isMem(op);
    case 'Vx': case 'Ux':
      return op.kind === 'reg' && op.reg.cls === 'xmm';
    case 'Wx': case 'Wq': case 'Wd':
      return (op.kind === 'reg' && op.reg.cls === 'xmm') || isMem(op);
  }
}

/**
 * The operands in the order one attempt binds them: as written (0), the two swapped (1,
 * commutative mnemonics), or `imul $imm,%reg` read as `imul $imm,%reg,%reg` (2, GNU as).
 */
function attemptOperand(ops: readonly Operand[], attempt: number, i: number): Operand {
  if (attempt === 1) return ops[1 - i];
  if (attempt === 2 && i === 2) return ops[1];
  return ops[i];
}

/**
 * Bind AT&T operands to the form's codes in one of its shapes; undefined when none fits.
 * Warnings of the binding that fits are appended to `warnings`.
 */
export function bind(form: OpcodeForm, ops: readonly Operand[], commutative: boolean, warnings: string[], name: string): Binding[] | undefined {
  const n = ops.length;
  const attempts = commutative && n === 2 ? 2 : 1;
  const imul3 = form.mnem === 'imul' && n === 2 && isImm(ops[0]) && form.ops.length === 3;
  const mark = warnings.length;
  for (const shape of shapes(form)) {
    for (let t = 0; t < 3; t++) {
      if (t === 2 ? !imul3 || shape.length !== 3 : t >= attempts || shape.length !== n) continue;
      let i = 0;
      while (i < shape.length && kindFits(shape[i], attemptOperand(ops, t, i), form, warnings, name)) i++;
      if (i === shape.length) {
        const out: Binding[] = new Array(i);
        for (let j = 0; j < i; j++) out[j] = { code: shape[j], op: attemptOperand(ops, t, j) };
        return out;
      }
      if (warnings.length !== mark) warnings.length = mark;
    }
  }
  return undefined;
}

/** Register operands that vote for the operand size, with the size they vote for. */
function sizeVotes(form: OpcodeForm, bs: readonly Binding[]): { reg: RegInfo; size: OperandSize }[] {
  const votes: { reg: RegInfo; size: OperandSize }[] = [];
  const hasG = form.ops.some((c) => c[0] === 'G');
  for (const { code, op } of bs) {
    if (!isGpr(op)) continue;
    if (code === 'MwRv' && (hasG || ignoresRegisterSize(form))) continue;
    if (isVarCode(code) || code === 'MwRv' || (sizeKind(form) === 'byte' && isByteCode(code))) {
      votes.push({ reg: op.reg, size: (op.reg.size * 8) as OperandSize });
    }
  }
  return votes;
}

/** Operand sizes a 'var' form allows in this mode (SDM Vol. 2 Table A-1 d64/f64 superscripts). */
function allowedSizes(form: OpcodeForm, mode: CodeMode): readonly OperandSize[] {
  const cache = ALLOWED_SIZES[mode === 64 ? 2 : mode === 32 ? 1 : 0];
  return (cache[form.index] ??= formAllowedSizes(form, mode));
}

/** allowedSizes per mode (16, 32, 64) and form index. */
const ALLOWED_SIZES: OperandSize[][][] = [[], [], []];

function formAllowedSizes(form: OpcodeForm, mode: CodeMode): OperandSize[] {
  if (form.f64) return mode === 64 ? [64] : form.sfx === 'legacy' ? [16, 32] : [32];
  let s: OperandSize[] = mode === 64 ? [16, 32, 64] : [16, 32];
  // no66: only REX.W changes the size; forms with a 32/64-bit (y) operand are 32-bit outside 64-bit mode.
  if (form.no66) s = mode === 64 ? [32, 64] : [mode === 16 && !form.ops.some(isYCode) ? 16 : 32];
  if (form.d64 && mode === 64) s = [16, 64];
  if (form.now) s = s.filter((x) => x !== 64);
  if (form.ops.some(isYCode)) s = s.filter((x) => x !== 16);
  if (form.ops.some(isZCode) && !form.ops.some((c) => isVarCode(c) && !isZCode(c))) s = s.filter((x) => x !== 64);
  return s;
}

/** `mov %ds,(%rax)`, `sldt (%rax)`: a memory word whatever the operand size (no 66, no REX.W). */
function hasMemoryMwRv(bs: readonly Binding[]): boolean {
  return bs.some((b) => b.code === 'MwRv' && b.op.kind === 'mem') && !bs.some((b) => b.code[0] === 'G');
}

/** The operand size of the instruction under `form`, or a mismatch. */
function operandSize(form: OpcodeForm, bs: readonly Binding[], ctx: MatchContext, warnings: string[]): OperandSize | Mismatch | undefined {
  const kind = sizeKind(form);
  const name = ctx.name;
  const votes = sizeVotes(form, bs);
  if (kind === 'none' || (kind === 'var' && (hasMemoryMwRv(bs) || ignoresRegisterSize(form)))) {
    // Fixed-size forms: a suffix must agree with the size of a sized operand, if there is one.
    if (ctx.suffix !== undefined && ctx.suffix !== 8 && !suffixFitsFixed(form, ctx.suffix, ctx.mode)) {
      return new Mismatch(3, `invalid instruction suffix for \`${name}'`);
    }
    return undefined;
  }
  if (kind === 'byte') {
    if (ctx.nameSize !== undefined || (ctx.suffix !== undefined && ctx.suffix !== 8)) return SIZE(name);
    for (const v of votes) if (v.size !== 8) return TYPE(name);
    if (ctx.suffix === undefined && votes.length === 0 && ctx.byteNeedsEvidence()) return TYPE(name);
    return 8;
  }
  const allowed = allowedSizes(form, ctx.mode);
  let size: OperandSize | undefined = ctx.nameSize ?? ctx.suffix;
  if (size !== undefined) {
    for (const v of votes) {
      if (v.size !== size) return new Mismatch(4, `incorrect register \`%${v.reg.name}' used with \`${SIZE_LETTER[size]}' suffix`);
    }
  } else if (votes.length > 0) {
    size = votes[0].size;
    for (const v of votes) if (v.size !== size) return TYPE(name);
  } else {
    size = form.d64 && ctx.mode === 64 ? 64 : ctx.mode === 16 ? 16 : 32;
    if (!allowed.includes(size)) size = allowed[0];
    // GNU as warns when it has to guess a size the operands do not show: a memory operand or
    // a left-out implicit operand (`stos`, `in $1`) in any mode, immediates alone (`lret $8`,
    // `iret`) only in 64-bit mode; never for the stack-width (d64) and mode-width (f64) forms
    // or far indirect jumps.
    const shown = bs.length === form.ops.length && bs.every((b) => b.op.kind === 'imm' || b.op.kind === 'reg');
    const guessed = !form.d64 && !form.f64 && !form.now && (!shown || ctx.mode === 64);
    if (guessed) warnings.push(`no instruction mnemonic suffix given and no register operands; using default for \`${name}'`);
  }
  if (!allowed.includes(size)) return size === 8 ? SIZE(name) : votes.length > 0 && ctx.suffix === undefined ? TYPE(name) : SIZE(name);
  return size;
}

/** Suffixes GNU as accepts on forms without an operand size: the width of their sized operand. */
function suffixFitsFixed(form: OpcodeForm, suffix: OperandSize, mode: CodeMode): boolean {
  for (const c of form.ops) {
    if (c === 'Ew' || c === 'Gw' || c === 'Mw' || c === 'MwRv' || c === 'Sw') return suffix === 16;
    if (c === 'Ed' || c === 'Gd' || c === 'Md') return suffix === 32;
    if (c === 'Eq' || c === 'Gq' || c === 'Mq') return suffix === 64;
    if (c === 'Ms') return suffix === (mode === 64 ? 64 : 32) || suffix === 16;
  }
  return false;
}

/** Register width checks for codes with a fixed or size-dependent register width. */
function checkRegisterSizes(form: OpcodeForm, bs: readonly Binding[], size: OperandSize | undefined, ctx: MatchContext): Mismatch | undefined {
  for (const { code, op } of bs) {
    if (!isGpr(op)) continue;
    const bytes = op.reg.size;
    const fixed = FIXED_REGISTER_BYTES[code];
    if (fixed !== undefined && bytes !== fixed) return SIZE(ctx.name);
    if (isByteCode(code) && bytes !== 1) return TYPE(ctx.name);
    if (code === 'aAX' && (ctx.mode === 64 ? bytes === 2 : bytes === 8)) return TYPE(ctx.name);
    if (code === 'MwRv') {
      if (bytes === 1) return TYPE(ctx.name);
      // lar/lsl: the selector register is a word or the operand size (GNU as "register type mismatch").
      if (size !== undefined && bytes !== 2 && bytes * 8 !== size && !ignoresRegisterSize(form)) {
        return new Mismatch(3, `register type mismatch for \`${ctx.name}'`);
      }
      if (bytes === 8 && ctx.mode !== 64) return TYPE(ctx.name);
    }
    if ((code === 'Ry' || code === 'Ey' || code === 'Gy' || code === 'Zy') && size !== undefined && bytes * 8 !== size) return SIZE(ctx.name);
  }
  return undefined;
}

const ZERO: Value = { addend: 0n };

/** The fields of one immediate operand, or a mismatch when the value cannot go in this form. */
function immediate(code: OperandCode, value: Value, size: OperandSize | undefined, form: OpcodeForm, ctx: MatchContext, warnings: string[]): ImmField | Mismatch {
  const constant = value.symbol === undefined;
  const v = value.addend;
  switch (code) {
    case 'Ibs': {
      // imm8 sign-extended to the operand size: only constants that survive the round trip.
      const s = size ?? 32;
      if (!constant || (s < 64 && !fitsBits(v, s))) return TYPE(ctx.name);
      const w = s < 64 ? BigInt.asIntN(s, v) : v;
      if (!fitsSigned(w, 8)) return TYPE(ctx.name);
      return { value: { addend: w }, size: 1, signed: false };
    }
    case 'Ib':
      if (size === 8 && sizeKind(form) === 'byte') return { value: truncate(value, 8, warnings), size: 1, signed: false };
      if (constant && !(v >= -128n && v <= 255n)) return SIZE(ctx.name);
      return { value, size: 1, signed: false };
    case 'Iw':
      if (constant && !(v >= -32768n && v <= 65535n)) return SIZE(ctx.name);
      return { value, size: 2, signed: false };
    case 'Iz':
    case 'Iv': {
      const s = size ?? 32;
      if (s === 16) return { value: truncate(value, 16, warnings), size: 2, signed: false };
      if (s === 32) return { value: truncate(value, 32, warnings), size: 4, signed: false };
      if (code === 'Iv' && (ctx.movabs || (constant && !fitsInt32(v)))) return { value, size: 8, signed: false };
      if (code === 'Iv' && isMovRegImm(form)) return TYPE(ctx.name); // GNU as: C7 /0 (sign-extended imm32) first
      if (constant && !fitsInt32(v)) return SIZE(ctx.name);
      return { value, size: 4, signed: true };
    }
    default:
      return { value: ZERO, size: 1, signed: false };
  }
}

/** Size of the moffs field (SDM Vol. 2 MOV: moffs has the address size). */
function moffsSize(ctx: MatchContext): 2 | 4 | 8 {
  const { mode, prefixes } = ctx;
  if (mode === 64) return prefixes.explicitAddr ? 4 : 8;
  if (mode === 32) return prefixes.explicitAddr ? 2 : 4;
  return prefixes.explicitAddr ? 4 : 2;
}

function opsizePrefixFor(size: OperandSize, mode: CodeMode): boolean {
  return mode === 16 ? size === 32 : size === 16;
}

/** Address size implied by a string operand's or monitor's register, else the mode's. */
function regAddrSize(reg: RegInfo): 16 | 32 | 64 {
  return (reg.size * 8) as 16 | 32 | 64;
}

/**
 * Try `form` for these operands. Returns the plan or why it does not fit.
 * `commutative`: also try the two operands swapped (xchg, test).
 */
export function matchForm(form: OpcodeForm, ops: readonly Operand[], ctx: MatchContext, commutative: boolean): MatchResult {
  const { mode, name } = ctx;
  const warnings: string[] = [];
  if (form.i64 && mode === 64) return new Mismatch(5, `\`${name}' is not supported in 64-bit mode`);
  if (form.o64 && mode !== 64) return new Mismatch(5, `\`${name}' is only supported in 64-bit mode`);
  if (isFarPointerForm(form)) return matchFarPointer(form, ops, ctx);
  const bs = bind(form, ops, commutative, warnings, name);
  if (!bs) return ops.length === shapes(form)[0].length ? TYPE(name) : new Mismatch(0, `number of operands mismatch for \`${name}'`);
  return matchBound(form, bs, ctx, warnings);
}

/**
 * matchForm for the encoder's first pass: undefined, without a reason, when the form is not
 * for this mode or the operands' kinds do not fit it. `warnings` receives the match's warnings.
 */
export function quickMatch(form: OpcodeForm, ops: readonly Operand[], ctx: MatchContext, commutative: boolean, warnings: string[]): MatchResult | undefined {
  if ((form.i64 && ctx.mode === 64) || (form.o64 && ctx.mode !== 64)) return undefined;
  if (isFarPointerForm(form)) return matchFarPointer(form, ops, ctx);
  const bs = bind(form, ops, commutative, warnings, ctx.name);
  return bs === undefined ? undefined : matchBound(form, bs, ctx, warnings);
}

const isFarPointerForm = (form: OpcodeForm) => form.ops.length === 1 && form.ops[0] === 'Ap';

/** The rest of matchForm, once the operands are bound to the form's codes. */
function matchBound(form: OpcodeForm, bs: readonly Binding[], ctx: MatchContext, warnings: string[]): MatchResult {
  const { mode, name } = ctx;
  if (ctx.movabs && !form.ops.some((c) => c === 'Ob' || c === 'Ov' || c === 'Iv')) return TYPE(name);

  const size = operandSize(form, bs, ctx, warnings);
  if (size instanceof Mismatch) return size;
  const regErr = checkRegisterSizes(form, bs, size, ctx);
  if (regErr) return regErr;

  // xchg %eax,%eax in 64-bit mode is 87 C0: 90 is NOP there and would not zero-extend RAX.
  let xchgAccumulator = false;
  if (form.mnem === 'xchg' && form.plusR) {
    for (const b of bs) if (b.code === 'Zv' && isGpr(b.op) && b.op.reg.num === 0) xchgAccumulator = true;
  }
  if (xchgAccumulator && mode === 64 && size === 32) return TYPE(name);

  const kind = sizeKind(form);
  // f64 forms never take 66/REX.W for their size (lgdt/lidt still do in 16/32-bit code).
  const fixedSize = kind !== 'var' || hasMemoryMwRv(bs) || ignoresRegisterSize(form) || (form.f64 && (mode === 64 || form.sfx !== 'legacy'));
  // Every field written here, in one order, so all plans share one object shape.
  const plan: {
    -readonly [K in keyof EncodingPlan]: EncodingPlan[K];
  } = {
    mandatory: form.prefix || undefined,
    opcode: form.modrm >= 0 ? opcodeWithModrm(form) : opcodeBytes(form),
    opreg: undefined,
    modrm: undefined,
    opsizePrefix: !fixedSize && size !== undefined && !form.no66 && opsizePrefixFor(size, mode),
    // GNU as writes xchg %rax,%rax as a plain NOP (90), without the REX.W that changes nothing.
    rexW: form.rexW || (!fixedSize && size === 64 && !form.d64 && !dropsRexW(form) && !xchgAccumulator),
    addrSize: undefined,
    seg: undefined,
    defaultSeg: undefined,
    dispUnsigned: false,
    moffs: undefined,
    imms: [],
    rel: undefined,
    regs: [],
    lockable: false,
  };
  const regs: RegInfo[] = [];
  let reg = form.ext >= 0 ? form.ext : 0;
  let rm: RmTarget | undefined;
  const imms: ImmField[] = [];
  for (const { code, op } of bs) {
    if (op.kind === 'reg') {
      if (op.reg.cls === 'gpr') regs.push(op.reg);
      const c0 = code[0];
      if (c0 === 'G' || c0 === 'V' || code === 'Sw' || code === 'Cd' || code === 'Dd') reg = op.reg.num;
      else if (c0 === 'E' || c0 === 'R' || c0 === 'W' || c0 === 'U' || code === 'MwRv' || code === 'STi') rm = { kind: 'reg', num: op.reg.num };
      else if (c0 === 'Z') plan.opreg = op.reg.num;
      else if (code === 'aAX') {
        const a = regAddrSize(op.reg);
        if (a === 16 && mode === 64) return TYPE(name);
        plan.addrSize = a;
      }
      continue;
    }
    if (op.kind === 'imm') {
      if (code === '1') continue;
      const f = immediate(code, op.value, size, form, ctx, warnings);
      if (f instanceof Mismatch) return f;
      imms.push(f);
      continue;
    }
    // Memory operands.
    if (code === 'Jb' || code === 'Jz') {
      const bytes = code === 'Jb' ? 1 : (size ?? (mode === 16 ? 16 : 32)) === 16 ? 2 : 4;
      plan.rel = { value: op.disp ?? ZERO, size: bytes };
      continue;
    }
    if (code === 'Ob' || code === 'Ov') {
      const disp = op.disp ?? ZERO;
      const asize = moffsSize(ctx);
      // GNU as uses moffs in 64-bit code only for movabs, with addr32, or for an address
      // beyond the sign-extended disp32 of the ModRM forms.
      if (mode === 64 && !ctx.movabs && !ctx.prefixes.explicitAddr && !(disp.symbol === undefined && !fitsInt32(disp.addend))) return TYPE(name);
      if (ctx.movabs && asize !== 8) return TYPE(name);
      plan.moffs = { value: disp, size: asize, signed: false };
      plan.addrSize = (asize * 8) as 16 | 32 | 64;
      plan.seg = op.seg;
      plan.defaultSeg = 'ds';
      continue;
    }
    if (code === 'DX') continue;
    if (code[0] === 'X' || code[0] === 'Y') {
      plan.addrSize = regAddrSize(op.base!);
      if (plan.addrSize === 16 && mode === 64) return TYPE(name);
      if (plan.addrSize === 64 && mode !== 64) return TYPE(name);
      if (code[0] !== 'Y') {
        plan.seg = op.seg;
        plan.defaultSeg = 'ds';
      }
      continue;
    }
    const asize = addressSize(op, mode, ctx.prefixes.explicitAddr);
    const enc = encodeMemory(op, asize, mode);
    rm = { kind: 'mem', enc, op };
    plan.addrSize = asize;
    plan.seg = op.seg;
    plan.defaultSeg = enc.defaultSeg;
  }
  if (form.hasModrm && form.modrm < 0) {
    plan.modrm = { reg, rm: rm ?? { kind: 'reg', num: 0 } };
  }
  plan.imms = imms;
  plan.regs = regs;
  plan.lockable = form.lock && rm?.kind === 'mem';
  // lea with a 32/16-bit destination keeps only the low bits of the address: GNU as then
  // relocates a symbolic displacement zero-extended (R_X86_64_32), not sign-extended.
  plan.dispUnsigned = form.mnem === 'lea' && size !== 64;
  if (ctx.branchAddrSize !== undefined) {
    // jcxz/jecxz/jrcxz, loopw/loopl/loopq: 64-bit mode has 32/64-bit addresses, the others 16/32.
    if ((mode === 64 && ctx.branchAddrSize === 16) || (mode !== 64 && ctx.branchAddrSize === 64)) {
      return new Mismatch(5, `\`${name}' is not supported in ${mode}-bit mode`);
    }
    plan.addrSize = ctx.branchAddrSize;
  }
  return { plan, warnings };
}

/** Escape bytes and opcode (SDM Vol. 2 §2.1.2: 0F, 0F 38, 0F 3A maps), made once per form. */
function opcodeBytes(form: OpcodeForm): readonly number[] {
  return (OPCODE_BYTES[form.index] ??= [...ESCAPES[form.map], form.opcode]);
}

/** Exact ModRM byte (vmcall 0F 01 C1): written as part of the opcode. */
function opcodeWithModrm(form: OpcodeForm): readonly number[] {
  return (OPCODE_BYTES[form.index] ??= [...ESCAPES[form.map], form.opcode, form.modrm]);
}

const ESCAPES: readonly (readonly number[])[] = [[], [0x0f], [0x0f, 0x38], [0x0f, 0x3a]];
const OPCODE_BYTES: (readonly number[])[] = [];

/** `ljmp $sel,$off` / `lcall $sel,$off` (EA / 9A with a ptr16:16 or ptr16:32 operand). */
function matchFarPointer(form: OpcodeForm, ops: readonly Operand[], ctx: MatchContext): MatchResult {
  const [sel, off] = ops;
  if (ops.length !== 2 || !isImm(sel) || !isImm(off)) return TYPE(ctx.name);
  const warnings: string[] = [];
  const size: OperandSize = ctx.suffix ?? (ctx.mode === 16 ? 16 : 32);
  if (size !== 16 && size !== 32) return new Mismatch(3, `invalid instruction suffix for \`${ctx.name}'`);
  const plan: EncodingPlan = {
    opcode: opcodeBytes(form),
    opsizePrefix: opsizePrefixFor(size, ctx.mode),
    rexW: false,
    imms: [
      { value: truncate(off.value, size, warnings), size: size === 16 ? 2 : 4, signed: false },
      { value: truncate(sel.value, 16, warnings), size: 2, signed: false },
    ],
    regs: [],
    lockable: false,
  };
  return { plan, warnings };
}

/** Raise the most telling of the mismatches collected over all forms. */
export function bestMismatch(ms: readonly Mismatch[], name: string): EncodeError {
  let best: Mismatch | undefined;
  for (const m of ms) if (!best || m.rank > best.rank) best = m;
  return new EncodeError(best?.message ?? `operand type mismatch for \`${name}'`);
}
