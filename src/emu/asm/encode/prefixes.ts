// Instruction prefixes (SDM Vol. 2 §2.1.1 legacy prefixes, §2.2.1 REX) as GNU as handles them:
// written-by-hand prefix mnemonics, the prefixes an encoding needs, and the fixed order GNU as
// emits them in whatever order they were written (segment, address size, operand size,
// repeat/lock, REX last, SDM §2.2.1: REX must immediately precede the opcode).
import { EncodeError, type CodeMode } from '../ast';

/** Prefix groups, in the order GNU as emits them. */
export const enum PrefixSlot {
  Seg = 0,
  Addr = 1,
  Data = 2,
  Rep = 3,
  Lock = 4,
}

export const SEGMENT_PREFIX: Readonly<Record<string, number>> = { es: 0x26, cs: 0x2e, ss: 0x36, ds: 0x3e, fs: 0x64, gs: 0x65 };

/** REX bits (SDM Vol. 2 §2.2.1.2). */
export const REX_W = 8;
export const REX_R = 4;
export const REX_X = 2;
export const REX_B = 1;

/** The prefixes of one instruction, gathered before its opcode is written. */
export class PrefixSet {
  /** Legacy prefix byte per slot (0 = none). */
  readonly slot: number[] = [0, 0, 0, 0, 0];
  /** Explicit data16/data32 written by hand (GNU as then does not add its own 66). */
  explicitData = false;
  /** Explicit addr16/addr32 written by hand. */
  explicitAddr = false;
  /** REX bits written by hand (`rex`, `rex.w`, `rex64`, ...); -1 when none. */
  explicitRex = -1;
  /** The `lock` prefix was written; the caller checks the instruction is lockable. */
  lock = false;
  /** Mnemonic of the repeat-class prefix written by hand (rep, repne, xacquire, ...). */
  repName?: string;

  set(slot: PrefixSlot, byte: number): void {
    if (this.slot[slot] !== 0) throw new EncodeError('same type of prefix used twice');
    this.slot[slot] = byte;
  }

  /** Bytes of the legacy prefixes in GNU as order. */
  legacyBytes(): number[] {
    return this.slot.filter((b) => b !== 0);
  }
}

/** The prefix set of the (usual) instruction written without prefixes; never modified. */
const NO_PREFIXES: PrefixSet = Object.freeze(new PrefixSet());

const REP_FAMILY: Readonly<Record<string, number>> = {
  rep: 0xf3, repe: 0xf3, repz: 0xf3, repne: 0xf2, repnz: 0xf2,
  xacquire: 0xf2, xrelease: 0xf3, bnd: 0xf2,
};

/** Parse the prefix mnemonics written before an instruction (`lock`, `rep`, `data16`, `rex.wb`, `fs`, ...). */
export function parsePrefixes(names: readonly string[], mode: CodeMode): PrefixSet {
  if (names.length === 0) return NO_PREFIXES;
  const p = new PrefixSet();
  for (const raw of names) {
    const name = raw.toLowerCase();
    if (name in SEGMENT_PREFIX) {
      p.set(PrefixSlot.Seg, SEGMENT_PREFIX[name]);
    } else if (name === 'notrack') {
      // CET `notrack` is the DS segment prefix byte on an indirect branch (SDM Vol. 1 §18.3.1).
      p.set(PrefixSlot.Seg, 0x3e);
    } else if (name in REP_FAMILY) {
      p.set(PrefixSlot.Rep, REP_FAMILY[name]);
      p.repName = name;
    } else if (name === 'lock') {
      p.set(PrefixSlot.Lock, 0xf0);
      p.lock = true;
    } else if (name === 'data16' || name === 'data32') {
      // data16 selects 16-bit operands, the default in .code16; data32 is the default elsewhere.
      if ((name === 'data16') === (mode === 16)) throw new EncodeError(`redundant ${name} prefix`);
      p.set(PrefixSlot.Data, 0x66);
      p.explicitData = true;
    } else if (name === 'addr16' || name === 'addr32') {
      // 67 toggles 16<->32-bit addresses in legacy modes and 64->32 in 64-bit mode.
      if (name === 'addr16' && mode === 64) throw new EncodeError('`addr16\' is not supported in 64-bit mode');
      if ((name === 'addr16' && mode === 16) || (name === 'addr32' && mode === 32)) throw new EncodeError(`redundant ${name} prefix`);
      p.set(PrefixSlot.Addr, 0x67);
      p.explicitAddr = true;
    } else {
      const bits = rexPrefixBits(name);
      if (bits === undefined) throw new EncodeError(`unknown prefix \`${raw}'`);
      if (mode !== 64) throw new EncodeError(`\`${name}' is only supported in 64-bit mode`);
      if (p.explicitRex >= 0) throw new EncodeError('same type of prefix used twice');
      p.explicitRex = bits;
    }
  }
  return p;
}

/** `rex`, `rex64`, `rex.w`, `rex.wrxb`, ... → the REX low bits they set; undefined if not a REX prefix. */
export function rexPrefixBits(name: string): number | undefined {
  if (name === 'rex') return 0;
  if (name === 'rex64') return REX_W;
  const m = /^rex\.([wrxb]+)$/.exec(name);
  if (!m) return undefined;
  let bits = 0;
  let last = -1;
  for (const c of m[1]) {
    const order = 'wrxb'.indexOf(c);
    // GNU as only knows the letters in W, R, X, B order, each at most once.
    if (order <= last) return undefined;
    last = order;
    bits |= REX_W >> order;
  }
  return bits;
}
