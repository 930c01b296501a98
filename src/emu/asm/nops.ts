// The padding GNU as 2.40 (`as --64`, tuning generic64) puts into code sections for
// .align/.p2align/.nops: the longest recommended multi-byte NOP (SDM Vol. 2B, NOP — "Recommended
// Multi-Byte Sequence of NOP Instruction", extended with 66/2E prefixes as gas does) repeated,
// the remainder last; padding of more than 7 such NOPs starts with a jump over them.
// In .code16 gas uses 1-4 byte `lea 0(%si),%si` forms and jumps over more than 2 of them.
import type { CodeMode } from './ast';

const NOP_LONG: readonly (readonly number[])[] = [
  [0x90],
  [0x66, 0x90],
  [0x0f, 0x1f, 0x00],
  [0x0f, 0x1f, 0x40, 0x00],
  [0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
  [0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
];

const NOP_16: readonly (readonly number[])[] = [
  [0x90],
  [0x66, 0x90],
  [0x8d, 0x74, 0x00],
  [0x8d, 0xb4, 0x00, 0x00],
];

/** Writes `count` bytes of NOP padding for code in `mode` into `out` at `at`. */
export function writeNops(out: Uint8Array, at: number, count: number, mode: CodeMode): void {
  const patterns = mode === 16 ? NOP_16 : NOP_LONG;
  const max = patterns.length;
  const maxNops = mode === 16 ? 2 : 7;
  let p = at;
  if (Math.floor(count / max) > maxNops) {
    // jmp rel8 (EB) when it reaches, else jmp rel32 (E9; 66 E9 in 16-bit code).
    const disp8 = count - 2;
    if (disp8 <= 127) {
      out[p++] = 0xeb;
      out[p++] = disp8;
      count = disp8;
    } else {
      if (mode === 16) out[p++] = 0x66;
      out[p++] = 0xe9;
      count -= (mode === 16 ? 2 : 1) + 4;
      new DataView(out.buffer, out.byteOffset).setInt32(p, count, true);
      p += 4;
    }
  }
  const last = count % max;
  for (let i = 0; i < count - last; i += max) out.set(patterns[max - 1], p + i);
  if (last) out.set(patterns[last - 1], p + count - last);
}
