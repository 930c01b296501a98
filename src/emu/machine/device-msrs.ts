// The MSRs whose state lives in devices rather than in the CPU: IA32_APIC_BASE (0x1B),
// IA32_TSC_DEADLINE (0x6E0) and the x2APIC registers (0x800-0x8FF) belong to the local
// APIC; IA32_TIME_STAMP_COUNTER (0x10) to the virtual clock (SDM Vol. 4 "Model-Specific
// Registers", Vol. 3 §18.17 for the TSC). The CPU's RDMSR/WRMSR ask this object first;
// MSR_UNHANDLED sends the access on to the CPU's own MSR table.
//
// Allocation-free: values travel as int32 halves, results as small integers.
import type { VirtualClock } from '../clock.js';
import { MSR_GP, MSR_OK, MSR_UNHANDLED, type MsrDevice } from '../cpu/msrs.js';
import type { LocalApic } from '../devices/local-apic.js';

export { MSR_GP, MSR_OK, MSR_UNHANDLED, type MsrDevice };

export const IA32_TIME_STAMP_COUNTER = 0x10;
export const IA32_APIC_BASE = 0x1B;
export const IA32_TSC_DEADLINE = 0x6E0;
const X2APIC_FIRST = 0x800;
const X2APIC_LAST = 0x8FF;

export class DeviceMsrs implements MsrDevice {
  constructor(
    private readonly clock: VirtualClock,
    private readonly lapic: LocalApic,
    /** IA32_TSC_DEADLINE exists only where CPUID.01H:ECX[24] says so (SDM Vol. 4 Table 2-2): else #GP. */
    private readonly tscDeadline = true,
  ) {}

  rdmsr(index: number, out: Int32Array, i: number): number {
    switch (index) {
      case IA32_TIME_STAMP_COUNTER:
        out[i] = this.clock.tscLow() | 0;
        out[i + 1] = this.clock.tscHigh() | 0;
        return MSR_OK;
      case IA32_APIC_BASE:
        out[i] = this.lapic.readApicBase() | 0;
        out[i + 1] = 0;
        return MSR_OK;
      case IA32_TSC_DEADLINE:
        if (!this.tscDeadline) return MSR_GP;
        this.lapic.readTscDeadline(out, i);
        return MSR_OK;
    }
    if (index >= X2APIC_FIRST && index <= X2APIC_LAST) return this.lapic.x2apicRead(index, out, i) ? MSR_OK : MSR_GP;
    return MSR_UNHANDLED;
  }

  wrmsr(index: number, lo: number, hi: number): number {
    switch (index) {
      case IA32_TIME_STAMP_COUNTER:
        this.clock.setTsc(lo, hi);
        return MSR_OK;
      case IA32_APIC_BASE:
        return this.lapic.writeApicBase(lo >>> 0, hi >>> 0) ? MSR_OK : MSR_GP;
      case IA32_TSC_DEADLINE:
        if (!this.tscDeadline) return MSR_GP;
        this.lapic.writeTscDeadline(lo, hi);
        return MSR_OK;
    }
    if (index >= X2APIC_FIRST && index <= X2APIC_LAST) return this.lapic.x2apicWrite(index, lo, hi) ? MSR_OK : MSR_GP;
    return MSR_UNHANDLED;
  }
}
