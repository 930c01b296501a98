// Why Machine.run() / step() returned: one discriminated union for every client (CLI, debug
// adapter, tests), shaped like unicorn's uc_emu_start stop conditions (DESIGN.md). On a
// machine with several processors, `cpu` says which processor a breakpoint, exception or
// triple fault belongs to.
import { VECTOR_NAMES } from '../cpu/fault.js';

export type MachineStop =
  /** The guest wrote `value` to the isa-debug-exit port: the run's status is (value << 1) | 1. */
  | { kind: 'debug-exit'; value: number; status: number }
  /** The guest powered the machine off ("Shutdown" to port 0x8900). */
  | { kind: 'shutdown' }
  /** The guest pulsed the reset line (port 0x92, 0xCF9, the keyboard controller); this machine does not reboot. */
  | { kind: 'reset'; source: string }
  /** A fault while delivering a double fault: the processor shut down. `chain` = the exception vectors, first to last. */
  | { kind: 'triple-fault'; chain: number[]; cpu?: number }
  /** The run reached its `maxInstructions` total. */
  | { kind: 'instruction-limit'; instructions: number }
  /** The run exceeded its wall-clock `timeoutMs`. */
  | { kind: 'timeout'; ms: number }
  /** HLT with nothing that could ever wake the CPU; `why` says what is missing. */
  | { kind: 'halted-forever'; why: string }
  /** RIP reached a breakpoint (before executing the instruction there). */
  | { kind: 'breakpoint'; address: number; cpu?: number }
  /** step() executed one instruction (or delivered one event). */
  | { kind: 'step' }
  /** The `budget` of instructions for this call is used up; call run() again to go on. */
  | { kind: 'budget' }
  /** pause() was called. */
  | { kind: 'paused' }
  /** Halted with interrupts enabled and no timer armed: only host input (serial) can wake the CPU. */
  | { kind: 'waiting-for-input' }
  /** With `stopOnException`: a guest exception is about to be delivered. */
  | { kind: 'exception'; vector: number; errorCode: number; detail: string; cpu?: number };

export type MachineStopKind = MachineStop['kind'];

/** "#GP" for 13, "vector 0x40" for the rest. */
export function vectorName(vector: number): string {
  return VECTOR_NAMES[vector] ?? `vector 0x${vector.toString(16)}`;
}

function onCpu(cpu: number | undefined, otherwise: string): string {
  return cpu === undefined ? otherwise : `CPU ${cpu}`;
}

/** One line for the user, e.g. "triple fault: #UD -> #GP -> #DF -> #GP". */
export function describeStop(stop: MachineStop): string {
  switch (stop.kind) {
    case 'debug-exit':
      return `the guest wrote 0x${stop.value.toString(16)} to the debug-exit port (status ${stop.status})`;
    case 'shutdown':
      return 'the guest powered the machine off';
    case 'reset':
      return `the guest requested a reset (${stop.source}); the machine stops instead of rebooting`;
    case 'triple-fault':
      return `triple fault (${onCpu(stop.cpu, 'the processor')} shut down): ${[...stop.chain.map(vectorName), 'shutdown'].join(' -> ')}`;
    case 'instruction-limit':
      return `stopped after ${stop.instructions} instructions (the instruction limit)`;
    case 'timeout':
      return `stopped after ${stop.ms / 1000} s of wall-clock time (the timeout)`;
    case 'halted-forever':
      return `the CPU halted and nothing can wake it: ${stop.why}`;
    case 'breakpoint':
      return `breakpoint at 0x${stop.address.toString(16)}${stop.cpu === undefined ? '' : ` on CPU ${stop.cpu}`}`;
    case 'step':
      return 'stepped one instruction';
    case 'budget':
      return 'instruction budget used up';
    case 'paused':
      return 'paused';
    case 'waiting-for-input':
      return 'halted, waiting for serial input';
    case 'exception':
      return `${vectorName(stop.vector)}${stop.errorCode >= 0 ? ` (error code 0x${stop.errorCode.toString(16)})` : ''}${stop.cpu === undefined ? '' : ` on CPU ${stop.cpu}`}${stop.detail ? `: ${stop.detail}` : ''}`;
  }
}
