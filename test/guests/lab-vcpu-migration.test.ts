// Lab k (guests/labs/vcpu-migration/README.md): "which physical CPU am I on?". The reference
// hypervisor with -DLAB_VCPU_MIGRATION starts the other processors of `vmx-lab run --smp N`,
// moves its one vCPU to the next pCPU whenever the VMX-preemption timer ends a slice
// (VMCLEAR on the old pCPU, VMPTRLD + VMLAUNCH on the new one), and answers hypercall
// HC_HOST_CPUID with the APIC ID of the pCPU serving it; teach-os with -DHOST_CPUID asks
// through a system call, over and over, and prints "vcpu V on pcpu P".
// Nothing here is a recorded transcript: the guest's answers are checked against the VMM's
// own hand-over lines of the same run (each answer is the pCPU the vCPU was last handed to),
// the processor count against --smp, the guest's other lines against teach-os's under the
// plain hypervisor, and the builds against GNU gcc -E + as + ld.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gnuBuild, loadedImage } from '../support/gnu-link';
import { maskTimes } from '../support/qemu';
import { runCliCaptured } from '../support/cli-capture';
import { GUESTS_DIR } from './guests';

const HYPERVISOR = join(GUESTS_DIR, 'hypervisor/hypervisor.S');
const TEACH_OS = join(GUESTS_DIR, 'teach-os/teach-os.S');
const TMP = mkdtempSync(join(tmpdir(), 'vmxlab-lab-k-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** Status of a run the guest ended by writing 0 to the debug-exit port. */
const GUEST_DONE = 1;
/** The user program's questions (HOST_CPUID_ROUNDS in host-cpuid.S). */
const ROUNDS = 16;

const ANSWER = /^\[\s*\d+\.\d{6}\] vcpu (\d+) on pcpu (\d+|\?.*)$/;
const HANDOVER = /^sched: slice (\d+) of vcpu 0 over on pcpu (\d+): VMCLEAR, hand it to pcpu (\d+)$/;

interface Run {
  status: number;
  err: string;
  /** Every line, in order; the VMM's without "[vmm] " and its stamp. */
  lines: { vmm: boolean; text: string }[];
}

function cli(argv: string[]): { status: number; out: string; err: string } {
  return runCliCaptured(argv, { writes: 'disk' });
}

function run(defines: string[], guest: string, smp: number): Run {
  const r = cli(['run', HYPERVISOR, ...defines.map((d) => `-D${d}`), '--smp', String(smp), '--module', `${guest}=console=ttyS0`]);
  const lines = r.out.split('\n').filter((l) => l !== '').map((l) => (l.startsWith('[vmm] ')
    ? { vmm: true, text: l.slice(6).replace(/^\[\s*\d+\.\d{6}\] /, '') }
    : { vmm: false, text: l }));
  return { status: r.status, err: r.err, lines };
}

function asm(source: string, name: string, defines: string[] = []): string {
  const out = join(TMP, name);
  const r = cli(['asm', source, ...defines.map((d) => `-D${d}`), '-o', out]);
  expect(r.status, r.err).toBe(0);
  return out;
}

/** The guest's answers, in order: [vcpu, pcpu or -1 for "?"]. */
function answers(r: Run): [number, number][] {
  return r.lines.filter((l) => !l.vmm && ANSWER.test(l.text)).map((l) => {
    const m = ANSWER.exec(l.text)!;
    return [Number(m[1]), m[2].startsWith('?') ? -1 : Number(m[2])];
  });
}

/**
 * Walks the transcript: every answer must name the pCPU the vCPU was last handed to (0, the
 * bootstrap processor, before the first hand-over), and every hand-over must start from that
 * same pCPU. Returns the hand-overs as [from, to].
 */
function checkAnswersFollowHandovers(r: Run): [number, number][] {
  let current = 0;
  const handovers: [number, number][] = [];
  for (const l of r.lines) {
    const h = l.vmm ? HANDOVER.exec(l.text) : null;
    if (h !== null) {
      expect(Number(h[2]), l.text).toBe(current);
      current = Number(h[3]);
      handovers.push([Number(h[2]), current]);
      continue;
    }
    const a = l.vmm ? null : ANSWER.exec(l.text);
    if (a !== null) expect(Number(a[2]), `${l.text} (last handed to pcpu ${current})`).toBe(current);
  }
  return handovers;
}

/** How often consecutive answers differ. */
const changes = (a: [number, number][]): number => a.slice(1).filter(([, p], i) => p !== a[i][1]).length;

const GUEST = asm(TEACH_OS, 'teach-os-host-cpuid.elf', ['HOST_CPUID']);

describe('lab k builds as GNU builds it (the same loaded bytes)', () => {
  /** Every .S/.h under guests/, for the GNU build. */
  const sources = (): Record<string, string> => {
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
  };
  const variants: [string, string[]][] = [
    [HYPERVISOR, ['LAB_VCPU_MIGRATION']],
    [HYPERVISOR, ['LAB_VCPU_MIGRATION', 'LAB_PREEMPTION_TIMER=100000']],
    [TEACH_OS, ['HOST_CPUID']],
  ];
  it.each(variants.map(([source, defines]) => [relative(GUESTS_DIR, source), defines, source] as const))('%s %j', (_name, defines, source) => {
    const ours = loadedImage(new Uint8Array(readFileSync(asm(source, 'variant.elf', defines))));
    const gnu = loadedImage(gnuBuild(sources(), [relative(GUESTS_DIR, source)], { base: 0x100000n, cpp: true, defines }));
    expect(ours.map((s) => [s.address, s.bytes.length])).toEqual(gnu.map((s) => [s.address, s.bytes.length]));
    gnu.forEach((g, i) => expect(Buffer.compare(Buffer.from(ours[i].bytes), Buffer.from(g.bytes)), `section at 0x${g.address.toString(16)}`).toBe(0));
  });
});

describe('lab k: which physical CPU am I on?', () => {
  it('--smp 2: the answer changes as the vCPU moves between the two pCPUs, and the guest finishes', () => {
    const r = run(['LAB_VCPU_MIGRATION'], GUEST, 2);
    expect(r.status, r.err).toBe(GUEST_DONE);
    const vmm = r.lines.filter((l) => l.vmm).map((l) => l.text);
    expect(vmm).toContain('smp: the MADT lists 2 processor(s)');
    expect(vmm.filter((l) => /^smp: pcpu 1: long mode, VMXON done, region at 0x[0-9a-f]+000, host stack 0x[0-9a-f]+, idle$/.test(l))).toHaveLength(1);
    const a = answers(r);
    expect(a).toHaveLength(ROUNDS);
    expect(a.every(([v]) => v === 0)).toBe(true); // CPUID.1:EBX[31:24] is vCPU 0's wherever it runs
    expect(new Set(a.map(([, p]) => p))).toEqual(new Set([0, 1]));
    expect(changes(a)).toBeGreaterThanOrEqual(2);
    const handovers = checkAnswersFollowHandovers(r);
    handovers.forEach(([from, to]) => expect(to).toBe(1 - from));
    expect(r.lines[r.lines.length - 1].text).toMatch(/^guest: wrote 0 to the debug-exit port after \d+ VM exits/);
  });

  it('--trace exits and --stats follow every processor: each exit once, named by its CPU, as many as the VMM counted', () => {
    const r = cli(['run', HYPERVISOR, '-DLAB_VCPU_MIGRATION', '--smp', '2', '--module', `${GUEST}=console=ttyS0`, '--trace', 'exits', '--stats']);
    expect(r.status, r.err).toBe(GUEST_DONE);
    const vmmCount = Number(/after (\d+) VM exits/.exec(r.out)?.[1]);
    const traced = r.err.split('\n').map((l) => /^vmx-lab: trace: cpu ([01]) exit #(\d+) (\w+) \((\d+)\)/.exec(l)).filter((m) => m !== null);
    expect(traced.map((m) => Number(m[2]))).toEqual(Array.from({ length: vmmCount }, (_, i) => i + 1));
    expect(new Set(traced.map((m) => m[1]))).toEqual(new Set(['0', '1']));
    // Every hand-over is a preemption-timer exit on the pCPU that gives the vCPU away.
    expect(traced.filter((m) => m[3] === 'PREEMPTION_TIMER').length).toBeGreaterThanOrEqual(2);
    expect(Number(/vmx-lab: stats: {3}total +(\d+)/.exec(r.err)?.[1])).toBe(vmmCount);
    // The root cycles of a hand-over end at the VMCLEAR, not when the processor next enters a
    // guest (after idling through the other pCPU's slice: the 4.8 ms slice is ~9.6 M cycles).
    const timer = /vmx-lab: stats: {3}52 PREEMPTION_TIMER +\d+ +\d+ +(\d+)/.exec(r.err);
    expect(Number(timer?.[1])).toBeLessThan(1_000_000);
  });

  it('--smp 4: round robin over four pCPUs', () => {
    const r = run(['LAB_VCPU_MIGRATION'], GUEST, 4);
    expect(r.status, r.err).toBe(GUEST_DONE);
    const vmm = r.lines.filter((l) => l.vmm).map((l) => l.text);
    expect(vmm.filter((l) => /^smp: pcpu [1-3]: long mode, VMXON done/.test(l))).toHaveLength(3);
    const a = answers(r);
    expect(a).toHaveLength(ROUNDS);
    expect(new Set(a.map(([, p]) => p)).size).toBeGreaterThanOrEqual(3);
    const handovers = checkAnswersFollowHandovers(r);
    expect(handovers.length).toBeGreaterThanOrEqual(4);
    handovers.forEach(([from, to]) => expect(to).toBe((from + 1) % 4));
  });

  it('--smp 1: nowhere to go, the answer is always pcpu 0; the other lines are teach-os\'s', () => {
    const r = run(['LAB_VCPU_MIGRATION'], GUEST, 1);
    expect(r.status, r.err).toBe(GUEST_DONE);
    expect(r.lines.filter((l) => l.vmm).map((l) => l.text)).toContain('smp: one processor (run with --smp 2 or more): the vCPU stays on pcpu 0');
    expect(r.lines.some((l) => l.vmm && HANDOVER.test(l.text))).toBe(false);
    expect(answers(r)).toEqual(Array.from({ length: ROUNDS }, () => [0, 0]));
    // Apart from its answers, the guest prints what plain teach-os prints under the plain hypervisor.
    const plain = run([], asm(TEACH_OS, 'teach-os.elf'), 1);
    const others = (x: Run, name: string): string[] => x.lines.filter((l) => !l.vmm && !ANSWER.test(l.text))
      .map((l) => maskTimes(l.text.split(name).join('GUEST.elf')));
    expect(others(r, GUEST)).toEqual(others(plain, join(TMP, 'teach-os.elf')).filter((l) => !/hello vmx|goodbye vmx/.test(l)));
  });

  it('without the lab switch the hypervisor has no hypercall 3: the guest gets -1 and says so', () => {
    const r = run([], GUEST, 2);
    expect(r.status, r.err).toBe(GUEST_DONE);
    expect(answers(r)).toEqual(Array.from({ length: ROUNDS }, () => [0, -1]));
    expect(r.lines.some((l) => l.vmm && l.text.startsWith('smp:'))).toBe(false);
  });
});
