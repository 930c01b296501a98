// The architectural state of one logical processor: the register file, RIP, RFLAGS (with
// its lazily computed arithmetic flags, see flags.ts), segment registers with their hidden
// descriptor caches, control/debug registers, descriptor-table registers and MSR storage.
//
// Layout choices (DESIGN.md "Designing for speed", item 4):
// - The 16 GPRs are int32 halves in one Int32Array: regs[2*n] = bits 31:0, regs[2*n+1] =
//   bits 63:32. Every handler works on int32 values; 64-bit results come out of 32-bit
//   arithmetic with explicit carries. No BigInt anywhere.
// - RIP is a plain number. In 64-bit mode it holds the canonical address as a signed value in
//   [-2^47, 2^47) (a double represents that exactly); in 16/32-bit modes it is EIP/IP, unsigned.
// - Segment registers (ES CS SS DS FS GS, then LDTR and TR) keep selector, base (as int32
//   halves, since FS/GS bases are 64-bit), limit (unsigned, in a Float64Array) and the access
//   rights in the VMCS "segment access rights" format (SDM Vol. 3C §24.4.1 Table 24-2), so the
//   VMX code can save and load them without conversion.
import { DebugUnit } from './debug-registers';
import { RF_FIXED1 } from './flags';
import { FpuState } from './fpu';

/** Segment register indices (the ModRM Sreg encoding, SDM Vol. 2 §3.1.1.3), then LDTR and TR. */
export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5, LDTR = 6, TR = 7;

/** Segment access-rights bits (VMCS format, SDM Vol. 3C Table 24-2). */
export const AR_TYPE_MASK = 0xf;
/** Code/data type bit 3 (code), bit 1 (readable code / writable data), bit 2 (conforming / expand-down), bit 0 (accessed). */
export const AR_TYPE_CODE = 0x8, AR_TYPE_RW = 0x2, AR_TYPE_EC = 0x4, AR_TYPE_ACCESSED = 0x1;
export const AR_S = 1 << 4;
export const AR_DPL_SHIFT = 5;
export const AR_P = 1 << 7;
export const AR_AVL = 1 << 12;
export const AR_L = 1 << 13;
export const AR_DB = 1 << 14;
export const AR_G = 1 << 15;
export const AR_UNUSABLE = 1 << 16;

/** CR0 bits (SDM Vol. 3 §2.5). */
export const CR0_PE = 1, CR0_MP = 2, CR0_EM = 4, CR0_TS = 8, CR0_ET = 0x10, CR0_NE = 0x20;
export const CR0_WP = 1 << 16, CR0_AM = 1 << 18, CR0_NW = 1 << 29, CR0_CD = 1 << 30, CR0_PG = 1 << 31;
/** CR4 bits (SDM Vol. 3 §2.5). */
export const CR4_VME = 1, CR4_PVI = 2, CR4_TSD = 4, CR4_DE = 8, CR4_PSE = 0x10, CR4_PAE = 0x20;
export const CR4_MCE = 0x40, CR4_PGE = 0x80, CR4_PCE = 0x100, CR4_OSFXSR = 0x200, CR4_OSXMMEXCPT = 0x400;
export const CR4_UMIP = 0x800, CR4_VMXE = 0x2000, CR4_SMXE = 0x4000, CR4_FSGSBASE = 0x10000;
export const CR4_PCIDE = 0x20000, CR4_OSXSAVE = 0x40000, CR4_SMEP = 0x100000, CR4_SMAP = 0x200000;
/**
 * CR4 bits of features this CPU implements and CPUID advertises; MOV to CR4 sets no other bit
 * (#GP). VMXE only when VMX is attached. IA32_VMX_CR4_FIXED1 is derived from this (SDM A.8).
 */
export const CR4_IMPLEMENTED = CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT;
/** IA32_EFER bits (SDM Vol. 3 §2.2.1). */
export const EFER_SCE = 1, EFER_LME = 1 << 8, EFER_LMA = 1 << 10, EFER_NXE = 1 << 11;

/** Processor operating mode, derived from CR0.PE, EFER.LMA, RFLAGS.VM and CS.L/D (SDM Vol. 3 §2.2). */
export const MODE_REAL = 0, MODE_PROTECTED = 1, MODE_V8086 = 2, MODE_COMPAT = 3, MODE_LONG64 = 4;

export class CpuState {
  /** GPRs as int32 halves: regs[2n] low, regs[2n+1] high. */
  readonly regs = new Int32Array(32);
  /** RIP (signed canonical in 64-bit mode, unsigned EIP/IP otherwise). */
  rip = 0;

  // ---- RFLAGS (see flags.ts for the lazy arithmetic flags) ----
  /** RFLAGS bits that are not lazy, plus the arithmetic bits not listed in `lazyMask`. */
  flagsVal = RF_FIXED1;
  /** Which arithmetic flags (CF PF AF ZF SF OF bits) must be computed from the lf* fields. */
  lazyMask = 0;
  /**
   * Last flag-setting operation (flags.ts LF_* slots): kind (OP_*), size in bytes, result and
   * operands as int32 halves. An Int32Array rather than fields: int32 values outside V8's
   * small-integer range would make the fields boxed doubles.
   */
  readonly lf = new Int32Array(8);

  // ---- segments: ES CS SS DS FS GS LDTR TR ----
  readonly segSel = new Int32Array(8);
  readonly segBaseLo = new Int32Array(8);
  readonly segBaseHi = new Int32Array(8);
  /** Effective (byte-granular) limit, unsigned. */
  readonly segLimit = new Float64Array(8);
  /** Access rights in VMCS format. */
  readonly segAr = new Int32Array(8);

  // ---- descriptor tables ----
  gdtrBase = 0;
  gdtrLimit = 0;
  idtrBase = 0;
  idtrLimit = 0;

  // ---- control registers ----
  cr0 = CR0_ET | CR0_NW | CR0_CD; // power-up value 0x60000010 (SDM Vol. 3 §9.1.1 Table 9-1)
  /** Linear address of the last page fault (signed canonical). */
  cr2 = 0;
  cr3Lo = 0;
  cr3Hi = 0;
  cr4 = 0;
  /** Task-priority register (CR8 in 64-bit mode, bits 3:0). */
  cr8 = 0;
  efer = 0;
  /** DR0-DR3 as numbers (linear addresses), DR6, DR7 (SDM Vol. 3B §18.2). */
  readonly dr = new Float64Array(4);
  dr6 = 0xffff0ff0;
  dr7 = 0x400;
  /** The debug registers decoded, and debug traps not yet delivered (debug-registers.ts, debug.ts). */
  readonly debug = new DebugUnit();

  // ---- derived state, recomputed by updateMode() ----
  /** MODE_* constant. */
  mode = MODE_REAL;
  /** Decode mode of the current code segment: 16, 32 or 64. */
  codeBits: 16 | 32 | 64 = 16;
  /** Stack address size in bytes (SS.B, or 8 in 64-bit mode). */
  stackSize = 2;
  /** Current privilege level. */
  cpl = 0;

  /**
   * Model-specific registers without dedicated fields, as int32 halves keyed by MSR index.
   * Only the MSRs the CPU knows are ever inserted (rdmsr/wrmsr of others raise #GP).
   */
  readonly msrLo = new Map<number, number>();
  readonly msrHi = new Map<number, number>();

  /** x87 FPU, MXCSR and XMM registers (fpu.ts). */
  readonly fpu = new FpuState();

  /** HLT executed and no interrupt arrived yet. */
  halted = false;
  /**
   * The wait-for-SIPI state (SDM Vol. 3 §9.1.2 "Processor State After INIT", §9.4.4.1): an
   * application processor after INIT, or a guest entered with that activity state (SDM Vol. 3C
   * §26.6.2). Nothing runs and no interrupt is taken until a SIPI (machine/processor.ts, vmx/signals.ts).
   */
  waitForSipi = false;
  /** Interrupt shadow after STI / MOV SS / POP SS: interrupts are inhibited for one instruction (SDM Vol. 3 §6.8.3). */
  interruptShadow = false;
  /**
   * Blocking by NMI (SDM Vol. 3A §6.7.1): delivering an NMI blocks further NMIs until the next
   * IRET, and the one that arrives meanwhile stays latched (the local APIC holds at most one).
   * In VMX non-root operation with "virtual NMIs" = 1 this is virtual-NMI blocking instead
   * and physical NMIs are not blocked (SDM Vol. 3C §26.7.1, §25.3); it is the state that bit 3
   * of the guest interruptibility-state field loads and saves (Table 24-3).
   */
  nmiBlocked = false;
  /**
   * IRET ends blocking by NMI (SDM Vol. 2 IRET, Vol. 3A §6.7.1), except in VMX non-root
   * operation with "NMI exiting" = 1 and "virtual NMIs" = 0 (SDM §25.3 "IRET"); VM entry sets it.
   */
  iretUnblocksNmi = true;

  /** Segment base as a number (exact for canonical bases). */
  segBase(seg: number): number {
    return this.segBaseHi[seg] * 4294967296 + (this.segBaseLo[seg] >>> 0);
  }

  /** 64-bit register value as a number (exact while |value| < 2^53; for tests, tools and messages). */
  reg64(n: number): number {
    return this.regs[2 * n + 1] * 4294967296 + (this.regs[2 * n] >>> 0);
  }
}
