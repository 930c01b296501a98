// The instruction encoder: one parsed AT&T instruction → the bytes GNU as 2.40 emits for it,
// plus fixups. Every encoding comes from THE instruction table (src/emu/cpu/isa/opcodes.ts);
// where several forms fit, GNU as's choice is made by table order as adjusted in
// encode/gas-preferences.ts. Addressing (ModRM/SIB/disp) is in encode/modrm.ts, prefix order
// in encode/prefixes.ts, and the writing of the bytes in encode/emit.ts.
//
// Branches: `jmp label`, `jcc label`, `call label`, `loop label` take a memory operand with only a
// displacement as their relative target. The field is always a PC-relative fixup, also for a
// constant target (an absolute address, `jmp 0x1000`): that fixup has no symbol and its
// value is the absolute target, which the front end resolves once it knows the instruction's
// address (as GNU as does: it emits the relocation against *ABS*).
import { EncodeError, type Encoded, type EncodeOptions, type Instruction, type Operand } from './ast';
import { FORMS_BY_MNEMONIC, type OpcodeForm } from '../cpu/isa/opcodes';
import { emitPlan } from './encode/emit';
import {
  canonicalMnemonic, COMMUTATIVE, DEFAULT_IMMEDIATE, extensionMnemonic, gasOrder, ONLY_64BIT_NAMES, REP_ALLOWED,
} from './encode/gas-preferences';
import { bestMismatch, bind, matchForm, Mismatch, quickMatch, type MatchContext } from './encode/match';
import { SUFFIX_SIZE, sizeKind, type OperandSize } from './encode/operand-kinds';
import { parsePrefixes } from './encode/prefixes';

/** The encoding plus GNU as's warnings for the line (`0x100 shortened to 0x0`, guessed suffix). */
export interface EncodedInstruction extends Encoded {
  readonly warnings: readonly string[];
}

/** One form to try, with what the mnemonic's spelling says about the operand size. */
interface Candidate {
  readonly form: OpcodeForm;
  readonly suffix?: OperandSize;
  readonly nameSize?: 16 | 32 | 64;
  /** jecxz, loopl: the spelling names the address size (the CX/ECX/RCX counter). */
  readonly addrSize?: 16 | 32 | 64;
  /** finit, fstsw: the waiting x87 spelling, FWAIT (9B) first (opcodes.ts `wait=`). */
  readonly wait?: boolean;
}

function formsNamed(name: string): readonly OpcodeForm[] {
  return FORMS_BY_MNEMONIC.get(name) ?? [];
}

const SIZES = [16, 32, 64] as const;

/** Operand size named by cbtw/cwtl/cltq-style mnemonics, address size by jcxz/jecxz/jrcxz. */
function spelledSizes(form: OpcodeForm, name: string): { nameSize?: 16 | 32 | 64; addrSize?: 16 | 32 | 64; wait?: boolean } {
  if (form.waitName !== undefined || form.sfx === 'env') {
    // x87 spellings (opcodes.ts spellings()): [f]name[s|l]; s = 16-bit, l = 32-bit image.
    const wait = form.waitName !== undefined && name.startsWith(form.waitName) && !name.startsWith(form.mnem);
    const stem = wait ? form.waitName! : form.mnem;
    const letter = name.slice(stem.length);
    return { nameSize: letter === 's' ? 16 : letter === 'l' ? 32 : undefined, wait };
  }
  const i = form.sizeNames?.indexOf(name) ?? -1;
  const j = form.addrNames?.indexOf(name) ?? -1;
  return { nameSize: i < 0 ? undefined : SIZES[i], addrSize: j < 0 ? undefined : SIZES[j] };
}

/**
 * Everything about a written mnemonic that does not depend on its operands, worked out once
 * per spelling (the assembler sees the same few hundred spellings over and over).
 */
interface Resolved {
  /** Base mnemonic for messages. */
  readonly name: string;
  readonly list: readonly Candidate[];
  readonly movabs: boolean;
  /** jmp/jcc: both a rel8 and a rel16/32 form, chosen by the front end's relaxation. */
  readonly relax: boolean;
  /** The candidates for a short (rel8) and a near (rel16/32) branch when `relax`. */
  readonly short: readonly Candidate[];
  readonly near: readonly Candidate[];
  readonly commutative: boolean;
  /** The operand `aam`/`aad` mean when written without one. */
  readonly implied?: bigint;
  /** `int`, whose `$3` GNU as writes as int3. */
  readonly isInt: boolean;
}

const RESOLVED = new Map<string, Resolved>();

/**
 * Resolve what was written (`addl`, `jz`, `movzx`, `cwde`, `movabs`) into candidate forms:
 * the whole spelling first (`movsb` the string move), then the spelling minus a size suffix
 * (`movsb` + `l` = `movsbl`). movzx/movsx depend on the source operand's size, so they are
 * resolved after `extensionMnemonic` has named the table's form.
 */
function resolve(written: string, ops: readonly Operand[]): Resolved {
  const key = written === 'movzx' || written === 'movsx' ? extensionMnemonic(written, ops) : written;
  let r = RESOLVED.get(key);
  if (r === undefined) {
    r = resolveSpelling(key);
    RESOLVED.set(key, r);
  }
  return r;
}

function resolveSpelling(written: string): Resolved {
  let w = written;
  // movabs is mov restricted to the 64-bit moffs and imm64 forms (GNU as).
  const movabs = MOVABS.test(w);
  if (movabs) w = `mov${w.slice(6)}`;
  const list: Candidate[] = [];
  const full = canonicalMnemonic(w);
  for (const form of gasOrder(formsNamed(full))) list.push({ form, ...spelledSizes(form, full) });
  let name = w;
  const last = w[w.length - 1];
  if (last in SUFFIX_SIZE && w.length > 1) {
    const base = canonicalMnemonic(w.slice(0, -1));
    const suffix = SUFFIX_SIZE[last];
    const stripped = gasOrder(formsNamed(base));
    if (list.length === 0 && stripped.length > 0) name = w.slice(0, -1);
    for (const form of stripped) {
      // loopw/loopl/loopq: the letter is the address size (sfx=adsz in the table).
      if (form.sfx === 'adsz') {
        if (suffix !== 8) list.push({ form, addrSize: suffix as 16 | 32 | 64 });
      } else {
        list.push({ form, suffix, ...spelledSizes(form, base) });
      }
    }
  }
  const relax = list.some((c) => c.form.ops[0] === 'Jb') && list.some((c) => c.form.ops[0] === 'Jz');
  return {
    name: movabs ? 'movabs' : name,
    list,
    movabs,
    relax,
    short: relax ? list.filter((c) => c.form.ops[0] !== 'Jz') : list,
    near: relax ? list.filter((c) => c.form.ops[0] !== 'Jb') : list,
    commutative: list.length > 0 && COMMUTATIVE.has(list[0].form.mnem),
    implied: list.length > 0 ? DEFAULT_IMMEDIATE.get(list[0].form.mnem) : undefined,
    isInt: list.length > 0 && list[0].form.mnem === 'int',
  };
}

const MOVABS = /^movabs[bwlq]?$/;

function isRelTarget(op: Operand | undefined): boolean {
  return op?.kind === 'mem' && !op.indirect && op.base === undefined && op.index === undefined && op.seg === undefined && op.disp !== undefined;
}

const RELAXABLE = new Map<string, boolean>();

/**
 * True for `jmp`/`jcc` to a target (not `*indirect`): the ones the front end may size short
 * (rel8) or near (rel32, rel16 in .code16) by relaxation. loop/jcxz have only rel8, call only
 * rel16/32: they are not relaxable.
 */
export function isRelaxableBranch(insn: Instruction): boolean {
  if (insn.operands.length !== 1 || !isRelTarget(insn.operands[0])) return false;
  let r = RELAXABLE.get(insn.mnemonic);
  if (r === undefined) {
    let forms = formsNamed(canonicalMnemonic(insn.mnemonic));
    if (forms.length === 0 && /[wlq]$/.test(insn.mnemonic)) forms = formsNamed(canonicalMnemonic(insn.mnemonic.slice(0, -1)));
    r = forms.some((f) => f.ops[0] === 'Jb') && forms.some((f) => f.ops[0] === 'Jz');
    RELAXABLE.set(insn.mnemonic, r);
  }
  return r;
}

const INT3: readonly Candidate[] = formsNamed('int3').map((form) => ({ form }));

/** Encode one instruction as GNU as would; throws EncodeError with GNU as's message. */
export function encodeInstruction(insn: Instruction, opts: EncodeOptions): EncodedInstruction {
  const mode = opts.mode;
  const prefixes = parsePrefixes(insn.prefixes, mode);
  const written = insn.mnemonic.toLowerCase();
  let ops = insn.operands;
  if (ONLY_64BIT_NAMES.has(written) && mode !== 64) throw new EncodeError(`\`${written}' is only supported in 64-bit mode`);
  const resolved = resolve(written, ops);
  const { name, movabs, commutative } = resolved;
  if (movabs && mode !== 64) throw new EncodeError(`\`movabs' is only supported in 64-bit mode`);
  let list = resolved.list;
  if (list.length === 0) throw new EncodeError(`no such instruction: \`${insn.mnemonic}'`);

  const implied = resolved.implied;
  if (implied !== undefined && ops.length === 0) ops = [{ kind: 'imm', value: { addend: implied } }];
  // GNU as writes `int $3` as the one-byte int3 (SDM Vol. 2 INT n: CC is the breakpoint form).
  const o0 = ops[0];
  if (resolved.isInt && ops.length === 1 && o0.kind === 'imm' && o0.value.symbol === undefined && o0.value.addend === 3n) {
    list = INT3;
    ops = [];
  } else if (resolved.relax && ops.length === 1 && isRelTarget(o0)) {
    // Relaxable branches: the front end's size choice picks rel8 or rel16/32.
    list = opts.branch === 'short' ? resolved.short : resolved.near;
  }

  const rep = prefixes.repName;
  if (rep === 'rep' || rep === 'repe' || rep === 'repz' || rep === 'repne' || rep === 'repnz') {
    const ok = list.some((c) => c.form.rep || c.form.repcc || REP_ALLOWED.has(c.form.mnem) || c.form.mnem === 'jmp' || c.form.mnem === 'call' || c.form.ops[0] === 'Jz');
    if (!ok) throw new EncodeError(`invalid instruction \`${name}' after \`${rep}'`);
  }

  // With no suffix and no register to show the size, GNU as picks the default (l) over the byte
  // form whenever a sized form fits the operands too. Worked out only when a byte form asks.
  let evidence: boolean | undefined;
  const byteNeedsEvidence = () => {
    evidence ??= list.some((c) => c.suffix === undefined && c.nameSize === undefined && sizeKind(c.form) === 'var' && bind(c.form, ops, commutative, [], name) !== undefined);
    return evidence;
  };
  const ctx: MatchContext = {
    mode, prefixes, name, suffix: undefined, nameSize: undefined, movabs, branchAddrSize: undefined, byteNeedsEvidence,
  };
  // Fast path: forms whose operand kinds do not fit are skipped without building a reason;
  // the reasons are gathered only when no form fits, for the error message.
  const warnings: string[] = [];
  for (const c of list) {
    if (warnings.length !== 0) warnings.length = 0;
    ctx.suffix = c.suffix;
    ctx.nameSize = c.nameSize;
    ctx.branchAddrSize = c.addrSize;
    const r = quickMatch(c.form, ops, ctx, commutative, warnings);
    if (r === undefined || r instanceof Mismatch) continue;
    const enc = emitPlan(r.plan, prefixes, mode, name, c.wait === true);
    return { bytes: enc.bytes, fixups: enc.fixups, warnings: r.warnings };
  }
  const mismatches: Mismatch[] = [];
  for (const c of list) {
    ctx.suffix = c.suffix;
    ctx.nameSize = c.nameSize;
    ctx.branchAddrSize = c.addrSize;
    const r = matchForm(c.form, ops, ctx, commutative);
    if (r instanceof Mismatch) mismatches.push(r);
  }
  throw bestMismatch(mismatches, name);
}
