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
// array (root or one VMX non-root array) and used only with that one. The loop runs blocks
// only while no debugger breakpoint is set and neither TF, RF nor an instruction breakpoint
// asks for the per-instruction loop, and only when the whole block fits in the budget.
import type { Cpu } from './cpu';
import type { DecodedInsn } from './decoder';
import type { FetchPage } from './cpu-memory';
import type { Handler } from './handlers/common';
import { OPCODES, type OpcodeForm } from './isa/opcodes';

/** Times the loop starts at an instruction before a block is compiled from there. */
export const HOT_COUNT = 64;
/** Most instructions in one block (long blocks cost compile time and rarely run to the end). */
const MAX_BLOCK = 32;

export interface Block {
  /** The handler array the block was compiled against (Cpu.handlers). */
  readonly handlers: readonly Handler[];
  /** Instructions in the block. */
  readonly count: number;
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

/** Integer instructions that continue at the next instruction and change nothing the loop or the decoder looks at. */
const STRAIGHT_MNEMONICS = new Set([
  'mov', 'movabs', 'movzb', 'movzw', 'movsb', 'movsw', 'movsl', 'movsxd', 'lea', 'nop', 'xchg', 'bswap', 'movbe',
  'cbw', 'cwd', 'lahf', 'sahf', 'push', 'pop', 'add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp', 'test', 'not',
  'neg', 'mul', 'imul', 'div', 'idiv', 'inc', 'dec', 'xadd', 'cmpxchg', 'rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sar',
  'shld', 'shrd', 'bt', 'bts', 'btr', 'btc', 'tzcnt', 'bsf', 'lzcnt', 'bsr', 'popcnt', 'clc', 'stc', 'cld', 'std', 'cmc',
  'endbr64', 'endbr32',
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
 * `handlers`; undefined when it would hold fewer than two instructions.
 */
export function compileBlock(page: FetchPage, offset: number, first: DecodedInsn, handlers: readonly Handler[]): Block | undefined {
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
  const key = insns.map((d) => `${d.entry}:${d.length}`).join(',');
  let code = cache.get(key);
  if (code === undefined) {
    if (cache.size >= MAX_CACHED) cache.clear();
    code = generate(insns, handlers);
    cache.set(key, code);
  }
  return { handlers, count: insns.length, code, insns };
}

/** The code of a block: one call site per instruction, each always calling the same handler. */
function generate(insns: readonly DecodedInsn[], handlers: readonly Handler[]): BlockCode {
  const params: string[] = [];
  const args: Handler[] = [];
  let body = '';
  insns.forEach((d, k) => {
    params.push(`h${k}`);
    args.push(handlers[d.entry]);
    body += `c.nextRip = c.rip + ${d.length}; h${k}(c, insns[${k}]); c.rip = c.nextRip; c.icount++; if (c.attention) return;\n`;
  });
  const factory = new Function(...params, `return function block(c, insns) {\n${body}};`) as (...h: Handler[]) => BlockCode;
  return factory(...args);
}
