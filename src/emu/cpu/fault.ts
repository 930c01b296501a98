// Guest exceptions as typed control flow (DESIGN.md "Conventions worth copying": a
// `CpuFault(vector, error)` thrown by the handler that detects it and caught once in the
// run loop, with RIP committed only after a handler succeeds, as Bochs does with longjmp).
// Vectors: SDM Vol. 3 §6.3.1 Table 6-1.

export const DE = 0, DB = 1, NMI = 2, BP = 3, OF_VEC = 4, BR = 5, UD = 6, NM = 7, DF_VEC = 8;
export const TS = 10, NP = 11, SS_VEC = 12, GP = 13, PF_VEC = 14, MF = 16, AC_VEC = 17, MC = 18, XM = 19;

/**
 * Not an exception: a VMX non-root VM exit was already performed in the middle of an
 * instruction or event delivery (src/emu/vmx/vm-exit.ts); the CPU abandons the instruction.
 */
export const VMEXIT_VECTOR = -1;

/** Not an exception: the next instruction's RIP is a debugger breakpoint (cpu.ts, fetch); run() stops with 'breakpoint'. */
export const BREAKPOINT_VECTOR = -2;

/** Short names of the exception vectors, for messages and traces. */
export const VECTOR_NAMES: readonly string[] = [
  '#DE', '#DB', 'NMI', '#BP', '#OF', '#BR', '#UD', '#NM', '#DF', 'vector 9', '#TS', '#NP', '#SS', '#GP', '#PF',
  'vector 15', '#MF', '#AC', '#MC', '#XM', '#VE', '#CP',
];

/** Exceptions that push an error code (SDM Vol. 3 Table 6-1 "Error Code" column). */
export function hasErrorCode(vector: number): boolean {
  return vector === DF_VEC || (vector >= TS && vector <= PF_VEC) || vector === AC_VEC || vector === 21;
}

/**
 * A guest exception raised while executing an instruction. Not an Error subclass: no stack
 * trace is captured (faults are guest control flow, not emulator failures). `detail` says
 * why, for the debugger and traces (e.g. which instruction is not emulated, for a #UD).
 */
export class CpuFault {
  constructor(
    readonly vector: number,
    /** Error code, or -1 when the exception has none. */
    readonly errorCode: number = -1,
    readonly detail: string = '',
  ) {}
}
