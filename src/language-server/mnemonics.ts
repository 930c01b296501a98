// How the language server reads THE instruction table (src/emu/cpu/isa/opcodes.ts) for
// people: which table entries a mnemonic as written (`movl`, `jz`, `iretq`) refers to, and
// each form in the notation of the SDM's "Instruction" column, in AT&T operand order.
import {
  CONDITION_ALIASES,
  CONDITION_CODES,
  FORMS_BY_MNEMONIC,
  type OpcodeForm,
  type OperandCode,
} from '../emu/cpu/isa/opcodes';

/** Operand codes (SDM Vol. 2 Appendix A.2 notation, as the table uses them) in the SDM's Instruction-column words. */
const OPERAND_TEXT: Readonly<Record<OperandCode, string>> = {
  Eb: 'r/m8', Ew: 'r/m16', Ed: 'r/m32', Eq: 'r/m64', Ev: 'r/m16/32/64', Ey: 'r/m32/64',
  MwRv: 'r16/32/64/m16', Rv: 'r16/32/64', Ry: 'r32/64',
  M: 'm', Mb: 'm8', Mw: 'm16', Md: 'm32', Mq: 'm64', Mo: 'm128', Ms: 'm16&32/64', Mp: 'm16:16/32/64', Ma: 'm16&16/32&32',
  Gb: 'r8', Gw: 'r16', Gd: 'r32', Gq: 'r64', Gv: 'r16/32/64', Gy: 'r32/64',
  Sw: 'Sreg', Cd: 'CR0-CR15', Dd: 'DR0-DR7', Zb: 'r8', Zv: 'r16/32/64', Zy: 'r32/64',
  Ib: 'imm8', Ibs: 'imm8', Iw: 'imm16', Iz: 'imm16/32', Iv: 'imm16/32/64', Jb: 'rel8', Jz: 'rel16/32',
  Ob: 'moffs8', Ov: 'moffs16/32/64', Ap: 'ptr16:16/32',
  AL: '%al', CL: '%cl', DX: '(%dx)', eAX: '%ax/%eax', rAX: '%ax/%eax/%rax', aAX: '%ax/%eax/%rax',
  EAX: '%eax', ECX: '%ecx', EDX: '%edx',
  Xb: '(%rsi)', Xv: '(%rsi)', Xz: '(%rsi)', Yb: '%es:(%rdi)', Yv: '%es:(%rdi)', Yz: '%es:(%rdi)', XLb: '(%rbx)',
  '1': '1', ES: '%es', CS: '%cs', SS: '%ss', DS: '%ds', FS: '%fs', GS: '%gs',
  ST: '%st', STi: '%st(i)', AX: '%ax', Mt: 'm80', Vx: 'xmm', Wx: 'xmm/m128', Wq: 'xmm/m64', Wd: 'xmm/m32', Ux: 'xmm',
};

const SUFFIXES = ['b', 'w', 'l', 'q'];
const CONDITION_FAMILIES = ['j', 'set', 'cmov'];

/** The table's name for a mnemonic as written: itself, the base of a suffixed name, or a condition alias's canonical name. */
export function baseMnemonic(written: string): string | undefined {
  const m = written.toLowerCase();
  if (FORMS_BY_MNEMONIC.has(m)) return m;
  for (const family of CONDITION_FAMILIES) {
    if (!m.startsWith(family)) continue;
    const cc = CONDITION_ALIASES[m.slice(family.length)];
    if (cc !== undefined) return `${family}${CONDITION_CODES[cc]}`;
  }
  // movabs is GNU as's name for mov with a 64-bit immediate or absolute address (B8+r, A0-A3).
  if (/^movabs[bwlq]?$/.test(m)) return 'mov';
  const stem = m.slice(0, -1);
  if (SUFFIXES.includes(m[m.length - 1]) && FORMS_BY_MNEMONIC.has(stem)) return stem;
  return undefined;
}

export function formsOf(written: string): readonly OpcodeForm[] {
  const base = baseMnemonic(written);
  const forms = base === undefined ? [] : FORMS_BY_MNEMONIC.get(base) ?? [];
  // A name that is both a table mnemonic and a suffixed one (`movq`: the SSE move and mov + q)
  // means both: the suffixed reading first, as GNU as tries it first for general registers.
  const m = written.toLowerCase();
  const stem = m.slice(0, -1);
  if (base === m && SUFFIXES.includes(m[m.length - 1]) && FORMS_BY_MNEMONIC.has(stem)) return [...FORMS_BY_MNEMONIC.get(stem)!, ...forms];
  return forms;
}

const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');

/** The SDM Opcode column for a form (`REX.W 0F B6 /r`, `B8+r`, `0F 01 C2`). */
export function encodingText(f: OpcodeForm): string {
  const parts: string[] = [];
  if (f.prefix) parts.push(hex(f.prefix));
  if (f.rexW) parts.push('REX.W');
  if (f.map >= 1) parts.push('0F');
  if (f.map === 2) parts.push('38');
  if (f.map === 3) parts.push('3A');
  parts.push(f.plusR ? `${hex(f.opcode)}+r` : hex(f.opcode));
  if (f.modrm >= 0) parts.push(hex(f.modrm));
  else if (f.ext >= 0) parts.push(`/${f.ext}`);
  else if (f.hasModrm) parts.push('/r');
  return parts.join(' ');
}

/** The form as written in AT&T syntax: source operands first, except all-immediate forms (`enter`), which GNU as keeps in Intel order. */
export function formText(f: OpcodeForm): string {
  const allImmediate = f.ops.length > 1 && f.ops.every((o) => o[0] === 'I');
  const ops = (allImmediate ? f.ops : [...f.ops].reverse()).filter((o) => o !== '1').map((o) => OPERAND_TEXT[o]);
  const name = f.sizeNames ? f.sizeNames.join('/') : f.mnem;
  return ops.length ? `${name} ${ops.join(', ')}` : name;
}

/** What the table's flags mean for someone writing the instruction. */
export function formNotes(f: OpcodeForm): string[] {
  const notes: string[] = [];
  if (f.i64) notes.push('not valid in 64-bit mode');
  if (f.o64) notes.push('64-bit mode only');
  if (f.lock) notes.push('lock allowed');
  if (f.rep) notes.push('rep allowed');
  if (f.repcc) notes.push('repe/repne allowed');
  if (f.sfx === 'always') notes.push(`always written with a size suffix, e.g. ${f.mnem}${f.rexW ? 'q' : 'l'}`);
  return notes;
}

/** Every mnemonic completion should offer: the table's names and the condition-code aliases. */
export function allMnemonics(): string[] {
  const names = new Set(FORMS_BY_MNEMONIC.keys());
  for (const family of CONDITION_FAMILIES) {
    if (!FORMS_BY_MNEMONIC.has(`${family}e`)) continue;
    for (const alias of Object.keys(CONDITION_ALIASES)) names.add(`${family}${alias}`);
  }
  return [...names].sort();
}
