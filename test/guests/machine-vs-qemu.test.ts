// Whole kernels under our machine and under QEMU (TCG), the oracle: the serial transcripts
// must be identical line by line once the uptime stamps and the calibrated TSC frequency
// are masked (test/support/qemu.ts maskTimes), and the debug-exit statuses equal.
//
// COMPARED lists the kernels our machine runs faithfully today; a kernel joins it when it
// does (the QEMU-only suite, qemu.test.ts, already checks every kernel against QEMU).
// Not yet: tests/apic (CR8 is not tied to the local APIC's TPR, and CPUID.01H:EDX.APIC does
// not follow IA32_APIC_BASE.EN) and tests/integer (our CPUID does not offer BMI1, so the
// kernel skips its TZCNT checks where QEMU's -cpu max runs them).
import { describe, expect, it } from 'vitest';
import { createMachine, qemuCommandLine } from '../../src/emu/machine';
import { bootUnderQemu, maskTimes } from '../support/qemu';
import { buildOurs, TEACH_OS, testKernels, type Guest } from './guests';

interface Case {
  guest: Guest;
  append?: string;
}

const COMPARED: readonly string[] = ['tests/interrupts', 'tests/pagefault', 'tests/realmode', 'tests/syscall', 'tests/timers', 'tests/tlb'];

const cases: Case[] = [
  { guest: TEACH_OS, append: 'console=ttyS0 lab=1' },
  ...testKernels().filter((g) => COMPARED.includes(g.name)).map((guest) => ({ guest })),
];

/** Boot under our machine exactly as bootUnderQemu boots under QEMU (kernel.elf, 128 MiB). */
function bootOurs(kernel: Uint8Array, append?: string): { serial: string; status: number | null } {
  const m = createMachine({ memorySize: 128 * 1024 * 1024 });
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
    expect(cases.map((c) => c.guest.name)).toEqual(['teach-os', ...COMPARED]);
  });

  for (const { guest, append } of cases) {
    it(guest.name, () => {
      const kernel = buildOurs(guest);
      const qemu = bootUnderQemu(kernel, { append, timeoutMs: 30_000 });
      expect(qemu.timedOut, `QEMU timed out on ${guest.name}`).toBe(false);
      const ours = bootOurs(kernel, append);
      expect(lines(ours.serial)).toEqual(lines(qemu.serial));
      expect(ours.status).toBe(qemu.status);
    });
  }
});
