// Alignment checking: SDM Vol. 3A §6.15 "Interrupt 17—Alignment Check Exception (#AC)" and
// Table 6-7 (alignment requirements by data type).
//
// A data access of a misaligned item raises #AC (a fault, benign in Table 6-5, error code 0)
// when CR0.AM = 1, RFLAGS.AC = 1 and CPL = 3. Code fetches and the implicit supervisor
// accesses (GDT, LDT, IDT and TSS reads and the stack pushes of a privilege change, made
// through segments.ts sysRead32/sysWrite32) are never checked, even from CPL 3.
//
// Cost (DESIGN.md "Designing for speed"): nothing while checking is off. CpuMemory keeps
// `alignCheck`, recomputed (updateAlignmentCheck) whenever one of the three conditions can
// change: CPL and CR0 (cpu.ts updateMode, which every CR0 write, mode change, event delivery,
// far transfer, SYSCALL/SYSRET and VM entry/exit reaches), RFLAGS.AC (POPF, IRET: handlers/
// system.ts loadFlags), at the start of every run slice (direct state edits by tools), and
// at the boundary after an instruction that suspended it (checkItemAlignment).
// While it is on, the software TLB caches nothing (it is flushed when checking turns on), so
// every data access takes the slow paths of cpu-memory.ts, which check the alignment — the
// technique debug-registers.ts uses for pages holding a data breakpoint.
//
// Most data types of Table 6-7 are as wide as the accesses the handlers make for them (word
// 2, doubleword and single 4, quadword and double 8, the 80-bit extended real's 8-byte
// significand 8, segment selectors 2, far pointers m16:16 2 and m16:32 4 through their offset
// part, bit strings by operand size), so the slow paths check each access against its own
// size. Items wider than their accesses' alignment are checked once (checkItemAlignment).
// Left to the implementation by the SDM: 128-bit SSE accesses that need no 16-byte alignment
// (MOVUPS, MOVDQU, LDDQU, ...) are checked as two quadwords, #AC below 8-byte alignment only
// (§6.15: #AC "may or may not be generated ... when not aligned on an 8-byte boundary");
// FXSAVE/FXRSTOR keep their #GP for a misaligned area ("either #AC or #GP").
// Not modelled: the EXT bit of an #AC raised while delivering an event (a same-privilege
// interrupt at CPL 3 in 32-bit protected mode pushing onto a misaligned stack) is 0.
import type { CpuMemory } from './cpu-memory';
import { CR0_AM, type CpuState } from './state';
import { CpuFault, AC_VEC } from './fault';
import { AC } from './flags';

/** Alignment checking is on: CR0.AM = 1, RFLAGS.AC = 1 and CPL 3 (protected or virtual-8086 mode). */
export function alignmentArmed(s: CpuState): boolean {
  return s.cpl === 3 && (s.cr0 & CR0_AM) !== 0 && (s.flagsVal & AC) !== 0;
}

/** The #AC fault for a data item of `align` bytes at the linear address (lo, hi). */
export function alignmentFault(lo: number, hi: number, align: number): CpuFault {
  const addr = hi * 4294967296 + (lo >>> 0);
  return new CpuFault(AC_VEC, 0, `misaligned ${align}-byte data access at 0x${addr.toString(16)} with CR0.AM = 1, RFLAGS.AC = 1, CPL 3`);
}

/**
 * An instruction whose memory operand is one data item of Table 6-7 with an alignment other
 * than the sizes of the accesses it makes for it (SGDT/SIDT images: 4; FSTENV/FLDENV and
 * FSAVE/FRSTOR areas: 4, or 2 with a 16-bit operand size, whose 80-bit register slots are not
 * 8-aligned): raises #AC when checking is on and the item at (lo, hi) is misaligned, and
 * otherwise suspends the per-access checks until the next instruction boundary (the run
 * loop's service turns checking back on, dropping what was cached meanwhile; a fault or VM
 * exit in between reaches updateMode, which does the same).
 */
export function checkItemAlignment(c: CpuMemory, lo: number, hi: number, align: number): void {
  if (!c.alignCheck) return;
  if ((lo & (align - 1)) !== 0) throw alignmentFault(lo, hi, align);
  c.alignCheck = false;
  c.attention = true;
}
