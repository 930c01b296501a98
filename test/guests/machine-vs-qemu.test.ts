// Whole kernels under our machine and under QEMU (TCG), the oracle: the serial transcripts
// must be identical line by line once the uptime stamps and the calibrated TSC frequency
// are masked (test/support/qemu.ts maskTimes), and the debug-exit statuses equal.
//
// COMPARED lists the kernels our machine runs faithfully today; a kernel joins it when it
// does (the QEMU-only suite, qemu.test.ts, already checks every kernel against QEMU).
//
// The two CPUs must advertise the same features, since the kernels test what CPUID offers:
// QEMU runs `-cpu max` without BMI1 (we do not emulate its VEX instructions, so F3 0F BC is
// BSF on both), and our machine without x2APIC and TSC-deadline (QEMU 7.2's TCG has neither).
//
// A case with `smp` boots both with that many logical processors (QEMU -smp N, our
// MachineConfig.cpus): tests/smp prints only from the bootstrap processor, after the others
// are done, so its transcript does not depend on how either machine interleaves them.
import { describe, expect, it } from 'vitest';
import { createMachine, qemuCommandLine } from '../../src/emu/machine';
import { bootUnderQemu, maskTimes } from '../support/qemu';
import { buildOurs, TEACH_OS, testKernels, type Guest } from './guests';

interface Case {
  guest: Guest;
  append?: string;
  /** Logical processors (default 1). */
  smp?: number;
}

const COMPARED: readonly string[] = ['tests/alignment', 'tests/apic', 'tests/debug', 'tests/fpu', 'tests/integer', 'tests/interrupts', 'tests/pagefault', 'tests/realmode', 'tests/syscall', 'tests/timers', 'tests/tlb'];

/** QEMU's CPU model for the comparison (see the file comment). */
const QEMU_CPU = 'max,-bmi1';

/** Kernels compared with several processors, and with how many. */
const SMP_CASES: readonly { name: string; smp: number }[] = [
  { name: 'tests/smp', smp: 2 },
  { name: 'tests/smp', smp: 4 },
];

const cases: Case[] = [
  { guest: TEACH_OS, append: 'console=ttyS0 lab=1' },
  ...testKernels().filter((g) => COMPARED.includes(g.name)).map((guest) => ({ guest })),
  ...SMP_CASES.map(({ name, smp }) => ({ guest: testKernels().find((g) => g.name === name)!, smp })),
];

const caseName = (c: Case): string => (c.smp === undefined ? c.guest.name : `${c.guest.name} -smp ${c.smp}`);

/** Boot under our machine exactly as bootUnderQemu boots under QEMU (kernel.elf, 128 MiB). */
function bootOurs(kernel: Uint8Array, append?: string, smp?: number): { serial: string; status: number | null } {
  const m = createMachine({ memorySize: 128 * 1024 * 1024, apic: { x2apic: false, tscDeadline: false }, cpus: smp });
  const bytes: number[] = [];
  m.on('serial', ({ byte, port }) => {
    if (port === 0) bytes.push(byte);
  });
  m.boot({ kernel, kernelName: 'kernel.elf', cmdline: qemuCommandLine('kernel.elf', append) });
  const stop = m.run({ maxInstructions: 2_000_000_000, timeoutMs: 60_000 });
  return { serial: Buffer.from(bytes).toString('latin1'), status: stop.kind === 'debug-exit' ? stop.status : null };
}

const lines = (s: string): string[] => maskTimes(s).split('\n').filter((l) => l !== '');

describe('our machine matches QEMU', () => {
  it('compares the teaching OS and every listed self-checking kernel', () => {
    expect(cases.map(caseName)).toEqual(['teach-os', ...COMPARED, ...SMP_CASES.map((c) => `${c.name} -smp ${c.smp}`)]);
  });

  for (const c of cases) {
    const { guest, append, smp } = c;
    it(caseName(c), () => {
      const kernel = buildOurs(guest);
      const qemu = bootUnderQemu(kernel, { append, timeoutMs: 30_000, cpu: QEMU_CPU, smp });
      expect(qemu.timedOut, `QEMU timed out on ${guest.name}`).toBe(false);
      const ours = bootOurs(kernel, append, smp);
      expect(lines(ours.serial)).toEqual(lines(qemu.serial));
      expect(ours.status).toBe(qemu.status);
    });
  }
});
