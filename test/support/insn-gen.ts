// Random sequences of user-mode integer instructions (AT&T syntax, 64-bit mode) for the
// host-CPU differential test, with the register state they start from.
//
// Rules that keep the native run and the emulated run comparable:
// - Memory operands address the 4 KiB data page at DATA_BASE: they use a base register (MB)
//   set to the middle of the page (or none, with an absolute displacement) and an optional
//   index register (MI) holding a small value, -0x20..0x3f; neither is ever written by the
//   sequence. RSP points into the page too and is never an explicit operand, so push/pop
//   stay inside it.
// - No instruction depends on RIP (no RIP-relative operands, no CALL): the emulated code runs
//   at another address than the native code.
// - Flags the SDM leaves undefined are tracked per instruction: the test does not compare
//   them, and the generator never emits an instruction that reads a flag that is undefined at
//   that point (so undefined values never flow into compared results). The host is not an
//   Intel core, so its undefined-flag values say nothing about Intel's.
// - Nothing whose defined behaviour differs between Intel and AMD: no 66-prefixed near
//   branches, no PUSH/POP of segment registers, no 16-bit BSWAP, no 16-bit SHLD/SHRD with a
//   count above 16.
import { gprName } from '../../src/emu/cpu/isa/registers';

export const DATA_BASE = 0x10000000;
export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
export const ARITH = CF | PF | AF | ZF | SF | OF;
export const DF = 0x400;

/** A 32-bit xorshift PRNG: reproducible from its seed. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0 || 1; }
  u32(): number {
    let x = this.s;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.s = x;
    return x;
  }
  int(n: number): number { return this.u32() % n; }
  pick<T>(a: readonly T[]): T { return a[this.int(a.length)]; }
  chance(p: number): boolean { return this.u32() / 4294967296 < p; }
  /** A 64-bit value biased toward interesting ones (0, ±1, sign boundaries, small numbers). */
  value64(): bigint {
    switch (this.int(8)) {
      case 0: return BigInt(this.int(5)) - 2n;
      case 1: return this.pick([0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x7fffffffffffffffn, 0x8000000000000000n]);
      case 2: return BigInt(this.int(256));
      case 3: return BigInt(this.u32());
      default: return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
    }
  }
}

export interface Sequence {
  /** Instruction text, `;`-separated (one line for GNU as). */
  text: string;
  /** Initial GPRs (encoding order) and RFLAGS. */
  regs: bigint[];
  rflags: bigint;
  /** Arithmetic flags undefined at the end of the sequence (not compared). */
  undefinedFlags: number;
  /** Initial data page. */
  mem: Uint8Array;
}

type Size = 1 | 2 | 4 | 8;
const SFX: Record<Size, string> = { 1: 'b', 2: 'w', 4: 'l', 8: 'q' };
const CCS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
/** Flags each condition reads. */
const CC_READS = [OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF, SF | OF, SF | OF, ZF | SF | OF, ZF | SF | OF];

interface Ctx {
  rng: Rng;
  /** Registers an instruction may write. */
  free: number[];
  mb: number;
  mi: number;
  /** Value of CL when it is pinned (not a destination), else -1. */
  cl: number;
  undef: number;
}

function reg(n: number, s: Size): string {
  return `%${gprName(n, s, true)}`;
}

function imm(rng: Rng, s: Size): string {
  const v = rng.value64();
  const bits = s === 8 ? 32n : BigInt(s * 8); // q immediates are imm32 sign-extended
  const m = BigInt.asIntN(Number(bits), v);
  return `$${m < 0n ? '-' : ''}0x${(m < 0n ? -m : m).toString(16)}`;
}

function mem(c: Ctx): string {
  const disp = c.rng.int(0x700 * 2) - 0x700;
  const d = disp === 0 && c.rng.chance(0.5) ? '' : `${disp < 0 ? '-' : ''}0x${Math.abs(disp).toString(16)}`;
  const base = c.rng.chance(0.15) ? `%${gprName(c.mb, 4, true)}` : reg(c.mb, 8);
  if (c.rng.chance(0.3)) {
    const idx = base.startsWith('%e') || base.endsWith('d') ? `%${gprName(c.mi, 4, true)}` : reg(c.mi, 8);
    const scale = c.rng.pick([1, 2, 4, 8]);
    // No base: an absolute disp32 plus the scaled index (as `counts(,%rax,8)` in a VMM).
    if (c.rng.chance(0.15)) return `0x${(DATA_BASE + 0x800 + disp).toString(16)}(,${reg(c.mi, 8)},${scale})`;
    return `${d}(${base},${idx},${scale})`;
  }
  return `${d}(${base})`;
}

function dst(c: Ctx, s: Size): string {
  return reg(c.rng.pick(c.free), s);
}

function src(c: Ctx, s: Size): string {
  return reg(c.rng.int(16) === 4 ? 0 : c.rng.int(16), s);
}

function size(c: Ctx): Size {
  return c.rng.pick([1, 2, 4, 8, 4, 8] as Size[]);
}

interface Gen { text: string; reads: number; defines: number; undef: number }

const g = (text: string, reads: number, defines: number, undef: number): Gen => ({ text, reads, defines, undef });

/** Flags after a shift/rotate with a known count. */
function shiftFlags(op: string, s: Size, count: number): { defines: number; undef: number } {
  const masked = count & (s === 8 ? 63 : 31);
  if (masked === 0) return { defines: 0, undef: 0 };
  const rot = op.startsWith('ro') || op.startsWith('rc');
  const ofUndef = rot ? masked !== 1 : masked !== 1;
  if (rot) return { defines: ofUndef ? CF : CF | OF, undef: ofUndef ? OF : 0 };
  let undef = AF | (ofUndef ? OF : 0);
  if ((op === 'shl' || op === 'sal' || op === 'shr') && s <= 2 && masked > s * 8) undef |= CF;
  return { defines: ARITH & ~undef, undef };
}

function generateOne(c: Ctx): Gen | undefined {
  const r = c.rng;
  const s = size(c);
  const x = SFX[s];
  switch (r.int(24)) {
    case 0: case 1: case 2: { // group 1
      const op = r.pick(['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp']);
      const reads = op === 'adc' || op === 'sbb' ? CF : 0;
      const logic = op === 'and' || op === 'or' || op === 'xor';
      const form = r.int(5);
      const text = form === 0 ? `${op}${x} ${src(c, s)},${dst(c, s)}` : form === 1 ? `${op}${x} ${imm(r, s)},${dst(c, s)}`
        : form === 2 ? `${op}${x} ${mem(c)},${dst(c, s)}` : form === 3 ? `${op}${x} ${src(c, s)},${mem(c)}` : `${op}${x} ${imm(r, s)},${mem(c)}`;
      return g(text, reads, logic ? ARITH & ~AF : ARITH, logic ? AF : 0);
    }
    case 3: { // test, not, neg, inc, dec
      const op = r.pick(['test', 'not', 'neg', 'inc', 'dec']);
      const m = r.chance(0.3);
      if (op === 'test') return g(r.chance(0.5) ? `test${x} ${src(c, s)},${m ? mem(c) : dst(c, s)}` : `test${x} ${imm(r, s)},${m ? mem(c) : dst(c, s)}`, 0, ARITH & ~AF, AF);
      const t = `${op}${x} ${m ? mem(c) : dst(c, s)}`;
      if (op === 'not') return g(t, 0, 0, 0);
      return g(t, 0, op === 'neg' ? ARITH : ARITH & ~CF, 0);
    }
    case 4: { // mul, imul, div, idiv
      if (!c.free.includes(0) || !c.free.includes(2)) return undefined;
      const op = r.pick(['mul', 'imul', 'div', 'idiv', 'imul2', 'imul3']);
      const m = r.chance(0.3) ? mem(c) : src(c, s);
      if (op === 'imul2' || op === 'imul3') {
        if (s === 1) return undefined;
        const t = op === 'imul2' ? `imul${x} ${m},${dst(c, s)}` : `imul${x} ${imm(r, s === 8 ? 4 : s)},${m},${dst(c, s)}`;
        return g(t, 0, CF | OF, SF | ZF | AF | PF);
      }
      if (op === 'mul' || op === 'imul') return g(`${op}${x} ${m}`, 0, CF | OF, SF | ZF | AF | PF);
      return g(`${op}${x} ${m}`, 0, 0, ARITH);
    }
    case 5: case 6: { // shifts and rotates
      const op = r.pick(['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar']);
      const reads = op === 'rcl' || op === 'rcr' ? CF : 0;
      const target = r.chance(0.3) ? mem(c) : dst(c, s);
      const form = r.int(3);
      if (form === 2) {
        if (c.cl < 0) return undefined;
        const f = shiftFlags(op, s, c.cl);
        return g(`${op}${x} %cl,${target}`, reads, f.defines, f.undef);
      }
      const count = form === 0 ? 1 : r.chance(0.2) ? r.int(256) : r.int(s * 8 + 2);
      const f = shiftFlags(op, s, count);
      return g(form === 0 ? `${op}${x} ${target}` : `${op}${x} $${count},${target}`, reads, f.defines, f.undef);
    }
    case 7: { // shld, shrd
      if (s === 1) return undefined;
      const op = r.pick(['shld', 'shrd']);
      const target = r.chance(0.3) ? mem(c) : dst(c, s);
      let count: number;
      let text: string;
      if (r.chance(0.5) && c.cl >= 0) { count = c.cl; text = `${op}${x} %cl,${src(c, s)},${target}`; }
      else { count = r.int(s === 8 ? 70 : 34); text = `${op}${x} $${count},${src(c, s)},${target}`; }
      const masked = count & (s === 8 ? 63 : 31);
      if (s === 2 && masked > 16) return undefined;
      if (masked === 0) return g(text, 0, 0, 0);
      const undef = AF | (masked !== 1 ? OF : 0);
      return g(text, 0, ARITH & ~undef, undef);
    }
    case 8: { // bt family
      if (s === 1) return undefined;
      const op = r.pick(['bt', 'bts', 'btr', 'btc']);
      const text = r.chance(0.5) ? `${op}${x} $${r.int(s * 8 * 2)},${r.chance(0.4) ? mem(c) : dst(c, s)}` : `${op}${x} ${src(c, s)},${dst(c, s)}`;
      return g(text, 0, CF, OF | SF | AF | PF);
    }
    case 9: { // bit scans
      if (s === 1) return undefined;
      // No tzcnt: our CPUID has no BMI1, so F3 0F BC executes as BSF (SDM Vol. 2 TZCNT), while
      // the host (with BMI1) runs TZCNT; programs.test.ts checks the BSF behaviour.
      const op = r.pick(['bsf', 'bsr', 'lzcnt', 'popcnt']);
      const text = `${op}${x} ${r.chance(0.3) ? mem(c) : src(c, s)},${dst(c, s)}`;
      if (op === 'popcnt') return g(text, 0, ARITH, 0);
      if (op === 'bsf' || op === 'bsr') return g(text, 0, ZF, CF | OF | SF | AF | PF);
      return g(text, 0, CF | ZF, OF | SF | AF | PF);
    }
    case 10: case 11: { // mov forms
      const form = r.int(6);
      if (form === 0) return g(`mov${x} ${src(c, s)},${dst(c, s)}`, 0, 0, 0);
      if (form === 1) return g(`mov${x} ${imm(r, s)},${dst(c, s)}`, 0, 0, 0);
      if (form === 2) return g(`mov${x} ${mem(c)},${dst(c, s)}`, 0, 0, 0);
      if (form === 3) return g(`mov${x} ${src(c, s)},${mem(c)}`, 0, 0, 0);
      if (form === 4) return g(`mov${x} ${imm(r, s)},${mem(c)}`, 0, 0, 0);
      const v = r.value64();
      return g(`movabs $0x${BigInt.asUintN(64, v).toString(16)},${dst(c, 8)}`, 0, 0, 0);
    }
    case 12: { // movzx/movsx/movsxd, lea
      const form = r.int(4);
      const from: Size = r.pick([1, 2] as Size[]);
      const to: Size = r.pick(from === 1 ? [2, 4, 8] as Size[] : [4, 8] as Size[]);
      const sv = r.chance(0.3) ? mem(c) : src(c, from);
      if (form === 0) return g(`movz${SFX[from]}${SFX[to]} ${sv},${dst(c, to)}`, 0, 0, 0);
      if (form === 1) return g(`movs${SFX[from]}${SFX[to]} ${sv},${dst(c, to)}`, 0, 0, 0);
      if (form === 2) return g(`movslq ${r.chance(0.3) ? mem(c) : src(c, 4)},${dst(c, 8)}`, 0, 0, 0);
      const ls: Size = r.pick([2, 4, 8] as Size[]);
      return g(`lea${SFX[ls]} ${leaOperand(c)},${dst(c, ls)}`, 0, 0, 0);
    }
    case 13: { // xchg, xadd, cmpxchg
      const op = r.pick(['xchg', 'xadd', 'cmpxchg']);
      if (op === 'cmpxchg' && !c.free.includes(0)) return undefined;
      const a = r.pick(c.free);
      const target = r.chance(0.5) ? mem(c) : dst(c, s);
      const lock = target.includes('(') && r.chance(0.3) ? 'lock ' : '';
      const text = `${lock}${op}${x} ${reg(a, s)},${target}`;
      return g(text, 0, op === 'xchg' ? 0 : ARITH, 0);
    }
    case 14: { // cmpxchg8b/16b
      if (![0, 2].every((n) => c.free.includes(n))) return undefined;
      return g(`${r.chance(0.5) ? 'cmpxchg8b' : 'cmpxchg16b'} ${mem(c)}`, 0, ZF, 0);
    }
    case 15: { // bswap, movbe, sign extensions of rAX
      const form = r.int(3);
      if (form === 0) return g(`bswap ${dst(c, r.pick([4, 8] as Size[]))}`, 0, 0, 0);
      if (form === 1) {
        if (s === 1) return undefined;
        return g(r.chance(0.5) ? `movbe ${mem(c)},${dst(c, s)}` : `movbe ${src(c, s)},${mem(c)}`, 0, 0, 0);
      }
      if (!c.free.includes(0) || !c.free.includes(2)) return undefined;
      return g(r.pick(['cbtw', 'cwtl', 'cltq', 'cwtd', 'cltd', 'cqto']), 0, 0, 0);
    }
    case 16: { // cmovcc, setcc
      const cc = r.int(16);
      if ((CC_READS[cc] & c.undef) !== 0) return undefined;
      if (s === 1 || r.chance(0.4)) return g(`set${CCS[cc]} ${r.chance(0.3) ? mem(c) : dst(c, 1)}`, CC_READS[cc], 0, 0);
      return g(`cmov${CCS[cc]}${x} ${r.chance(0.3) ? mem(c) : src(c, s)},${dst(c, s)}`, CC_READS[cc], 0, 0);
    }
    case 17: { // push/pop
      const form = r.int(5);
      const w = r.chance(0.15) ? 'w' : 'q';
      const ps: Size = w === 'w' ? 2 : 8;
      if (form === 0) return g(`push${w} ${src(c, ps)}`, 0, 0, 0);
      if (form === 1) return g(`push${w} ${imm(r, ps === 8 ? 4 : 2)}`, 0, 0, 0);
      if (form === 2) return g(`push${w} ${mem(c)}`, 0, 0, 0);
      if (form === 3) return g(`pop${w} ${dst(c, ps)}`, 0, 0, 0);
      return g(`pop${w} ${mem(c)}`, 0, 0, 0);
    }
    case 18: { // flag instructions
      const op = r.pick(['clc', 'stc', 'cmc', 'cld', 'std', 'lahf', 'sahf', 'pushfq']);
      if (op === 'cmc') return g(op, CF, CF, 0);
      if (op === 'clc' || op === 'stc') return g(op, 0, CF, 0);
      if (op === 'lahf') return c.free.includes(0) ? g(op, SF | ZF | AF | PF | CF, 0, 0) : undefined;
      if (op === 'sahf') return g(op, 0, SF | ZF | AF | PF | CF, 0);
      if (op === 'pushfq') return g(op, ARITH, 0, 0);
      return g(op, 0, 0, 0);
    }
    case 19: { // conditional branches over the rest (the label is placed by the caller)
      const cc = r.int(16);
      if ((CC_READS[cc] & c.undef) !== 0) return undefined;
      return g(`j${CCS[cc]} 1f`, CC_READS[cc], 0, 0);
    }
    case 20: { // loops and jrcxz (need a free rCX)
      if (c.cl >= 0 || !c.free.includes(1)) return undefined;
      const op = r.pick(['loop', 'loope', 'loopne', 'jrcxz', 'jecxz']);
      const reads = op === 'loope' || op === 'loopne' ? ZF : 0;
      if ((reads & c.undef) !== 0) return undefined;
      return g(`${op} 1f`, reads, 0, 0);
    }
    case 21: { // faults: privileged or undefined instructions, divide by zero, misaligned cmpxchg16b
      const op = r.pick(['ud2', 'hlt', 'cli', 'sti', 'inb $0x80,%al', 'outb %al,$0x80', 'int3', 'mov %cr0,%rax', 'div']);
      if (op !== 'div') return g(op, 0, 0, 0);
      // AX / (a small value, sometimes 0): #DE on a zero divisor or a quotient above 0xFF.
      return c.free.includes(0) ? g(`divb ${reg(c.mi, 1)}`, 0, 0, ARITH) : undefined;
    }
    case 22: { // neg/not/inc/dec on high-byte registers and 8-bit ALU with them (no REX)
      const hb = [0, 1, 2, 3].filter((n) => c.free.includes(n));
      if (hb.length === 0) return undefined;
      const h = `%${['a', 'c', 'd', 'b'][r.pick(hb)]}h`;
      const other = `%${['a', 'c', 'd', 'b'][r.int(4)]}${r.chance(0.5) ? 'h' : 'l'}`;
      const op = r.pick(['add', 'sub', 'xor', 'mov', 'cmp', 'adc']);
      return g(`${op}b ${other},${h}`, op === 'adc' ? CF : 0, op === 'mov' ? 0 : op === 'xor' ? ARITH & ~AF : ARITH, op === 'xor' ? AF : 0);
    }
    default: { // xchg with rAX short form, nop, 32-bit address-size memory forms
      const n = r.pick(c.free);
      if (!c.free.includes(0)) return undefined;
      return g(r.chance(0.5) ? `xchg ${reg(n, s === 1 ? 4 : s)},${reg(0, s === 1 ? 4 : s)}` : 'nop', 0, 0, 0);
    }
  }
}

function leaOperand(c: Ctx): string {
  // LEA never touches memory: any registers will do.
  const r = c.rng;
  const disp = r.pick(['', '0x10', '-0x8', '0x7fffffff', '-0x80000000', '0x123']);
  const base = r.int(16), index = r.int(16);
  if (index === 4) return `${disp}(${reg(base, 8)})`;
  return r.chance(0.2) ? `${disp}(%${gprName(base, 4, true)},%${gprName(index, 4, true)},${r.pick([1, 2, 4, 8])})` : `${disp}(${reg(base, 8)},${reg(index, 8)},${r.pick([1, 2, 4, 8])})`;
}

/** String instruction sequences: rSI/rDI in the data page, rCX small. */
function stringSequence(rng: Rng): { text: string; setup: (regs: bigint[]) => void } {
  const op = rng.pick(['movs', 'stos', 'lods', 'cmps', 'scas']);
  const s = rng.pick([1, 2, 4, 8] as Size[]);
  const rep = rng.pick(['', 'rep ', 'rep ', op === 'cmps' || op === 'scas' ? 'repne ' : 'rep ']);
  const text = `${rep}${op}${SFX[s]}`;
  return {
    text,
    setup: (regs) => {
      regs[6] = BigInt(DATA_BASE + 0x600 + rng.int(0x200));
      regs[7] = BigInt(DATA_BASE + 0x600 + rng.int(0x200));
      regs[1] = BigInt(rng.int(40));
    },
  };
}

/** Generates one sequence and its initial state from the rng (reproducible from the seed). */
export function generateSequence(rng: Rng): Sequence {
  const regs: bigint[] = [];
  for (let i = 0; i < 16; i++) regs.push(BigInt.asUintN(64, rng.value64()));
  const mb = rng.pick([3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  const mi = rng.pick([3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].filter((n) => n !== mb));
  regs[mb] = BigInt(DATA_BASE + 0x800);
  // Sometimes a negative index: its high half is all ones and the 64-bit sum carries out of the low half.
  regs[mi] = rng.chance(0.3) ? BigInt.asUintN(64, BigInt(rng.int(0x20) - 0x20)) : BigInt(rng.int(0x40));
  regs[4] = BigInt(DATA_BASE + 0xa00 + 8 * rng.int(0x20));
  const pinCl = rng.chance(0.5);
  const cl = pinCl ? rng.int(72) : -1;
  if (pinCl) regs[1] = (regs[1] & ~0xffn) | BigInt(cl);
  const free = [...Array(16).keys()].filter((n) => n !== 4 && n !== mb && n !== mi && !(pinCl && n === 1));
  const c: Ctx = { rng, free, mb, mi, cl, undef: 0 };
  // Random arithmetic flags and DF.
  let rflags = 0x202;
  for (const f of [CF, PF, AF, ZF, SF, OF, DF]) if (rng.chance(0.5)) rflags |= f;
  const parts: string[] = [];
  let branch = false;
  let undefAtBranch = 0;
  // String instructions clobber rSI/rDI/rCX (and rAX): only when none of them is reserved.
  if (rng.chance(0.12) && !pinCl && [6, 7].every((n) => free.includes(n))) {
    const st = stringSequence(rng);
    st.setup(regs);
    c.free = free.filter((n) => n !== 6 && n !== 7 && n !== 1 && n !== 0);
    parts.push(st.text);
  }
  const n = 1 + rng.int(4);
  for (let i = 0; i < n; i++) {
    let gen: Gen | undefined;
    for (let tries = 0; tries < 20 && gen === undefined; tries++) {
      const cand = generateOne(c);
      if (cand === undefined || (cand.reads & c.undef) !== 0) continue;
      if (cand.text.endsWith(' 1f')) { if (branch || i === n - 1) continue; branch = true; undefAtBranch = c.undef; }
      gen = cand;
    }
    if (gen === undefined) continue;
    parts.push(gen.text);
    c.undef = (c.undef & ~gen.defines) | gen.undef;
  }
  if (branch) {
    parts.push('1:');
    c.undef |= undefAtBranch; // the label is reached with or without the skipped instructions
  }
  const mem = new Uint8Array(4096);
  for (let i = 0; i < 4096; i += 4) {
    const v = rng.u32();
    mem[i] = v; mem[i + 1] = v >> 8; mem[i + 2] = v >> 16; mem[i + 3] = v >> 24;
  }
  return { text: parts.join(' ; '), regs, rflags: BigInt(rflags), undefinedFlags: c.undef, mem };
}
