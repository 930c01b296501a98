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
 * memory can change without VMWRITE) until the VMCS changes. The contract for the VMX code
 * that owns the current VMCS:
 *   - VMWRITE calls `invalidate(encoding)` with the field's encoding (full or high). Writes to
 *     fields no check reads (GUEST_RSP, masks and read shadows, the exception bitmap, TSC
 *     offset, ...) keep the cache; a write to GUEST_RIP alone re-runs only the RIP check (the
 *     usual "advance RIP and resume" exit handler); any other field re-runs everything.
 *   - A VM exit stores the guest state and tells which stores changed a value: `invalidate()`
 *     when a field the checks read changed, `invalidate(GUEST_RIP)` when only RIP did
 *     (vm-exit.ts). VMPTRLD and VMCLEAR (the current VMCS changes or is flushed), and any
 *     direct store into the VMCS region the emulator honours (a debugger's VMCS edit) call
 *     `invalidate()`.
 * The facts (IA32_EFER.LMA, current-VMCS pointer) are compared on every call, so they need no
 * invalidation.
 */

import { checkControls } from './entry-checks/controls';
import { checkHostState } from './entry-checks/host-state';
import { checkGuestState, checkGuestRip } from './entry-checks/guest-state';
import { checkGuestMemory } from './entry-checks/guest-memory';
import { type EntryCheckResult, ENTRY_CHECKS_PASSED } from './entry-checks/catalog';
import {
  type Caps, type EntryCheckProcessor, type EntryFacts, type EntryState, type PhysicalMemoryReader, type VmcsReader,
  DEFAULT_ENTRY_PROCESSOR, decodeCaps, newEntryState, enc, isReadByChecks,
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

const GUEST_RIP = enc('GUEST_RIP');

/** Runs the VM-entry checks for one logical processor, caching what an unchanged VMCS makes redundant. */
export class VmEntryChecker {
  private readonly caps: Caps;
  private readonly state: EntryState = newEntryState();
  /** The VMCS-only checks passed for the current VMCS contents with `validForLma`. */
  private valid = false;
  private validForLma = false;
  /** GUEST_RIP was written since the checks last passed (and nothing else they read). */
  private ripDirty = false;
  /** Full runs of all checks, and entries served by the cache (for benches and tests). */
  fullRuns = 0;
  cachedRuns = 0;

  constructor(readonly processor: EntryCheckProcessor = DEFAULT_ENTRY_PROCESSOR) {
    this.caps = decodeCaps(processor);
  }

  /**
   * The current VMCS changed: `encoding` is the field a VMWRITE wrote; without it, anything may
   * have changed (see the module comment for who must call this, and when).
   */
  invalidate(encoding?: number): void {
    if (encoding === undefined) this.valid = false;
    else if ((encoding & ~1) === GUEST_RIP) this.ripDirty = true;
    else if (isReadByChecks(encoding)) this.valid = false;
  }

  /** The checks of SDM 26.2 and 26.3.1 for an entry now; the first failure in SDM order, or passed. */
  check(vmcs: VmcsReader, facts: EntryFacts, memory: PhysicalMemoryReader): EntryCheckResult {
    const s = this.state;
    if (this.valid && this.validForLma === facts.hostLma) {
      this.cachedRuns++;
      if (this.ripDirty) {
        // Every other check passed for this VMCS; RIP's is the only one whose input changed.
        const f = checkGuestRip(vmcs, this.processor, s);
        if (f !== undefined) {
          this.valid = false;
          return f;
        }
        this.ripDirty = false;
      }
    } else {
      this.valid = false;
      this.ripDirty = false;
      this.fullRuns++;
      const f = checkControls(vmcs, this.processor, this.caps, s)
        ?? checkHostState(vmcs, this.processor, this.caps, s, facts)
        ?? checkGuestState(vmcs, this.processor, this.caps, s);
      if (f !== undefined) return f;
      this.valid = true;
      this.validForLma = facts.hostLma;
    }
    return checkGuestMemory(vmcs, this.processor, s, facts, memory) ?? ENTRY_CHECKS_PASSED;
  }
}

/** One uncached run of all checks (tools, tests). */
export function checkVmEntry(vmcs: VmcsReader, facts: EntryFacts, memory: PhysicalMemoryReader, processor: EntryCheckProcessor = DEFAULT_ENTRY_PROCESSOR): EntryCheckResult {
  return new VmEntryChecker(processor).check(vmcs, facts, memory);
}
