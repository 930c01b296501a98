// The machine's virtual clock, tied to the CPU's retired-instruction counter.
//
// VirtualClock (clock.ts) is driven by `now`, which devices read whenever the guest touches
// them (PIT counters, the APIC timer's current count, RDTSC). The CPU runs whole slices of
// instructions between clock updates, so a plain field would show the time at the start
// of the slice to every access inside it, and a TSC-calibration loop polling the PIT
// would never see time pass. Here `now` is instead derived on every read from the CPU's
// instruction counter plus the time skipped while the CPU was halted: devices see the
// exact instruction count at the moment of the access, and the slices cost nothing.
//
// The other half: a device that arms a timer inside a slice (the guest writes the APIC
// timer's initial count) must get its interrupt at the deadline, not at the end of the
// slice. `schedule` therefore tells the machine (`onEarlierDeadline`) when a deadline
// falls before the end of the slice in progress, and the machine cuts the slice short.
import { VirtualClock, type ClockTimer } from '../clock.js';

/** What the clock counts: the CPU's retired-instruction counter. */
export interface InstructionCounter {
  readonly icount: number;
}

const NO_COUNTER: InstructionCounter = { icount: 0 };

export class MachineClock extends VirtualClock {
  /** Instruction count (in `now` units) at which the slice the CPU is running ends; -Infinity between slices. */
  sliceEnd = -Infinity;
  /** Called when a timer is armed for before `sliceEnd`. */
  onEarlierDeadline: () => void = () => {};
  private counter: InstructionCounter = NO_COUNTER;
  /** now - counter.icount: virtual time skipped while halted (and time before the CPU existed). */
  private skew = 0;

  /** The CPU's instruction count plus the time skipped while halted (see the file comment). */
  override get now(): number {
    return this.counter.icount + this.skew;
  }

  override set now(v: number) {
    this.skew = v - this.counter.icount;
  }

  /** From now on, time advances with `counter.icount`. */
  attach(counter: InstructionCounter): void {
    const now = this.now;
    this.counter = counter;
    this.skew = now - counter.icount;
  }

  /** The first `now` (not before the current one) at which `tsc()` reaches `tsc` (the TSC offset included). */
  nowAtTsc(tsc: number): number {
    const now = this.now;
    const k = this.tscRate.ticks(now) + (tsc - this.tsc());
    return Math.max(now, this.tscRate.instructionsFor(k));
  }

  override schedule(timer: ClockTimer, deadline: number): void {
    super.schedule(timer, deadline);
    if (deadline < this.sliceEnd) this.onEarlierDeadline();
  }
}
