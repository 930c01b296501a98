// Hot straight-line code compiled to JavaScript functions (DESIGN.md "Designing for speed",
// item 7): a block is a run of instructions that follow each other in one decoded code page,
// from an instruction the run loop has started at HOT_COUNT times to the first one that may
// leave the straight line (a branch, anything that changes the mode, the handler array, the
// interrupt state or the stack segment), which ends the block. The block's function does
// exactly what the interpreter loop (cpu.ts execute) does for each of its instructions, in
// the same order:
//
//   c.nextRip = c.rip + length; handler(c, d); c.rip = c.nextRip; c.icount++; if (c.attention) return;
//
// so faults stay precise (RIP is the faulting instruction's, nothing after it ran), every
// instruction counts for the clock and the VMX-preemption timer, and anything that needs the
// loop (a write to a code page, an interrupt made pending, a data breakpoint, a VM exit) ends
// the block after the instruction that caused it. What it saves is the fetch and the
// megamorphic dispatch: each call site in a block always calls the same handler with the same
// decoded instruction, so V8 inlines the handler and specialises it.
//
// Validity: a block holds DecodedInsn objects of one icache page. They never change once
// cached (cpu.ts fetchSlow decodes into a new object when the mode differs), and a write to
// the page drops the page's objects all together, so a block is only reachable through its
// first instruction while every instruction in it is current. It is compiled for one handler
// array (root or one VMX non-root array) and used only with that one. The loop runs a block
// only when no debugger breakpoint lies inside it, neither TF, RF nor an instruction
// breakpoint asks for the per-instruction loop, and the whole block fits in the budget.
import type { Cpu } from './cpu';
import type { DecodedInsn } from './decoder';
import type { FetchPage } from './cpu-memory';
import type { Handler } from './handlers/common';
import { OP_DEC, OP_INC, OP_LOGIC, setIncDec, setLazy } from './flags';
import { ALU_KIND, ALU_NAMES } from './handlers/alu';
import { OPCODES, type OpcodeForm } from './isa/opcodes';

/** Times the loop starts at an instruction before a block is compiled from there. */
export const HOT_COUNT = 64;
/** Most instructions in one block (long blocks cost compile time and rarely run to the end). */
const MAX_BLOCK = 32;

export interface Block {
  /** The handler array the block was compiled against (Cpu.handlers). */
  readonly handlers: readonly Handler[];
  /** Instructions in the block, and their bytes. */
  readonly count: number;
  readonly bytes: number;
  /** The compiled code, shared by every block with the same handlers and instruction lengths. */
  readonly code: BlockCode;
  /** Its instructions, in order. */
  readonly insns: readonly DecodedInsn[];
}

export type BlockCode = (c: Cpu, insns: readonly DecodedInsn[]) => void;

/**
 * Compiled code by handler array and (handler index, length) sequence: a new machine in the
 * same process (tests, benchmarks, the debugger's restart) finds the code V8 already optimised.
 */
const codeCache = new WeakMap<readonly Handler[], Map<string, BlockCode>>();
/** Most distinct blocks kept per handler array before the cache starts over. */
const MAX_CACHED = 4096;

/**
 * Instructions that continue at the next instruction and change nothing the loop or the
 * decoder looks at without setting `attention` (so a block may go on after them).
 */
const STRAIGHT_MNEMONICS = new Set([
  'mov', 'movabs', 'movzb', 'movzw', 'movsb', 'movsw', 'movsl', 'movsxd', 'lea', 'nop', 'xchg', 'bswap', 'movbe',
  'cbw', 'cwd', 'lahf', 'sahf', 'push', 'pop', 'add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp', 'test', 'not',
  'neg', 'mul', 'imul', 'div', 'idiv', 'inc', 'dec', 'xadd', 'cmpxchg', 'rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sar',
  'shld', 'shrd', 'bt', 'bts', 'btr', 'btc', 'tzcnt', 'bsf', 'lzcnt', 'bsr', 'popcnt', 'clc', 'stc', 'cld', 'std', 'cmc',
  'endbr64', 'endbr32',
  // Also straight in root operation; in VMX non-root operation they exit, and a VM exit sets
  // `attention`, which ends the block right after them.
  'cpuid', 'vmread', 'vmwrite',
]);

/** Operands that make an otherwise straight form special: segment and control/debug registers, string operands. */
const SPECIAL_OPERANDS = new Set(['Sw', 'Cd', 'Dd', 'ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'Xb', 'Xv', 'Yb', 'Yv']);

function straight(f: OpcodeForm): boolean {
  if (STRAIGHT_MNEMONICS.has(f.mnem)) return !f.ops.some((o) => SPECIAL_OPERANDS.has(o));
  return /^(set|cmov)/.test(f.mnem);
}

/** 1 for table entries a block may continue after (by decoder entry; the #UD entry is 0). */
const STRAIGHT: Uint8Array = (() => {
  const t = new Uint8Array(OPCODES.length + 1);
  for (const f of OPCODES) if (straight(f)) t[f.index] = 1;
  return t;
})();

/**
 * Compiles the block starting with `first`, at offset `offset` of icache page `page`, for
 * `handlers` (`root`: the root handlers, whose semantics the templates reproduce); undefined
 * when it would hold fewer than two instructions.
 */
export function compileBlock(page: FetchPage, offset: number, first: DecodedInsn, handlers: readonly Handler[], root: readonly Handler[]): Block | undefined {
  const insns: DecodedInsn[] = [first];
  let off = offset + first.length;
  let last = first;
  while (insns.length < MAX_BLOCK && STRAIGHT[last.entry] === 1 && off < page.length) {
    const d = page[off];
    if (d === undefined || d.mode !== first.mode) break;
    insns.push(d);
    off += d.length;
    last = d;
  }
  if (insns.length < 2) return undefined;
  let cache = codeCache.get(handlers);
  if (cache === undefined) { cache = new Map(); codeCache.set(handlers, cache); }
  const pieces = insns.map((d) => piece(d, handlers, root));
  const key = insns.map((d, k) => `${d.length}:${pieces[k].code === '' ? `#${d.entry}` : pieces[k].code}`).join(',');
  let code = cache.get(key);
  if (code === undefined) {
    if (cache.size >= MAX_CACHED) cache.clear();
    code = generate(insns, handlers, pieces);
    cache.set(key, code);
  }
  return { handlers, count: insns.length, bytes: off - offset, code, insns };
}

/**
 * The code of a block. Register-only moves, ALU operations, TEST and INC/DEC at 32 and 64
 * bits, and 64-bit PUSH/POP of a register, are written out with their registers and
 * immediates as constants (the flags through the same lazy-flag recorders the handlers use,
 * flags.ts); every other instruction is a call of its handler, one call site per instruction.
 * Register-only code cannot fault nor need the loop, so RIP and the instruction count are
 * brought up to date only before the next instruction that can (and at the end).
 */
function generate(insns: readonly DecodedInsn[], handlers: readonly Handler[], pieces: readonly Piece[]): BlockCode {
  const params: string[] = ['setLazy', 'setIncDec'];
  const args: unknown[] = [setLazy, setIncDec];
  let body = 'const regs = c.regs;\n';
  let len = 0, n = 0;
  const flush = (): void => {
    if (n > 0) body += `c.rip += ${len}; c.nextRip = c.rip; c.icount += ${n};\n`;
    len = 0; n = 0;
  };
  insns.forEach((d, k) => {
    const p = pieces[k];
    if (p.pure) {
      body += p.code;
      len += d.length;
      n++;
      return;
    }
    flush();
    let call = p.code;
    if (call === '') {
      params.push(`h${k}`);
      args.push(handlers[d.entry]);
      call = `h${k}(c, insns[${k}]);`;
    }
    body += `c.nextRip = c.rip + ${d.length}; ${call} c.rip = c.nextRip; c.icount++; if (c.attention) return;\n`;
  });
  flush();
  const factory = new Function(...params, `return function block(c, insns) {\n${body}};`) as (...a: unknown[]) => BlockCode;
  return factory(...args);
}

/** An instruction's code in a block: `pure` code touches registers and flags only; '' means "call the handler". */
interface Piece { readonly code: string; readonly pure: boolean }

const CALL: Piece = { code: '', pure: false };

/** Template kinds by decoder entry (0: call the handler). */
const T_MOV_ZI = 1, T_MOV_EI = 2, T_MOV_EG = 3, T_MOV_GE = 4, T_ALU_EG = 5, T_ALU_GE = 6, T_ALU_EI = 7, T_ALU_AI = 8;
const T_TEST_EG = 9, T_TEST_EI = 10, T_TEST_AI = 11, T_INCDEC = 12, T_PUSH = 13, T_POP = 14;
/** The JavaScript operator of each group-1 operation (ALU_NAMES order; ADC and SBB, which read CF, have none: they call their handler). */
const ALU_JS = ['+', '|', '', '', '&', '-', '^', '-'];
const TEMPLATE = new Uint8Array(OPCODES.length + 1);
/** For ALU templates: the operator and lazy-flag kind; for INC/DEC: 1 for DEC. */
const TEMPLATE_OP = new Uint8Array(OPCODES.length + 1);
for (const f of OPCODES) {
  const ops = f.ops.join(',');
  const alu = ALU_NAMES.indexOf(f.mnem);
  let t = 0;
  if (f.mnem === 'mov') t = ops === 'Zv,Iv' ? T_MOV_ZI : ops === 'Ev,Iz' ? T_MOV_EI : ops === 'Ev,Gv' ? T_MOV_EG : ops === 'Gv,Ev' ? T_MOV_GE : 0;
  else if (alu >= 0 && ALU_JS[alu] !== '') {
    t = ops === 'Ev,Gv' ? T_ALU_EG : ops === 'Gv,Ev' ? T_ALU_GE : ops === 'Ev,Ibs' || ops === 'Ev,Iz' ? T_ALU_EI : ops === 'rAX,Iz' ? T_ALU_AI : 0;
    TEMPLATE_OP[f.index] = alu;
  } else if (f.mnem === 'test') t = ops === 'Ev,Gv' ? T_TEST_EG : ops === 'Ev,Iz' ? T_TEST_EI : ops === 'rAX,Iz' ? T_TEST_AI : 0;
  else if ((f.mnem === 'inc' || f.mnem === 'dec') && (ops === 'Ev' || ops === 'Zv')) { t = T_INCDEC; TEMPLATE_OP[f.index] = f.mnem === 'dec' ? 1 : 0; }
  else if (f.mnem === 'push' && ops === 'Zv') t = T_PUSH;
  else if (f.mnem === 'pop' && ops === 'Zv') t = T_POP;
  TEMPLATE[f.index] = t;
}


/** The code of instruction `d` in a block (CALL when it has no template or its handler is not the root one). */
function piece(d: DecodedInsn, handlers: readonly Handler[], root: readonly Handler[]): Piece {
  const t = TEMPLATE[d.entry];
  const s = d.opSize;
  if (t === 0 || handlers[d.entry] !== root[d.entry] || (s !== 4 && s !== 8)) return CALL;
  const w = s === 8;
  const rmReg = d.mod === 3;
  switch (t) {
    case T_MOV_ZI: return pure(move(d.opReg, `${d.imm | 0}`, w ? `${d.immHi | 0}` : '0'));
    case T_MOV_EI: return rmReg ? pure(move(d.rm, `${d.imm | 0}`, w ? `${d.immHi | 0}` : '0')) : CALL;
    case T_MOV_EG: return rmReg ? pure(move(d.rm, `regs[${2 * d.reg}]`, w ? `regs[${2 * d.reg + 1}]` : '0')) : CALL;
    case T_MOV_GE: return rmReg ? pure(move(d.reg, `regs[${2 * d.rm}]`, w ? `regs[${2 * d.rm + 1}]` : '0')) : CALL;
    case T_ALU_EG: return rmReg ? pure(alu(TEMPLATE_OP[d.entry], w, d.rm, `regs[${2 * d.reg}]`, `regs[${2 * d.reg + 1}]`)) : CALL;
    case T_ALU_GE: return rmReg ? pure(alu(TEMPLATE_OP[d.entry], w, d.reg, `regs[${2 * d.rm}]`, `regs[${2 * d.rm + 1}]`)) : CALL;
    case T_ALU_EI: return rmReg ? pure(alu(TEMPLATE_OP[d.entry], w, d.rm, `${d.imm | 0}`, `${d.immHi | 0}`)) : CALL;
    case T_ALU_AI: return pure(alu(TEMPLATE_OP[d.entry], w, 0, `${d.imm | 0}`, `${d.immHi | 0}`));
    case T_TEST_EG: return rmReg ? pure(test(w, d.rm, `regs[${2 * d.reg}]`, `regs[${2 * d.reg + 1}]`)) : CALL;
    case T_TEST_EI: return rmReg ? pure(test(w, d.rm, `${d.imm | 0}`, `${d.immHi | 0}`)) : CALL;
    case T_TEST_AI: return pure(test(w, 0, `${d.imm | 0}`, `${d.immHi | 0}`));
    case T_INCDEC: {
      const r = d.opReg >= 0 ? d.opReg : rmReg ? d.rm : -1;
      return r < 0 ? CALL : pure(incDec(TEMPLATE_OP[d.entry] === 1, w, r));
    }
    case T_PUSH: return w && d.mode === 64 ? { code: `c.push(8, regs[${2 * d.opReg}], regs[${2 * d.opReg + 1}]);`, pure: false } : CALL;
    case T_POP: return w && d.mode === 64 ? { code: `{ const v = c.pop(8); regs[${2 * d.opReg}] = v; regs[${2 * d.opReg + 1}] = c.vHi; }`, pure: false } : CALL;
    default: return CALL;
  }
}

function pure(code: string): Piece {
  return { code: `${code}\n`, pure: true };
}

/** Writes a 32-bit (high half 0, SDM Vol. 1 §3.4.1.1) or 64-bit value into register `r`. */
function move(r: number, lo: string, hi: string): string {
  return `{ const lo = ${lo}, hi = ${hi}; regs[${2 * r}] = lo; regs[${2 * r + 1}] = hi; }`;
}

/** Group-1 operation `op` on register `r` and (b, bHi), as alu.ts aluOp/aluRegReg do it. */
function alu(op: number, w: boolean, r: number, b: string, bHi: string): string {
  const kind = ALU_KIND[op];
  const js = ALU_JS[op];
  const store = op === 7 ? '' : `regs[${2 * r}] = r; regs[${2 * r + 1}] = rHi; `;
  if (!w) return `{ const a = regs[${2 * r}], b = ${b}; const r = (a ${js} b) | 0, rHi = 0; ${store}setLazy(c, ${kind}, 4, r, 0, a, 0, b, 0); }`;
  let calc: string;
  if (js === '+') calc = 'const t = (a >>> 0) + (b >>> 0); const r = t | 0, rHi = (aHi + bHi + (t > 0xffffffff ? 1 : 0)) | 0;';
  else if (js === '-') calc = 'const t = (a >>> 0) - (b >>> 0); const r = t | 0, rHi = (aHi - bHi - (t < 0 ? 1 : 0)) | 0;';
  else calc = `const r = a ${js} b, rHi = aHi ${js} bHi;`;
  return `{ const a = regs[${2 * r}], aHi = regs[${2 * r + 1}], b = ${b}, bHi = ${bHi}; ${calc} ${store}setLazy(c, ${kind}, 8, r, rHi, a, aHi, b, bHi); }`;
}

/** TEST register `r` with (b, bHi): logic flags of the AND, nothing stored. */
function test(w: boolean, r: number, b: string, bHi: string): string {
  if (!w) return `{ const a = regs[${2 * r}], b = ${b}; setLazy(c, ${OP_LOGIC}, 4, a & b, 0, a, 0, b, 0); }`;
  return `{ const a = regs[${2 * r}], aHi = regs[${2 * r + 1}], b = ${b}, bHi = ${bHi}; setLazy(c, ${OP_LOGIC}, 8, a & b, aHi & bHi, a, aHi, b, bHi); }`;
}

/** INC/DEC of register `r` (CF kept: setIncDec), as alu.ts incDec does it. */
function incDec(dec: boolean, w: boolean, r: number): string {
  const res = dec ? '(a - 1) | 0' : '(a + 1) | 0';
  const hi = !w ? '0' : dec ? '(aHi - (a === 0 ? 1 : 0)) | 0' : '(aHi + (a === -1 ? 1 : 0)) | 0';
  return `{ const a = regs[${2 * r}], aHi = ${w ? `regs[${2 * r + 1}]` : '0'}; const r = ${res}, rHi = ${hi}; regs[${2 * r}] = r; regs[${2 * r + 1}] = rHi; setIncDec(c, ${dec ? OP_DEC : OP_INC}, ${w ? 8 : 4}, r, rHi, a, aHi); }`;
}
