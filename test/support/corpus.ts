// The AT&T test corpus, generated from the one instruction table (src/emu/cpu/isa/opcodes.ts):
// for every form valid in the mode, every operand size it takes, its operand kinds filled
// from rotating lists of registers (r8-r15, spl..dil, ah..bh where legal), immediates and
// addressing modes (base, base+disp8/disp32, SIB with every scale, index only, RIP-relative,
// absolute, segment overrides, 32-bit addresses in 64-bit code, 16-bit addresses), plus
// lock/rep prefixes. Only numeric immediates, displacements and `.+N` branch targets.
// Every line is one instruction that GNU as accepts (test/emu/asm/disasm-objdump.test.ts
// checks that on every run).
import { OPCODES, type OpcodeForm, type OperandCode } from '../../src/emu/cpu/isa/opcodes';
import { gprName } from '../../src/emu/cpu/isa/registers';

export type CorpusMode = 16 | 32 | 64;
type Size = 1 | 2 | 4 | 8;

const LETTER: Record<Size, string> = { 1: 'b', 2: 'w', 4: 'l', 8: 'q' };

const MEM64 = [
  '(%rax)', '(%rbx)', '(%rsp)', '(%rbp)', '(%r12)', '(%r13)', '(%r15)', '0x7f(%rcx)', '-0x80(%rdx)',
  '0x12345678(%rsi)', '-0x8(%rbp)', '0x10(%rsp)', '(%rax,%rbx,1)', '(%rcx,%rdx,2)', '0x10(%rsi,%rdi,4)',
  '-0x20(%r8,%r9,8)', '0x1000(%r10,%r11,1)', '(%r14,%r15,2)', '(,%rax,4)', '0x100(,%r12,8)', '0x10(%rip)',
  '-0x100(%rip)', '0x1000', '0x12345678', '%fs:0x28', '%gs:(%rax)', '%fs:0x10(%rbx,%rcx,4)', '(%eax)',
  '0x10(%ebx,%ecx,2)', '-0x4(%r8d)', '%es:(%rdi)', '%cs:0x10(%rax)', '(%rsp,%rax,8)', '(%rbp,%r13,1)',
  '0x0(%r13)', '-0x80000000(%rdi)', '0x10(%eip)',
];
const MEM32 = [
  '(%eax)', '(%ebx)', '(%esp)', '(%ebp)', '0x7f(%ecx)', '-0x80(%edx)', '0x12345678(%esi)', '-0x8(%ebp)',
  '0x10(%esp)', '(%eax,%ebx,1)', '(%ecx,%edx,2)', '0x10(%esi,%edi,4)', '-0x20(%eax,%ebp,8)', '(,%eax,4)',
  '0x100(,%esi,8)', '0x1000', '0x12345678', '%fs:0x28', '%gs:(%eax)', '%es:(%edi)', '%cs:0x10(%eax)',
  '%ss:(%ebp)', '%ds:(%ebp)', '(%bx,%si)', '0x10(%bp,%di)', '0x1234(%bx)', '(%esp,%eax,8)',
];
const MEM16 = [
  '(%bx,%si)', '(%bx,%di)', '(%bp,%si)', '(%bp,%di)', '(%si)', '(%di)', '0x10(%bp)', '(%bx)', '0x1234',
  '-0x10(%bx,%si)', '0x1234(%bp,%di)', '0x7f(%si)', '%es:(%bx)', '%fs:0x10(%di)', '%cs:0x1234', '(%eax)',
  '0x10(%ebx,%ecx,4)', '(%esp)', '-0x8(%ebp)', '%ss:0x10(%bx,%si)',
];
const MEMS: Record<CorpusMode, string[]> = { 16: MEM16, 32: MEM32, 64: MEM64 };

/** Registers of a size usable in the mode; byte registers without ah..bh (added separately). */
function regs(size: Size, mode: CorpusMode): string[] {
  const n = mode === 64 ? 16 : 8;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if (size === 8 && mode !== 64) break;
    out.push(`%${gprName(i, size, mode === 64)}`);
  }
  if (size === 1 && mode !== 64) return ['%al', '%cl', '%dl', '%bl', '%ah', '%ch', '%dh', '%bh'];
  return out;
}

function xmms(mode: CorpusMode): string[] {
  return Array.from({ length: mode === 64 ? 16 : 8 }, (_, i) => `%xmm${i}`);
}

/** Rotating lists for each operand code at operand size `s`; undefined = not generated. */
function slot(code: OperandCode, s: Size, mode: CorpusMode, form: OpcodeForm): string[] | undefined {
  const mems = MEMS[mode];
  const star = form.star ? '*' : '';
  const y: Size = mode === 64 ? 8 : 4;
  switch (code) {
    case 'Eb': return [...regs(1, mode), ...mems];
    case 'Ew': return [...regs(2, mode), ...mems];
    case 'Ed': return [...regs(4, mode), ...mems];
    case 'Ev': case 'MwRv': return [...regs(s, mode).map((r) => star + r), ...mems.map((m) => star + m)];
    case 'Ey': return [...regs(form.f64 ? y : s, mode), ...mems];
    case 'Ry': return regs(y, mode);
    case 'M': case 'Mb': case 'Mw': case 'Md': case 'Mq': case 'Mo': case 'Ms': case 'Ma': return mems;
    case 'Mp': return mems.map((m) => star + m);
    case 'Gb': return regs(1, mode).slice().reverse();
    case 'Gw': return regs(2, mode).slice().reverse();
    case 'Gd': return regs(4, mode).slice().reverse();
    case 'Gq': return regs(8, mode).slice().reverse();
    case 'Gv': return regs(s, mode).slice().reverse();
    case 'Gy': return regs(form.f64 ? y : s, mode).slice().reverse();
    case 'Zb': return regs(1, mode);
    case 'Zv': case 'Zy': return regs(s, mode);
    case 'Sw': return ['%es', '%cs', '%ss', '%ds', '%fs', '%gs'];
    case 'Cd': return mode === 64 ? ['%cr0', '%cr2', '%cr3', '%cr4', '%cr8'] : ['%cr0', '%cr2', '%cr3', '%cr4'];
    case 'Dd': return ['%db0', '%db1', '%db2', '%db3', '%db6', '%db7'];
    case 'Ib': return ['$0x0', '$0x1', '$0x7f', '$0x80', '$0xff', '$0x12'];
    case 'Ibs': return ['$0x1', '$-0x1', '$0x7f', '$-0x80', '$0x10'];
    case 'Iw': return ['$0x0', '$0x8', '$0x1234', '$0xffff'];
    case 'Iz':
      return s === 2 ? ['$0x1234', '$-0x1000', '$0x7fff'] : ['$0x12345678', '$-0x1000', '$0x7fffffff', '$-0x80000000'];
    case 'Iv': return s === 8 ? ['$0x123456789abcdef0', '$-0x2'] : s === 2 ? ['$0x1234', '$0x1'] : ['$0x12345678', '$0x1'];
    case 'AL': return ['%al'];
    case 'CL': return ['%cl'];
    case 'DX': return ['(%dx)'];
    case 'eAX': return [s === 2 ? '%ax' : '%eax'];
    case 'rAX': return [`%${gprName(0, s)}`];
    case '1': return ['$1', ''];
    case 'ES': case 'CS': case 'SS': case 'DS': case 'FS': case 'GS': return [`%${code.toLowerCase()}`];
    case 'ST': return ['%st'];
    case 'STi': return [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `%st(${i})`);
    case 'AX': return ['%ax'];
    case 'Mt': return mems;
    case 'Vx': return xmms(mode).slice().reverse();
    case 'Ux': return xmms(mode);
    case 'Wx': case 'Wq': case 'Wd': return [...xmms(mode), ...mems];
    default: return undefined;
  }
}

/** Operand sizes a form takes in a mode (for its v/z operands). */
function sizesOf(form: OpcodeForm, mode: CorpusMode): Size[] {
  const usesV = form.ops.some((o) => /^(E|G|Z|R|M)[vy]$|^MwRv$|^I[zv]$|^Ibs$|^rAX$|^eAX$|^Mp$/.test(o)) || form.sfx === 'opsz' || form.sfx === 'always';
  if (!usesV) return [4];
  if (form.f64) return [mode === 64 ? 8 : 4];
  // GNU as has no 16-bit movzw/movsw/bswap/bound, nor 64-bit lss/lfs/lgs (AMD64 lacks them).
  const no16 = form.ops[1] === 'Ew' || form.ops[0] === 'Zy' || form.mnem === 'bound' || form.ops.includes('Ey') || form.ops.includes('Gy');
  if (mode !== 64) return no16 ? [4] : [2, 4];
  if (form.rexW) return [8];
  if (no16) return [4, 8];
  if (form.ops.includes('Mp') && !form.star) return [2, 4];
  if (form.d64) return [2, 8];
  if (form.now) return [2, 4];
  return [2, 4, 8];
}

/** A general (or segment) register: the x87 and XMM registers say nothing about the operand size. */
const isRegText = (t: string): boolean => /^\*?%/.test(t) && !t.includes(':') && !/^%(st|xmm)/.test(t);
const needsRex = (t: string): boolean => /%(r(8|9|1[0-5])|spl|bpl|sil|dil)/.test(t);
const isHighByte = (t: string): boolean => /^%[a-d]h$/.test(t);

/** Lines for one form at one operand size, by rotating the operand slot lists together. */
function genericLines(form: OpcodeForm, s: Size, mode: CorpusMode): string[] {
  const slots = form.ops.map((o) => slot(o, s, mode, form));
  if (slots.some((x) => x === undefined)) return [];
  const lists = slots as string[][];
  const n = lists.length === 0 ? 1 : Math.max(...lists.map((l) => l.length));
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const ops = lists.map((l, k) => l[(i + k) % l.length]);
    // ah..bh cannot be combined with anything that needs a REX prefix.
    if (ops.some(isHighByte) && ops.some(needsRex)) continue;
    if (ops.some(isHighByte) && s === 8) continue;
    const anyReg = ops.some((t, k) => isRegText(t) && form.ops[k] !== 'DX');
    let mnem = form.mnem;
    if (form.sizeNames) mnem = form.sizeNames[s === 2 ? 0 : s === 4 ? 1 : 2];
    else if (form.sfx === 'always') mnem += LETTER[s];
    else if (!anyReg && (form.sfx === 'mem' || form.sfx === 'mem64')) mnem += form.ops.includes('Eb') ? 'b' : LETTER[s];
    else if (form.sfx === 'opsz') {
      const noGpr = ops.every((t) => !isRegText(t) || /^%[c-gs]s$/.test(t));
      const hasMem = ops.some((t) => t !== '' && !isRegText(t) && !t.startsWith('$'));
      if (noGpr && (s !== defaultSize(form, mode) || hasMem)) mnem += LETTER[s];
    }
    const att = form.noswap ? ops : ops.slice().reverse();
    const text = att.filter((t) => t !== '').join(',');
    out.push(text ? `${mnem} ${text}` : mnem);
  }
  return out;
}

function defaultSize(form: OpcodeForm, mode: CorpusMode): Size {
  return mode === 16 ? 2 : mode === 64 && form.d64 ? 8 : 4;
}

/** String instructions: every size, with rep prefixes and a segment override on the source. */
function stringLines(form: OpcodeForm, mode: CorpusMode): string[] {
  const base = form.mnem.replace(/b$/, '');
  const sizes: Size[] = form.ops.some((o) => o.endsWith('b')) ? [1] : form.ops.some((o) => o.endsWith('z')) ? [2, 4] : mode === 64 ? [2, 4, 8] : [2, 4];
  const pre = form.rep ? ['', 'rep '] : ['', 'repe ', 'repne '];
  const src = mode === 64 ? '%fs:(%rsi)' : mode === 32 ? '%fs:(%esi)' : '%fs:(%si)';
  const out: string[] = [];
  for (const s of sizes) {
    const m = base + LETTER[s];
    for (const p of pre) out.push(`${p}${m}`);
    if (form.mnem.startsWith('movs')) out.push(`${m} ${src},%es:(${mode === 64 ? '%rdi' : mode === 32 ? '%edi' : '%di'})`);
    if (form.mnem.startsWith('lods')) out.push(`${m} ${src}`);
    if (mode !== 16) out.push(`addr${mode === 64 ? 32 : 16} ${m}`);
  }
  return out;
}

function branchLines(form: OpcodeForm, mode: CorpusMode): string[] {
  if (form.addrNames) {
    return mode === 64 ? ['jrcxz .+0x10', 'jecxz .-0x20'] : mode === 32 ? ['jecxz .+0x10', 'jcxz .-0x20'] : ['jcxz .+0x10', 'jecxz .+0x7f'];
  }
  if (form.ops[0] === 'Jb') return [`${form.mnem} .+0x10`, `${form.mnem} .-0x7e`, `${form.mnem} .+0x2`];
  const far = mode === 16 ? ['.+0x1000', '.-0x1000'] : ['.+0x1000', '.-0x100000', '.+0x12345678'];
  return far.map((t) => `${form.mnem} ${t}`);
}

function specialLines(form: OpcodeForm, mode: CorpusMode): string[] | undefined {
  const m = form.mnem;
  const ops = form.ops;
  if (ops.some((o) => o[0] === 'X' || o[0] === 'Y') && m !== 'xlat') return stringLines(form, mode);
  if (ops[0] === 'Jb' || ops[0] === 'Jz') return branchLines(form, mode);
  switch (m) {
    case 'xlat': return ['xlat', 'xlatb', `xlat %ds:(${mode === 64 ? '%rbx' : mode === 32 ? '%ebx' : '%bx'})`];
    case 'monitor': return ['monitor', `monitor ${mode === 64 ? '%rax' : mode === 32 ? '%eax' : '%ax'},%ecx,%edx`];
    case 'mwait': return ['mwait', 'mwait %eax,%ecx'];
    case 'enter': return ['enter $0x10,$0x0', 'enter $0x1000,$0x1', 'enter $0x0,$0x1f'];
    case 'sysret': return mode === 64 ? ['sysretl', 'sysretq'] : ['sysret'];
    case 'sysexit': return mode === 64 ? ['sysexit', 'sysexitq'] : ['sysexit'];
  }
  if (ops.includes('Ap')) return [`${m} $0x8,$0x1000`, `${m} $0x10,$0x12345`, `${m}w $0x8,$0x1234`, `${m}l $0x18,$0x100000`].slice(0, mode === 16 ? 1 : 4);
  if (ops.includes('Ob') || ops.includes('Ov')) {
    const addrs = mode === 64 ? ['0x1122334455667788', '0x10'] : mode === 32 ? ['0x12345678', '0x10'] : ['0x1234', '0x10'];
    const regsAt = ops.includes('Ob') ? ['%al'] : mode === 64 ? ['%ax', '%eax', '%rax'] : ['%ax', '%eax'];
    const out: string[] = [];
    const mn = mode === 64 ? 'movabs' : 'mov';
    for (const r of regsAt) {
      for (const a of addrs.slice(0, mode === 64 ? 1 : 2)) out.push(ops[0][0] === 'O' ? `${mn} ${r},${a}` : `${mn} ${a},${r}`);
    }
    return out;
  }
  if (form.sfx === 'env' || form.waitName !== undefined) {
    // x87 forms with a waiting spelling (finit) and/or the s/l image-size letters (fnstenvs).
    const base = genericLines(form, 4, mode);
    const out = [...base];
    const names = form.waitName !== undefined ? [form.waitName] : [];
    if (form.sfx === 'env') for (const n of [m, ...names]) names.push(`${n}s`, `${n}l`);
    for (const n of names) out.push(...base.slice(0, 6).map((l) => n + l.slice(m.length)));
    return out;
  }
  if (ops.length === 0 && (form.sfx === 'opsz' || form.sizeNames)) {
    const out = new Set<string>();
    for (const s of sizesOf(form, mode)) {
      if (form.sizeNames) out.add(form.sizeNames[s === 2 ? 0 : s === 4 ? 1 : 2]);
      else out.add(s === defaultSize(form, mode) ? m : m + LETTER[s]);
    }
    return [...out];
  }
  return undefined;
}

/** Lock-prefixed lines for lockable forms with a memory destination. */
function lockLines(lines: string[]): string[] {
  return lines.filter((l) => /,[^%$]*\(/.test(l) || /^\w+ [^,%$]*\($/.test(l)).slice(0, 4).map((l) => `lock ${l}`);
}

/** Every AT&T line of the corpus for one mode. */
export function generateCorpus(mode: CorpusMode): string[] {
  const out: string[] = [];
  for (const form of OPCODES) {
    if (mode === 64 ? form.i64 : form.o64 || form.rexW) continue;
    const special = specialLines(form, mode);
    if (special) { out.push(...special); continue; }
    const lines: string[] = [];
    for (const s of sizesOf(form, mode)) lines.push(...genericLines(form, s, mode));
    out.push(...lines);
    if (form.lock) out.push(...lockLines(lines));
  }
  return [...new Set(out)];
}
