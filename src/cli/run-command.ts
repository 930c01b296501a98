// `vmx-lab run KERNEL [options]`: boot a Multiboot kernel headless, the way
// `qemu-system-x86_64 -kernel KERNEL -append ... -initrd ... -serial stdio` does: the
// guest's COM1 output on stdout as it comes, diagnostics on stderr, and an exit status
// that says how the run ended (RUN_STATUS, documented in README.md "Exit status").
//
// KERNEL is an ELF (or a.out-kludge) image, or an assembly source (.s/.S) that is
// assembled and linked at 0x100000 first, exactly as `vmx-lab asm FILE -o OUT` would.
import { dirname } from 'node:path';
import { link } from '../emu/asm/linker';
import { ElfError, isElf, parseElf } from '../emu/loader/elf';
import { MultibootError } from '../emu/loader/multiboot';
import type { MultibootModuleInput } from '../emu/loader/multiboot';
import { MemoryConfigError } from '../emu/memory/physical-memory';
import { createMachine, describeStop, MAX_CPUS, qemuCommandLine, SMP_QUANTUM, vectorName, type DeliveredEvent, type Machine, type MachineStop } from '../emu/machine';
import { parseAddress, parseArgs, UsageError } from './args';
import { assembleFiles, DEFAULT_BASE } from './asm-command';
import { FileDisk } from './disk-file';
import { CliError, type CliIo, type HostInput } from './io';
import { takeJsonOption, VmxTrace, type VmxTraceOptions } from './vmx-trace';
import { runWithProbe, takeWalkOptions, WALK_USAGE, WalkProbe, type WalkRequest } from './walk-option';

/** Exit statuses of `vmx-lab run`. Debug-exit statuses are (v << 1) | 1, always odd; these are even. */
export const RUN_STATUS = {
  /** The guest powered off (port 0x8900 "Shutdown") or asked for a reset. */
  shutdown: 0,
  usage: 2,
  /** The kernel or a module could not be read, assembled or loaded. */
  loadError: 64,
  tripleFault: 66,
  instructionLimit: 68,
  internalError: 70,
  timeout: 72,
  /** HLT with nothing that could ever wake the CPU. */
  haltedForever: 74,
} as const;

export const RUN_USAGE = `usage: vmx-lab run KERNEL [--append CMDLINE] [--module FILE[=ARGS]]... [options]
  KERNEL                 a Multiboot kernel: ELF, or assembly source (.s/.S, linked at 0x100000)
  --append CMDLINE       kernel command line; the kernel sees "KERNEL CMDLINE", as under QEMU
  --module FILE[=ARGS]   a Multiboot module (repeatable); its string is "FILE ARGS" (QEMU -initrd);
                         a .s/.S module is assembled and linked first, with the same -D/-I
  --memory SIZE          RAM size: 128M (default), 512M, 1G; a bare number is MiB
  --smp N                N logical processors (default 1; APIC IDs 0..N-1, in the MADT); CPU 0
                         boots the kernel, the others wait for INIT-SIPI-SIPI; they take turns
                         every ${SMP_QUANTUM} instructions, so runs are reproducible (as QEMU -smp N)
  --max-instructions N   stop after N instructions (exit status 68)
  --timeout SEC          stop after SEC seconds of wall-clock time (exit status 72)
  --no-blocks            interpret every instruction (no compiled blocks of hot code): slower,
                         the same results; for comparing when a run looks wrong
  -D NAME[=VALUE], -I DIR   for source kernels and modules: preprocessor macro, include dir (as asm)
  --trace int|exc|all|exits  log interrupts, exceptions (all: both) or VM exits to stderr
  --stats                at the end: VM exits per reason, with root-mode cycles (stderr)
  --json[=FILE]          every VM exit and the statistics as JSON lines (stderr, or FILE)
  --serial-log FILE      also write the guest's serial output to FILE
  --exit-port PORT       isa-debug-exit port (default 0xf4; lvisor-style setups use 0x501)
  --disk FILE            the primary ATA disk, backed by FILE (raw 512-byte sectors; written in place)
  --test-device          add QEMU's pc-testdev (ports 0xe0-0xe4, 0x2000-0x2017; MMIO 0xff000000)
${WALK_USAGE}
  exit status: the guest's debug-exit status (v<<1)|1; 0 after a power-off; 64 load error,
  66 triple fault, 68 instruction limit, 70 internal error, 72 timeout, 74 halted forever`;

/** Instructions per call to Machine.run between looks at the host (input, output, timeout). */
const RUN_SLICE = 2_000_000;

/** A load error: reported on one line, exit status 64. */
class LoadError extends Error {}

interface RunPlan {
  machine: Machine;
  maxInstructions: number | undefined;
  timeoutMs: number | undefined;
  serialLog: string | undefined;
  disk: FileDisk | undefined;
  vmx: VmxTraceOptions;
  vmxTrace?: VmxTrace;
  /** --walk ADDR --at WHERE (walk-option.ts). */
  walk?: { request: WalkRequest; kernel: Uint8Array; module0: Uint8Array | undefined };
  walkProbe?: WalkProbe;
}

function parseSize(text: string): number {
  const m = /^(\d+)\s*([kmgt]?)(i?b)?$/i.exec(text.trim());
  if (m === null) throw new UsageError(`--memory: invalid size \`${text}' (use e.g. 128M or 1G)`);
  const unit = m[2].toLowerCase();
  const mul = unit === 'k' ? 1024 : unit === 'g' ? 1024 ** 3 : unit === 't' ? 1024 ** 4 : 1024 ** 2;
  return Number(m[1]) * mul;
}

function parseCount(text: string, what: string): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${what}: expected a positive whole number, not \`${text}'`);
  const n = Number(text);
  if (n <= 0 || !Number.isSafeInteger(n)) throw new UsageError(`${what}: expected a positive whole number, not \`${text}'`);
  return n;
}

/**
 * A kernel's or a module's bytes: the file itself, or the ELF our toolchain builds from an
 * assembly source (so a guest kernel can be a module without a separate `asm` step).
 */
function bootImage(path: string, io: CliIo, defines: Record<string, string>, includeDirs: string[], what: 'kernel' | 'module'): Uint8Array {
  if (/\.[sS]$/.test(path)) {
    if (io.readFile(path) === undefined) throw new LoadError(`${what} file not found: ${path}`);
    let built;
    try {
      built = assembleFiles([path], io, defines, [dirname(path), ...includeDirs]);
    } catch (e) {
      if (e instanceof CliError) throw new LoadError(`${path}: ${e.message}`);
      throw e;
    }
    const res = link(built.objects, { base: DEFAULT_BASE, format: 'elf', names: built.names });
    for (const e of res.errors) io.stderr(`vmx-lab: ${e}\n`);
    if (!res.output) throw new LoadError(`${path}: linking failed`);
    return res.output;
  }
  const data = io.readFile(path);
  if (data === undefined) throw new LoadError(`${what} file not found: ${path}`);
  if (what === 'module') return data; // any bytes: an ELF guest, an initrd, an environment file
  if (data.length === 0) throw new LoadError(`${path}: the file is empty`);
  if (isElf(data)) {
    // Say what is wrong with an ELF (another machine, truncated, ...) before looking for Multiboot.
    try {
      parseElf(data);
    } catch (e) {
      if (e instanceof ElfError) throw new LoadError(`${path}: ${e.message}`);
      throw e;
    }
  }
  return data;
}

function plan(argvIn: readonly string[], io: CliIo): RunPlan | number {
  const { argv: withoutJson, json } = takeJsonOption(argvIn);
  const { argv, walk } = takeWalkOptions(withoutJson);
  const args = parseArgs(argv, {
    '--append': { value: true }, '--module': { value: true, repeat: true }, '--memory': { value: true }, '--smp': { value: true },
    '--max-instructions': { value: true }, '--timeout': { value: true }, '--trace': { value: true },
    '--serial-log': { value: true }, '--exit-port': { value: true }, '--disk': { value: true }, '--test-device': { value: false }, '--help': { value: false }, '-h': { value: false },
    '--stats': { value: false }, '--no-blocks': { value: false }, '-D': { value: true, repeat: true }, '-I': { value: true, repeat: true },
  });
  if (args.options.has('--help') || args.options.has('-h')) {
    io.stdout(`${RUN_USAGE}\n`);
    return 0;
  }
  if (args.positional.length === 0) throw new UsageError('run: no kernel given (usage: vmx-lab run KERNEL [options])');
  if (args.positional.length > 1) throw new UsageError(`run: one kernel only (got ${args.positional.join(', ')}); modules go in --module`);
  const kernelPath = args.positional[0];
  const opt = (name: string): string | undefined => args.options.get(name)?.[0];

  const memory = opt('--memory');
  const smpText = opt('--smp');
  let cpus: number | undefined;
  if (smpText !== undefined) {
    // QEMU's spelling `N` and `cpus=N` both work.
    const m = /^(?:cpus=)?(\d+)$/.exec(smpText.trim());
    cpus = m === null ? NaN : Number(m[1]);
    if (!(cpus >= 1 && cpus <= MAX_CPUS)) throw new UsageError(`--smp: expected a number of processors from 1 to ${MAX_CPUS}, not \`${smpText}'`);
  }
  const maxText = opt('--max-instructions');
  const timeoutText = opt('--timeout');
  let timeoutMs: number | undefined;
  if (timeoutText !== undefined) {
    const s = Number(timeoutText);
    if (!/^\d+(\.\d+)?$/.test(timeoutText.trim()) || !(s > 0)) throw new UsageError(`--timeout: expected seconds, not \`${timeoutText}'`);
    timeoutMs = s * 1000;
  }
  const trace = opt('--trace');
  if (trace !== undefined && trace !== 'int' && trace !== 'exc' && trace !== 'all' && trace !== 'exits') throw new UsageError(`--trace: expected int, exc, all or exits, not \`${trace}'`);
  const defines: Record<string, string> = {};
  for (const d of args.options.get('-D') ?? []) {
    const eq = d.indexOf('=');
    const name = eq < 0 ? d : d.slice(0, eq);
    if (!/^[A-Za-z_]\w*$/.test(name)) throw new UsageError(`-D: invalid macro name \`${name}'`);
    defines[name] = eq < 0 ? '1' : d.slice(eq + 1);
  }
  const portText = opt('--exit-port');
  let exitPort: number | undefined;
  if (portText !== undefined) {
    const p = parseAddress(portText, '--exit-port');
    if (p > 0xFFFFn) throw new UsageError(`--exit-port: ${portText} is not an I/O port (0-0xffff)`);
    exitPort = Number(p);
  }
  const moduleSpecs = (args.options.get('--module') ?? []).map((spec) => {
    const eq = spec.indexOf('=');
    return eq < 0 ? { path: spec, args: '' } : { path: spec.slice(0, eq), args: spec.slice(eq + 1) };
  });

  let disk: FileDisk | undefined;
  try {
    const includeDirs = args.options.get('-I') ?? [];
    const kernel = bootImage(kernelPath, io, defines, includeDirs, 'kernel');
    const modules: MultibootModuleInput[] = moduleSpecs.map(({ path, args: a }) => {
      const data = bootImage(path, io, defines, includeDirs, 'module');
      return { name: path, data, cmdline: a === '' ? path : `${path} ${a}` };
    });
    const diskPath = opt('--disk');
    if (diskPath !== undefined) {
      const opened = FileDisk.open(diskPath);
      if (typeof opened === 'string') throw new LoadError(opened);
      disk = opened;
    }
    const machine = createMachine({ memorySize: memory === undefined ? undefined : parseSize(memory), exitPort, disk, testDevice: args.options.has('--test-device'), cpus });
    if (args.options.has('--no-blocks')) for (const p of machine.processors) p.cpu.blocksEnabled = false;
    machine.traceInterrupts = trace === 'int' || trace === 'all';
    machine.traceExceptions = trace === 'exc' || trace === 'all';
    const info = machine.boot({ kernel, kernelName: kernelPath, cmdline: qemuCommandLine(kernelPath, opt('--append')), modules });
    for (const w of info.warnings) io.stderr(`vmx-lab: warning: ${w}\n`);
    return { machine, maxInstructions: maxText === undefined ? undefined : parseCount(maxText, '--max-instructions'), timeoutMs, serialLog: opt('--serial-log'), disk,
      vmx: { exits: trace === 'exits', stats: args.options.has('--stats'), json },
      walk: walk === undefined ? undefined : { request: walk, kernel, module0: modules[0]?.data } };
  } catch (e) {
    disk?.close();
    if (e instanceof LoadError || e instanceof MultibootError || e instanceof MemoryConfigError) {
      io.stderr(`vmx-lab: ${e.message}\n`);
      return RUN_STATUS.loadError;
    }
    throw e;
  }
}

/** Streams the guest's serial bytes to stdout (line by line) and keeps them for --serial-log. */
class SerialSink {
  private readonly decoder = new TextDecoder('utf-8');
  private pending: number[] = [];
  readonly log: number[] = [];
  /** On a terminal, which world's colour is in effect (guest lines are cyan, the VMM's plain). */
  private inGuestColour = false;

  constructor(
    private readonly io: CliIo,
    private readonly keepLog: boolean,
  ) {}

  byte(b: number, guest: boolean): void {
    if (this.io.colour === true && guest !== this.inGuestColour) {
      this.flush();
      this.io.stdout(guest ? GUEST_COLOUR : RESET_COLOUR);
      this.inGuestColour = guest;
    }
    this.pending.push(b);
    if (this.keepLog) this.log.push(b);
    if (b === 0x0A || this.pending.length >= 4096) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const text = this.decoder.decode(new Uint8Array(this.pending), { stream: true });
    this.pending = [];
    if (text !== '') this.io.stdout(text);
  }

  /** Ends the run's output in the terminal's own colour. */
  close(): void {
    this.flush();
    if (this.inGuestColour) this.io.stdout(RESET_COLOUR);
    this.inGuestColour = false;
  }
}

/** ANSI SGR: cyan for bytes a guest wrote in VMX non-root operation, reset for the VMM's. */
const GUEST_COLOUR = '\x1b[36m';
const RESET_COLOUR = '\x1b[0m';

function hex(v: number): string {
  return `0x${v.toString(16)}`;
}

/** One --trace line: what was delivered, where, when (e.g. "exception #GP error=0x0 at rip=0x100123 cs=0x10 after 52 instructions"). */
function traceLine(e: DeliveredEvent): string {
  let what: string;
  switch (e.kind) {
    case 'interrupt': what = `interrupt ${hex(e.vector)}`; break;
    case 'nmi': what = 'NMI'; break;
    case 'exception': what = `exception ${vectorName(e.vector)}${e.errorCode >= 0 ? ` error=${hex(e.errorCode)}` : ''}`; break;
    case 'software-interrupt': what = `software interrupt ${hex(e.vector)}${e.vector < 32 ? ` (${vectorName(e.vector)})` : ''}`; break;
  }
  return `${what} at rip=${hex(e.rip)} cs=${hex(e.cs)} after ${e.icount} instructions`;
}

/** Wire the machine's events to the terminal; returns the serial sink. */
function attach(p: RunPlan, io: CliIo): SerialSink {
  const sink = new SerialSink(io, p.serialLog !== undefined);
  p.machine.on('serial', ({ byte, port, guest }) => {
    if (port === 0) sink.byte(byte, guest);
  });
  p.machine.on('event', (e) => {
    sink.flush();
    io.stderr(`vmx-lab: trace: ${traceLine(e)}\n`);
  });
  p.vmxTrace = new VmxTrace(p.machine, p.vmx, io, () => sink.flush());
  if (p.walk !== undefined) p.walkProbe = new WalkProbe(p.machine, p.walk.request, p.walk.kernel, p.walk.module0, io, () => sink.flush());
  return sink;
}

/** The exit status for how the run ended, with a one-line diagnostic where it is not the guest's choice. */
function finish(stop: MachineStop, p: RunPlan, sink: SerialSink, io: CliIo): number {
  sink.close();
  p.disk?.close();
  p.walkProbe?.finish();
  try {
    p.vmxTrace?.finish();
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    io.stderr(`vmx-lab: ${e.message}\n`);
  }
  if (p.serialLog !== undefined) {
    try {
      io.writeFile(p.serialLog, new Uint8Array(sink.log), false);
    } catch (e) {
      io.stderr(`vmx-lab: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
  const at = `after ${p.machine.instructions} instructions`;
  switch (stop.kind) {
    case 'debug-exit':
      return stop.status;
    case 'shutdown':
    case 'reset':
      if (stop.kind === 'reset') io.stderr(`vmx-lab: ${describeStop(stop)}\n`);
      return RUN_STATUS.shutdown;
    case 'triple-fault':
      io.stderr(`vmx-lab: ${describeStop(stop)}, ${at}, rip=${hex(p.machine.processors[stop.cpu ?? 0].cpu.rip)}\n`);
      return RUN_STATUS.tripleFault;
    case 'instruction-limit':
      io.stderr(`vmx-lab: ${describeStop(stop)}\n`);
      return RUN_STATUS.instructionLimit;
    case 'timeout':
      io.stderr(`vmx-lab: ${describeStop(stop)}, ${at}\n`);
      return RUN_STATUS.timeout;
    case 'halted-forever':
      io.stderr(`vmx-lab: ${describeStop(stop)} (${at})\n`);
      return RUN_STATUS.haltedForever;
    default:
      io.stderr(`vmx-lab: internal error: the run stopped unexpectedly (${describeStop(stop)})\n`);
      return RUN_STATUS.internalError;
  }
}

/** Reasons the run loop goes on after (the rest end the run). */
function continues(stop: MachineStop): boolean {
  return stop.kind === 'budget' || stop.kind === 'paused';
}

/** `vmx-lab run`, synchronously and without host input (in-process callers, tests). */
export function runCommand(argv: readonly string[], io: CliIo): number {
  const p = plan(argv, io);
  if (typeof p === 'number') return p;
  const sink = attach(p, io);
  const stop = runWithProbe(p.machine, { maxInstructions: p.maxInstructions, timeoutMs: p.timeoutMs }, p.walkProbe);
  return finish(stop, p, sink, io);
}

/** `vmx-lab run` with the host's stdin feeding COM1 (when `input` is given), yielding to the event loop between slices. */
export async function runCommandAsync(argv: readonly string[], io: CliIo, input: HostInput | undefined): Promise<number> {
  const p = plan(argv, io);
  if (typeof p === 'number') return p;
  const sink = attach(p, io);
  const m = p.machine;
  if (input === undefined) return finish(runWithProbe(m, { maxInstructions: p.maxInstructions, timeoutMs: p.timeoutMs }, p.walkProbe), p, sink, io);

  let wake: (() => void) | undefined;
  m.hostInputOpen = true;
  const stopReading = input.subscribe(
    (bytes) => {
      m.sendSerialInput(bytes);
      wake?.();
    },
    () => {
      m.hostInputOpen = false;
      wake?.();
    },
  );
  try {
    const started = performance.now();
    for (;;) {
      const timeoutMs = p.timeoutMs === undefined ? undefined : Math.max(0, p.timeoutMs - (performance.now() - started));
      let stop = runWithProbe(m, { budget: RUN_SLICE, maxInstructions: p.maxInstructions, timeoutMs }, p.walkProbe);
      if (stop.kind === 'timeout') stop = { kind: 'timeout', ms: p.timeoutMs ?? 0 };
      sink.flush();
      if (stop.kind === 'waiting-for-input') {
        const left = p.timeoutMs === undefined ? undefined : p.timeoutMs - (performance.now() - started);
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (left !== undefined) timer = setTimeout(resolve, Math.max(0, left));
        });
        clearTimeout(timer);
        wake = undefined;
        if (p.timeoutMs !== undefined && performance.now() - started >= p.timeoutMs) return finish({ kind: 'timeout', ms: p.timeoutMs }, p, sink, io);
        continue;
      }
      if (!continues(stop)) return finish(stop, p, sink, io);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    stopReading();
  }
}
