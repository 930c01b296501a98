// The labs (guests/labs/README.md), run as their READMEs say: `vmx-lab run
// guests/hypervisor/hypervisor.S -D<switch> --module GUEST`, in-process. Each asserts the
// outcome the handout asks students to observe. The reference outputs are not ours to make
// up: the guest's lines under a lab must equal what the same guest prints under the plain
// hypervisor (stamps and the calibrated frequency masked), CR3 values must equal the guest
// ELF's page-table symbols, RDTSC exits must be at the rdtsc instructions GNU objdump finds,
// and every lab variant must load the same bytes when built with gcc -E -D + as + ld.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RUN_STATUS } from '../../src/cli/run-command';
import { parseElf } from '../../src/emu/loader/elf';
import { gnuBuild, gnuOnFile, loadedImage } from '../support/gnu-link';
import { maskTimes } from '../support/qemu';
import { runCliCaptured } from '../support/cli-capture';
import { GUESTS_DIR } from './guests';

const HYPERVISOR = join(GUESTS_DIR, 'hypervisor/hypervisor.S');
const TEACH_OS = join(GUESTS_DIR, 'teach-os/teach-os.S');
const SPIN = join(GUESTS_DIR, 'labs/preemption-timer/spin.S');
const SENSITIVE = join(GUESTS_DIR, 'labs/sensitive/sensitive.S');
const TMP = mkdtempSync(join(tmpdir(), 'vmxlab-labs-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** VMM exits after the guest ends: status of debug-exit value 0; the VMM giving up: value 0x10. */
const GUEST_DONE = 1;
const VMM_FAILED = (0x10 << 1) | 1;

interface Run {
  status: number;
  out: string;
  err: string;
  /** The guest's lines (not the VMM's "[vmm] " ones), unmasked. */
  guest: string[];
  /** The VMM's lines without "[vmm] " and the stamp. */
  vmm: string[];
}

function cli(argv: string[]): Run {
  const { status, out, err } = runCliCaptured(argv, { writes: 'disk' });
  const lines = out.split('\n').filter((l) => l !== '');
  return {
    status, out, err,
    guest: lines.filter((l) => !l.startsWith('[vmm] ')),
    vmm: lines.filter((l) => l.startsWith('[vmm] ')).map((l) => l.slice(6).replace(/^\[\s*\d+\.\d{6}\] /, '')),
  };
}

/** Builds a guest with `vmx-lab asm` (and -D switches) into the temporary directory. */
function asm(source: string, name: string, defines: string[] = []): string {
  const out = join(TMP, name);
  const r = cli(['asm', source, ...defines.map((d) => `-D${d}`), '-o', out]);
  expect(r.status, r.err).toBe(0);
  return out;
}

/**
 * The hypervisor with lab switches, `guest` as module 0 (its string "PATH console=ttyS0"; the
 * path, which teach-os prints, is replaced by GUEST.elf in `guest` lines).
 */
function lab(defines: string[], guest: string, extra: string[] = []): Run {
  const r = cli(['run', HYPERVISOR, ...defines.map((d) => `-D${d}`), '--module', `${guest}=console=ttyS0`, ...extra]);
  return { ...r, guest: r.guest.map((l) => l.split(guest).join('GUEST.elf')) };
}

const masked = (lines: string[]): string[] => lines.map(maskTimes);
const STAMP = /^\[\s*(\d+)\.(\d{6})\] /;
/** Seconds in a line's uptime stamp. */
function stamp(line: string): number {
  const m = STAMP.exec(line);
  expect(m, line).not.toBeNull();
  return Number(m![1]) + Number(m![2]) / 1e6;
}
/** The MHz the guest calibrated ("tsc: calibrated against PIT channel 2: 2000.024 MHz"). */
function guestMhz(r: Run): number {
  const l = r.guest.find((x) => x.includes('tsc: calibrated'));
  expect(l).toBeDefined();
  return Number(/: (\d+\.\d{3}) MHz/.exec(l!)![1]);
}
/** Stamps of the guest's lines after its calibration line (those printed with the calibrated rate). */
const laterStamps = (r: Run): number[] => r.guest.slice(1).map(stamp);

function traceExits(err: string): { name: string; decoded: string; before: number; after: number | null }[] {
  const out = [];
  for (const m of err.matchAll(/^vmx-lab: trace: exit #\d+ ([A-Z_]+) \(\d+\) qual=0x[0-9a-f]+(?: \((.*)\))? rip (0x[0-9a-f]+)→(0x[0-9a-f]+|\(not resumed\))$/gm)) {
    out.push({ name: m[1], decoded: m[2] ?? '', before: Number(m[3]), after: m[4].startsWith('0x') ? Number(m[4]) : null });
  }
  return out;
}

/** Every .S/.h under guests/, for the GNU build. */
function guestSources(): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(S|h)$/.test(e.name)) files[relative(GUESTS_DIR, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(GUESTS_DIR);
  return files;
}

const TEACH = asm(TEACH_OS, 'teach-os.elf');
/** teach-os under the plain hypervisor: the reference for the guest's lines. */
const plain = lab([], TEACH);

describe('the labs build as GNU builds them (the same loaded bytes)', () => {
  const variants: Array<[string, string[]]> = [
    [HYPERVISOR, ['LAB_RDTSC_EXITING']],
    [HYPERVISOR, ['LAB_RDTSC_HANDLER', 'LAB_RDTSC_SCALE=100', 'LAB_RDTSC_SKIP=2', 'LAB_RDTSC_NEGATE']],
    [HYPERVISOR, ['LAB_CR3_EXITING']],
    [HYPERVISOR, ['LAB_HYPERCALLS']],
    [HYPERVISOR, ['LAB_PREEMPTION_TIMER=1000', 'LAB_HEARTBEAT=10', 'LAB_HEARTBEATS=2']],
    [HYPERVISOR, ['LAB_SYSCALL_EMULATION']],
    [HYPERVISOR, ['LAB_SYSCALL_INTERCEPT']],
    [HYPERVISOR, ['LAB_DESC_EXITING']],
    [HYPERVISOR, ['LAB_EXIT_STATS', 'LAB_RDTSC_HANDLER', 'LAB_SYSCALL_INTERCEPT']],
    [TEACH_OS, ['PRINT_EXIT_STATS']],
    [HYPERVISOR, ['LAB_JOS_SERVICES']],
    [TEACH_OS, ['JOS_SERVICES']],
    [TEACH_OS, ['SMALL_PAGES']],
    [HYPERVISOR, ['SMALL_PAGES', 'LAB_EPT_4K']],
    [SENSITIVE, []],
    [TEACH_OS, ['USE_VMCALL']],
    [TEACH_OS, ['ADDRESS_SPACES']],
    [SPIN, []],
  ];
  it.each(variants.map(([source, defines]) => [relative(GUESTS_DIR, source), source, defines] as const))('%s %j', (_name, source, defines) => {
    const ours = loadedImage(new Uint8Array(readFileSync(asm(source, 'variant.elf', defines))));
    const gnu = loadedImage(gnuBuild(guestSources(), [relative(GUESTS_DIR, source)], { base: 0x100000n, cpp: true, defines }));
    expect(ours.map((r) => [r.address, r.bytes.length])).toEqual(gnu.map((r) => [r.address, r.bytes.length]));
    gnu.forEach((g, i) => expect(Buffer.compare(Buffer.from(ours[i].bytes), Buffer.from(g.bytes)), `section at 0x${g.address.toString(16)}`).toBe(0));
  });
});

describe('lab a: RDTSC exiting', () => {
  it('the plain hypervisor runs teach-os to its end', () => {
    expect(plain.status).toBe(GUEST_DONE);
    expect(plain.guest.length).toBeGreaterThan(3);
  });

  it('without a handler: the VMM reports exit reason 16 (RDTSC) and stops', () => {
    const r = lab(['LAB_RDTSC_EXITING'], TEACH, ['--trace', 'exits']);
    expect(r.vmm).toContain('unexpected exit reason 16 (RDTSC)');
    expect(r.vmm[r.vmm.length - 1]).toBe('stopping: the guest cannot run');
    expect(r.status).toBe(VMM_FAILED);
    const exits = traceExits(r.err);
    expect(exits).toHaveLength(1);
    expect(exits[0]).toMatchObject({ name: 'RDTSC', after: null });
    const rdtsc = gnuOnFile('objdump', ['-d'], 'teach-os.elf', readFileSync(TEACH));
    expect(rdtsc).toMatch(new RegExp(`^\\s*${exits[0].before.toString(16)}:\\s+0f 31\\s+rdtsc`, 'm'));
  });

  it('with a handler (EDX:EAX, RIP advanced): the guest prints what it printed before', () => {
    const r = lab(['LAB_RDTSC_HANDLER'], TEACH, ['--trace', 'exits']);
    expect(masked(r.guest)).toEqual(masked(plain.guest));
    expect(r.status).toBe(GUEST_DONE);
    const rdtsc = traceExits(r.err).filter((e) => e.name === 'RDTSC');
    expect(rdtsc.length).toBeGreaterThan(2);
    for (const e of rdtsc) expect(e.after).toBe(e.before + 2);
  });

  it('every value ×100: the guest calibrates a 100× faster TSC, so its stamps stay the same', () => {
    const r = lab(['LAB_RDTSC_HANDLER', 'LAB_RDTSC_SCALE=100'], TEACH);
    expect(masked(r.guest)).toEqual(masked(plain.guest));
    expect(guestMhz(r) / guestMhz(plain)).toBeCloseTo(100, 1);
    laterStamps(r).forEach((s, i) => expect(s / laterStamps(plain)[i]).toBeCloseTo(1, 2));
  });

  it('×100 after the calibration (the first 2 RDTSCs left alone): the stamps grow 100×', () => {
    const r = lab(['LAB_RDTSC_HANDLER', 'LAB_RDTSC_SCALE=100', 'LAB_RDTSC_SKIP=2'], TEACH);
    expect(masked(r.guest)).toEqual(masked(plain.guest));
    expect(guestMhz(r) / guestMhz(plain)).toBeCloseTo(1, 3);
    const scaled = r.guest.map(stamp);
    const before = plain.guest.map(stamp);
    expect(scaled.length).toBe(before.length);
    scaled.forEach((s, i) => {
      expect(s / before[i]).toBeGreaterThan(99);
      expect(s / before[i]).toBeLessThan(101);
    });
  });

  it('negated: an absurd frequency and a clock that never moves forward', () => {
    const r = lab(['LAB_RDTSC_HANDLER', 'LAB_RDTSC_NEGATE'], TEACH);
    expect(masked(r.guest)).toEqual(masked(plain.guest));
    expect(guestMhz(r)).toBeGreaterThan(1e12);
    const s = r.guest.map(stamp);
    for (let i = 1; i < s.length; i++) expect(s[i]).toBeLessThanOrEqual(s[i - 1]);
    // Under the plain hypervisor the same lines' stamps grow.
    const p = plain.guest.map(stamp);
    expect(p[p.length - 1]).toBeGreaterThan(p[0]);
  });
});

describe('lab b: CR3-load exiting', () => {
  const guest = asm(TEACH_OS, 'teach-os-as.elf', ['ADDRESS_SPACES']);
  it('logs each CR3 the guest loads: its boot, kernel and user page tables', () => {
    const r = lab(['LAB_CR3_EXITING'], guest, ['--trace', 'exits']);
    expect(r.status).toBe(GUEST_DONE);
    const cr3 = r.vmm.filter((l) => l.startsWith('cr3: ')).map((l) => Number(l.slice(5)));
    const symbols = new Map(parseElf(readFileSync(guest)).symbols.map((s) => [s.name, Number(s.value)]));
    const expected = ['boot_pml4', 'kernel_pml4', 'user_pml4'].map((n) => symbols.get(n));
    expected.forEach((v) => expect(v).toBeGreaterThan(0));
    expect(cr3.slice(0, 3)).toEqual(expected);
    const exits = traceExits(r.err).filter((e) => e.name === 'CR_ACCESS');
    expect(exits).toHaveLength(cr3.length);
    for (const e of exits) {
      expect(e.decoded).toBe('mov %rax -> cr3');
      expect(e.after).toBe(e.before + 3);              // mov %eax/%rax,%cr3: 0F 22 D8
    }
    // The guest itself notices nothing.
    const alone = lab([], guest);
    expect(masked(r.guest)).toEqual(masked(alone.guest));
  });
});

describe('lab c: hypercalls', () => {
  const guest = asm(TEACH_OS, 'teach-os-vmcall.elf', ['USE_VMCALL']);
  it('vmcall instead of syscall, served by the VMM: the same output as the syscall version', () => {
    const r = lab(['LAB_HYPERCALLS'], guest, ['--trace', 'exits']);
    expect(masked(r.guest)).toEqual(masked(plain.guest));
    expect(r.status).toBe(plain.status);
    const exits = traceExits(r.err);
    expect(exits.map((e) => e.name)).toEqual(['VMCALL', 'VMCALL', 'VMCALL']);
    expect(exits[0].after).toBe(exits[0].before + 3);   // VMCALL is 0F 01 C1
    expect(exits[2].after).toBeNull();                  // SYS_EXIT ends the run in the VMM
  });

  it('without the lab switch the same guest meets the VMM\'s own hypercalls, not its system calls', () => {
    const r = lab([], guest);
    expect(masked(r.guest)).not.toEqual(masked(plain.guest));
  });
});

/** A symbol's address in a guest ELF. */
function symbol(elf: string, name: string): number {
  const s = parseElf(readFileSync(elf)).symbols.find((x) => x.name === name);
  expect(s, name).toBeDefined();
  return Number(s!.value);
}

describe('lab d: emulating syscall from the VMM', () => {
  const guest = asm(TEACH_OS, 'teach-os-vmcall-d.elf', ['USE_VMCALL']);
  it('each vmcall enters the guest kernel\'s own syscall_entry (RIP ← LSTAR): the same output as the syscall version', () => {
    const r = lab(['LAB_SYSCALL_EMULATION'], guest, ['--trace', 'exits']);
    expect(masked(r.guest)).toEqual(masked(plain.guest));
    expect(r.status).toBe(plain.status);
    const exits = traceExits(r.err);
    expect(exits.map((e) => e.name)).toEqual(['VMCALL', 'VMCALL', 'VMCALL', 'IO_INSTRUCTION']);
    const entry = symbol(guest, 'syscall_entry');
    for (const e of exits.slice(0, 3)) expect(e.after).toBe(entry);
    // The guest's SYSRETQ came back to RCX = the instruction after each VMCALL (0F 01 C1): the
    // next VMCALL is further on in the same ring-3 program.
    expect(exits[1].before).toBeGreaterThan(exits[0].before + 3);
    expect(exits[2].before).toBeGreaterThan(exits[1].before + 3);
    // The guest kernel's debug-exit write ends the run, as it does under the plain VMM.
    expect(exits[3].after).toBeNull();
  });
});

describe('lab e: intercepting syscall in an unmodified guest', () => {
  it('SCE kept clear, #UD caught and SYSCALL/SYSRET emulated: the output is unchanged', () => {
    const r = lab(['LAB_SYSCALL_INTERCEPT'], TEACH, ['--trace', 'exits']);
    expect(masked(r.guest)).toEqual(masked(plain.guest));
    expect(r.status).toBe(plain.status);
    const exits = traceExits(r.err);
    // EFER: read and written by the boot code (LME) and by syscall_init (SCE).
    expect(exits.filter((e) => e.name.startsWith('MSR_')).map((e) => e.name)).toEqual(['MSR_READ', 'MSR_WRITE', 'MSR_READ', 'MSR_WRITE']);
    const ud = exits.filter((e) => e.name === 'EXCEPTION_NMI');
    for (const e of ud) expect(e.decoded).toBe('#UD');
    // Three SYSCALLs (the last, SYS_EXIT, never returns) and two SYSRETQs in between.
    expect(ud).toHaveLength(5);
    const entry = symbol(TEACH, 'syscall_entry');
    const dump = gnuOnFile('objdump', ['-d', '-M', 'x86-64'], 'teach-os.elf', readFileSync(TEACH));
    for (const i of [0, 2, 4]) expect(ud[i].after).toBe(entry);
    for (const i of [1, 3]) {
      expect(dump).toMatch(new RegExp(`^\\s*${ud[i].before.toString(16)}:\\s+48 0f 07\\s+sysretq?`, 'm'));
      expect(ud[i].after).toBe(ud[i - 1].before + 2);   // RIP ← RCX: after the 2-byte syscall
    }
  });
});

describe('lab f: JOS-style VMM services (hypercalls 10-12, CPUID, --disk)', () => {
  const guest = asm(TEACH_OS, 'teach-os-jos.elf', ['JOS_SERVICES']);
  it('the guest sizes its memory from the VMM\'s map, sees no VMX, reads and writes the host file', () => {
    const image = join(TMP, 'jos-disk.img');
    const disk = new Uint8Array(16 * 512);
    disk.set(new TextEncoder().encode('hello from the disk\0'));
    disk.fill(0x5A, 512, 1024);                     // sector 1 before: not the guest's line
    writeFileSync(image, disk);
    const r = lab(['LAB_JOS_SERVICES'], guest, ['--disk', image]);
    expect(r.status, r.err).toBe(GUEST_DONE);
    const reported = r.vmm.map((l) => /^jos: memory map: (\d+) entries, (\d+) KiB usable$/.exec(l)).find((m) => m !== null);
    expect(reported).toBeDefined();
    // The map the VMM gave is the Multiboot map it gives the guest at boot: usable RAM below
    // 640 KiB less the EBDA, and from 1 MiB to the end of the guest's 32 MiB.
    expect(Number(reported![2])).toBe(((0x9FC00 + 32 * 1024 * 1024 - 0x100000) / 1024));
    const told = r.guest.map((l) => /teach-os: memory map from the VMM: (\d+) entries, (\d+) KiB usable$/.exec(l)).find((m) => m !== null);
    expect(told, r.out).toBeDefined();
    expect([told![1], told![2]]).toEqual([reported![1], reported![2]]);
    expect(r.guest.some((l) => l.endsWith('teach-os: CPUID.1:ECX.VMX = 0: VMX absent'))).toBe(true);
    expect(r.guest.some((l) => l.endsWith('teach-os: disk sector 0: hello from the disk'))).toBe(true);
    const after = new Uint8Array(readFileSync(image));
    expect(after.length).toBe(disk.length);
    const line = new TextEncoder().encode('written by the guest\n');
    expect([...after.subarray(512, 512 + line.length)]).toEqual([...line]);
    expect(after.subarray(512 + line.length, 1024).every((b) => b === 0)).toBe(true);
    expect([...after.subarray(0, 512)]).toEqual([...disk.subarray(0, 512)]);   // sector 0 untouched
    // The rest of the guest's run is the plain one.
    const services = /teach-os: (memory map|CPUID|disk sector|wrote sector)/;
    expect(masked(r.guest.filter((l) => !services.test(l)))).toEqual(masked(plain.guest));
  });

  it('without --disk the disk services fail with HC_EIO (-3), and a missing image is a load error', () => {
    const r = lab(['LAB_JOS_SERVICES'], guest);
    expect(r.status).toBe(GUEST_DONE);
    expect(r.guest.some((l) => l.endsWith('teach-os: a VMM service failed: error -3'))).toBe(true);
    const missing = lab(['LAB_JOS_SERVICES'], guest, ['--disk', join(TMP, 'no-such.img')]);
    expect(missing.status).toBe(RUN_STATUS.loadError);
    expect(missing.err).toBe(`vmx-lab: --disk: file not found: ${join(TMP, 'no-such.img')}\n`);
  });
});

describe('lab g: exit accounting (CPUID 0x4FFFFFFC-0x4FFFFFFF)', () => {
  const guest = asm(TEACH_OS, 'teach-os-stats.elf', ['PRINT_EXIT_STATS']);
  it('the counts the guest prints are the machine\'s own (--json stats), up to the moment it asked', () => {
    // RDTSC and syscall interception give the guest exits of several reasons to count.
    const r = lab(['LAB_EXIT_STATS', 'LAB_RDTSC_HANDLER', 'LAB_SYSCALL_INTERCEPT'], guest, ['--json']);
    expect(r.status).toBe(GUEST_DONE);
    const statsLines = r.guest.filter((l) => l.includes('exit stats: '));
    expect(masked(r.guest.filter((l) => !statsLines.includes(l)))).toEqual(masked(plain.guest));
    const seen = new Map<number | 'total', { exits: number; cycles: number }>();
    for (const l of statsLines) {
      const m = /exit stats: (?:reason (\d+)|total): (\d+) exits, (\d+) cycles$/.exec(l);
      expect(m, l).not.toBeNull();
      seen.set(m![1] === undefined ? 'total' : Number(m![1]), { exits: Number(m![2]), cycles: Number(m![3]) });
    }
    const records = r.err.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as
      { type: string; reason: number; ripBefore: number; reasons: { reason: number; count: number; rootCycles: number }[] });
    const exits = records.filter((x) => x.type === 'exit');
    const machine = records.find((x) => x.type === 'stats')!.reasons;
    // The guest's questions: the CPUIDs of exit_stats_snapshot, 2 per reason 0-85 and 2 for the totals.
    const [from, to] = [symbol(guest, 'exit_stats_snapshot'), symbol(guest, 'print_exit_stats')];
    const asked = exits.filter((e) => e.reason === 10 && e.ripBefore >= from && e.ripBefore < to);
    expect(asked).toHaveLength(2 * 86 + 2);
    const first = exits.indexOf(asked[0]);
    // Up to its first question the guest's counts are the machine's exit by exit...
    const before = new Map<number, number>();
    for (const e of exits.slice(0, first)) before.set(e.reason, (before.get(e.reason) ?? 0) + 1);
    expect(new Map([...seen].filter(([k]) => k !== 'total').map(([k, v]) => [k, v.exits]))).toEqual(before);
    expect(seen.get('total')!.exits).toBe(first);
    expect(before.size).toBeGreaterThanOrEqual(4);          // #UD, RDTSC, RDMSR, WRMSR
    // ...and the machine's --stats table has the same counts, plus what came after: the
    // questions (not counted by the VMM), the RDTSCs of the printed lines' stamps, the last OUT.
    for (const m of machine) {
      const after = exits.slice(first).filter((e) => e.reason === m.reason).length;
      expect(m.count, `reason ${m.reason}`).toBe((seen.get(m.reason)?.exits ?? 0) + after);
      // The VMM times its handlers only; the machine times root operation from exit to entry.
      if (seen.has(m.reason)) expect(seen.get(m.reason)!.cycles).toBeLessThan(m.rootCycles);
    }
  });
});

describe('lab h: sensitive but unprivileged', () => {
  const guest = asm(SENSITIVE, 'sensitive.elf');
  interface JsonExit { type: string; reason: number; ripBefore: number; ripAfter: number | null; instructionLength: number }
  const jsonExits = (err: string): JsonExit[] =>
    err.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as JsonExit).filter((r) => r.type === 'exit');
  /** GNU objdump's mnemonic at each address of the guest (64-bit code in a 32-bit ELF). */
  const mnemonics = new Map<number, string>();
  for (const m of gnuOnFile('objdump', ['-d', '-M', 'x86-64'], 'sensitive.elf', readFileSync(guest)).matchAll(/^\s*([0-9a-f]+):\t(?:[0-9a-f]{2} )+\s*\t(\w+)/gm)) {
    mnemonics.set(parseInt(m[1], 16), m[2]);
  }
  const userProgram = symbol(guest, 'user_program');
  const USER_BASE = 0x800000;
  /** The instruction at a guest RIP: ring-3 code is the copy of user_program at USER_BASE. */
  const mnemonicAt = (rip: number): string | undefined => mnemonics.get(rip >= USER_BASE ? rip - USER_BASE + userProgram : rip);

  const plainRun = lab([], guest, ['--json']);
  it('without descriptor-table exiting none of them exits, in ring 0 or ring 3', () => {
    expect(plainRun.status).toBe(GUEST_DONE);
    const gdt = symbol(guest, 'gdt');
    expect(plainRun.guest).toEqual([0, 3].map((ring) => `sensitive: ring ${ring}: SGDT says the GDT is at 0x${gdt.toString(16).padStart(16, '0')}`));
    expect(jsonExits(plainRun.err).map((e) => e.reason)).toEqual([30]);      // only the guest's debug-exit write
  });

  it('with it (SECONDARY_EXEC_DESC): exactly SGDT, SIDT (46) and SLDT, STR (47) exit, SMSW, PUSHF and POPF do not', () => {
    const r = lab(['LAB_DESC_EXITING'], guest, ['--json']);
    expect(r.status).toBe(GUEST_DONE);
    expect(r.guest).toEqual(plainRun.guest);              // the guest executed them itself
    const desc = r.vmm.filter((l) => l.startsWith('desc: ')).map((l) => {
      const m = /^desc: ([A-Z]+) at (0x[0-9a-f]+) in ring (\d) \(instruction info 0x[0-9a-f]+\)$/.exec(l);
      expect(m, l).not.toBeNull();
      return { name: m![1], rip: Number(m![2]), ring: Number(m![3]) };
    });
    // The boot code's LGDT, LTR and LIDT, then the seven instructions' exits in ring 0 and in ring 3.
    const seven = ['SGDT', 'SIDT', 'SLDT', 'STR'];
    expect(desc.map((d) => `${d.name} ${d.ring}`)).toEqual(['LGDT 0', 'LTR 0', 'LIDT 0', ...seven.map((n) => `${n} 0`), ...seven.map((n) => `${n} 3`)]);
    for (const d of desc) expect(mnemonicAt(d.rip), d.name).toBe(d.name.toLowerCase());
    const exits = jsonExits(r.err);
    const descExits = exits.filter((e) => e.reason === 46 || e.reason === 47);
    expect(descExits.map((e) => e.ripBefore)).toEqual(desc.map((d) => d.rip));
    descExits.forEach((e, i) => expect(e.reason).toBe(/^[SL][GI]DT$/.test(desc[i].name) ? 46 : 47));
    // SMSW, PUSHF, POPF ran (objdump finds them in both copies' code) without an exit.
    const quiet = [...mnemonics].filter(([, m]) => /^(smsw|pushf|popf)/.test(m)).map(([a]) => a);
    expect(quiet.length).toBeGreaterThanOrEqual(6);
    // The VMM lets the guest run each of them once (monitor trap flag): the next exit is an MTF
    // exit (37) right after the instruction, before the one that follows runs.
    for (const e of descExits) {
      const next = exits[exits.indexOf(e) + 1];
      expect(next.reason).toBe(37);
      expect(next.ripBefore).toBe(e.ripBefore + e.instructionLength);
    }
    const exitRips = new Set(exits.filter((e) => e.reason !== 37).map((e) => (e.ripBefore >= USER_BASE ? e.ripBefore - USER_BASE + userProgram : e.ripBefore)));
    for (const a of quiet) expect(exitRips.has(a), `exit at 0x${a.toString(16)}`).toBe(false);
  });
});

describe('lab j: a guest in while(1);', () => {
  const spin = asm(SPIN, 'spin.elf');
  it('without interrupt exiting or the preemption timer the VMM never runs again', () => {
    const r = cli(['run', HYPERVISOR, '--module', spin, '--max-instructions', '20000000', '--stats']);
    expect(r.status).toBe(RUN_STATUS.instructionLimit);
    expect(r.guest).toContain('spin: while (1);');
    expect(r.vmm[r.vmm.length - 1]).toBe('vmx: launching the guest');
    expect(r.err).toMatch(/stats: {3}total +0 /);
    expect(r.err).toMatch(/VM entries: 1$/m);
  });

  it('with the VMX-preemption timer (exit reason 52) the VMM gets a heartbeat', () => {
    const r = cli(['run', HYPERVISOR, '-DLAB_PREEMPTION_TIMER=1000', '-DLAB_HEARTBEAT=10', '-DLAB_HEARTBEATS=3', '--module', spin,
      '--max-instructions', '20000000', '--trace', 'exits', '--stats']);
    expect(r.status).toBe(GUEST_DONE);
    const beats = r.vmm.filter((l) => l.startsWith('heartbeat '));
    expect(beats).toHaveLength(3);
    beats.forEach((l, i) => expect(l).toMatch(new RegExp(`^heartbeat ${i + 1}: ${(i + 1) * 10} preemption-timer exits, guest RIP 0x[0-9a-f]+$`)));
    const exits = traceExits(r.err);
    expect(exits).toHaveLength(30);
    expect(new Set(exits.map((e) => e.name))).toEqual(new Set(['PREEMPTION_TIMER']));
    // Not an instruction exit: the guest goes on where it was, in its loop.
    for (const e of exits.slice(0, -1)) expect(e.after).toBe(e.before);
    expect(r.err).toMatch(/52 PREEMPTION_TIMER +30 /);
  });
});
