// Which word is under the cursor and what it is: the basis of hover and completion.
import { describe, expect, it } from 'vitest';
import { atStatementHead, codeEnd, wordAt } from '../../src/language-server/statement';

/** wordAt with the cursor on the first occurrence of `word` in `line`. */
const on = (line: string, word: string, nth = 0) => {
  let at = -1;
  for (let i = 0; i <= nth; i++) at = line.indexOf(word, at + 1);
  return wordAt(line, at + 1);
};

describe('wordAt', () => {
  it('finds the mnemonic after labels and prefixes', () => {
    expect(on('start: 1: rep movsb', 'movsb')).toEqual({ role: 'mnemonic', text: 'movsb', start: 14, end: 19 });
    expect(on('start: 1: rep movsb', 'rep')?.role).toBe('prefix');
    expect(on('  lock; addl $1, (%rax)', 'addl')?.role).toBe('mnemonic');
  });

  it('finds directives, registers and operands', () => {
    expect(on('msg: .asciz "hi"', '.asciz')).toMatchObject({ role: 'directive', text: '.asciz' });
    expect(on('mov %cr0, %rax', '%rax')).toMatchObject({ role: 'register', text: '%rax' });
    expect(on('mov %fs:0x10(%rbx), %eax', '%rbx')).toMatchObject({ role: 'register', text: '%rbx' });
    expect(on('jmp .Lloop', '.Lloop')).toMatchObject({ role: 'operand', text: '.Lloop' });
    expect(on('mov $mov, %eax', 'mov', 1)).toMatchObject({ role: 'operand', text: 'mov' });
    expect(on('jne 1b', '1b')).toMatchObject({ role: 'operand', text: '1b' });
  });

  it('treats `sym = expr` as an assignment, not an instruction', () => {
    expect(on('COUNT = 4', 'COUNT')?.role).toBe('operand');
  });

  it('sees nothing in comments and strings', () => {
    expect(on('nop # mov is here', 'mov')).toBeUndefined();
    expect(codeEnd('.ascii "#not a comment" # comment')).toBe(24);
  });
});

describe('atStatementHead', () => {
  it('is true where a mnemonic or directive is being typed', () => {
    expect(atStatementHead('  mo', 4)).toBe(true);
    expect(atStatementHead('label: .as', 10)).toBe(true);
    expect(atStatementHead('rep mov', 7)).toBe(true);
    expect(atStatementHead('nop; x', 6)).toBe(true);
  });

  it('is false in operands', () => {
    expect(atStatementHead('mov %e', 6)).toBe(false);
    expect(atStatementHead('mov $1, ', 8)).toBe(false);
  });
});
