// Data movement and the stack: MOV (all forms but control/debug/segment registers, see
// system.ts), MOVZX MOVSX MOVSXD, LEA, XCHG, BSWAP, MOVBE, CBW/CWDE/CDQE, CWD/CDQ/CQO, XLAT,
// LAHF, SAHF, CMOVcc, SETcc, PUSH, POP, PUSHA, POPA, ENTER, LEAVE (SDM Vol. 2 under each).
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoder';
import { AF, CF, PF, SF, ZF, getFlags, setArith, testCC } from '../flags';
import type { OpcodeForm } from '../isa/opcodes';
import { DS } from '../state';
import { isByteForm, type Handler } from './common';

/** Linear address of a moffs operand (mov AL/rAX <-> [moffs]) into linLo/linHi. */
function moffs(c: Cpu, d: DecodedInsn, size: number, write: boolean): void {
  c.linLo = d.disp;
  c.linHi = d.addrSize === 8 ? d.dispHi : 0;
  if (d.addrSize === 2) c.linLo &= 0xffff;
  c.applySegment(d.seg < 0 ? DS : d.seg, size, write);
}

function bswap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}

function movHandler(f: OpcodeForm): Handler | undefined {
  switch (f.ops.join(',')) {
    case 'Eb,Gb': return (c, d) => c.writeE(d, 1, c.getReg(d.reg, 1, d.rex), 0);
    case 'Ev,Gv': return (c, d) => {
      const s = d.opSize;
      if (d.mod === 3 && s >= 4) { moveReg(c, s, d.rm, d.reg); return; }
      const v = c.getReg(d.reg, s, d.rex);
      c.writeE(d, s, v, c.vHi);
    };
    case 'Gb,Eb': return (c, d) => c.setReg(d.reg, 1, d.rex, c.readE(d, 1), 0);
    case 'Gv,Ev': return (c, d) => {
      const s = d.opSize;
      if (d.mod === 3 && s >= 4) { moveReg(c, s, d.reg, d.rm); return; }
      const v = c.readE(d, s);
      c.setReg(d.reg, s, d.rex, v, c.vHi);
    };
    case 'Zb,Ib': return (c, d) => c.setReg(d.opReg, 1, d.rex, d.imm, 0);
    case 'Zv,Iv': return (c, d) => {
      const s = d.opSize;
      if (s === 2) { c.setReg(d.opReg, 2, d.rex, d.imm, 0); return; }
      const regs = c.regs, n = 2 * d.opReg;
      regs[n] = d.imm; regs[n + 1] = s === 8 ? d.immHi : 0;
    };
    case 'Ev,Iz': return (c, d) => c.writeE(d, d.opSize, d.imm, d.immHi);
    case 'Eb,Ib': return (c, d) => c.writeE(d, 1, d.imm, 0);
    case 'AL,Ob': return (c, d) => { moffs(c, d, 1, false); c.setReg(0, 1, 0, c.rd8(c.linLo, c.linHi), 0); };
    case 'rAX,Ov': return (c, d) => { const s = d.opSize; moffs(c, d, s, false); const v = c.rdSize(c.linLo, c.linHi, s); c.setReg(0, s, 0, v, c.vHi); };
    case 'Ob,AL': return (c, d) => { moffs(c, d, 1, true); c.wr8(c.linLo, c.linHi, c.regs[0]); };
    case 'Ov,rAX': return (c, d) => { const s = d.opSize; moffs(c, d, s, true); c.wrSize(c.linLo, c.linHi, s, c.regs[0], c.regs[1]); };
    default: return undefined;
  }
}

/** dst = src on GPR numbers at 4 or 8 bytes (a 32-bit write zero-extends). */
function moveReg(c: Cpu, s: number, dst: number, src: number): void {
  const regs = c.regs;
  regs[2 * dst] = regs[2 * src];
  regs[2 * dst + 1] = s === 8 ? regs[2 * src + 1] : 0;
}

function xchg(c: Cpu, d: DecodedInsn, s: number): void {
  const a = c.getReg(d.reg, s, d.rex);
  const aHi = c.vHi;
  if (d.mod === 3) {
    const b = c.getReg(d.rm, s, d.rex);
    const bHi = c.vHi;
    c.setReg(d.rm, s, d.rex, a, aHi);
    c.setReg(d.reg, s, d.rex, b, bHi);
    return;
  }
  c.ea(d, s, true);
  const lo = c.linLo, hi = c.linHi;
  if (s >= 4) {
    const w = c.writeWords(lo, hi, s);
    if (w !== undefined) {
      // An aligned dword or qword in a cached writable page: exchanged in place.
      const k = (lo & 0xfff) >> 2, regs = c.regs, n = 2 * d.reg;
      const b = w[k];
      w[k] = a;
      if (s === 8) { const bHi = w[k + 1]; w[k + 1] = aHi; regs[n + 1] = bHi; } else regs[n + 1] = 0;
      regs[n] = b;
      return;
    }
  }
  const b = c.rdSize(lo, hi, s);
  const bHi = c.vHi;
  c.wrSize(lo, hi, s, a, aHi);
  c.setReg(d.reg, s, d.rex, b, bHi);
}

function push(c: Cpu, d: DecodedInsn, v: number, vHi: number): void {
  c.push(d.opSize, v, vHi);
}

function popEv(c: Cpu, d: DecodedInsn): void {
  const s = d.opSize;
  const v = c.peek(s, 0);
  const vHi = c.vHi;
  if (d.mod === 3) {
    c.adjustSp(s);
    c.setReg(d.rm, s, d.rex, v, vHi);
    return;
  }
  // The destination address is computed with rSP already incremented (SDM Vol. 2 POP).
  c.adjustSp(s);
  try {
    c.ea(d, s, true);
    c.wrSize(c.linLo, c.linHi, s, v, vHi);
  } catch (e) {
    c.adjustSp(-s);
    throw e;
  }
}

/** ENTER imm16, imm8 (SDM Vol. 2 ENTER), all or nothing: registers are restored on a fault. */
function enter(c: Cpu, d: DecodedInsn): void {
  const s = d.opSize;
  const regs = c.regs;
  const sp0 = regs[8], sp0Hi = regs[9], bp0 = regs[10], bp0Hi = regs[11];
  const level = d.imm2 & 31;
  try {
    c.push(s, regs[10], regs[11]);
    const frame = regs[8], frameHi = regs[9];
    if (level > 0) {
      for (let i = 1; i < level; i++) {
        // rBP -= size at the stack address size, then push the value it points to.
        const sp = regs[8], spHi = regs[9];
        regs[8] = regs[10]; regs[9] = regs[11];
        c.adjustSp(-s);
        const bp = regs[8], bpHi = regs[9];
        const v = c.peek(s, 0);
        const vHi = c.vHi;
        regs[10] = c.stackSize === 2 ? (regs[10] & ~0xffff) | (bp & 0xffff) : bp;
        regs[11] = c.stackSize === 8 ? bpHi : regs[11];
        regs[8] = sp; regs[9] = spHi;
        c.push(s, v, vHi);
      }
      c.push(s, frame, frameHi);
    }
    setBpFromSp(c, frame, frameHi);
    c.adjustSp(-(d.imm & 0xffff));
  } catch (e) {
    regs[8] = sp0; regs[9] = sp0Hi; regs[10] = bp0; regs[11] = bp0Hi;
    throw e;
  }
}

function setBpFromSp(c: Cpu, sp: number, spHi: number): void {
  const regs = c.regs;
  if (c.stackSize === 8) { regs[10] = sp; regs[11] = spHi; }
  else if (c.stackSize === 4) { regs[10] = sp; regs[11] = 0; }
  else regs[10] = (regs[10] & ~0xffff) | (sp & 0xffff);
}

/** LEAVE: rSP = rBP (stack address size), then pop rBP; nothing changes if the pop faults. */
function leave(c: Cpu, d: DecodedInsn): void {
  const s = d.opSize;
  const regs = c.regs;
  const sp = regs[8], spHi = regs[9];
  if (c.stackSize === 8) { regs[8] = regs[10]; regs[9] = regs[11]; }
  else if (c.stackSize === 4) regs[8] = regs[10];
  else regs[8] = (regs[8] & ~0xffff) | (regs[10] & 0xffff);
  let v: number;
  try {
    v = c.peek(s, 0);
  } catch (e) {
    regs[8] = sp; regs[9] = spHi;
    throw e;
  }
  const vHi = c.vHi;
  c.adjustSp(s);
  c.setReg(5, s, 0, v, vHi);
}

function pusha(c: Cpu, d: DecodedInsn): void {
  const s = d.opSize;
  const regs = c.regs;
  const sp = regs[8];
  c.stackAddr(-8 * s, 8 * s, true); // all stores or none
  for (let r = 0; r < 8; r++) c.push(s, r === 4 ? sp : regs[2 * r], 0);
}

function popa(c: Cpu, d: DecodedInsn): void {
  const s = d.opSize;
  const vals = c.popaScratch;
  for (let r = 7; r >= 0; r--) vals[r] = c.peek(s, (7 - r) * s);
  c.adjustSp(8 * s);
  for (let r = 7; r >= 0; r--) if (r !== 4) c.setReg(r, s, 0, vals[r], 0);
}

export function dataHandler(f: OpcodeForm): Handler | undefined {
  const ops = f.ops.join(',');
  const byte = isByteForm(f);
  switch (f.mnem) {
    case 'mov': case 'movabs': return movHandler(f);
    case 'movzb': return (c, d) => c.setReg(d.reg, d.opSize, d.rex, c.readE(d, 1), 0);
    case 'movzw': return (c, d) => {
      if (d.mod === 3 && d.opSize !== 2) {
        // movzwl/movzwq between registers: the zero-extended word fills the whole register.
        const regs = c.regs;
        regs[2 * d.reg] = regs[2 * d.rm] & 0xffff;
        regs[2 * d.reg + 1] = 0;
        return;
      }
      c.setReg(d.reg, d.opSize, d.rex, c.readE(d, 2), 0);
    };
    case 'movsb':
      if (ops !== 'Gv,Eb') return undefined; // the string form is in string.ts
      return (c, d) => { const v = (c.readE(d, 1) << 24) >> 24; c.setReg(d.reg, d.opSize, d.rex, v, v >> 31); };
    case 'movsw': return (c, d) => { const v = (c.readE(d, 2) << 16) >> 16; c.setReg(d.reg, d.opSize, d.rex, v, v >> 31); };
    case 'movsl': case 'movsxd':
      return (c, d) => { const v = c.readE(d, 4); c.setReg(d.reg, d.opSize, d.rex, v, v >> 31); };
    case 'lea':
      return (c, d) => { c.offsetOf(d); c.setReg(d.reg, d.opSize, d.rex, c.linLo, d.addrSize === 8 ? c.linHi : 0); };
    case 'xchg':
      if (f.plusR) return (c, d) => {
        const s = d.opSize;
        const a = c.getReg(0, s, 0), aHi = c.vHi;
        const b = c.getReg(d.opReg, s, 0), bHi = c.vHi;
        c.setReg(0, s, 0, b, bHi);
        c.setReg(d.opReg, s, 0, a, aHi);
      };
      return (c, d) => xchg(c, d, byte ? 1 : d.opSize);
    case 'nop': case 'pause': case 'endbr64': case 'endbr32':
      return () => undefined;
    case 'bswap': return (c, d) => {
      const r = d.opReg;
      const regs = c.regs;
      if (d.opSize === 8) { const lo = regs[2 * r]; regs[2 * r] = bswap32(regs[2 * r + 1]); regs[2 * r + 1] = bswap32(lo); }
      else if (d.opSize === 4) { regs[2 * r] = bswap32(regs[2 * r]); regs[2 * r + 1] = 0; }
      else regs[2 * r] &= ~0xffff; // 16-bit operand: undefined; Intel cores produce 0
    };
    case 'movbe':
      if (f.ops[0] === 'Gv') return (c, d) => {
        const s = d.opSize;
        const v = c.readE(d, s), vHi = c.vHi;
        if (s === 8) c.setReg(d.reg, 8, d.rex, bswap32(vHi), bswap32(v));
        else c.setReg(d.reg, s, d.rex, s === 4 ? bswap32(v) : ((v & 0xff) << 8) | ((v >> 8) & 0xff), 0);
      };
      return (c, d) => {
        const s = d.opSize;
        const v = c.getReg(d.reg, s, d.rex), vHi = c.vHi;
        if (s === 8) c.writeE(d, 8, bswap32(vHi), bswap32(v));
        else c.writeE(d, s, s === 4 ? bswap32(v) : ((v & 0xff) << 8) | ((v >> 8) & 0xff), 0);
      };
    case 'cbw': return (c, d) => {
      const regs = c.regs;
      if (d.opSize === 2) regs[0] = (regs[0] & ~0xffff) | (((regs[0] << 24) >> 24) & 0xffff);
      else if (d.opSize === 4) { regs[0] = (regs[0] << 16) >> 16; regs[1] = 0; }
      else regs[1] = regs[0] >> 31;
    };
    case 'cwd': return (c, d) => {
      const regs = c.regs;
      if (d.opSize === 2) regs[4] = (regs[4] & ~0xffff) | (((regs[0] << 16) >> 31) & 0xffff);
      else if (d.opSize === 4) { regs[4] = regs[0] >> 31; regs[5] = 0; }
      else { regs[4] = regs[1] >> 31; regs[5] = regs[1] >> 31; }
    };
    case 'xlat': return (c, d) => {
      const regs = c.regs;
      const al = regs[0] & 0xff;
      if (d.addrSize === 8) { const t = (regs[6] >>> 0) + al; c.linLo = t | 0; c.linHi = (regs[7] + (t > 0xffffffff ? 1 : 0)) | 0; }
      else { c.linLo = d.addrSize === 4 ? (regs[6] + al) | 0 : (regs[6] + al) & 0xffff; c.linHi = 0; }
      c.applySegment(d.seg < 0 ? DS : d.seg, 1, false);
      regs[0] = (regs[0] & ~0xff) | c.rd8(c.linLo, c.linHi);
    };
    case 'lahf': return (c) => { const regs = c.regs; regs[0] = (regs[0] & ~0xff00) | ((getFlags(c) & 0xd7 | 2) << 8); };
    case 'sahf': return (c) => setArith(c, SF | ZF | AF | PF | CF, (c.regs[0] >> 8) & (SF | ZF | AF | PF | CF));
    case 'push':
      switch (ops) {
        case 'Zv': return (c, d) => {
          const s = d.opSize;
          if (s === 8) { const regs = c.regs, n = 2 * d.opReg; c.push(8, regs[n], regs[n + 1]); return; }
          const v = c.getReg(d.opReg, s, 0);
          push(c, d, v, c.vHi);
        };
        case 'Ev': return (c, d) => { const v = c.readE(d, d.opSize); push(c, d, v, c.vHi); };
        case 'Ibs': case 'Iz': return (c, d) => push(c, d, d.imm, d.immHi);
        default: return undefined; // segment registers: system.ts
      }
    case 'pop':
      if (ops === 'Zv') return (c, d) => {
        const s = d.opSize;
        const v = c.pop(s);
        if (s === 8) { const regs = c.regs, n = 2 * d.opReg; regs[n] = v; regs[n + 1] = c.vHi; return; }
        c.setReg(d.opReg, s, 0, v, c.vHi);
      };
      if (ops === 'Ev') return popEv;
      return undefined;
    case 'enter': return enter;
    case 'leave': return leave;
    case 'pusha': return pusha;
    case 'popa': return popa;
    default: break;
  }
  if (f.mnem.startsWith('cmov')) {
    const cc = f.opcode & 15;
    return (c, d) => {
      const s = d.opSize;
      const v = c.readE(d, s), vHi = c.vHi; // the source is read (and may fault) whatever the condition
      if (testCC(c, cc)) c.setReg(d.reg, s, d.rex, v, vHi);
      else if (s === 4) c.regs[2 * d.reg + 1] = 0; // a 32-bit destination is zero-extended either way
    };
  }
  if (f.mnem.startsWith('set')) {
    const cc = f.opcode & 15;
    return (c, d) => c.writeE(d, 1, testCC(c, cc) ? 1 : 0, 0);
  }
  return undefined;
}
