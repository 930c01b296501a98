// Put the CPU in the state a Multiboot boot loader leaves (Multiboot Specification 0.6.96
// §3.2 "Machine state"): 32-bit protected mode, paging off, flat segments, EAX = magic,
// EBX = info address, IF = 0. multiboot.ts computes the values; this applies them.
import type { Cpu } from '../cpu/cpu.js';
import { MSR_FEATURE_CONTROL } from '../cpu/msrs.js';
import { CS, DS, ES, FS, GS, SS } from '../cpu/state.js';
import type { MultibootEntryState, SegmentState } from '../loader/multiboot.js';

/**
 * IA32_FEATURE_CONTROL as firmware leaves it on a VT-x machine (SDM Vol. 3C §23.7): lock (bit 0)
 * with VMXON allowed outside SMX (bit 2). Real BIOSes, Bochs' BIOS and QEMU with nested VMX
 * all lock it this way, so a hypervisor's VMXON works without touching the MSR.
 */
const FEATURE_CONTROL_LOCKED_VMX = 0x5;

// GPR numbers (SDM Vol. 2 §2.1.5 register encoding): EAX = 0, EBX = 3, ESP = 4.
const EAX = 0;
const EBX = 3;
const ESP = 4;

export function applyEntryState(cpu: Cpu, e: MultibootEntryState): void {
  cpu.reset();
  cpu.regs[2 * EAX] = e.eax | 0;
  cpu.regs[2 * EBX] = e.ebx | 0;
  cpu.regs[2 * ESP] = e.esp | 0;
  cpu.flagsVal = e.eflags;
  cpu.lazyMask = 0;
  // CR0 first: the segment loads below recompute the mode from it.
  cpu.cr0 = e.cr0;
  const load = (seg: number, s: SegmentState): void => cpu.loadSegmentCache(seg, s.selector, s.base | 0, 0, s.limit >>> 0, s.accessRights);
  load(ES, e.es);
  load(SS, e.ss);
  load(DS, e.ds);
  load(FS, e.fs);
  load(GS, e.gs);
  load(CS, e.cs);
  cpu.gdtrBase = e.gdtr.base;
  cpu.gdtrLimit = e.gdtr.limit;
  cpu.idtrBase = e.idtr.base;
  cpu.idtrLimit = e.idtr.limit;
  cpu.rip = e.eip >>> 0;
  if (cpu.vmxAvailable) {
    cpu.msrLo.set(MSR_FEATURE_CONTROL, FEATURE_CONTROL_LOCKED_VMX);
    cpu.msrHi.set(MSR_FEATURE_CONTROL, 0);
  }
  cpu.pagingChanged();
}
