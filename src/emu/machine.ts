// The machine: the CPU and the PC around it (machine/pc-board.ts), booted by Multiboot, run
// in slices, observed through events and state queries. This is the runtime every client
// drives (the CLI's `run`, the debug adapter, the tests); it knows nothing of them
// (vscode-mock-debug's mockRuntime split, DESIGN.md). No `vscode`, no `fs`: files arrive
// as bytes.
//
// The API is shaped like unicorn's uc_emu_start (DESIGN.md): `run({budget, maxInstructions,
// timeoutMs})` returns a MachineStop (machine/stop-reason.ts) saying why it returned.
//
// Running: the CPU executes slices of instructions, each ending at the next timer deadline
// (clock.instructionsUntilNextEvent), so timers fire at their exact instruction count and
// the run is deterministic: the same kernel, command line and modules give the same
// output, instruction for instruction (virtual time = instructions retired, see
// machine/machine-clock.ts; RDTSC and the devices read the instruction counter itself, so
// they see the instructions retired inside the current slice at no per-instruction cost).
// Between slices the loop fires due timers, checks pause() and the limits. Breakpoints are
// the CPU's (Cpu.breakpoints is this.breakpoints): slices stay long when breakpoints are
// set, and only code pages holding one leave the CPU's fast path. HLT sleeps: with IF=1 virtual time jumps to the next timer event
// (clock.skipToNextEvent) until an interrupt wakes the CPU; with IF=0 (and no NMI) nothing
// ever can, and the run ends with 'halted-forever' instead of spinning.
//
// Several logical processors (MachineConfig.cpus, machine/processor.ts): one CPU, MMU and
// local APIC each, sharing memory, the I/O bus, the IOAPIC and the devices. Processor 0 is
// the bootstrap processor the kernel boots on; the others wait for INIT-SIPI-SIPI (SDM Vol. 3
// §9.4). They run round-robin in fixed quanta of SMP_QUANTUM instructions (a halted or
// waiting processor gives up its turn), so a run is as reproducible as with one processor:
// the interleaving depends only on instruction counts, never on the host. There is one time
// base: virtual time counts the instructions of all processors together (plus the time
// skipped while all of them sleep), which keeps the TSC and the timers coherent and monotonic
// for everyone, as QEMU's round-robin TCG with -icount does; with N busy processors each one
// gets 1/N of the nominal instruction rate. The quantum's position survives run() calls, so
// running in slices, stepping or pausing changes nothing in the interleaving. Breakpoints
// apply to every processor; stops and events say which one (`cpu`). `cpu`, `mmu`,
// `registers()` default to processor 0, and step() runs until processor 0 has executed one
// instruction (the others take their turns meanwhile).
import type { Cpu } from './cpu/cpu.js';
import { getFlags, IF } from './cpu/flags.js';
import { CS, DS, ES, FS, GS, LDTR, SS, TR } from './cpu/state.js';
import { gprName } from './cpu/isa/registers.js';
import type { MachineStopRequest } from './devices/debug-ports.js';
import { loadMultiboot, type MultibootBoot, type MultibootModuleInput } from './loader/multiboot.js';
import { ACC_EXEC, ACC_READ, ACC_WRITE } from './mmu/access.js';
import type { Mmu } from './mmu/mmu.js';
import type { PageWalk } from './mmu/page-walk.js';
import { applyEntryState } from './machine/entry-state.js';
import { EVENT_EXCEPTION, EVENT_EXTINT, EVENT_NMI } from './cpu/exceptions.js';
import type { DeviceMsrs } from './machine/device-msrs.js';
import { Processor } from './machine/processor.js';
import { MachineEmitter, type DeliveredEvent, type MachineEventMap, type MachineEventName } from './machine/events.js';
import { PcBoard, type BoardConfig } from './machine/pc-board.js';
import { installPcTestdev } from './devices/pc-testdev.js';
import type { MachineStop } from './machine/stop-reason.js';

export type { MachineStop, MachineStopKind } from './machine/stop-reason.js';
export { Processor } from './machine/processor.js';
export { MAX_CPUS } from './machine/pc-board.js';
export { describeStop, vectorName } from './machine/stop-reason.js';
export type { DeliveredEvent, MachineEventMap, MachineEventName } from './machine/events.js';

export interface MachineConfig extends BoardConfig {
  /**
   * Virtual seconds a CPU halted with IF=1 may sleep without any interrupt being delivered
   * before the run ends as 'halted-forever' (every timer's interrupt is masked). Default 60.
   */
  idleLimitSeconds?: number;
  /** Add QEMU's pc-testdev (ports 0xE0-0xE4, 0x2000-0x2017, MMIO at 0xFF000000), as kvm-unit-tests expects. */
  testDevice?: boolean;
}

export interface BootImage {
  /** The kernel image (ELF32/ELF64 with a Multiboot header, or an a.out-kludge image). */
  kernel: Uint8Array;
  /** Its name in messages (usually the path it was read from). */
  kernelName: string;
  /**
   * The Multiboot command line exactly as the kernel will read it. QEMU passes
   * "<kernel file name> <-append text>"; `qemuCommandLine` builds that.
   */
  cmdline?: string;
  modules?: MultibootModuleInput[];
}

export interface RunOptions {
  /** Instructions this call may execute (default: no limit). */
  budget?: number;
  /** Stop when the total instruction count since boot reaches this (default: no limit). */
  maxInstructions?: number;
  /** Wall-clock milliseconds this call may take (default: no limit). */
  timeoutMs?: number;
}

/** A segment register as the debugger shows it. */
export interface SegmentSnapshot {
  selector: number;
  base: bigint;
  limit: number;
  /** Access rights in VMCS format (SDM Vol. 3C Table 24-2). */
  accessRights: number;
}

export interface RegisterSnapshot {
  /** rax ... r15 by name. */
  gprs: Record<string, bigint>;
  rip: bigint;
  rflags: number;
  segments: Record<'es' | 'cs' | 'ss' | 'ds' | 'fs' | 'gs' | 'ldtr' | 'tr', SegmentSnapshot>;
  cr0: number;
  cr2: bigint;
  cr3: bigint;
  cr4: number;
  cr8: number;
  efer: number;
  gdtr: { base: bigint; limit: number };
  idtr: { base: bigint; limit: number };
  /** 'real', 'protected', 'virtual-8086', 'compatibility' or '64-bit'. */
  mode: string;
  cpl: number;
  halted: boolean;
  /** Waiting for a start-up IPI (an application processor before its SIPI, or after INIT). */
  waitForSipi: boolean;
  /** Instructions this processor retired. */
  instructions: number;
}

const MODE_NAMES = ['real', 'protected', 'virtual-8086', 'compatibility', '64-bit'];
/**
 * Instructions a processor executes before the next one takes its turn (several processors).
 * Short enough that a processor spinning on a flag another one sets waits about a
 * microsecond of virtual time per processor; long enough that switching costs little.
 */
export const SMP_QUANTUM = 1000;
/** Longest slice between checks of pause(), the wall clock and the limits (about 10-50 ms). */
const MAX_SLICE = 1_000_000;
const TWO32 = 4294967296;

/** The Multiboot command line QEMU gives `-kernel NAME -append TEXT` (hw/i386/multiboot.c: "%s %s"). */
export function qemuCommandLine(kernelName: string, append = ''): string {
  return `${kernelName} ${append}`;
}

function toBig(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

function numberToBig(v: number): bigint {
  return BigInt.asUintN(64, BigInt(Math.trunc(v)));
}

export class Machine {
  readonly board: PcBoard;
  /** The logical processors; index = APIC ID, 0 = the bootstrap processor. */
  readonly processors: readonly Processor[];
  /** Processor 0's MMU. */
  readonly mmu: Mmu;
  /** Processor 0's CPU (the bootstrap processor). */
  readonly cpu: Cpu;
  /** Processor 0's MSRs owned by devices (IA32_APIC_BASE, x2APIC, TSC_DEADLINE, TSC). */
  readonly deviceMsrs: DeviceMsrs;
  /** The last boot's layout (kernel, modules, symbols), once booted. */
  bootInfo: MultibootBoot | undefined;
  /** While true, a halt with IF=1 and no timer waits for host input instead of ending the run. */
  hostInputOpen = false;
  /** RIP values to stop at (before the instruction there); the CPU reads this set at every run. */
  readonly breakpoints = new Set<number>();

  private readonly emitter = new MachineEmitter();
  private readonly idleLimit: number;
  /** A device asked to end the run (debug exit, shutdown, reset). */
  private requested: MachineStop | undefined;
  /** Once the machine shut down (debug exit, power-off, triple fault), every run returns this. */
  private finished: MachineStop | undefined;
  private pauseRequested = false;
  /** The 'halt' event for the current halt was emitted. */
  private haltAnnounced = false;
  /** Virtual time at which the current halt began. */
  private haltStart = -1;
  private traceInt = false;
  private traceExc = false;
  /** The processor whose slice runs (or ran last): the clock counts its instructions now. */
  private running: Processor;
  /** Several processors: whose quantum it is, and how much of it is left. */
  private turn = 0;
  private quantumLeft = SMP_QUANTUM;
  /** A processor received INIT or SIPI: take it at the next slice boundary. */
  private signalled = false;

  constructor(config: MachineConfig = {}) {
    this.board = new PcBoard(config);
    const b = this.board;
    this.idleLimit = (config.idleLimitSeconds ?? 60) * b.clock.instructionsPerSecond;
    const count = b.lapics.length;
    this.processors = b.lapics.map((lapic, i) => new Processor(i, b, lapic, b.hubs[i], count));
    const p0 = this.processors[0];
    this.cpu = p0.cpu;
    this.mmu = p0.mmu;
    this.deviceMsrs = p0.deviceMsrs;
    this.running = p0;
    for (const p of this.processors) {
      p.cpu.breakpoints = this.breakpoints;
      p.lapic.onInit = () => this.signal(() => p.signalInit());
      p.lapic.onStartup = (vector) => this.signal(() => p.signalStartup(vector));
    }
    if (count > 1) {
      const cpus = this.processors.map((p) => p.cpu);
      for (const c of cpus) c.peers = cpus.filter((o) => o !== c);
      // Each CPU's constructor claimed the code-write notification: every processor must hear it.
      b.memory.onCodeWrite = (pfn) => {
        for (const c of cpus) c.dropCodePage(pfn);
      };
      for (const p of this.processors) if (p.index !== 0) p.powerOnWaiting();
    }
    b.clock.attach(this.cpu);
    b.clock.onEarlierDeadline = () => this.running.cpu.stop();

    const stopOn = (r: MachineStopRequest): void => {
      if (this.requested === undefined) this.requested = r.kind === 'debug-exit' ? { kind: 'debug-exit', value: r.value, status: r.status } : r;
      this.running.cpu.stop();
    };
    b.debugPorts.onStop = stopOn;
    b.resetControl.onStop = stopOn;
    b.i8042.onStop = stopOn;
    b.uarts.forEach((u, port) => {
      u.onOutput = (byte) => this.emitter.emit('serial', { byte, port, guest: this.running.cpu.vmx?.nonRoot === true });
    });
    b.debugPorts.onConsole = (byte) => this.emitter.emit('console', { byte });
    // The test device's "flush page" makes the host drop what it caches of a page (QEMU
    // unmaps it); ours are the decoded instructions and the CPU's translation cache, both
    // invisible to the guest. The architectural TLB stays as it is.
    if (config.testDevice === true) {
      installPcTestdev(b, () => {
        for (const p of this.processors) {
          p.cpu.flushDecodeCache();
          p.cpu.translationsChanged();
        }
      });
    }
  }

  /** A local APIC received INIT or SIPI: latch it and end the running slice, so it is taken at once. */
  private signal(latch: () => void): void {
    latch();
    this.signalled = true;
    this.running.cpu.stop();
  }

  /** Take the latched INITs and SIPIs (between slices); a stop when INIT reached the bootstrap processor. */
  private takeSignals(): MachineStop | undefined {
    this.signalled = false;
    for (const p of this.processors) {
      if (!p.signalsPending) continue;
      if (p.takeSignals() === 'init-bsp') {
        // The BSP would restart the firmware at the reset vector; this machine has none.
        this.finished = { kind: 'reset', source: 'an INIT signal to the bootstrap processor' };
        return this.finished;
      }
    }
    return undefined;
  }

  // ---- events ------------------------------------------------------------------------------

  on<K extends MachineEventName>(name: K, listener: (payload: MachineEventMap[K]) => void): () => void {
    return this.emitter.on(name, listener);
  }

  /** Emit 'event' for every external interrupt and NMI delivered (off by default). */
  get traceInterrupts(): boolean {
    return this.traceInt;
  }

  set traceInterrupts(on: boolean) {
    this.traceInt = on;
    this.setTraceHook();
  }

  /** Emit 'event' for every exception and software interrupt (INT n, INT3, INTO, INT1) delivered (off by default). */
  get traceExceptions(): boolean {
    return this.traceExc;
  }

  set traceExceptions(on: boolean) {
    this.traceExc = on;
    this.setTraceHook();
  }

  /** The CPU's event hook exists only while something is traced (it costs nothing otherwise). */
  private setTraceHook(): void {
    const on = this.traceInt || this.traceExc;
    for (const p of this.processors) {
      p.cpu.onEvent = on ? (kind, vector, errorCode, rip, cs) => this.traceEvent(p, kind, vector, errorCode, rip, cs) : undefined;
    }
  }

  private traceEvent(p: Processor, kind: number, vector: number, errorCode: number, rip: number, cs: number): void {
    let what: DeliveredEvent['kind'];
    if (kind === EVENT_EXTINT || kind === EVENT_NMI) {
      if (!this.traceInt) return;
      what = kind === EVENT_NMI ? 'nmi' : 'interrupt';
    } else {
      if (!this.traceExc) return;
      what = kind === EVENT_EXCEPTION ? 'exception' : 'software-interrupt';
    }
    const event: DeliveredEvent = { kind: what, vector, errorCode, rip, cs, icount: p.cpu.icount };
    if (this.processors.length > 1) event.cpu = p.index;
    this.emitter.emit('event', event);
  }

  // ---- boot ----------------------------------------------------------------------------------

  /**
   * Load a Multiboot kernel and its modules and put the CPU in the Multiboot entry state.
   * Throws MultibootError (a user-facing message) for anything unbootable.
   */
  boot(image: BootImage): MultibootBoot {
    const info = loadMultiboot(this.board.memory, { kernelName: image.kernelName, kernel: image.kernel, cmdline: image.cmdline, modules: image.modules });
    applyEntryState(this.cpu, info.entry);
    for (const p of this.processors) {
      if (p.index === 0) continue;
      p.powerOnWaiting();
      p.initPending = false;
      p.sipiPending = -1;
    }
    this.turn = 0;
    this.quantumLeft = SMP_QUANTUM;
    this.bootInfo = info;
    this.finished = undefined;
    this.requested = undefined;
    return info;
  }

  // ---- running -------------------------------------------------------------------------------

  /** Asks a run in progress to return 'paused' at the next slice boundary (safe from callbacks). */
  pause(): void {
    this.pauseRequested = true;
    this.running.cpu.stop();
  }

  /** Feed bytes to a serial port's receiver (0 = COM1). */
  sendSerialInput(bytes: Uint8Array | readonly number[], port = 0): void {
    this.board.uarts[port].receive(bytes);
  }

  /** Instructions retired since power-on (by all processors together). */
  get instructions(): number {
    const ps = this.processors;
    if (ps.length === 1) return this.cpu.icount;
    let n = 0;
    for (const p of ps) n += p.cpu.icount;
    return n;
  }

  run(opts: RunOptions = {}): MachineStop {
    const budget = opts.budget ?? Infinity;
    const max = opts.maxInstructions ?? Infinity;
    const stop = this.processors.length === 1 ? this.loop(budget, max, opts.timeoutMs) : this.loopSmp(budget, max, opts.timeoutMs, false);
    this.emitter.emit('stop', stop);
    return stop;
  }

  /** Execute one instruction of processor 0 (sleeping through a HLT to the interrupt that ends it). */
  step(): MachineStop {
    let stop = this.processors.length === 1 ? this.loop(1, Infinity, undefined) : this.loopSmp(1, Infinity, undefined, true);
    if (stop.kind === 'budget') stop = { kind: 'step' };
    this.emitter.emit('stop', stop);
    return stop;
  }

  private loop(budget: number, maxInstructions: number, timeoutMs: number | undefined): MachineStop {
    if (this.finished !== undefined) return this.finished;
    const cpu = this.cpu;
    const clock = this.board.clock;
    const start = cpu.icount;
    const deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
    this.pauseRequested = false;
    for (;;) {
      if (this.pauseRequested) {
        this.pauseRequested = false;
        return { kind: 'paused' };
      }
      if (cpu.icount >= maxInstructions) return { kind: 'instruction-limit', instructions: cpu.icount };
      const left = start + budget - cpu.icount;
      if (left <= 0) return { kind: 'budget' };
      if (performance.now() > deadline) return { kind: 'timeout', ms: timeoutMs ?? 0 };
      if (clock.now >= clock.nextDeadline) clock.runDue();
      if (this.signalled) {
        const stop = this.takeSignals();
        if (stop !== undefined) return stop;
      }

      let n = Math.min(left, maxInstructions - cpu.icount, MAX_SLICE, clock.instructionsUntilNextEvent());
      if (n <= 0) n = 1;
      const before = cpu.icount;
      clock.sliceEnd = clock.now + n;
      const reason = cpu.run(n);
      clock.sliceEnd = -Infinity;
      if (cpu.icount !== before) this.haltAnnounced = false;

      const requested = this.requested;
      if (requested !== undefined) {
        this.requested = undefined;
        this.finished = requested;
        return requested;
      }
      switch (reason) {
        case 'stop':
          if (this.processors[0].signalsPending) this.signalled = true; // VMXOFF released a blocked INIT
          continue;
        case 'budget':
          continue;
        case 'breakpoint':
          return { kind: 'breakpoint', address: cpu.rip };
        case 'triple-fault':
          this.finished = { kind: 'triple-fault', chain: [...cpu.faultChain] };
          return this.finished;
        case 'exception': {
          const f = cpu.lastFault;
          return { kind: 'exception', vector: f?.vector ?? -1, errorCode: f?.errorCode ?? -1, detail: f?.detail ?? '' };
        }
        case 'halt': {
          const stop = this.sleep();
          if (stop !== undefined) return stop;
          continue;
        }
      }
    }
  }

  /**
   * The run loop of a multiprocessor (see the file comment): the processor whose turn it is
   * runs until its quantum, the budget, the next timer deadline or an event ends the slice.
   * `budget` and `maxInstructions` count the instructions of all processors; with `step0`
   * the call instead ends once processor 0 has executed one instruction.
   */
  private loopSmp(budget: number, maxInstructions: number, timeoutMs: number | undefined, step0: boolean): MachineStop {
    if (this.finished !== undefined) return this.finished;
    const procs = this.processors;
    const count = procs.length;
    const clock = this.board.clock;
    const bus = this.board.apicBus;
    const cpu0 = procs[0].cpu;
    const start = this.instructions;
    const start0 = cpu0.icount;
    const deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
    this.pauseRequested = false;
    for (;;) {
      if (this.pauseRequested) {
        this.pauseRequested = false;
        return { kind: 'paused' };
      }
      const total = this.instructions;
      if (total >= maxInstructions) return { kind: 'instruction-limit', instructions: total };
      if (step0 ? cpu0.icount !== start0 : total - start >= budget) return { kind: 'budget' };
      if (performance.now() > deadline) return { kind: 'timeout', ms: timeoutMs ?? 0 };
      if (clock.now >= clock.nextDeadline) clock.runDue();
      if (this.signalled) {
        const stop = this.takeSignals();
        if (stop !== undefined) return stop;
      }

      // Whose turn: the current processor while its quantum lasts and it can run, else the next that can.
      let p = procs[this.turn];
      if (this.quantumLeft <= 0 || !p.runnable()) {
        let k = 1;
        for (; k <= count; k++) {
          const q = procs[(this.turn + k) % count];
          if (q.runnable()) break;
        }
        if (k > count) {
          const stop = this.sleepSmp();
          if (stop !== undefined) return stop;
          continue;
        }
        this.turn = (this.turn + k) % count;
        this.quantumLeft = SMP_QUANTUM;
        p = procs[this.turn];
      }
      if (this.running !== p) {
        this.running = p;
        clock.attach(p.cpu); // the time base goes on counting with this processor's instructions
        if (bus !== undefined) bus.current = p.index;
      }

      const cpu = p.cpu;
      const own = step0 ? (p.index === 0 ? 1 : maxInstructions - total) : Math.min(budget - (total - start), maxInstructions - total);
      let n = Math.min(this.quantumLeft, own, MAX_SLICE, clock.instructionsUntilNextEvent());
      if (n <= 0) n = 1;
      const before = cpu.icount;
      clock.sliceEnd = clock.now + n;
      const reason = cpu.run(n);
      clock.sliceEnd = -Infinity;
      const used = cpu.icount - before;
      this.quantumLeft -= used;
      if (used !== 0) {
        this.haltStart = -1;
        if (p.index === 0) this.haltAnnounced = false;
      }

      const requested = this.requested;
      if (requested !== undefined) {
        this.requested = undefined;
        this.finished = requested;
        return requested;
      }
      switch (reason) {
        case 'stop':
          // VMXOFF stops the slice to release an INIT that VMX operation blocked.
          if (p.signalsPending) this.signalled = true;
          continue;
        case 'budget':
          continue;
        case 'breakpoint':
          return { kind: 'breakpoint', address: cpu.rip, cpu: p.index };
        case 'triple-fault':
          this.finished = { kind: 'triple-fault', chain: [...cpu.faultChain], cpu: p.index };
          return this.finished;
        case 'exception': {
          const f = cpu.lastFault;
          return { kind: 'exception', vector: f?.vector ?? -1, errorCode: f?.errorCode ?? -1, detail: f?.detail ?? '', cpu: p.index };
        }
        case 'halt':
          // HLT or wait-for-SIPI: the turn passes on (runnable() says when it may run again).
          if (p.index === 0 && !this.haltAnnounced && cpu.halted && !cpu.waitForSipi) {
            this.haltAnnounced = true;
            this.emitter.emit('halt', { rip: cpu.rip, interruptsEnabled: (getFlags(cpu) & IF) !== 0 });
          }
          this.quantumLeft = 0;
          continue;
      }
    }
  }

  /**
   * No processor can run: every one is halted or waits for a SIPI. Jump virtual time to the
   * next timer event or VMX-preemption-timer expiry, or say why nothing can ever wake any of
   * them (the multiprocessor form of `sleep`).
   */
  private sleepSmp(): MachineStop | undefined {
    const clock = this.board.clock;
    if (this.haltStart < 0) this.haltStart = clock.now;
    let timerAt = Infinity;
    let interruptsWake = false;
    for (const p of this.processors) {
      if (p.interruptsWake) interruptsWake = true;
      const v = p.cpu.vmx;
      if (v !== undefined && p.cpu.halted && !p.cpu.waitForSipi) {
        const t = v.haltTimerDeadline();
        if (t !== Infinity) timerAt = Math.min(timerAt, clock.nowAtTsc(t));
      }
    }
    if (timerAt !== Infinity && (timerAt <= clock.nextDeadline || !interruptsWake)) {
      if (clock.nextDeadline <= timerAt) clock.skipToNextEvent();
      else clock.advance(Math.max(1, timerAt - clock.now));
      return undefined;
    }
    const cpu0 = this.cpu;
    const where = `CPU 0 ${cpu0.waitForSipi ? 'waits for a SIPI' : `is halted at 0x${cpu0.rip.toString(16)}`}`;
    if (!interruptsWake) {
      return { kind: 'halted-forever', why: `every processor is halted with interrupts disabled (IF=0) or waits for a SIPI, and no NMI is pending (${where})` };
    }
    if (clock.nextDeadline === Infinity || clock.now - this.haltStart > this.idleLimit) {
      if (this.hostInputOpen) return { kind: 'waiting-for-input' };
      if (clock.nextDeadline === Infinity) return { kind: 'halted-forever', why: `every processor is halted, no timer is running and no input can arrive (${where})` };
      const s = this.idleLimit / clock.instructionsPerSecond;
      return { kind: 'halted-forever', why: `every processor is halted: no interrupt was delivered in ${s} s of virtual time (are the timers' interrupts masked?) (${where})` };
    }
    clock.skipToNextEvent();
    return undefined;
  }

  /**
   * The CPU is halted (SDM Vol. 2 HLT: it resumes on an interrupt, NMI, SMI or reset).
   * Jump virtual time to the next timer event; or say why nothing can wake it. In VMX
   * non-root operation two more things end a halt, both with a VM exit that the CPU's
   * non-root service takes: the VMX-preemption timer, which counts in the HLT state
   * (SDM §25.5.1), and an external interrupt under "external-interrupt exiting", whatever
   * RFLAGS.IF is (SDM §25.2).
   */
  private sleep(): MachineStop | undefined {
    const cpu = this.cpu;
    const clock = this.board.clock;
    const hub = this.board.interrupts;
    const ifSet = (getFlags(cpu) & IF) !== 0;
    if (!this.haltAnnounced) {
      this.haltAnnounced = true;
      this.haltStart = clock.now;
      this.emitter.emit('halt', { rip: cpu.rip, interruptsEnabled: ifSet });
    }
    if (cpu.waitForSipi) return { kind: 'halted-forever', why: `the processor waits for a SIPI (its guest entered the wait-for-SIPI activity state) and there is no other processor to send one` };
    if (this.processors[0].nmiWakes) return undefined;
    const vmx = cpu.vmx;
    const interruptsWake = ifSet || (vmx !== undefined && vmx.interruptsExit());
    if (interruptsWake && hub.intrPending) return undefined;
    const timerTsc = vmx !== undefined ? vmx.haltTimerDeadline() : Infinity;
    const timerAt = timerTsc === Infinity ? Infinity : clock.nowAtTsc(timerTsc);
    if (timerAt !== Infinity && (timerAt <= clock.nextDeadline || !interruptsWake)) {
      // The preemption timer expires first, or is all that can end this halt: device timers
      // due before it still fire on the way (their effects may matter to the host).
      if (clock.nextDeadline <= timerAt) clock.skipToNextEvent();
      else clock.advance(timerAt - clock.now);
      return undefined;
    }
    if (!interruptsWake) {
      return { kind: 'halted-forever', why: `HLT at 0x${cpu.rip.toString(16)} with interrupts disabled (IF=0) and no NMI pending` };
    }
    if (clock.nextDeadline === Infinity || clock.now - this.haltStart > this.idleLimit) {
      if (this.hostInputOpen) return { kind: 'waiting-for-input' };
      if (clock.nextDeadline === Infinity) {
        const enabled = ifSet ? 'interrupts enabled' : 'IF=0 in VMX non-root operation (external interrupts would exit)';
        return { kind: 'halted-forever', why: `HLT at 0x${cpu.rip.toString(16)} with ${enabled}, but no timer is running and no input can arrive` };
      }
      const s = this.idleLimit / clock.instructionsPerSecond;
      return { kind: 'halted-forever', why: `HLT at 0x${cpu.rip.toString(16)}: no interrupt was delivered in ${s} s of virtual time (are the timers' interrupts masked?)` };
    }
    clock.skipToNextEvent();
    return undefined;
  }

  // ---- state queries ---------------------------------------------------------------------------

  /** The registers of processor `index` (default 0, the bootstrap processor). */
  registers(index = 0): RegisterSnapshot {
    const c = this.processors[index]?.cpu;
    if (c === undefined) throw new RangeError(`there is no processor ${index} (the machine has ${this.processors.length})`);
    const gprs: Record<string, bigint> = {};
    for (let n = 0; n < 16; n++) gprs[gprName(n, 8)] = toBig(c.regs[2 * n], c.regs[2 * n + 1]);
    const seg = (s: number): SegmentSnapshot => ({ selector: c.segSel[s], base: toBig(c.segBaseLo[s], c.segBaseHi[s]), limit: c.segLimit[s], accessRights: c.segAr[s] });
    return {
      gprs,
      rip: numberToBig(c.rip),
      rflags: getFlags(c) >>> 0,
      segments: { es: seg(ES), cs: seg(CS), ss: seg(SS), ds: seg(DS), fs: seg(FS), gs: seg(GS), ldtr: seg(LDTR), tr: seg(TR) },
      cr0: c.cr0 >>> 0,
      cr2: numberToBig(c.cr2),
      cr3: toBig(c.cr3Lo, c.cr3Hi),
      cr4: c.cr4 >>> 0,
      cr8: c.readCr8(),
      efer: c.efer >>> 0,
      gdtr: { base: numberToBig(c.gdtrBase), limit: c.gdtrLimit },
      idtr: { base: numberToBig(c.idtrBase), limit: c.idtrLimit },
      mode: MODE_NAMES[c.mode] ?? `mode ${c.mode}`,
      cpl: c.cpl,
      halted: c.halted,
      waitForSipi: c.waitForSipi,
      instructions: c.icount,
    };
  }

  /** Physical memory as the CPU would read it (MMIO reads have side effects). */
  readPhysical(address: number, length: number): Uint8Array {
    return this.board.memory.readBytes(address, length);
  }

  /**
   * Linear memory through the current page tables, without side effects (no A/D bits, no
   * TLB fill). Returns undefined for the first unmapped byte's address as `fault`.
   */
  readLinear(address: number, length: number): { bytes: Uint8Array; fault?: number } {
    const out = new Uint8Array(length);
    let i = 0;
    while (i < length) {
      const lin = address + i;
      const walk = this.mmu.explainWalk(lin, ACC_READ, 0);
      if (!walk.ok || walk.physical < 0 || walk.physical >= TWO32) return { bytes: out.subarray(0, i), fault: lin };
      const n = Math.min(length - i, 4096 - (walk.physical % 4096));
      out.set(this.board.memory.readBytes(walk.physical, n), i);
      i += n;
    }
    return { bytes: out };
  }

  /** The page walk for `linear`, explained step by step (through the MMU). */
  explainWalk(linear: number, access: 'read' | 'write' | 'execute' = 'read', cpl = this.cpu.cpl): PageWalk {
    const acc = access === 'write' ? ACC_WRITE : access === 'execute' ? ACC_EXEC : ACC_READ;
    return this.mmu.explainWalk(linear, acc, cpl);
  }

  /** Every device's state (clock, PIC, PIT, UARTs, CMOS, APICs, ...). */
  devices(): Record<string, unknown> {
    return this.board.snapshot();
  }
}

export function createMachine(config: MachineConfig = {}): Machine {
  return new Machine(config);
}
