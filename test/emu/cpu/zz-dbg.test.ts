import { it } from 'vitest';
import { decode, DecodedInsn } from '../../../src/emu/cpu/decoder';
it('dbg', () => {
  const dd = new DecodedInsn();
  for (const b of [[0x48, 0x89, 0xc3, 0xcc], [0x89, 0xc3], [0x90], [0xcc]]) {
    console.log(b, decode(new Uint8Array(b), 0, 64, dd), dd.entry, dd.length);
  }
});
