// Near control transfer: Jcc, JMP, CALL, RET, LOOP/LOOPE/LOOPNE, JrCXZ, and the software
// interrupts INT3, INT n, INTO, INT1 (SDM Vol. 2 under each). Far transfers and IRET are in
// system.ts. In 64-bit mode near branches always use a 64-bit operand size, as on Intel cores
// (a 66 prefix is ignored; SDM Vol. 2 JMP/CALL/RET/Jcc "64-bit mode" notes).
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoder';
import { CpuFault, GP, BP, OF_VEC } from '../fault';
import { getCF, getOF, getSF, getZF, testCC } from '../flags';
import type { OpcodeForm } from '../isa/opcodes';
import { CS } from '../state';
import { icebp } from '../debug';
import { softwareInterrupt, INT_SOFTWARE } from '../exceptions';
import type { Handler } from './common';

const TWO32 = 4294967296;
const CANON = 140737488355328; // 2^47

/** Sets nextRip to a branch target `t` (a number), with the canonical / CS-limit check (#GP(0)). */
export function jumpTo(c: Cpu, d: DecodedInsn, t: number): void {
  if (c.long64) {
    if (t >= CANON || t < -CANON) throw new CpuFault(GP, 0, 'non-canonical branch target');
    c.nextRip = t;
    return;
  }
  const ip = d.opSize === 2 ? t & 0xffff : t >>> 0;
  if (ip > c.segLimit[CS]) throw new CpuFault(GP, 0, 'branch target beyond the CS limit');
  c.nextRip = ip;
}

/** Branch target held as int32 halves (indirect jumps, returns). */
function absTarget(c: Cpu, lo: number, hi: number): number {
  return c.long64 ? hi * TWO32 + (lo >>> 0) : lo >>> 0;
}

/** Near operand size: 64 in 64-bit mode whatever 66 says; else the decoded size. */
function nearSize(c: Cpu, d: DecodedInsn): number {
  return c.long64 ? 8 : d.opSize;
}

/** Pushes the return address (low half of nextRip) for a near call of operand size `s`. */
function pushReturn(c: Cpu, s: number, ret: number): void {
  if (s === 8) c.push(8, ret | 0, Math.floor(ret / TWO32) | 0);
  else c.push(s, ret, 0);
}

/** rCX at the address size, decremented (LOOP); returns the new value's "non-zero". */
function decCount(c: Cpu, d: DecodedInsn): boolean {
  const regs = c.regs;
  if (d.addrSize === 8) {
    const lo = regs[2];
    regs[2] = (lo - 1) | 0;
    if (lo === 0) regs[3] = (regs[3] - 1) | 0;
    return (regs[2] | regs[3]) !== 0;
  }
  if (d.addrSize === 4) { regs[2] = (regs[2] - 1) | 0; regs[3] = 0; return regs[2] !== 0; }
  regs[2] = (regs[2] & ~0xffff) | ((regs[2] - 1) & 0xffff);
  return (regs[2] & 0xffff) !== 0;
}

/** LOOPcc: the branch is checked before rCX changes, so a #GP leaves rCX intact. */
function loop(c: Cpu, d: DecodedInsn, kind: number): void {
  const regs = c.regs;
  const save = regs[2], saveHi = regs[3];
  const nz = decCount(c, d);
  const take = kind === 2 ? nz : kind === 1 ? nz && getZF(c) !== 0 : nz && getZF(c) === 0;
  if (take) {
    try {
      jumpTo(c, d, c.nextRip + d.imm);
    } catch (e) {
      regs[2] = save; regs[3] = saveHi;
      throw e;
    }
  }
}

/**
 * Jcc: one function literal per condition, so that each handler tests its flag directly (a
 * shared closure over `cc` would go through the generic testCC switch on every branch).
 */
function jcc(cc: number): Handler {
  switch (cc) {
    case 0x4: return (c, d) => { if (getZF(c) !== 0) jumpTo(c, d, c.nextRip + d.imm); };
    case 0x5: return (c, d) => { if (getZF(c) === 0) jumpTo(c, d, c.nextRip + d.imm); };
    case 0x2: return (c, d) => { if (getCF(c) !== 0) jumpTo(c, d, c.nextRip + d.imm); };
    case 0x3: return (c, d) => { if (getCF(c) === 0) jumpTo(c, d, c.nextRip + d.imm); };
    case 0x8: return (c, d) => { if (getSF(c) !== 0) jumpTo(c, d, c.nextRip + d.imm); };
    case 0x9: return (c, d) => { if (getSF(c) === 0) jumpTo(c, d, c.nextRip + d.imm); };
    default: return (c, d) => { if (testCC(c, cc)) jumpTo(c, d, c.nextRip + d.imm); };
  }
}

export function controlHandler(f: OpcodeForm): Handler | undefined {
  const ops = f.ops.join(',');
  if (f.mnem[0] === 'j' && f.mnem !== 'jmp' && f.mnem !== 'jcxz') return jcc(f.opcode & 15);
  switch (f.mnem) {
    case 'jmp':
      if (ops === 'Ev') return (c, d) => {
        const s = nearSize(c, d);
        const v = c.readE(d, s);
        jumpTo(c, d, absTarget(c, s === 2 ? v & 0xffff : v, s === 8 ? c.vHi : 0));
      };
      return (c, d) => jumpTo(c, d, c.nextRip + d.imm);
    case 'call':
      if (ops === 'Ev') return (c, d) => {
        const s = nearSize(c, d);
        const v = c.readE(d, s);
        const ret = c.nextRip;
        jumpTo(c, d, absTarget(c, s === 2 ? v & 0xffff : v, s === 8 ? c.vHi : 0));
        pushReturn(c, s, ret);
      };
      return (c, d) => {
        const ret = c.nextRip;
        jumpTo(c, d, ret + d.imm);
        pushReturn(c, nearSize(c, d), ret);
      };
    case 'ret': {
      const imm = ops === 'Iw';
      return (c, d) => {
        const s = nearSize(c, d);
        const v = c.peek(s, 0);
        jumpTo(c, d, absTarget(c, s === 2 ? v & 0xffff : v, s === 8 ? c.vHi : 0));
        c.adjustSp(s + (imm ? d.imm : 0));
      };
    }
    case 'loop': return (c, d) => loop(c, d, 2);
    case 'loope': return (c, d) => loop(c, d, 1);
    case 'loopne': return (c, d) => loop(c, d, 0);
    case 'jcxz': return (c, d) => {
      const regs = c.regs;
      const z = d.addrSize === 8 ? (regs[2] | regs[3]) === 0 : d.addrSize === 4 ? regs[2] === 0 : (regs[2] & 0xffff) === 0;
      if (z) jumpTo(c, d, c.nextRip + d.imm);
    };
    // INT n, INT3 and INTO clear TF and take no single-step trap themselves (SDM Vol. 3B §18.3.1.4).
    case 'int3': return (c) => { c.debug.stepCancel = true; softwareInterrupt(c, BP, INT_SOFTWARE); };
    case 'int': return (c, d) => { c.debug.stepCancel = true; softwareInterrupt(c, d.imm & 0xff, INT_SOFTWARE); };
    case 'into': return (c) => { if (getOF(c) !== 0) { c.debug.stepCancel = true; softwareInterrupt(c, OF_VEC, INT_SOFTWARE); } };
    case 'int1': return icebp;
    default: return undefined;
  }
}
