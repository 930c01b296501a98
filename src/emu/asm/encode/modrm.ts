// ModRM / SIB / displacement encoding of memory operands (SDM Vol. 2 §2.1.3, §2.1.5 tables
// 2-1 (16-bit addressing), 2-2 (32-bit addressing) and 2-3 (SIB); §2.2.1.6 RIP-relative
// addressing; §2.2.1.3 the REX.B/X special cases), with GNU as's choices where the
// architecture allows several encodings of one address.
import { EncodeError, type CodeMode, type Operand, type Value } from '../ast';
import type { RegInfo } from '../../cpu/isa/registers';
import { REX_B, REX_X } from './prefixes';
import { formatOperand } from './operand-text';

export type MemOperand = Extract<Operand, { kind: 'mem' }>;
export type AddrSize = 16 | 32 | 64;

/** A memory operand reduced to the fields an encoding writes. */
export interface MemEncoding {
  readonly mod: number;
  readonly rm: number;
  /** SIB byte, when rm = 100 in 32/64-bit addressing. */
  readonly sib?: number;
  /** Displacement: size 1, 2 or 4 bytes (0 = none). */
  readonly dispSize: 0 | 1 | 2 | 4;
  readonly disp: Value;
  /** RIP-relative: the displacement is relative to the end of the instruction. */
  readonly ripRel: boolean;
  /** REX.X / REX.B bits this address needs. */
  readonly rex: number;
  readonly addrSize: AddrSize;
  /** Default segment of this address (SS for a BP/SP base, else DS; SDM Vol. 1 §3.7.4). */
  readonly defaultSeg: 'ds' | 'ss';
}

function badAddress(op: MemOperand): EncodeError {
  return new EncodeError(`\`${formatOperand(op)}' is not a valid base/index expression`);
}

/**
 * Address size of a memory operand: the width of its base/index registers, or (for an
 * absolute address) the mode's default, flipped by a hand-written addr16/addr32 prefix.
 */
export function addressSize(op: MemOperand, mode: CodeMode, addrPrefix: boolean): AddrSize {
  const regs = [op.base, op.index].filter((r): r is RegInfo => r !== undefined);
  const toggled: AddrSize = mode === 64 ? 32 : mode === 32 ? 16 : 32;
  if (regs.length === 0) return addrPrefix ? toggled : mode;
  const bytes = regs[0].size;
  if (op.base?.noIndex) throw badAddress(op);
  for (const r of regs) {
    if (r.cls !== 'gpr' && r.cls !== 'rip') throw badAddress(op);
    if (r.size !== bytes) throw badAddress(op);
  }
  if (bytes === 1 || (bytes === 8 && mode !== 64) || (bytes === 2 && mode === 64)) throw badAddress(op);
  const size = (bytes * 8) as AddrSize;
  if (addrPrefix && size !== toggled) throw new EncodeError(`\`${formatOperand(op)}' is not valid with the address-size prefix`);
  return size;
}

/** The value a displacement field of `size` bytes holds, sign-extended the way the CPU reads it. */
function wrapSigned(v: bigint, bits: number): bigint {
  return BigInt.asIntN(bits, v);
}

export function fitsInt8(v: bigint): boolean {
  return v >= -128n && v <= 127n;
}

export function fitsInt32(v: bigint): boolean {
  return v >= -0x80000000n && v <= 0x7fffffffn;
}

const ZERO: Value = { addend: 0n };

/** Encode a memory operand's addressing (everything but ModRM.reg) for the given address size. */
export function encodeMemory(op: MemOperand, addrSize: AddrSize, mode: CodeMode): MemEncoding {
  return addrSize === 16 ? encode16(op) : encode32(op, addrSize, mode);
}

/** Normalised displacement: undefined for "none written", constants wrapped to the address size. */
function normaliseDisp(op: MemOperand, addrSize: AddrSize): Value | undefined {
  const d = op.disp;
  if (d === undefined) return undefined;
  if (d.symbol !== undefined) return d;
  if (addrSize === 64) {
    if (!fitsInt32(d.addend) && (op.base !== undefined || op.index !== undefined)) {
      throw new EncodeError(`0x${BigInt.asUintN(64, d.addend).toString(16)} out of range of signed 32bit displacement`);
    }
    return d;
  }
  return { addend: wrapSigned(d.addend, addrSize) };
}

/** SDM Vol. 2 Table 2-1: the eight base/index combinations of 16-bit addressing. */
function encode16(op: MemOperand): MemEncoding {
  const disp = normaliseDisp(op, 16);
  if (op.scale !== 1 && op.index !== undefined) throw badAddress(op);
  const b = op.base?.name;
  const i = op.index?.name;
  if (b === undefined && i === undefined) {
    // mod=00 rm=110: absolute disp16.
    return { mod: 0, rm: 6, dispSize: 2, disp: disp ?? ZERO, ripRel: false, rex: 0, addrSize: 16, defaultSeg: 'ds' };
  }
  const key = `${b ?? ''},${i ?? ''}`;
  const table: Record<string, number> = {
    'bx,si': 0, 'bx,di': 1, 'bp,si': 2, 'bp,di': 3, 'si,': 4, 'di,': 5, 'bp,': 6, 'bx,': 7,
  };
  if (!(key in table)) throw badAddress(op);
  const rm = table[key];
  const defaultSeg = b === 'bp' ? 'ss' : 'ds';
  if (disp === undefined || (disp.symbol === undefined && disp.addend === 0n)) {
    // [bp] alone has no mod=00 form (that slot is disp16): GNU as writes a zero disp8.
    if (rm === 6) return { mod: 1, rm, dispSize: 1, disp: ZERO, ripRel: false, rex: 0, addrSize: 16, defaultSeg };
    return { mod: 0, rm, dispSize: 0, disp: ZERO, ripRel: false, rex: 0, addrSize: 16, defaultSeg };
  }
  if (disp.symbol === undefined && fitsInt8(disp.addend)) {
    return { mod: 1, rm, dispSize: 1, disp, ripRel: false, rex: 0, addrSize: 16, defaultSeg };
  }
  return { mod: 2, rm, dispSize: 2, disp, ripRel: false, rex: 0, addrSize: 16, defaultSeg };
}

/** SDM Vol. 2 Tables 2-2 and 2-3, with the REX extensions of §2.2.1. */
function encode32(op: MemOperand, addrSize: 32 | 64, mode: CodeMode): MemEncoding {
  const disp = normaliseDisp(op, addrSize);
  const { base, index } = op;
  if (base?.cls === 'rip') {
    if (index !== undefined) throw badAddress(op);
    // mod=00 rm=101: RIP-relative disp32 in 64-bit mode (SDM §2.2.1.6).
    return { mod: 0, rm: 5, dispSize: 4, disp: disp ?? ZERO, ripRel: true, rex: 0, addrSize, defaultSeg: 'ds' };
  }
  // %esp/%rsp cannot be an index: SIB.index = 100 means none, which %riz/%eiz name.
  if (index !== undefined && (index.num & 15) === 4 && !index.noIndex) throw badAddress(op);
  const scaleBits = [1, 2, 4, 8].indexOf(op.scale);
  if (scaleBits < 0) throw badAddress(op);
  let rex = 0;
  if (base === undefined && index === undefined) {
    // Absolute disp32: rm=101 in 16/32-bit modes, but that slot means RIP-relative in 64-bit mode,
    // so 64-bit code (also with addr32) uses a SIB with no base and no index (base=101, index=100).
    if (mode === 64) {
      return { mod: 0, rm: 4, sib: (4 << 3) | 5, dispSize: 4, disp: disp ?? ZERO, ripRel: false, rex: 0, addrSize, defaultSeg: 'ds' };
    }
    return { mod: 0, rm: 5, dispSize: 4, disp: disp ?? ZERO, ripRel: false, rex: 0, addrSize, defaultSeg: 'ds' };
  }
  const defaultSeg = base !== undefined && ((base.num & 7) === 4 || (base.num & 7) === 5) ? 'ss' : 'ds';
  if (base === undefined) {
    // Index without base: SIB base=101 with mod=00 means disp32 and no base.
    rex |= index!.num >= 8 ? REX_X : 0;
    const sib = (scaleBits << 6) | ((index!.num & 7) << 3) | 5;
    return { mod: 0, rm: 4, sib, dispSize: 4, disp: disp ?? ZERO, ripRel: false, rex, addrSize, defaultSeg };
  }
  if (base.num >= 8) rex |= REX_B;
  if (index !== undefined && index.num >= 8) rex |= REX_X;
  const b3 = base.num & 7;
  const needsSib = index !== undefined || b3 === 4; // rm=100 is the SIB escape: %esp/%r12 bases need a SIB
  let mod: number;
  let dispSize: 0 | 1 | 4;
  const zero = disp === undefined || (disp.symbol === undefined && disp.addend === 0n);
  if (zero && b3 !== 5) {
    mod = 0;
    dispSize = 0;
  } else if (disp === undefined || (disp.symbol === undefined && fitsInt8(disp.addend))) {
    // Also the zero disp8 that %ebp/%rbp/%r13 need: mod=00 with base 101 means "no base, disp32".
    mod = 1;
    dispSize = 1;
  } else {
    mod = 2;
    dispSize = 4;
  }
  const value = disp ?? ZERO;
  if (!needsSib) return { mod, rm: b3, dispSize, disp: value, ripRel: false, rex, addrSize, defaultSeg };
  const idx = index === undefined ? 4 : index.num & 7;
  const sib = (scaleBits << 6) | (idx << 3) | b3;
  return { mod, rm: 4, sib, dispSize, disp: value, ripRel: false, rex, addrSize, defaultSeg };
}
