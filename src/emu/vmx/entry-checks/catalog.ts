/**
 * The catalogue of VM-entry checks (SDM Vol. 3C §26.2 and §26.3) and the shape of their result.
 *
 * Every check the emulator performs is declared here once, with a stable id, the stage it
 * belongs to and its SDM section; the check code (controls.ts, host-state.ts, guest-state.ts,
 * guest-memory.ts) fails with one of these declarations and a sentence naming the VMCS fields
 * (Linux vmx.h names) and their values. Tools can list the catalogue (what is checked, in SDM
 * order) and tests hold every entry to a test that makes exactly that check fail.
 *
 * How a failure reaches software (SDM §26.2, §26.3, §26.8):
 * - controls (26.2.1.x): VMfailValid with VM-instruction error 7 ("VM entry with invalid control
 *   field(s)");
 * - host state (26.2.2-26.2.4): VMfailValid with error 8 ("VM entry with invalid host-state field(s)");
 * - guest state (26.3.1.x): a VM exit with basic reason 33 ("VM-entry failure due to invalid guest
 *   state") and bit 31 set in the exit-reason field, the exit qualification saying why (§26.8:
 *   0 default, 2 PDPTE loading, 3 NMI injection under STI blocking, 4 VMCS link pointer);
 * - MSR loading (26.4): a VM exit with reason 34 and bit 31 set, the qualification the 1-based
 *   index of the failing entry (reported by the MSR-load path, not by these checks).
 */

import { VMXERR, EXIT_REASON, ENTRY_FAILURE_QUALIFICATIONS } from '../exit-reasons';
import { VMX_EXIT_REASONS_FAILED_VMENTRY } from '../bit-fields';

export type EntryCheckStage = 'controls' | 'host-state' | 'guest-state' | 'msr-load';

function defined(v: number | undefined, what: string): number {
  if (v === undefined) throw new Error(`entry-checks: the VMX tables define no ${what}`);
  return v;
}
function qualificationNumber(name: string): number {
  for (const [k, [n]] of Object.entries(ENTRY_FAILURE_QUALIFICATIONS)) if (n === name) return Number(k);
  throw new Error(`entry-checks: the VMX tables define no ${name}`);
}

/** VM-instruction error numbers for failed checks on controls / host state (SDM §30.4), from exit-reasons.ts. */
export const VMXERR_ENTRY_INVALID_CONTROL_FIELD = defined(VMXERR.ENTRY_INVALID_CONTROL_FIELD, 'VMXERR_ENTRY_INVALID_CONTROL_FIELD');
export const VMXERR_ENTRY_INVALID_HOST_STATE_FIELD = defined(VMXERR.ENTRY_INVALID_HOST_STATE_FIELD, 'VMXERR_ENTRY_INVALID_HOST_STATE_FIELD');
/** Basic exit reasons of VM-entry failures (SDM Appendix C); bit 31 of the exit-reason field marks them (SDM §24.9.1). */
export const EXIT_REASON_INVALID_STATE = defined(EXIT_REASON.INVALID_STATE, 'EXIT_REASON_INVALID_STATE');
export const EXIT_REASON_MSR_LOAD_FAIL = defined(EXIT_REASON.MSR_LOAD_FAIL, 'EXIT_REASON_MSR_LOAD_FAIL');
/** Exit qualifications for reason 33 (SDM §26.8), vmx.h ENTRY_FAIL_* values. */
export const ENTRY_FAIL_DEFAULT = qualificationNumber('ENTRY_FAIL_DEFAULT');
export const ENTRY_FAIL_PDPTE = qualificationNumber('ENTRY_FAIL_PDPTE');
export const ENTRY_FAIL_NMI = qualificationNumber('ENTRY_FAIL_NMI');
export const ENTRY_FAIL_VMCS_LINK_PTR = qualificationNumber('ENTRY_FAIL_VMCS_LINK_PTR');

/** What the VMLAUNCH/VMRESUME that failed must do. */
export type EntryFailureOutcome =
  /** RFLAGS.ZF = 1, the VM-instruction error field gets `error`, control goes to the next instruction. */
  | { readonly kind: 'vmfail-valid'; readonly error: number }
  /**
   * A VM exit that loads host state: exit-reason field `exitReason` (bit 31 set), exit
   * qualification `qualification` (SDM §26.8).
   */
  | { readonly kind: 'vm-exit'; readonly exitReason: number; readonly qualification: number };

/** One check of SDM §26.2/§26.3 as the emulator performs it. */
export interface EntryCheck {
  /** Stable id, e.g. 'guest.cr0-pg-without-pe'. */
  readonly id: string;
  readonly stage: EntryCheckStage;
  /** SDM Vol. 3C section, e.g. '26.3.1.1'. */
  readonly sdm: string;
  /** What must hold, in the SDM's terms. */
  readonly title: string;
  /** Exit qualification for guest-state checks (SDM §26.8); 0 elsewhere. */
  readonly qualification: number;
}

export interface EntryCheckFailure {
  readonly ok: false;
  readonly check: EntryCheck;
  readonly stage: EntryCheckStage;
  readonly sdm: string;
  /** The VMCS fields involved (vmx.h names), the field at fault first. */
  readonly fields: readonly string[];
  /** A sentence a student understands: `GUEST_CR0.PG=1 requires GUEST_CR0.PE=1`. */
  readonly message: string;
  readonly outcome: EntryFailureOutcome;
}

export interface EntryChecksPassed { readonly ok: true }
export type EntryCheckResult = EntryChecksPassed | EntryCheckFailure;

/** The one "passed" result (no allocation on the success path). */
export const ENTRY_CHECKS_PASSED: EntryChecksPassed = Object.freeze({ ok: true as const });

const CATALOGUE: EntryCheck[] = [];

/** Declares a check (module initialisation only); ids are unique. */
export function defineCheck(id: string, stage: EntryCheckStage, sdm: string, title: string, qualification = ENTRY_FAIL_DEFAULT): EntryCheck {
  if (CATALOGUE.some((c) => c.id === id)) throw new Error(`entry-checks: duplicate check id ${id}`);
  const c: EntryCheck = Object.freeze({ id, stage, sdm, title, qualification });
  CATALOGUE.push(c);
  return c;
}

/** Every check, in the order the modules declare them (SDM order within each stage). */
export const ENTRY_CHECK_CATALOGUE: readonly EntryCheck[] = CATALOGUE;

function outcomeOf(c: EntryCheck): EntryFailureOutcome {
  switch (c.stage) {
    case 'controls': return { kind: 'vmfail-valid', error: VMXERR_ENTRY_INVALID_CONTROL_FIELD };
    case 'host-state': return { kind: 'vmfail-valid', error: VMXERR_ENTRY_INVALID_HOST_STATE_FIELD };
    case 'guest-state':
      return { kind: 'vm-exit', exitReason: (VMX_EXIT_REASONS_FAILED_VMENTRY | EXIT_REASON_INVALID_STATE) >>> 0, qualification: c.qualification };
    case 'msr-load':
      return { kind: 'vm-exit', exitReason: (VMX_EXIT_REASONS_FAILED_VMENTRY | EXIT_REASON_MSR_LOAD_FAIL) >>> 0, qualification: c.qualification };
  }
}

/** The failure of check `c`: `fields` are vmx.h names, the field at fault first. */
export function fail(c: EntryCheck, fields: readonly string[], message: string): EntryCheckFailure {
  return { ok: false, check: c, stage: c.stage, sdm: c.sdm, fields, message, outcome: outcomeOf(c) };
}

const STAGE_TEXT: Readonly<Record<EntryCheckStage, string>> = {
  controls: 'invalid VMX control field',
  'host-state': 'invalid host-state field',
  'guest-state': 'invalid guest state',
  'msr-load': 'MSR loading',
};

/**
 * The line the CLI prints and the debugger shows:
 * `VM entry failed: invalid guest state (SDM 26.3.1.1): GUEST_CR0.PG=1 requires GUEST_CR0.PE=1`.
 */
export function formatEntryFailure(f: EntryCheckFailure): string {
  return `VM entry failed: ${STAGE_TEXT[f.stage]} (SDM ${f.sdm}): ${f.message}`;
}
