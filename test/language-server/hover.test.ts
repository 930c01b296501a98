// Hover text comes from the tables: the instruction table's forms for a mnemonic (however
// it is written), the directive documentation, the register table.
import { describe, expect, it } from 'vitest';
import { FORMS_BY_MNEMONIC, OPCODES } from '../../src/emu/cpu/isa/opcodes';
import { hoverAt } from '../../src/language-server/hover';
import { baseMnemonic, encodingText } from '../../src/language-server/mnemonics';

const hoverText = (line: string, character: number) => {
  const h = hoverAt(line, { line: 0, character });
  return h ? (h.contents as { value: string }).value : undefined;
};

describe('mnemonic hover', () => {
  it('prints the opcode column of every form as the table row wrote it', () => {
    // The row's own text (`spec`) holds the encoding as written in opcodes.ts.
    for (const f of OPCODES) expect(`${f.spec} `, f.spec).toContain(` ${encodingText(f)} `);
  });

  it('lists every form of the mnemonic under the cursor', () => {
    const text = hoverText('  movq %rax, %rbx', 3)!;
    // movq is mov with a q suffix and also the SSE MOVQ: both are listed.
    const forms = [...FORMS_BY_MNEMONIC.get('mov')!, ...FORMS_BY_MNEMONIC.get('movq')!];
    expect(text).toContain(`${forms.length} forms`);
    for (const f of forms) expect(text).toContain(encodingText(f));
    expect(text).toContain('r/m16/32/64, r16/32/64'); // 89 /r: mov Gv to Ev, source first in AT&T
  });

  it('resolves suffixed names, condition aliases and movabs to the table entry', () => {
    expect(baseMnemonic('movl')).toBe('mov');
    expect(baseMnemonic('movzbl')).toBe('movzb');
    expect(baseMnemonic('jz')).toBe('je');
    expect(baseMnemonic('cmovnae')).toBe('cmovb');
    expect(baseMnemonic('setnz')).toBe('setne');
    expect(baseMnemonic('iretq')).toBe('iret');
    expect(baseMnemonic('movabsq')).toBe('mov');
    expect(baseMnemonic('cltq')).toBe('cltq');
    expect(baseMnemonic('vmlaunch')).toBe('vmlaunch');
    expect(baseMnemonic('frobnicate')).toBeUndefined();
    expect(hoverText('frobnicate %eax', 2)).toBeUndefined();
  });

  it('shows the VMX instructions with their encodings', () => {
    expect(hoverText('vmlaunch', 1)).toContain('0F 01 C2');
    expect(hoverText('1: vmread %rax, %rbx', 5)).toContain('0F 78 /r');
  });

  it('marks forms that are invalid in 64-bit mode', () => {
    expect(hoverText('daa', 1)).toContain('not valid in 64-bit mode');
  });
});

describe('directive and register hover', () => {
  it('documents directives', () => {
    const text = hoverText('  .p2align 4, 0x90', 4)!;
    expect(text).toContain('.p2align log2');
    expect(hoverText('.frobnicate', 3)).toBeUndefined();
  });

  it('describes registers from the register table', () => {
    expect(hoverText('mov %r8d, %eax', 6)).toMatch(/32-bit general-purpose register 8; needs a REX prefix/);
    expect(hoverText('mov %ah, %al', 5)).toMatch(/cannot be used in an instruction that has a REX prefix/);
    expect(hoverText('mov %cr3, %rax', 6)).toMatch(/control register 3/);
  });

  it('is silent on operands, comments and blanks', () => {
    expect(hoverText('jmp target # mov', 6)).toBeUndefined();
    expect(hoverText('jmp target # mov', 14)).toBeUndefined();
    expect(hoverText('    ', 2)).toBeUndefined();
  });
});
