// The TextMate grammar's regular expressions, run with JavaScript's engine (their syntax is
// kept to the subset Oniguruma and JavaScript share), on lines whose parts we know: the
// first word of a statement is a mnemonic or directive, labels are labels, `sym = expr`
// is no instruction, and `#` lines of .S files are preprocessor lines, not comments.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

interface Rule {
  match?: string;
  begin?: string;
  end?: string;
  patterns?: Rule[];
  captures?: Record<string, Rule>;
  beginCaptures?: Record<string, Rule>;
  name?: string;
}

const grammar = JSON.parse(readFileSync(resolve(__dirname, '../../syntaxes/vmx-asm.tmLanguage.json'), 'utf8')) as {
  scopeName: string;
  patterns: Rule[];
  repository: Record<string, Rule>;
};
const rule = (name: string) => grammar.repository[name];
const regex = (source: string) => new RegExp(source, 'g');

function allRules(r: Rule, out: Rule[] = []): Rule[] {
  out.push(r);
  for (const child of [...(r.patterns ?? []), ...Object.values(r.captures ?? {}), ...Object.values(r.beginCaptures ?? {})]) allRules(child, out);
  return out;
}

/** The statement rule's captures on `line`: labels, directive, prefixes, mnemonic. */
function statement(line: string) {
  const m = regex(rule('statement').match!).exec(line);
  return m && { labels: m[2]?.trim() ?? '', directive: m[3], prefixes: m[4]?.trim() || undefined, mnemonic: m[5] };
}

/** The scope the mnemonic sub-rules give to `word` (first rule that matches wins, as in TextMate). */
function mnemonicScope(word: string): string | undefined {
  return rule('mnemonic').patterns!.find((p) => regex(p.match!).test(word))?.name;
}

describe('vmx-asm TextMate grammar', () => {
  it('has only includes that resolve and regexes that compile', () => {
    const rules = [...grammar.patterns, ...Object.values(grammar.repository)].flatMap((r) => allRules(r));
    for (const r of rules) {
      for (const source of [r.match, r.begin, r.end]) if (source) expect(() => regex(source), source).not.toThrow();
      const include = (r as { include?: string }).include;
      if (include?.startsWith('#')) expect(grammar.repository, include).toHaveProperty(include.slice(1));
    }
  });

  it('finds the mnemonic or directive at the head of a statement, after labels and prefixes', () => {
    expect(statement('    movq %rax, %rbx')).toMatchObject({ labels: '', mnemonic: 'movq' });
    expect(statement('start: 1: rep movsb')).toMatchObject({ labels: 'start: 1:', prefixes: 'rep', mnemonic: 'movsb' });
    expect(statement('msg: .asciz "hi"')).toMatchObject({ labels: 'msg:', directive: '.asciz', mnemonic: undefined });
    expect(statement('.Lloop: dec %ecx')).toMatchObject({ labels: '.Lloop:', mnemonic: 'dec' });
    expect(statement('\tvmlaunch')).toMatchObject({ mnemonic: 'vmlaunch' });
    expect(statement('COUNT = 4')).toBeNull();
    expect(statement('only_a_label:')).toBeNull();
    expect(regex(rule('labels').match!).exec('only_a_label:')?.[2]).toBe('only_a_label:');
  });

  it('gives VMX instructions and control transfers their own scopes', () => {
    for (const m of ['vmxon', 'vmlaunch', 'vmresume', 'vmread', 'vmwrite', 'vmcall', 'invept', 'invvpid']) {
      expect(mnemonicScope(m), m).toBe('keyword.other.mnemonic.vmx.vmx-asm');
    }
    for (const m of ['jmp', 'jne', 'call', 'callq', 'ret', 'iretq', 'hlt']) expect(mnemonicScope(m), m).toBe('keyword.control.mnemonic.vmx-asm');
    for (const m of ['mov', 'vmovdqa', 'lgdt']) expect(mnemonicScope(m), m).toBe('keyword.other.mnemonic.vmx-asm');
  });

  it('tells .S preprocessor lines from # comments', () => {
    const cpp = regex(rule('preprocessor').begin!);
    expect(cpp.test('#include "vmx.h"')).toBe(true);
    expect(regex(rule('preprocessor').begin!).test('  # define X 1')).toBe(true);
    expect(regex(rule('preprocessor').begin!).test('# just a comment')).toBe(false);
    expect(regex(rule('preprocessor').begin!).test('mov %eax, %ebx # include')).toBe(false);
  });

  it('scopes registers, immediates, numbers and local label references in operands', () => {
    const scopeOf = (text: string) =>
      rule('operands').patterns!.concat(rule('numbers').patterns!).find((p) => p.match && new RegExp(`^(?:${p.match})$`).test(text))?.name;
    expect(scopeOf('%r15d')).toBe('variable.language.register.vmx-asm');
    expect(scopeOf('%st(1)')).toBe('variable.language.register.vmx-asm');
    expect(scopeOf('$')).toBe('keyword.operator.immediate.vmx-asm');
    expect(scopeOf('1f')).toBe('entity.name.label.local.reference.vmx-asm');
    expect(scopeOf('0x3f8')).toBe('constant.numeric.hex.vmx-asm');
    expect(scopeOf('\\port')).toBe('variable.parameter.macro.vmx-asm');
  });
});
