// Hover on %riz / %eiz: they are not registers but objdump's way of writing a SIB byte with
// no index (the register table's `noIndex`). The example the hover shows must be what
// objdump itself prints for those bytes (GNU as + objdump as the oracle).
import { describe, expect, it } from 'vitest';
import { hoverAt } from '../../src/language-server/hover';
import { run, withTemp, writeFiles } from '../support/gnu-link';

const hoverText = (line: string, character: number) => {
  const h = hoverAt(line, { line: 0, character });
  return h ? (h.contents as { value: string }).value : undefined;
};

describe('hover on the no-index pseudo-registers', () => {
  for (const name of ['riz', 'eiz']) {
    it(`describes %${name} as objdump's "no index", with an example objdump prints`, () => {
      const text = hoverText(`lea 0x0(%rsi,%${name},1), %rsi`, 15)!;
      expect(text).toContain(`**%${name}**`);
      expect(text).toContain('"no index"');
      expect(text).not.toMatch(/general-purpose register/);
      const example = /`([^`]+)`/.exec(text)![1];
      const printed = withTemp((dir) => {
        writeFiles(dir, { 'x.s': `.allow_index_reg\n${example}\n` });
        expect(run('as', ['--64', '-o', 'x.o', 'x.s'], dir).status).toBe(0);
        return run('objdump', ['-d', 'x.o'], dir).stdout;
      });
      const line = printed.split('\n').find((l) => /^\s+0:/.test(l))!;
      expect(line.split('\t').pop()!.replace(/\s+/g, ' ').trim()).toBe(example.replace(/\s+/g, ' '));
    });
  }
});
