// String instructions MOVS CMPS STOS LODS SCAS INS OUTS with REP/REPE/REPNE (SDM Vol. 2 under
// each, and "REP/REPE/REPZ/REPNE/REPNZ"). A repeated instruction runs at most STRING_CHUNK
// iterations per execution and then re-executes itself (RIP unchanged), so interrupts and
// the run budget are honoured in long copies; a fault leaves rSI/rDI/rCX at the iteration
// that faulted, as on hardware.
import type { Cpu } from '../cpu';
import { PFX_REP, PFX_REPNE, type DecodedInsn } from '../decoder';
import { DF, OP_SUB, ZF, getZF, setLazy } from '../flags';
import type { OpcodeForm } from '../isa/opcodes';
import { DS, ES } from '../state';
import { checkIoPermission } from './io';
import type { Handler } from './common';

const STRING_CHUNK = 4096;

/** Linear address of seg:rIDX (index register `r`, at the address size) into linLo/linHi. */
function strAddr(c: Cpu, d: DecodedInsn, seg: number, r: number, size: number, write: boolean): void {
  const regs = c.regs;
  const as = d.addrSize;
  c.linLo = as === 2 ? regs[2 * r] & 0xffff : regs[2 * r];
  c.linHi = as === 8 ? regs[2 * r + 1] : 0;
  c.applySegment(seg, size, write);
}

/** Adds ±size to index register `r` at the address size (DF decides the direction). */
function advance(c: Cpu, d: DecodedInsn, r: number, size: number): void {
  const regs = c.regs;
  const delta = (c.flagsVal & DF) !== 0 ? -size : size;
  const as = d.addrSize;
  if (as === 8) {
    const t = (regs[2 * r] >>> 0) + delta;
    regs[2 * r + 1] = (regs[2 * r + 1] + (t > 0xffffffff ? 1 : t < 0 ? -1 : 0)) | 0;
    regs[2 * r] = t | 0;
  } else if (as === 4) {
    regs[2 * r] = (regs[2 * r] + delta) | 0;
    regs[2 * r + 1] = 0;
  } else {
    regs[2 * r] = (regs[2 * r] & ~0xffff) | ((regs[2 * r] + delta) & 0xffff);
  }
}

function countZero(c: Cpu, d: DecodedInsn): boolean {
  const regs = c.regs;
  return d.addrSize === 8 ? (regs[2] | regs[3]) === 0 : d.addrSize === 4 ? regs[2] === 0 : (regs[2] & 0xffff) === 0;
}

function decCount(c: Cpu, d: DecodedInsn): void {
  const regs = c.regs;
  if (d.addrSize === 8) {
    if (regs[2] === 0) regs[3] = (regs[3] - 1) | 0;
    regs[2] = (regs[2] - 1) | 0;
  } else if (d.addrSize === 4) {
    regs[2] = (regs[2] - 1) | 0;
    regs[3] = 0;
  } else {
    regs[2] = (regs[2] & ~0xffff) | ((regs[2] - 1) & 0xffff);
  }
}

type Step = (c: Cpu, d: DecodedInsn, s: number) => void;

function srcSeg(d: DecodedInsn): number {
  return d.seg < 0 ? DS : d.seg;
}

const movs: Step = (c, d, s) => {
  strAddr(c, d, srcSeg(d), 6, s, false);
  const v = c.rdSize(c.linLo, c.linHi, s);
  const vHi = c.vHi;
  strAddr(c, d, ES, 7, s, true);
  c.wrSize(c.linLo, c.linHi, s, v, vHi);
  advance(c, d, 6, s);
  advance(c, d, 7, s);
};

const stos: Step = (c, d, s) => {
  strAddr(c, d, ES, 7, s, true);
  c.wrSize(c.linLo, c.linHi, s, c.regs[0], c.regs[1]);
  advance(c, d, 7, s);
};

const lods: Step = (c, d, s) => {
  strAddr(c, d, srcSeg(d), 6, s, false);
  const v = c.rdSize(c.linLo, c.linHi, s);
  c.setReg(0, s, 0, v, c.vHi);
  advance(c, d, 6, s);
};

const cmps: Step = (c, d, s) => {
  strAddr(c, d, srcSeg(d), 6, s, false);
  const a = c.rdSize(c.linLo, c.linHi, s);
  const aHi = c.vHi;
  strAddr(c, d, ES, 7, s, false);
  const b = c.rdSize(c.linLo, c.linHi, s);
  const bHi = c.vHi;
  compare(c, s, a, aHi, b, bHi);
  advance(c, d, 6, s);
  advance(c, d, 7, s);
};

const scas: Step = (c, d, s) => {
  strAddr(c, d, ES, 7, s, false);
  const b = c.rdSize(c.linLo, c.linHi, s);
  const bHi = c.vHi;
  compare(c, s, c.regs[0], c.regs[1], b, bHi);
  advance(c, d, 7, s);
};

const ins: Step = (c, d, s) => {
  const port = c.regs[4] & 0xffff;
  checkIoPermission(c, port, s);
  strAddr(c, d, ES, 7, s, true);
  c.probeWrite(c.linLo, c.linHi); // the port is read only when the store can complete
  c.wrSize(c.linLo, c.linHi, s, c.portIn(port, s), 0);
  advance(c, d, 7, s);
};

const outs: Step = (c, d, s) => {
  const port = c.regs[4] & 0xffff;
  checkIoPermission(c, port, s);
  strAddr(c, d, srcSeg(d), 6, s, false);
  c.portOut(port, s, c.rdSize(c.linLo, c.linHi, s));
  advance(c, d, 6, s);
};

/** CMP semantics for CMPS/SCAS: flags of a - b. */
function compare(c: Cpu, s: number, a: number, aHi: number, b: number, bHi: number): void {
  let r: number, rHi = 0;
  if (s === 8) {
    const t = (a >>> 0) - (b >>> 0);
    rHi = (aHi - bHi - (t < 0 ? 1 : 0)) | 0;
    r = t | 0;
  } else r = (a - b) | 0;
  setLazy(c, OP_SUB, s, r, rHi, a, aHi, b, bHi);
}

function run(c: Cpu, d: DecodedInsn, s: number, step: Step, cond: boolean): void {
  const rep = d.prefixes & (PFX_REP | PFX_REPNE);
  if (rep === 0) { step(c, d, s); return; }
  const untilEqual = rep === PFX_REPNE; // REPNE stops when ZF=1, REPE when ZF=0
  for (let n = 0; n < STRING_CHUNK; n++) {
    if (countZero(c, d)) return;
    step(c, d, s);
    decCount(c, d);
    if (cond && (getZF(c) === ZF) === untilEqual) return;
  }
  if (!countZero(c, d)) c.nextRip = c.rip; // more to do: execute again (interrupts may come first)
}

export function stringHandler(f: OpcodeForm): Handler | undefined {
  const byte = f.ops.some((o) => o === 'Xb' || o === 'Yb');
  const word = f.ops.some((o) => o === 'Xz' || o === 'Yz'); // ins/outs: 16 or 32 bits, never 64
  const size = (d: DecodedInsn): number => (byte ? 1 : word && d.opSize === 8 ? 4 : d.opSize);
  let step: Step, cond = false;
  switch (f.mnem) {
    case 'movsb': case 'movs':
      if (f.ops[0] === 'Gv') return undefined;
      step = movs; break;
    case 'stos': step = stos; break;
    case 'lods': step = lods; break;
    case 'cmpsb': case 'cmps': step = cmps; cond = true; break;
    case 'scas': step = scas; cond = true; break;
    case 'insb': case 'ins': step = ins; break;
    case 'outsb': case 'outs': step = outs; break;
    default: return undefined;
  }
  return (c, d) => run(c, d, size(d), step, cond);
}
