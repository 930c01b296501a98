// The guest kernels, built by our toolchain, booted under QEMU (TCG): the oracle for what a
// whole kernel does. The self-checking kernels must report every test "ok" and exit with
// debug-exit value 0 (QEMU status 1); the teaching OS must print its expected lines.
// Without qemu-system-x86_64 these tests fail and say what to install.
import { describe, expect, it } from 'vitest';
import { bootUnderQemu, maskTimes } from '../support/qemu';
import { buildOurs, TEACH_OS, testKernels } from './guests';

const SUCCESS = 1; // debug-exit value 0: (0 << 1) | 1

describe('self-checking kernels under QEMU', () => {
  for (const guest of testKernels()) {
    it(guest.name, () => {
      const { serial, status, timedOut } = bootUnderQemu(buildOurs(guest), { timeoutMs: 30_000 });
      expect(timedOut, `${guest.name} timed out; output so far:\n${serial}`).toBe(false);
      const lines = serial.split('\n').filter((l) => l !== '');
      const results = lines.filter((l) => /^(not )?ok \d+ - /.test(l));
      expect(results.length, serial).toBeGreaterThan(0);
      expect(results.filter((l) => l.startsWith('not ok')), serial).toEqual([]);
      results.forEach((l, i) => expect(l).toMatch(new RegExp(`^ok ${i + 1} - `)));
      expect(lines).toContain(`1..${results.length}`);
      expect(lines).toContain('# failed: 0');
      expect(status, serial).toBe(SUCCESS);
    });
  }
});

describe('teach-os under QEMU', () => {
  it('calibrates the TSC, shows the command line, runs two system calls from ring 3 and exits', () => {
    const { serial, status } = bootUnderQemu(buildOurs(TEACH_OS), { append: 'console=ttyS0 lab=1', timeoutMs: 30_000 });
    const lines = serial.split('\n').filter((l) => l !== '');
    for (const l of lines) expect(l).toMatch(/^\[\s{0,4}\d{1,5}\.\d{6}\] /);
    const stamps = lines.map((l) => Number(/^\[\s*([\d.]+)\]/.exec(l)![1]));
    stamps.forEach((s, i) => expect(s).toBeGreaterThanOrEqual(i > 0 ? stamps[i - 1] : 0));
    expect(maskTimes(serial).split('\n').filter((l) => l !== '')).toEqual([
      '[ uptime ] tsc: calibrated against PIT channel 2: ? MHz',
      '[ uptime ] teach-os: command line: kernel.elf console=ttyS0 lab=1',
      '[ uptime ] teach-os: starting the user program in ring 3',
      '[ uptime ] hello vmx 86',
      '[ uptime ] goodbye vmx 64',
      '[ uptime ] teach-os: the user program exited; powering off',
    ]);
    const mhz = Number(/calibrated against PIT channel 2: (\d+\.\d{3}) MHz/.exec(serial)![1]);
    expect(mhz).toBeGreaterThan(10);
    expect(status).toBe(SUCCESS);
  });
});
