// The debug registers decoded (SDM Vol. 3B §18.2): which breakpoints DR7 arms, where, how
// long, and the debug conditions recognized but not yet delivered.
//
// DR0-DR3, DR6 and DR7 themselves stay in CpuState (`dr`, `dr6`, `dr7`), where VMX saves and
// loads them. This unit is recomputed from them whenever they change (debug.ts
// `debugRegistersChanged`), so the CPU's checks read masks instead of decoding DR7 on every
// access, and nothing here costs anything while no breakpoint is enabled:
// - instruction breakpoints are checked only by the CPU's debug loop (cpu.ts executeDebug),
//   which runs only while one is enabled or RFLAGS.TF/RF is set;
// - data breakpoints make the linear pages that hold them bypass the software TLB, so only
//   accesses to those pages take the slow path that calls `watchAccess`;
// - I/O breakpoints are checked on port I/O, which is a slow path already.
//
// `pending` uses the format of the VMCS pending-debug-exceptions field (SDM Vol. 3C §24.4.2
// Table 24-4): B0-B3 in bits 3:0 (conditions met, enabled or not), bit 12 (an enabled data or
// I/O breakpoint matched), BS in bit 14 (single step). A VM exit saves it and a VM entry
// loads it in that format. There is something to deliver when bit 12 or BS is set.

/** DR6 (SDM Vol. 3B §18.2.3): B0-B3, BD (debug-register access detected), BS (single step), BT (task switch). */
export const DR6_B_MASK = 0xf, DR6_BD = 0x2000, DR6_BS = 0x4000, DR6_BT = 0x8000;
/**
 * DR6 bits that always read as 1: 4-11 and 16-31. Bit 16 (RTM) reads as 1 because CPUID does
 * not advertise RTM; bit 12 reads as 0.
 */
export const DR6_FIXED1 = 0xffff0ff0 | 0;
/** DR6 bits MOV to DR6 changes; the processor itself clears only B0-B3 (§18.2.3). */
export const DR6_WRITABLE = DR6_B_MASK | DR6_BD | DR6_BS | DR6_BT;
/** DR7 (SDM Vol. 3B §18.2.4): GD (general detect). Bit 10 reads as 1. */
export const DR7_GD = 0x2000, DR7_FIXED1 = 0x400;
/** DR7 bits that hold what is written: L0-G3, LE, GE, GD, R/W0-LEN3 (bit 11, RTM, reads as 0 without RTM). */
export const DR7_WRITABLE = 0xffff23ff | 0;
/** Pending-debug-exceptions bit 12: an enabled data or I/O breakpoint matched (SDM Vol. 3C Table 24-4). */
export const PENDING_ENABLED = 0x1000;
/** Pending-debug-exceptions bits that mean "a #DB is to be delivered". */
export const PENDING_VALID = PENDING_ENABLED | DR6_BS;

/** Breakpoint kinds by the R/Wn field of DR7 (SDM Vol. 3B §18.2.4). */
const RW_EXEC = 0, RW_WRITE = 1, RW_IO = 2;
/** Lengths by the LENn field: 00 one byte, 01 two, 10 eight, 11 four. */
const LENGTHS = [1, 2, 8, 4];

export class DebugUnit {
  /** Instruction breakpoints (R/W = 00): every one, and those enabled by Ln or Gn. */
  execAll = 0;
  execEnabled = 0;
  /** I/O breakpoints (R/W = 10; they exist only with CR4.DE = 1, checked when they match). */
  ioAll = 0;
  ioEnabled = 0;
  /** Data breakpoints (R/W = 01 writes, 11 reads and writes): every one, enabled ones, write-only ones. */
  dataAll = 0;
  dataEnabled = 0;
  dataWriteOnly = 0;
  /** Number of enabled data breakpoints: accesses to their pages leave the software TLB (cpu-memory.ts). */
  watchCount = 0;
  /** Per DRn: the address aligned down to its length, as int32 halves, and the length in bytes. */
  readonly lo = new Int32Array(4);
  readonly hi = new Int32Array(4);
  readonly len = new Int32Array(4);
  /** Per DRn: the address as a number, for instruction breakpoints (compared with the linear RIP). */
  readonly addr = new Float64Array(4);
  /** Debug traps recognized and not yet delivered (pending-debug-exceptions format, see above). */
  pending = 0;
  /**
   * The #DB the debug unit is raising: DR6 bits to report, plus DEBUG_EVENT so that it is
   * never 0. deliverEvent applies it (DR6, DR7.GD, IA32_DEBUGCTL) once the event is really
   * delivered through the IDT; a VM exit instead reports it as the exit qualification.
   */
  event = 0;
  /** Set during an instruction that must not single-step (INT n, INT3, INTO, INT1, VM entries and exits). */
  stepCancel = false;

  /** The DR7 value the fields above were decoded from (DR0-DR3: `addr`); NaN before the first decode. */
  private decodedDr7 = NaN;

  /** Decodes DR7 and DR0-DR3 (`dr` as CpuState holds them). Returns true when data breakpoints were or are enabled (the pages watched may have changed). */
  decode(dr: Float64Array, dr7: number): boolean {
    const oldData = this.dataEnabled;
    // Every VM entry and exit lands here (issue 4): unchanged registers decode to the same fields.
    const a = this.addr;
    if (dr7 === this.decodedDr7 && dr[0] === a[0] && dr[1] === a[1] && dr[2] === a[2] && dr[3] === a[3]) return oldData !== 0;
    this.decodedDr7 = dr7;
    let exec = 0, execOn = 0, io = 0, ioOn = 0, data = 0, dataOn = 0, writeOnly = 0, watch = 0;
    for (let n = 0; n < 4; n++) {
      const bit = 1 << n;
      const enabled = ((dr7 >>> (2 * n)) & 3) !== 0;
      const rw = (dr7 >>> (16 + 4 * n)) & 3;
      const len = rw === RW_EXEC ? 1 : LENGTHS[(dr7 >>> (18 + 4 * n)) & 3];
      const a = dr[n];
      // The low address bits below the length are ignored (§18.2.5: breakpoints are aligned).
      this.lo[n] = (a | 0) & -len;
      this.hi[n] = Math.floor(a / 4294967296) | 0;
      this.len[n] = len;
      this.addr[n] = a;
      if (rw === RW_EXEC) { exec |= bit; if (enabled) execOn |= bit; }
      else if (rw === RW_IO) { io |= bit; if (enabled) ioOn |= bit; }
      else {
        data |= bit;
        if (rw === RW_WRITE) writeOnly |= bit;
        if (enabled) { dataOn |= bit; watch++; }
      }
    }
    this.execAll = exec; this.execEnabled = execOn;
    this.ioAll = io; this.ioEnabled = ioOn;
    this.dataAll = data; this.dataEnabled = dataOn; this.dataWriteOnly = writeOnly;
    this.watchCount = watch;
    return (dataOn | oldData) !== 0;
  }

  /** Instruction breakpoints (enabled or not) whose address is the linear address `lin` (SDM §18.3.1.1). */
  execMatch(lin: number, long64: boolean): number {
    let m = 0;
    for (let n = 0; n < 4; n++) {
      if (((this.execAll >>> n) & 1) === 0) continue;
      const a = this.addr[n];
      if (long64 ? a === lin : (a | 0) === (lin | 0)) m |= 1 << n;
    }
    return m;
  }

  /** I/O breakpoints (enabled or not) covering any of the ports [port, port + size) (SDM §18.3.1.2). */
  ioMatch(port: number, size: number): number {
    let m = 0;
    for (let n = 0; n < 4; n++) {
      if (((this.ioAll >>> n) & 1) === 0) continue;
      const a = this.lo[n] & 0xffff;
      if (port < a + this.len[n] && a < port + size) m |= 1 << n;
    }
    return m;
  }

  /**
   * A data access of `size` bytes at linear (lo, hi) that does not cross a page. Returns
   * true when its page holds an enabled data breakpoint (the access must not be cached), and
   * records the breakpoints it matches, enabled or not (SDM §18.2.3: B0-B3 report matched
   * conditions even for breakpoints DR7 does not enable), in `pending`.
   */
  watchAccess(lo: number, hi: number, size: number, write: boolean, long64: boolean): boolean {
    const page = lo & -4096;
    let watched = false;
    for (let n = 0; n < 4; n++) {
      if (((this.dataEnabled >>> n) & 1) !== 0 && (this.lo[n] & -4096) === page && (!long64 || this.hi[n] === hi)) watched = true;
    }
    if (!watched) return false;
    const off = lo & 0xfff;
    let m = 0;
    for (let n = 0; n < 4; n++) {
      const bit = 1 << n;
      if ((this.dataAll & bit) === 0 || (!write && (this.dataWriteOnly & bit) !== 0)) continue;
      if ((this.lo[n] & -4096) !== page || (long64 && this.hi[n] !== hi)) continue;
      const a = this.lo[n] & 0xfff;
      if (off < a + this.len[n] && a < off + size) m |= bit;
    }
    if (m !== 0) this.pending |= m | ((m & this.dataEnabled) !== 0 ? PENDING_ENABLED : 0);
    return true;
  }
}
