// Byte-level output of one instruction: the bytes in order plus the fixups for fields whose
// value is only known at link time (or, for constant branch targets, once the front end
// knows the instruction's address).
import type { Encoded, Fixup, Value } from '../ast';

export class InsnBuilder {
  private readonly out: number[] = [];
  private readonly fix: Fixup[] = [];

  get length(): number {
    return this.out.length;
  }

  byte(b: number): void {
    this.out.push(b & 0xff);
  }

  bytes(bs: readonly number[]): void {
    for (const b of bs) this.out.push(b & 0xff);
  }

  /** A little-endian constant of `size` bytes (two's complement, truncated to the field). */
  constant(v: bigint, size: 1 | 2 | 4 | 8): void {
    let x = BigInt.asUintN(size * 8, v);
    for (let i = 0; i < size; i++) {
      this.out.push(Number(x & 0xffn));
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
    this.fix.push({ offset: this.out.length, size, pcrel: false, signed, value });
    this.constant(0n, size);
  }

  /** A PC-relative field: always a fixup, resolved against the end of the instruction. */
  pcrel(value: Value, size: 1 | 2 | 4): void {
    this.fix.push({ offset: this.out.length, size, pcrel: true, signed: true, value });
    this.constant(0n, size);
  }

  finish(): Encoded {
    return { bytes: new Uint8Array(this.out), fixups: this.fix };
  }
}
