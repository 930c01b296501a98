// A growable UTF-8 byte buffer for building large texts (a whole-file disassembly listing).
// Appending to a byte array and decoding once at the end keeps the hundreds of thousands of
// line strings a listing would otherwise hold alive (and copy at every young-generation
// garbage collection) out of the heap: each piece becomes garbage as soon as it is copied.

const utf8 = new TextEncoder();
const HEX_DIGITS = '0123456789abcdef';

export class TextBuffer {
  private buf = new Uint8Array(1 << 16);
  private n = 0;

  private reserve(extra: number): void {
    if (this.n + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }

  /** Append a string (ASCII copied byte by byte, anything else through TextEncoder). */
  text(s: string): void {
    const len = s.length;
    this.reserve(len * 3);
    const buf = this.buf;
    let n = this.n;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        n += utf8.encodeInto(s.slice(i), buf.subarray(n)).written;
        break;
      }
      buf[n++] = c;
    }
    this.n = n;
  }

  /** Append one ASCII character by code. */
  char(c: number): void {
    this.reserve(1);
    this.buf[this.n++] = c;
  }

  /** Append `count` copies of an ASCII character. */
  repeat(c: number, count: number): void {
    if (count <= 0) return;
    this.reserve(count);
    this.buf.fill(c, this.n, this.n + count);
    this.n += count;
  }

  /** Append a byte as two lower-case hex digits. */
  hexByte(b: number): void {
    this.reserve(2);
    this.buf[this.n++] = HEX_DIGITS.charCodeAt(b >> 4);
    this.buf[this.n++] = HEX_DIGITS.charCodeAt(b & 15);
  }

  toString(): string {
    return new TextDecoder().decode(this.buf.subarray(0, this.n));
  }
}
