/**
 * VM-entry checks (SDM Vol. 3C chapter 26): everything VMLAUNCH/VMRESUME verify after the
 * basic checks of §26.1 and before loading guest state: §26.2 (VMX controls, host-state area,
 * address-space size) and §26.3.1 (guest-state area, VMCS link pointer, PAE PDPTEs), in SDM
 * order, returning the first check that fails, with its SDM section, the fields involved, a
 * sentence for the user and the architected outcome (VMfailValid 7/8 or a VM exit with reason
 * 33 and bit 31 set). The VMX instructions call `VmEntryChecker.check` and apply `outcome`;
 * `formatEntryFailure` gives the line the CLI prints.
 *
 * ## The cache (SDM-invisible: a real CPU re-checks every time, we only skip work)
 * Repeated entries with an unchanged VMCS skip every check that reads only the VMCS: after a
 * full run passes, `check` runs just the memory-reading checks (VMCS link pointer, PDPTEs:
 * memory can change without VMWRITE) until `invalidate()` is called. The contract for the
 * VMX code that owns the current VMCS: call `invalidate()` on every change to what the current
 * VMCS holds or which VMCS is current, namely
 *   - VMWRITE (any field, successful or not is fine: invalidating too often is only slower);
 *   - a VM exit, which writes exit-information and guest-state fields;
 *   - VMPTRLD and VMCLEAR (the current VMCS changes or is flushed);
 *   - any direct store into the VMCS region the emulator honours (a debugger's VMCS edit).
 * The facts (IA32_EFER.LMA, current-VMCS pointer) are compared on every call, so they need no
 * invalidation.
 */

import { checkControls } from './entry-checks/controls';
import { checkHostState } from './entry-checks/host-state';
import { checkGuestState } from './entry-checks/guest-state';
import { checkGuestMemory } from './entry-checks/guest-memory';
import { type EntryCheckResult, ENTRY_CHECKS_PASSED } from './entry-checks/catalog';
import {
  type Caps, type EntryCheckProcessor, type EntryFacts, type EntryState, type PhysicalMemoryReader, type VmcsReader,
  DEFAULT_ENTRY_PROCESSOR, decodeCaps, newEntryState,
} from './entry-checks/env';

export {
  type EntryCheck, type EntryCheckFailure, type EntryCheckResult, type EntryCheckStage, type EntryChecksPassed,
  type EntryFailureOutcome, ENTRY_CHECK_CATALOGUE, ENTRY_CHECKS_PASSED, formatEntryFailure, VMXERR_ENTRY_INVALID_CONTROL_FIELD,
  VMXERR_ENTRY_INVALID_HOST_STATE_FIELD, EXIT_REASON_INVALID_STATE, EXIT_REASON_MSR_LOAD_FAIL, ENTRY_FAIL_DEFAULT,
  ENTRY_FAIL_PDPTE, ENTRY_FAIL_NMI, ENTRY_FAIL_VMCS_LINK_PTR,
} from './entry-checks/catalog';
export {
  type VmcsReader, type PhysicalMemoryReader, type EntryCheckProcessor, type EntryFacts, DEFAULT_ENTRY_PROCESSOR,
} from './entry-checks/env';

/** Runs the VM-entry checks for one logical processor, caching what an unchanged VMCS makes redundant. */
export class VmEntryChecker {
  private readonly caps: Caps;
  private readonly state: EntryState = newEntryState();
  /** The VMCS-only checks passed for the current VMCS contents with `validForLma`. */
  private valid = false;
  private validForLma = false;
  /** Full runs of all checks, and entries served by the cache (for benches and tests). */
  fullRuns = 0;
  cachedRuns = 0;

  constructor(readonly processor: EntryCheckProcessor = DEFAULT_ENTRY_PROCESSOR) {
    this.caps = decodeCaps(processor);
  }

  /** The current VMCS changed (see the module comment for who must call this, and when). */
  invalidate(): void {
    this.valid = false;
  }

  /** The checks of SDM 26.2 and 26.3.1 for an entry now; the first failure in SDM order, or passed. */
  check(vmcs: VmcsReader, facts: EntryFacts, memory: PhysicalMemoryReader): EntryCheckResult {
    if (this.valid && this.validForLma === facts.hostLma) {
      this.cachedRuns++;
    } else {
      this.valid = false;
      this.fullRuns++;
      const s = this.state;
      const f = checkControls(vmcs, this.processor, this.caps, s)
        ?? checkHostState(vmcs, this.processor, this.caps, s, facts)
        ?? checkGuestState(vmcs, this.processor, this.caps, s);
      if (f !== undefined) return f;
      this.valid = true;
      this.validForLma = facts.hostLma;
    }
    return checkGuestMemory(vmcs, this.processor, this.state, facts, memory) ?? ENTRY_CHECKS_PASSED;
  }
}

/** One uncached run of all checks (tools, tests). */
export function checkVmEntry(vmcs: VmcsReader, facts: EntryFacts, memory: PhysicalMemoryReader, processor: EntryCheckProcessor = DEFAULT_ENTRY_PROCESSOR): EntryCheckResult {
  return new VmEntryChecker(processor).check(vmcs, facts, memory);
}
