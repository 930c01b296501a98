import { it } from 'vitest';
import { parseElf } from '/work/main/src/emu/loader/elf';
import { gnuBuild } from '/work/main/test/support/gnu-link';
it('x', () => {
  const exec64 = gnuBuild({ 'a.s': '.globl _start\n_start: ret\n' }, ['a.s'], { base: 0x100000n });
  const d = new Uint8Array(exec64); d[8] = 5;
  try { parseElf(d); console.log('ok'); } catch (e) { console.log(String(e)); }
});
