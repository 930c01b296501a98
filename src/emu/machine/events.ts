// The events a running machine reports to its clients (CLI, debug adapter, tests), as a
// small typed emitter: the runtime emits, the session listens (vscode-mock-debug's
// runtime/session split, DESIGN.md). No node `events` import, so src/emu stays portable.
import type { MachineStop } from './stop-reason.js';

/** An exception or interrupt the CPU is about to deliver (trace hooks). */
export interface DeliveredEvent {
  /** 'exception' (faults and traps), 'interrupt' (external, through the PIC or APIC), 'nmi'. */
  kind: 'exception' | 'interrupt' | 'nmi';
  vector: number;
  /** Error code pushed with the exception, -1 when none. */
  errorCode: number;
  /** RIP at the moment of delivery (the faulting instruction for faults). */
  rip: number;
  /** Instructions retired so far. */
  icount: number;
  /** CR2 for #PF. */
  cr2: number;
  /** Why the CPU raised it (e.g. which instruction is not emulated), when known. */
  detail: string;
}

export interface MachineEventMap {
  /** A byte the guest transmitted on a serial port (`port` 0 = COM1, 1 = COM2). */
  serial: { byte: number; port: number };
  /** A byte written to the 0xE9 debug console. */
  console: { byte: number };
  /** An exception or interrupt being delivered (only while tracing is enabled). */
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
