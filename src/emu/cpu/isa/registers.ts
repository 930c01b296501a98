// The x86-64 register names, written once: the CPU's register file indices, the
// assembler's parser and the disassembler's operand printer all use this table.

/**
 * What kind of register a name denotes (SDM Vol. 1 §3.4, §3.7.2; Vol. 3 §2.5): also the x87
 * stack registers %st / %st(0)..%st(7) (Vol. 1 §8.1.2; `st` is ST(0)) and the SSE registers
 * %xmm0-%xmm15 (Vol. 1 §10.2.2).
 */
export type RegClass = 'gpr' | 'seg' | 'cr' | 'dr' | 'rip' | 'st' | 'xmm';

export interface RegInfo {
  /** Canonical lower-case AT&T name without the `%`, as objdump prints it. */
  readonly name: string;
  readonly cls: RegClass;
  /** Register number as encoded (0-15 for GPRs incl. REX.R/B/X bit; 0-7 for seg and ST(i); 0-15 for CR/DR/XMM). */
  readonly num: number;
  /** Width in bytes (1, 2, 4, 8); segment registers are 2, CR/DR are 8 in 64-bit mode; ST(i) 10 and XMM 16 are given as 8 (the field only sizes GPRs). */
  readonly size: 1 | 2 | 4 | 8;
  /** Byte registers spl/bpl/sil/dil and r8b-r15b need a REX prefix. */
  readonly needsRex: boolean;
  /** ah/ch/dh/bh cannot be encoded together with any REX prefix. */
  readonly highByte: boolean;
  /**
   * %riz / %eiz: not a register but "no index" (SIB.index = 100 without REX.X, SDM Vol. 2
   * Table 2-3) written out, as objdump prints a SIB byte that has no index. Valid only as the
   * index of a memory operand; `num` is 4, the encoding of that field.
   */
  readonly noIndex?: boolean;
}

const GPR64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi'];
const GPR32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const GPR16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
const GPR8_LEGACY = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];
const GPR8_REX = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil'];
export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];

/** Name of general-purpose register `num` (0-15) at width `size`; `rexByte` selects spl.. over ah.. */
export function gprName(num: number, size: 1 | 2 | 4 | 8, rexByte = true): string {
  if (num >= 8) {
    const base = `r${num}`;
    return size === 8 ? base : size === 4 ? `${base}d` : size === 2 ? `${base}w` : `${base}b`;
  }
  switch (size) {
    case 8: return GPR64[num];
    case 4: return GPR32[num];
    case 2: return GPR16[num];
    default: return rexByte ? GPR8_REX[num] : GPR8_LEGACY[num];
  }
}

function buildTable(): Map<string, RegInfo> {
  const m = new Map<string, RegInfo>();
  const add = (r: RegInfo) => m.set(r.name, r);
  for (let n = 0; n < 16; n++) {
    for (const size of [8, 4, 2] as const) add({ name: gprName(n, size), cls: 'gpr', num: n, size, needsRex: n >= 8, highByte: false });
    add({ name: gprName(n, 1), cls: 'gpr', num: n, size: 1, needsRex: n >= 4, highByte: false });
  }
  for (let n = 4; n < 8; n++) add({ name: GPR8_LEGACY[n], cls: 'gpr', num: n, size: 1, needsRex: false, highByte: true });
  SEG_NAMES.forEach((name, num) => add({ name, cls: 'seg', num, size: 2, needsRex: false, highByte: false }));
  for (let n = 0; n < 16; n++) {
    add({ name: `cr${n}`, cls: 'cr', num: n, size: 8, needsRex: n >= 8, highByte: false });
    add({ name: `db${n}`, cls: 'dr', num: n, size: 8, needsRex: n >= 8, highByte: false });
  }
  // The x87 stack (objdump prints ST(0) as %st where the instruction names the stack top, and
  // %st(0) where the ModRM field does; GNU as accepts both for either).
  add({ name: 'st', cls: 'st', num: 0, size: 8, needsRex: false, highByte: false });
  for (let n = 0; n < 8; n++) add({ name: `st(${n})`, cls: 'st', num: n, size: 8, needsRex: false, highByte: false });
  for (let n = 0; n < 16; n++) add({ name: `xmm${n}`, cls: 'xmm', num: n, size: 8, needsRex: n >= 8, highByte: false });
  add({ name: 'riz', cls: 'gpr', num: 4, size: 8, needsRex: false, highByte: false, noIndex: true });
  add({ name: 'eiz', cls: 'gpr', num: 4, size: 4, needsRex: false, highByte: false, noIndex: true });
  add({ name: 'rip', cls: 'rip', num: 0, size: 8, needsRex: false, highByte: false });
  add({ name: 'eip', cls: 'rip', num: 0, size: 4, needsRex: false, highByte: false });
  return m;
}

/** Every register name the assembler accepts (GNU as also accepts %drN for %dbN). */
export const REGISTERS: ReadonlyMap<string, RegInfo> = buildTable();

export function lookupRegister(name: string): RegInfo | undefined {
  const n = name.toLowerCase();
  const r = REGISTERS.get(n);
  if (r) return r;
  const dr = /^dr(\d+)$/.exec(n);
  return dr ? REGISTERS.get(`db${dr[1]}`) : undefined;
}
