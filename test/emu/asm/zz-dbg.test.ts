import { it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { assemble } from '/work/main/src/emu/asm/assembler';
import { writeObject } from '/work/main/src/emu/asm/elf-writer';
it('x', () => {
  const src = process.env.SRC!;
  const o = assemble(src, { file: 'x.s' });
  writeFileSync('/tmp/fe/ours.o', writeObject(o.object));
  console.log(o.diagnostics);
});
