// One logical processor of the machine: its CPU (with VMX), its MMU, its local APIC and
// interrupt inputs, and what happens to it on INIT and start-up IPIs (SIPIs). References are
// to the Intel SDM Vol. 3A: §9.1 "Initialization Overview" (Table 9-1 "IA-32 and Intel 64
// Processor States Following Power-up, Reset, or INIT"), §9.4 "Multiple-Processor (MP)
// Initialization" (application processors wait for a SIPI after power-up and after INIT;
// a SIPI with vector VV starts them in real mode at 000VV000H, CS = VV00H, IP = 0), and the
// APIC chapter's "Local APIC State After an INIT Reset"; for VMX, vmx/signals.ts.
//
// Signals are latched here when the APIC receives them and taken between the machine's
// slices (`takeSignals`), which is an instruction boundary of the target: INIT first, then a
// SIPI, as a processor recognizes them. In VMX operation they go to the VMX latches instead:
// INIT is blocked in root operation (and taken after VMXOFF), a VM exit in non-root
// operation; a SIPI exits only from the guest's wait-for-SIPI state.
import { Cpu } from '../cpu/cpu.js';
import { getFlags, IF } from '../cpu/flags.js';
import { FpuState } from '../cpu/fpu.js';
import { MSR_FEATURE_CONTROL } from '../cpu/msrs.js';
import { AR_P, AR_S, AR_TYPE_ACCESSED, AR_TYPE_CODE, AR_TYPE_RW, CS } from '../cpu/state.js';
import type { InterruptHub } from '../devices/io-bus.js';
import type { LocalApic } from '../devices/local-apic.js';
import { Mmu } from '../mmu/mmu.js';
import { PIN_VIRTUAL_NMIS } from '../vmx/control-bits.js';
import { attachVmx } from '../vmx/vmx.js';
import { DeviceMsrs } from './device-msrs.js';
import type { PcBoard } from './pc-board.js';

/** The TPR in the local APIC's register page (SDM Vol. 3 Table 10-1), which CR8 reads and writes. */
const APIC_TPR_OFFSET = 0x80;
/**
 * IA32_FEATURE_CONTROL as firmware leaves it on every processor of a VT-x machine (SDM Vol. 3C
 * §23.7): locked, VMXON allowed outside SMX.
 */
const FEATURE_CONTROL_LOCKED_VMX = 0x5;

export class Processor {
  readonly cpu: Cpu;
  readonly mmu: Mmu;
  readonly deviceMsrs: DeviceMsrs;
  /** An INIT arrived outside VMX operation and is not taken yet. */
  initPending = false;
  /** The vector of a SIPI not taken yet; -1: none. */
  sipiPending = -1;

  constructor(
    /** Index in the machine = APIC ID. */
    readonly index: number,
    board: PcBoard,
    readonly lapic: LocalApic,
    readonly interrupts: InterruptHub,
    count: number,
  ) {
    this.mmu = new Mmu(board.memory);
    this.cpu = new Cpu(board.memory, this.mmu, { io: board.io, interrupts, tsc: board.clock });
    this.cpu.apicId = index;
    this.cpu.logicalProcessors = count;
    attachVmx(this.cpu); // VT-x (issue 4): CPUID.1:ECX.VMX, capability MSRs, VMX instructions
    this.deviceMsrs = new DeviceMsrs(board.clock, lapic, board.apicFeatures.tscDeadline);
    this.cpu.msrDevice = this.deviceMsrs;
    const features = board.apicFeatures;
    this.cpu.apic = {
      get hardwareEnabled(): boolean {
        return lapic.hardwareEnabled;
      },
      x2apicSupported: features.x2apic,
      tscDeadlineSupported: features.tscDeadline,
      readTpr: () => lapic.mmioRead(APIC_TPR_OFFSET, 4),
      writeTpr: (v) => lapic.mmioWrite(APIC_TPR_OFFSET, 4, v),
    };
  }

  /** The bootstrap processor (IA32_APIC_BASE.BSP): the one that starts at power-up. */
  get bootstrap(): boolean {
    return (this.lapic.readApicBase() & 0x100) !== 0;
  }

  /**
   * An application processor at power-up: the RESET state, then waiting for a SIPI (§9.4),
   * with IA32_FEATURE_CONTROL as firmware locks it on every processor.
   */
  powerOnWaiting(): void {
    this.cpu.reset();
    this.cpu.msrLo.set(MSR_FEATURE_CONTROL, FEATURE_CONTROL_LOCKED_VMX);
    this.cpu.msrHi.set(MSR_FEATURE_CONTROL, 0);
    this.cpu.waitForSipi = true;
  }

  /** The local APIC received an INIT (an IPI or an IOAPIC message). */
  signalInit(): void {
    this.initPending = true;
  }

  /** The local APIC received a SIPI. */
  signalStartup(vector: number): void {
    this.sipiPending = vector;
  }

  /** Something waits for `takeSignals`. */
  get signalsPending(): boolean {
    const v = this.cpu.vmx;
    return this.initPending || this.sipiPending >= 0 || (v !== undefined && v.initLatched && !v.inVmx);
  }

  /**
   * At an instruction boundary of this processor: take the latched INIT and SIPI. Returns
   * 'init-bsp' when an INIT reached the bootstrap processor outside VMX operation (it would
   * restart the firmware at the reset vector, which this machine does not have).
   */
  takeSignals(): 'init-bsp' | undefined {
    const c = this.cpu;
    const v = c.vmx;
    if (this.initPending) {
      this.initPending = false;
      if (v !== undefined && v.inVmx) {
        // Blocked in VMX root operation, a VM exit in non-root operation (vmx/signals.ts).
        v.initLatched = true;
        c.attention = true;
      } else if (this.bootstrap) {
        return 'init-bsp';
      } else {
        this.init();
      }
    }
    if (v !== undefined && v.initLatched && !v.inVmx) {
      // VMXOFF released an INIT that VMX root operation blocked.
      v.initLatched = false;
      if (this.bootstrap) return 'init-bsp';
      this.init();
    }
    const vector = this.sipiPending;
    if (vector >= 0) {
      this.sipiPending = -1;
      if (v !== undefined && v.nonRoot) {
        if (c.waitForSipi) {
          v.sipiVector = vector;
          c.attention = true;
        }
      } else if ((v === undefined || !v.inVmx) && c.waitForSipi) {
        this.startup(vector);
      }
      // Otherwise the processor is not waiting for a SIPI: it is discarded (§9.4.4.1, SDM Vol. 3C §26.6.2).
    }
    return undefined;
  }

  /**
   * INIT outside VMX operation (Table 9-1, INIT column): the registers as after RESET, except
   * that the MSRs keep their values (IA32_FEATURE_CONTROL, PAT, SYSENTER, ...), the x87/SSE
   * state is unchanged and the TSC runs on; the local APIC resets all but its ID; the processor waits for a SIPI.
   */
  init(): void {
    const c = this.cpu;
    const lo = new Map(c.msrLo);
    const hi = new Map(c.msrHi);
    const fpu = new FpuState();
    fpu.copyFrom(c.fpu);
    c.reset();
    for (const [k, val] of lo) c.msrLo.set(k, val);
    for (const [k, val] of hi) c.msrHi.set(k, val);
    c.fpu.copyFrom(fpu);
    this.lapic.initReset();
    c.waitForSipi = true;
  }

  /** A SIPI with `vector` in the wait-for-SIPI state: real mode at CS = vector << 8, IP = 0 (§9.4.4.1). */
  startup(vector: number): void {
    const c = this.cpu;
    c.waitForSipi = false;
    c.halted = false;
    c.loadSegmentCache(CS, vector << 8, vector << 12, 0, 0xffff, AR_P | AR_S | AR_TYPE_CODE | AR_TYPE_RW | AR_TYPE_ACCESSED);
    c.rip = 0;
    c.attention = true;
  }

  /**
   * Could this processor do anything if it ran now? Not when it waits for a SIPI (unless a
   * SIPI is latched for its guest) or is halted with nothing to wake it: an unblocked NMI, an INIT
   * latched for its guest, an interrupt it would take (RFLAGS.IF, or external-interrupt
   * exiting in non-root operation), or its guest's VMX-preemption timer run out.
   */
  runnable(): boolean {
    const c = this.cpu;
    const v = c.vmx;
    if (c.waitForSipi) return v !== undefined && v.nonRoot && v.sipiVector >= 0;
    if (!c.halted) return true;
    const hub = this.interrupts;
    if (this.nmiWakes) return true;
    if (v !== undefined && v.nonRoot && v.initLatched) return true;
    if (hub.intrPending && ((getFlags(c) & IF) !== 0 || (v !== undefined && v.interruptsExit()))) return true;
    if (v !== undefined && v.haltTimerDeadline() !== Infinity && v.tscNow() >= v.haltTimerDeadline()) return true;
    return false;
  }

  /**
   * A latched NMI the processor would take now: blocking by NMI keeps it waiting (SDM Vol. 3A
   * §6.7.1); virtual-NMI blocking does not (§26.7.1).
   */
  get nmiWakes(): boolean {
    const c = this.cpu;
    const v = c.vmx;
    return this.interrupts.nmiPending && (!c.nmiBlocked || (v !== undefined && v.nonRoot && (v.pin & PIN_VIRTUAL_NMIS) !== 0));
  }

  /** Halted (HLT, not waiting for a SIPI), with an interrupt able to end the halt. */
  get interruptsWake(): boolean {
    const c = this.cpu;
    if (c.waitForSipi || !c.halted) return false;
    const v = c.vmx;
    return (getFlags(c) & IF) !== 0 || (v !== undefined && v.interruptsExit());
  }
}
