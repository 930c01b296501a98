// Byte-level output of one instruction: the bytes in order plus the fixups for fields whose
// value is only known at link time (or, for constant branch targets, once the front end
// knows the instruction's address).
import type { Encoded, Fixup, Value } from '../ast';

export class InsnBuilder {
  /** Bytes so far, in a scratch buffer copied out by finish() (an instruction is at most 15 bytes). */
  private readonly out = SCRATCH;
  private n = 0;
  private readonly fix: Fixup[] = [];

  get length(): number {
    return this.n;
  }

  byte(b: number): void {
    this.out[this.n++] = b;
  }

  bytes(bs: readonly number[]): void {
    for (let i = 0; i < bs.length; i++) this.out[this.n++] = bs[i];
  }

  /** A little-endian constant of `size` bytes (two's complement, truncated to the field). */
  constant(v: bigint, size: 1 | 2 | 4 | 8): void {
    if (size <= 4) {
      let x = Number(BigInt.asUintN(32, v));
      for (let i = 0; i < size; i++, x >>>= 8) this.out[this.n++] = x & 0xff;
      return;
    }
    let x = BigInt.asUintN(64, v);
    for (let i = 0; i < size; i++) {
      this.out[this.n++] = Number(x & 0xffn);
      x >>= 8n;
    }
  }

  /**
   * A field holding `value`: written directly when it is a constant, else zero-filled with a
   * fixup (RELA style: the addend travels in the fixup, never in the bytes).
   */
  field(value: Value, size: 1 | 2 | 4 | 8, signed: boolean): void {
    if (value.symbol === undefined) {
      this.constant(value.addend, size);
      return;
    }
    this.fix.push({ offset: this.n, size, pcrel: false, signed, value });
    this.zeros(size);
  }

  /**
   * A PC-relative field: always a fixup, resolved against the end of the instruction.
   * `branch`: the target of a direct branch, not a RIP-relative memory operand.
   */
  pcrel(value: Value, size: 1 | 2 | 4, branch: boolean): void {
    this.fix.push(branch ? { offset: this.n, size, pcrel: true, signed: true, value, branch } : { offset: this.n, size, pcrel: true, signed: true, value });
    this.zeros(size);
  }

  private zeros(size: number): void {
    for (let i = 0; i < size; i++) this.out[this.n++] = 0;
  }

  finish(): Encoded {
    return { bytes: this.out.slice(0, this.n), fixups: this.fix };
  }
}

/**
 * Shared by all builders: one instruction is built at a time and copied out by finish().
 * Longer than any instruction (15 bytes), so hand-written excess prefixes cannot overflow it.
 */
const SCRATCH = new Uint8Array(64);
