import { it } from 'vitest';
import { assemble } from '/work/main/src/emu/asm/assembler';
it('x', () => {
  const src = process.env.SRC!;
  const o = assemble(src, { file: 'x.s' });
  console.log('OURS', Buffer.from(o.object.sections[1].bytes).toString('hex'));
  console.log(o.diagnostics);
});
