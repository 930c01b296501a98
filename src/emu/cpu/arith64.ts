// Wide multiplication and division on int32 halves, without BigInt or allocation (DESIGN.md
// "No BigInt in the hot path"). Results land in the module-level `W` array:
// W[0..3] = 128-bit product words (least significant first), or quotient (W[0], W[1]) and
// remainder (W[2], W[3]) for divisions.

export const W = new Int32Array(4);

/** Unsigned 32×32 → 64: returns the low half, high half in W[1] (W[0] also holds the low half). */
export function mulU32(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  const lo = ((mid & 0xffff) << 16) | (ll & 0xffff);
  W[0] = lo;
  W[1] = (hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) | 0;
  return lo;
}

/** Signed 32×32 → 64 (two's complement): low half returned, high half in W[1]. */
export function mulS32(a: number, b: number): number {
  const lo = mulU32(a, b);
  let hi = W[1];
  if (a < 0) hi = (hi - b) | 0;
  if (b < 0) hi = (hi - a) | 0;
  W[1] = hi;
  return lo;
}

/** Unsigned 64×64 → 128 into W[0..3]. */
export function mulU64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  const p0 = mulU32(aLo, bLo), p0h = W[1];
  const p1 = mulU32(aLo, bHi), p1h = W[1];
  const p2 = mulU32(aHi, bLo), p2h = W[1];
  const p3 = mulU32(aHi, bHi), p3h = W[1];
  // word1 = p0h + p1 + p2; word2 = p1h + p2h + p3 + carry; word3 = p3h + carry.
  const w1 = (p0h >>> 0) + (p1 >>> 0) + (p2 >>> 0);
  const c1 = Math.floor(w1 / 4294967296);
  const w2 = (p1h >>> 0) + (p2h >>> 0) + (p3 >>> 0) + c1;
  const c2 = Math.floor(w2 / 4294967296);
  W[0] = p0;
  W[1] = w1 | 0;
  W[2] = w2 | 0;
  W[3] = (p3h + c2) | 0;
}

/** Signed 64×64 → 128 into W[0..3]. */
export function mulS64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  mulU64(aLo, aHi, bLo, bHi);
  // Two's complement correction of the upper 64 bits: subtract b if a < 0, a if b < 0.
  if (aHi < 0) sub64Upper(bLo, bHi);
  if (bHi < 0) sub64Upper(aLo, aHi);
}

function sub64Upper(lo: number, hi: number): void {
  const t = (W[2] >>> 0) - (lo >>> 0);
  W[2] = t | 0;
  W[3] = (W[3] - hi - (t < 0 ? 1 : 0)) | 0;
}

/**
 * Unsigned (nHi:nLo) / d for 64-bit dividend halves and a 32-bit divisor, with nHi < d
 * (the caller raised #DE otherwise): quotient in W[0], remainder in W[2]. Two 16-bit
 * long-division steps keep every intermediate below 2^48, where doubles are exact.
 */
export function divU64by32(nLo: number, nHi: number, d: number): void {
  const dv = d >>> 0;
  const t1 = (nHi >>> 0) * 65536 + (nLo >>> 16);
  const q1 = Math.floor(t1 / dv);
  const r1 = t1 - q1 * dv;
  const t0 = r1 * 65536 + (nLo & 0xffff);
  const q0 = Math.floor(t0 / dv);
  W[0] = (q1 * 65536 + q0) | 0;
  W[2] = (t0 - q0 * dv) | 0;
}

/**
 * Unsigned 128/64 division: (n3:n2:n1:n0) / (dHi:dLo) with (n3:n2) < (dHi:dLo) (the caller
 * raised #DE otherwise). Quotient in W[0], W[1]; remainder in W[2], W[3]. Restoring
 * shift-subtract over the 64 quotient bits, on 32-bit words.
 */
export function divU128by64(n0: number, n1: number, n2: number, n3: number, dLo: number, dHi: number): void {
  if (dHi === 0 && n3 === 0) {
    // Divisor and the high remainder fit 32 bits: two 64-by-32 steps.
    divU64by32(n1, n2, dLo);
    const qHi = W[0];
    divU64by32(n0, W[2], dLo);
    W[1] = qHi;
    W[3] = 0;
    return;
  }
  let rLo = n2 >>> 0, rHi = n3 >>> 0;
  let qLo = n0 >>> 0, qHi = n1 >>> 0; // shifts out dividend bits as quotient bits shift in
  const dl = dLo >>> 0, dh = dHi >>> 0;
  for (let i = 0; i < 64; i++) {
    const top = rHi >>> 31; // bit shifted out of the 64-bit remainder (the remainder is then ≥ 2^64 > d)
    rHi = ((rHi << 1) | (rLo >>> 31)) >>> 0;
    rLo = ((rLo << 1) | (qHi >>> 31)) >>> 0;
    qHi = ((qHi << 1) | (qLo >>> 31)) >>> 0;
    qLo = (qLo << 1) >>> 0;
    if (top !== 0 || rHi > dh || (rHi === dh && rLo >= dl)) {
      const t = rLo - dl;
      rLo = t >>> 0;
      rHi = (rHi - dh - (t < 0 ? 1 : 0)) >>> 0;
      qLo = (qLo | 1) >>> 0;
    }
  }
  W[0] = qLo | 0;
  W[1] = qHi | 0;
  W[2] = rLo | 0;
  W[3] = rHi | 0;
}
