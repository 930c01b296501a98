// Completion offers what fits where the cursor is, from the tables.
import { describe, expect, it } from 'vitest';
import { FORMS_BY_MNEMONIC } from '../../src/emu/cpu/isa/opcodes';
import { REGISTERS } from '../../src/emu/cpu/isa/registers';
import { completionsAt, definedSymbols } from '../../src/language-server/completion';
import { DIRECTIVE_DOCS } from '../../src/language-server/directives';

const labels = (text: string, line: string, character = line.length) =>
  new Set(completionsAt(text, line, character).map((i) => i.label));

describe('completion', () => {
  it('offers every table mnemonic, the condition aliases and the directives at the head of a statement', () => {
    const got = labels('', '  mo');
    for (const m of FORMS_BY_MNEMONIC.keys()) expect(got).toContain(m);
    for (const alias of ['jz', 'jnae', 'setnz', 'cmovc']) expect(got).toContain(alias);
    expect(got).toContain('.text');
    expect(got).toContain('lock');
    expect(got).not.toContain('%rax');
  });

  it('offers only directives after a dot', () => {
    const got = labels('', 'msg: .as');
    expect(got).toEqual(new Set([...DIRECTIVE_DOCS.keys()].map((d) => `.${d}`)));
  });

  it('offers registers after %', () => {
    const got = labels('', 'mov %');
    expect(got).toEqual(new Set([...REGISTERS.keys()].map((r) => `%${r}`)));
  });

  it("offers registers and the document's symbols in operands", () => {
    const text = 'start:\n.Lloop: dec %ecx\nPORT = 0x3f8\n.equ COUNT, 4\n  jne \n';
    expect(definedSymbols(text).sort()).toEqual(['.Lloop', 'COUNT', 'PORT', 'start']);
    const got = labels(text, '  jne ');
    for (const s of ['.Lloop', 'COUNT', 'PORT', 'start', '%rax']) expect(got).toContain(s);
    expect(got).not.toContain('mov');
  });
});
