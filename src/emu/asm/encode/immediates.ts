// Immediate operands: which fields a value fits, and GNU as's truncation warnings
// ("0x100 shortened to 0x0"). Sizes follow SDM Vol. 2 §2.2.1.5 (immediates in 64-bit mode
// are at most 32 bits, sign-extended, except MOV r64, imm64).
import type { Value } from '../ast';

/** `v` is representable in `bits` bits, as a signed or an unsigned number (GNU as's test). */
export function fitsBits(v: bigint, bits: number): boolean {
  const hi = v >> BigInt(bits);
  return hi === 0n || hi === -1n;
}

export function fitsSigned(v: bigint, bits: number): boolean {
  return BigInt.asIntN(bits, v) === v;
}

export function hex(v: bigint): string {
  return `0x${BigInt.asUintN(64, v).toString(16)}`;
}

/**
 * A constant immediate stored in a `bits`-wide field: GNU as keeps the low bits and warns
 * when the value fits neither as signed nor as unsigned.
 */
export function truncate(value: Value, bits: number, warnings: string[]): Value {
  if (value.symbol !== undefined || bits >= 64) return value;
  if (!fitsBits(value.addend, bits)) {
    const kept = BigInt.asUintN(bits, value.addend);
    warnings.push(`${hex(value.addend)} shortened to ${hex(kept)}`);
    return { addend: kept };
  }
  return value;
}
