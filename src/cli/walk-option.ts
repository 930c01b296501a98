// `vmx-lab run --walk ADDR --at WHERE` (lab i, guests/labs/page-walks): when execution first
// reaches WHERE, print the page walk the CPU would make right there to read ADDR, one line
// per memory access, then what the TLB holds for that page, and go on with the run.
//
// The walk is the MMU's own explanation (Machine.explainWalk): native when the CPU is in
// VMX root operation or has no VMX, two-dimensional when it is in VMX non-root operation
// with EPT on (every guest-physical address, the guest's paging-structure entries' and the
// final one, goes through an EPT walk: SDM Vol. 3 §28.3.2 and §4.5).
//
// WHERE is an address or a symbol of the kernel ELF; with the prefix `guest:` it is an
// address or a symbol of module 0 (the guest a hypervisor runs), and the probe fires only
// in VMX non-root operation, since the VMM and its guest may use the same linear addresses.
import { parseElf, isElf, ElfError } from '../emu/loader/elf';
import type { Machine, MachineStop, RunOptions } from '../emu/machine';
import type { PageWalk, WalkStep } from '../emu/mmu/page-walk';
import { parseAddress, UsageError } from './args';
import type { CliIo } from './io';

export const WALK_USAGE = `  --walk ADDR --at WHERE explain the page walk for a read of ADDR when execution first reaches
                         WHERE, then the TLB entries for ADDR (stderr); both are addresses or
                         kernel symbols; guest:SYMBOL is module 0's, and --at guest:... fires in
                         VMX non-root operation only`;

export interface WalkRequest {
  /** ADDR of --walk: an address or a symbol, resolved like WHERE (guest: for module 0's). */
  walk: string;
  at: string;
}

/** Removes --walk ADDR and --at WHERE (either both or neither) from argv. */
export function takeWalkOptions(argv: readonly string[]): { argv: string[]; walk: WalkRequest | undefined } {
  const rest: string[] = [];
  let walk: string | undefined;
  let at: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    if (name !== '--walk' && name !== '--at') {
      rest.push(a);
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = a.slice(eq + 1);
    else if (i + 1 < argv.length) value = argv[++i];
    if (value === undefined || value === '') throw new UsageError(`option ${name} needs a value`);
    if ((name === '--walk' ? walk : at) !== undefined) throw new UsageError(`option ${name} given more than once`);
    if (name === '--walk') walk = value;
    else at = value;
  }
  if (walk === undefined && at === undefined) return { argv: rest, walk: undefined };
  if (walk === undefined) throw new UsageError('--at needs --walk ADDR (the address whose page walk to explain)');
  if (at === undefined) throw new UsageError('--walk needs --at WHERE (the instruction to explain the walk at)');
  return { argv: rest, walk: { walk, at } };
}

function hex(v: number): string {
  return `0x${v.toString(16)}`;
}

/** WHERE as a linear RIP: a number, or a symbol of `elf` (bytes of an ELF file). */
function resolve(option: string, where: string, elfBytes: Uint8Array | undefined, whose: string): number {
  if (/^[0-9]/.test(where)) {
    const v = parseAddress(where, option);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new UsageError(`${option}: ${where} is beyond the addresses the page-walk explanation takes (below 2^53)`);
    return Number(v);
  }
  if (elfBytes === undefined || !isElf(elfBytes)) throw new UsageError(`${option}: \`${where}' is not an address, and the ${whose} is not an ELF file with symbols`);
  let elf;
  try {
    elf = parseElf(elfBytes);
  } catch (e) {
    if (e instanceof ElfError) throw new UsageError(`${option}: the ${whose} has no readable symbols (${e.message})`);
    throw e;
  }
  const sym = elf.symbols.find((s) => s.name === where && s.value !== 0n);
  if (sym === undefined) throw new UsageError(`${option}: no symbol \`${where}' in the ${whose}`);
  return Number(sym.value);
}

/** Each memory access of a walk in the order the CPU makes them (EPT entries before the guest entry they locate). */
function accesses(w: PageWalk): { step: WalkStep; translating?: string }[] {
  const out: { step: WalkStep; translating?: string }[] = [];
  for (const s of w.steps) {
    for (const e of s.nested?.steps ?? []) if (e.memoryAccess) out.push({ step: e, translating: `the ${s.level}'s guest-physical ${hex(s.address)}` });
    if (s.memoryAccess) out.push({ step: s });
  }
  for (const e of w.finalNested?.steps ?? []) if (e.memoryAccess) out.push({ step: e, translating: `the final guest-physical ${hex(w.guestPhysical)}` });
  return out;
}

/** The explanation's lines (without prefix): header, numbered accesses, total, TLB. */
export function walkLines(w: PageWalk, rip: number, nonRoot: boolean, tlb: ReturnType<Machine['mmu']['tlbEntries']>): string[] {
  const nested = w.finalNested !== undefined || w.steps.some((s) => s.nested !== undefined);
  const where = nonRoot ? 'VMX non-root operation' : 'VMX root operation or no VMX';
  const kind = nested ? `nested: guest ${w.mode} paging, each guest-physical address through EPT` : `native: ${w.mode} paging`;
  const lines = [`page walk for a read of ${hex(w.linear)} at rip=${hex(rip)} (CPL ${w.cpl}, ${where}; ${kind})`];
  const list = accesses(w);
  list.forEach(({ step, translating }, i) => {
    const addr = step.hostAddress !== step.address ? `gpa ${hex(step.address)} hpa ${hex(step.hostAddress)}` : `at ${hex(step.address)}`;
    const why = translating !== undefined ? `  (translating ${translating})` : '';
    lines.push(`${String(i + 1).padStart(3)}. ${step.level.padEnd(9)} [${step.index}] ${addr} = ${step.value} ${step.flagText}${why}`);
  });
  lines.push(`${w.summary}`);
  lines.push(total(w, list.length));
  // The TLB keeps one entry per 4 KiB page, even inside a large page (its pageSize says which).
  const page = tlb.filter((t) => Math.floor(t.linear / 4096) === Math.floor(w.linear / 4096));
  if (page.length === 0) lines.push(`TLB: no entry for ${hex(w.linear)}`);
  for (const t of page) {
    lines.push(`TLB: ${hex(t.linear)} -> ${hex(t.physical)} (${t.pageSize >= 1 << 20 ? `${t.pageSize / (1 << 20)} MiB` : `${t.pageSize / 1024} KiB`} page, ${t.flags}${t.global ? ', global: survives CR3 loads, only INVLPG or a CR4.PGE change drop it' : ', not global: the next CR3 load drops it'})`);
  }
  return lines;
}

/** "N memory accesses", broken down for a nested walk. */
function total(w: PageWalk, listed: number): string {
  const n = w.memoryAccesses;
  const head = `${n} memory access${n === 1 ? '' : 'es'}`;
  const counted = listed === n ? '' : ` (${listed} listed: the walk stopped early)`;
  const guestEntries = w.steps.filter((s) => s.memoryAccess).length;
  const eptWalks = [...w.steps.filter((s) => s.nested !== undefined).map((s) => s.nested as PageWalk), ...(w.finalNested ? [w.finalNested] : [])]
    .map((e) => e.steps.filter((s) => s.memoryAccess).length);
  if (eptWalks.length === 0) return `${head}${counted}`;
  const finalLen = w.finalNested ? eptWalks[eptWalks.length - 1] : 0;
  const entryWalks = w.finalNested ? eptWalks.slice(0, -1) : eptWalks;
  const same = entryWalks.every((l) => l === entryWalks[0]) && (entryWalks.length === 0 || entryWalks[0] === finalLen);
  const breakdown = same && entryWalks.length > 0
    ? `${guestEntries} guest paging-structure entries, each translated through a ${finalLen}-level EPT walk (${entryWalks.length}×${finalLen} + ${finalLen} for the final guest-physical address + the ${guestEntries} guest entries themselves)`
    : `${guestEntries} guest paging-structure entries, EPT walks of ${entryWalks.join(' + ')} accesses for them and ${finalLen} for the final guest-physical address`;
  return `${head}: ${breakdown}${counted}`;
}

/** Watches for WHERE; prints the explanation once. */
export class WalkProbe {
  private readonly rip: number;
  private readonly linear: number;
  private readonly guestOnly: boolean;
  private readonly at: string;
  private done = false;

  constructor(
    private readonly machine: Machine,
    req: WalkRequest,
    kernel: Uint8Array,
    module0: Uint8Array | undefined,
    private readonly io: CliIo,
    private readonly beforeLine: () => void,
  ) {
    this.at = req.at;
    this.guestOnly = req.at.startsWith('guest:');
    const where = this.guestOnly ? req.at.slice('guest:'.length) : req.at;
    if (this.guestOnly && module0 === undefined) throw new UsageError(`--at ${req.at}: guest: names module 0, and there is no --module`);
    this.rip = resolve('--at', where, this.guestOnly ? module0 : kernel, this.guestOnly ? 'module 0' : 'kernel');
    const guestWalk = req.walk.startsWith('guest:');
    if (guestWalk && module0 === undefined) throw new UsageError(`--walk ${req.walk}: guest: names module 0, and there is no --module`);
    this.linear = resolve('--walk', guestWalk ? req.walk.slice('guest:'.length) : req.walk, guestWalk ? module0 : kernel, guestWalk ? 'module 0' : 'kernel');
    machine.breakpoints.add(this.rip);
  }

  /** True when `stop` was this probe's breakpoint (handled: the run goes on). */
  handle(stop: MachineStop): boolean {
    if (this.done || stop.kind !== 'breakpoint' || stop.address !== this.rip) return false;
    const nonRoot = this.machine.cpu.vmx?.nonRoot === true;
    if (this.guestOnly && !nonRoot) return true; // the VMM at the same address: the next run executes it
    this.done = true;
    this.machine.breakpoints.delete(this.rip);
    const w = this.machine.explainWalk(this.linear, 'read');
    this.beforeLine();
    for (const l of walkLines(w, this.rip, nonRoot, this.machine.mmu.tlbEntries())) this.io.stderr(`vmx-lab: walk: ${l}\n`);
    return true;
  }

  /** At the end of the run: say so when WHERE was never reached (otherwise the silence would puzzle). */
  finish(): void {
    if (this.done) return;
    this.beforeLine();
    this.io.stderr(`vmx-lab: walk: execution never reached ${this.at} (rip=${hex(this.rip)}${this.guestOnly ? ' in VMX non-root operation' : ''}): no walk to explain\n`);
  }
}

/** Machine.run, going on after the probe's breakpoint (the timeout stays one budget for the whole call). */
export function runWithProbe(machine: Machine, opts: RunOptions, probe: WalkProbe | undefined): MachineStop {
  const started = performance.now();
  for (;;) {
    const timeoutMs = opts.timeoutMs === undefined ? undefined : Math.max(0, opts.timeoutMs - (performance.now() - started));
    const stop = machine.run({ ...opts, timeoutMs });
    if (stop.kind === 'timeout' && opts.timeoutMs !== undefined) return { kind: 'timeout', ms: opts.timeoutMs };
    if (probe === undefined || !probe.handle(stop)) return stop;
  }
}
