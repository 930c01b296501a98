/**
 * INIT and start-up IPIs (SIPIs) in VMX operation, SDM Vol. 3C:
 * - §23.8 (§24.8 in older editions) "Restrictions on VMX Operation": INIT signals are blocked
 *   whenever a logical processor is in VMX root operation; the blocked INIT stays latched and
 *   is taken when the processor leaves VMX operation (VMXOFF) or enters non-root operation.
 * - §25.2 "Other Causes of VM Exits": in non-root operation an INIT causes a VM exit (reason 3)
 *   that changes no register state; a SIPI causes one (reason 4, the vector as the exit
 *   qualification, §27.2.1) only in the wait-for-SIPI activity state, and is discarded in the
 *   others.
 * - §26.6.2 "Activity State": the wait-for-SIPI state blocks external interrupts, NMIs, INIT
 *   and SMIs; §25.5.1: the VMX-preemption timer causes no VM exit in that state.
 *
 * The machine (machine/processor.ts) latches the signals in Vmx.initLatched / Vmx.sipiVector;
 * the non-root service (non-root.ts) calls `signalExit` at the guest's next instruction boundary.
 */

import { beginExit, vmExit } from './vm-exit';
import { EXIT_REASON } from './exit-reasons';
import type { Vmx } from './vmx';

const EXIT_INIT = EXIT_REASON.INIT_SIGNAL;
const EXIT_SIPI = EXIT_REASON.SIPI_SIGNAL;

/**
 * At a guest instruction boundary with an INIT latched or in the wait-for-SIPI state: the VM
 * exit the signal causes, if any. True when an exit happened; false leaves the guest as it is
 * (in wait-for-SIPI that means inactive: nothing else is considered, §26.6.2).
 */
export function signalExit(v: Vmx): boolean {
  const c = v.cpu;
  if (c.waitForSipi) {
    const vector = v.sipiVector;
    if (vector < 0) return false;
    v.sipiVector = -1;
    beginExit(v);
    v.exitQualLo = vector & 0xff;
    vmExit(v, EXIT_SIPI);
    return true;
  }
  if (!v.initLatched) return false;
  v.initLatched = false;
  beginExit(v);
  vmExit(v, EXIT_INIT);
  return true;
}
