// `vmx-lab run --trace exits`, `--stats` and `--json[=FILE]`: what a hypervisor's guest did,
// exit by exit, for people and for graders (issue 5 §3, issue 4 "Done when").
//
// Everything comes from the processor's VMX through its public surface: the VM-exit and
// VM-entry events (Vmx.onExit / Vmx.onEntry) and the per-reason statistics of
// src/emu/vmx/inspect.ts (exitStats: counts, and virtual-TSC cycles spent in root operation
// from each exit to the next VM entry). The decoded qualification is exit-reasons.ts's, the
// same text the debugger shows.
//
// An exit is reported when the VMM resumes its guest, so the line can say both where the
// guest was (GUEST_RIP saved by the exit) and where it goes on (RIP at the next VM entry):
// whether the handler skipped the instruction is then visible. An exit the VMM never resumes
// from (it ends the run) is reported at the end with no "after" RIP.
import type { Machine } from '../emu/machine';
import { decodeQualification, exitReason } from '../emu/vmx/exit-reasons';
import { hex64 } from '../emu/vmx/bit-fields';
import { exitStats, type ExitStat } from '../emu/vmx/inspect';
import type { Vmx, VmExitEvent } from '../emu/vmx/vmx';
import { UsageError } from './args';
import { CliError, type CliIo } from './io';

export interface VmxTraceOptions {
  /** One line per VM exit on stderr (`--trace exits`). */
  readonly exits: boolean;
  /** The per-reason table at the end (`--stats`). */
  readonly stats: boolean;
  /** JSON lines (every exit, then the statistics): '-' for stderr, else a file (`--json[=FILE]`). */
  readonly json: string | undefined;
}

/** One VM exit as the trace reports it (also the shape of a JSON "exit" record). */
export interface ExitRecord {
  readonly type: 'exit';
  /** 1 for the first exit of the run. */
  readonly n: number;
  /** Basic exit reason (SDM Appendix C). */
  readonly reason: number;
  readonly name: string;
  /** Bit 31 of the exit-reason field: the exit is a failed VM entry (reason 33/34). */
  readonly failedEntry: boolean;
  /** The exit qualification, hex. */
  readonly qualification: string;
  /** The qualification decoded (`mov %rax -> cr3`), '' where the SDM defines none. */
  readonly decoded: string;
  readonly instructionLength: number;
  /** GUEST_RIP saved by the exit. */
  readonly ripBefore: number;
  /** Guest RIP at the next VM entry; null when the VMM never resumed the guest. */
  readonly ripAfter: number | null;
  /** Virtual TSC at the exit. */
  readonly tsc: number;
  /** For a failed VM entry, the check that failed. */
  readonly message?: string;
  /** The logical processor (APIC ID) that took the exit; only on a machine with several. */
  readonly cpu?: number;
}

/** The JSON "stats" record: the machine's own per-reason table. */
export interface StatsRecord {
  readonly type: 'stats';
  readonly reasons: readonly ExitStat[];
  readonly exits: number;
  readonly rootCycles: number;
  readonly entries: number;
}

/**
 * Takes `--json` and `--json=FILE` out of `argv` (an option with an optional value, as GNU's
 * `--color[=WHEN]`: a separate word after `--json` stays a positional argument).
 */
export function takeJsonOption(argv: readonly string[]): { argv: string[]; json: string | undefined } {
  let json: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a !== '--json' && !a.startsWith('--json=')) {
      rest.push(a);
      continue;
    }
    if (json !== undefined) throw new UsageError('option --json given more than once');
    json = a === '--json' ? '-' : a.slice('--json='.length);
    if (json === '') throw new UsageError('--json=FILE: the file name is empty');
  }
  return { argv: rest, json };
}

function hex(v: number): string {
  return `0x${v.toString(16)}`;
}

/** `exit #3 CR_ACCESS (28) qual=0x3 (mov %rax -> cr3) rip 0x100990→0x100993` */
export function formatExitRecord(r: ExitRecord): string {
  const decoded = r.decoded === '' ? '' : ` (${r.decoded})`;
  const failed = r.failedEntry ? ' [VM-entry failure]' : '';
  const after = r.ripAfter === null ? '(not resumed)' : hex(r.ripAfter);
  const cpu = r.cpu === undefined ? '' : `cpu ${r.cpu} `;
  return `${cpu}exit #${r.n} ${r.name} (${r.reason})${failed} qual=${r.qualification}${decoded} rip ${hex(r.ripBefore)}→${after}`;
}

/** The `--stats` table: count and root-mode cycles per reason, then the totals. */
export function formatStats(s: StatsRecord): string[] {
  const lines = ['VM exits by reason (cycles: virtual TSC spent in VMX root operation, from the exit to the next VM entry or VMCLEAR)'];
  const row = (reason: string, count: string, cycles: string, per: string): string =>
    `  ${reason.padEnd(28)} ${count.padStart(10)} ${cycles.padStart(14)} ${per.padStart(12)}`;
  lines.push(row('reason', 'exits', 'cycles', 'cycles/exit'));
  for (const r of s.reasons) {
    lines.push(row(`${r.reason} ${r.name}`, String(r.count), String(r.rootCycles), String(Math.round(r.rootCycles / r.count))));
  }
  lines.push(row('total', String(s.exits), String(s.rootCycles), s.exits === 0 ? '-' : String(Math.round(s.rootCycles / s.exits))));
  lines.push(`  VM entries: ${s.entries}`);
  return lines;
}

/**
 * Follows the VM exits of every logical processor of a machine; `finish` reports what is left
 * when the run ends. Each processor has its own VMX (its own current VMCS), so an exit waits
 * for the next VM entry on the same processor; with several processors a line names its CPU.
 * A VMM that moves a VMCS to another processor (VMCLEAR here, VMPTRLD and VMLAUNCH there,
 * SDM Vol. 3C §24.11) resumes the guest elsewhere: the exit is then reported at the next entry
 * of its own processor, and the root-mode cycles count until then (time that processor spent
 * idle included).
 */
export class VmxTrace {
  private readonly vmxs: readonly Vmx[];
  private readonly pending: (VmExitEvent | undefined)[];
  private readonly multi: boolean;
  private count = 0;
  private readonly jsonLines: string[] = [];

  constructor(
    machine: Machine,
    private readonly opts: VmxTraceOptions,
    private readonly io: CliIo,
    /** Called before a line goes to stderr (the guest's pending serial output goes first). */
    private readonly beforeLine: () => void,
  ) {
    const vmxs: Vmx[] = [];
    for (const p of machine.processors) {
      const vmx = p.cpu.vmx;
      if (vmx === undefined) throw new CliError('this machine has no VT-x to trace');
      vmxs.push(vmx);
    }
    this.vmxs = vmxs;
    this.pending = vmxs.map(() => undefined);
    this.multi = vmxs.length > 1;
    if (!opts.exits && opts.json === undefined) return;
    vmxs.forEach((vmx, cpu) => {
      const prevExit = vmx.onExit;
      const prevEntry = vmx.onEntry;
      vmx.onExit = (e) => {
        prevExit?.(e);
        this.flushPending(cpu, undefined);
        this.pending[cpu] = e;
      };
      vmx.onEntry = (e) => {
        prevEntry?.(e);
        this.flushPending(cpu, e.guestRip);
      };
    });
  }

  /** The exit waiting for its VM entry, reported with the RIP the guest resumes at. */
  private flushPending(cpu: number, ripAfter: number | undefined): void {
    const e = this.pending[cpu];
    if (e === undefined) return;
    this.pending[cpu] = undefined;
    const basic = e.exitReason & 0xffff;
    const q = decodeQualification(basic, e.qualificationLo, e.qualificationHi, { interruptionInfo: e.interruptionInfo });
    const r: ExitRecord = {
      type: 'exit', n: ++this.count, reason: basic, name: exitReason(basic)?.short ?? `UNKNOWN_${basic}`,
      failedEntry: (e.exitReason & 0x80000000) !== 0, qualification: hex64(e.qualificationLo, e.qualificationHi), decoded: q.summary,
      instructionLength: e.instructionLength, ripBefore: e.guestRip, ripAfter: ripAfter ?? null, tsc: e.tsc,
      ...(e.message === undefined ? {} : { message: e.message }),
      ...(this.multi ? { cpu } : {}),
    };
    if (this.opts.exits) this.line(`vmx-lab: trace: ${formatExitRecord(r)}`);
    this.json(r);
  }

  private line(text: string): void {
    this.beforeLine();
    this.io.stderr(`${text}\n`);
  }

  private json(record: ExitRecord | StatsRecord): void {
    if (this.opts.json === undefined) return;
    const text = JSON.stringify(record);
    if (this.opts.json === '-') this.line(text);
    else this.jsonLines.push(text);
  }

  /** The statistics as the machine counted them, summed over the processors. */
  stats(): StatsRecord {
    const byReason = new Map<number, ExitStat>();
    let exits = 0;
    let cycles = 0;
    let entries = 0;
    for (const vmx of this.vmxs) {
      entries += vmx.entries;
      for (const r of exitStats(vmx)) {
        exits += r.count;
        cycles += r.rootCycles;
        const prev = byReason.get(r.reason);
        byReason.set(r.reason, prev === undefined ? r : { ...r, count: prev.count + r.count, rootCycles: prev.rootCycles + r.rootCycles });
      }
    }
    const reasons = [...byReason.values()].sort((a, b) => a.reason - b.reason);
    return { type: 'stats', reasons, exits, rootCycles: cycles, entries };
  }

  /** End of the run: the last exit (if never resumed), the table, the JSON file. */
  finish(): void {
    for (let cpu = 0; cpu < this.vmxs.length; cpu++) this.flushPending(cpu, undefined);
    const s = this.stats();
    if (this.opts.stats) for (const l of formatStats(s)) this.line(`vmx-lab: stats: ${l}`);
    this.json(s);
    if (this.opts.json !== undefined && this.opts.json !== '-') {
      const data = new TextEncoder().encode(this.jsonLines.map((l) => `${l}\n`).join(''));
      this.io.writeFile(this.opts.json, data, false);
    }
  }
}
