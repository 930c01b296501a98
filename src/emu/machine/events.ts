// The events a running machine reports to its clients (CLI, debug adapter, tests), as a
// small typed emitter: the runtime emits, the session listens (vscode-mock-debug's
// runtime/session split, DESIGN.md). No node `events` import, so src/emu stays portable.
import type { MachineStop } from './stop-reason.js';

/**
 * An event the CPU is about to deliver: an external interrupt (through the 8259A or the
 * local APIC), an NMI, an exception, or a software interrupt (INT n, INT3, INTO, INT1).
 */
export interface DeliveredEvent {
  kind: 'interrupt' | 'nmi' | 'exception' | 'software-interrupt';
  vector: number;
  /** The exception's error code; -1 when it has none (and for the other kinds). */
  errorCode: number;
  /** RIP when it happened: the faulting instruction, the INT n, or where the interrupt arrives. */
  rip: number;
  /** CS selector when it happened. */
  cs: number;
  /** Instructions retired so far (by this processor). */
  icount: number;
  /** The processor it happened on (machines with several processors only). */
  cpu?: number;
}

export interface MachineEventMap {
  /**
   * A byte the guest transmitted on a serial port (`port` 0 = COM1, 1 = COM2); `guest` when the
   * CPU wrote it in VMX non-root operation, so tools can tell a hypervisor's lines from its guest's.
   */
  serial: { byte: number; port: number; guest: boolean };
  /** A byte written to the 0xE9 debug console. */
  console: { byte: number };
  /** An interrupt or NMI (while Machine.traceInterrupts is set), an exception or software interrupt (traceExceptions) being delivered. */
  event: DeliveredEvent;
  /** The CPU executed HLT (once per halt, before the machine waits for an interrupt). */
  halt: { rip: number; interruptsEnabled: boolean };
  /** run() or step() returned. */
  stop: MachineStop;
}

export type MachineEventName = keyof MachineEventMap;
type Listener<K extends MachineEventName> = (payload: MachineEventMap[K]) => void;

export class MachineEmitter {
  private readonly listeners: { [K in MachineEventName]: Listener<K>[] } = { serial: [], console: [], event: [], halt: [], stop: [] };

  /** Subscribe; returns the function that unsubscribes. */
  on<K extends MachineEventName>(name: K, listener: Listener<K>): () => void {
    const list = this.listeners[name] as Listener<K>[];
    list.push(listener);
    return () => {
      const i = list.indexOf(listener);
      if (i >= 0) list.splice(i, 1);
    };
  }

  has(name: MachineEventName): boolean {
    return this.listeners[name].length > 0;
  }

  emit<K extends MachineEventName>(name: K, payload: MachineEventMap[K]): void {
    for (const l of this.listeners[name] as Listener<K>[]) l(payload);
  }
}
