// `vmx-lab run --smp N`: the machine gets N logical processors (src/cli/run-command.ts), as
// QEMU's -smp N does; guests/tests/smp.S starts them and checks the IPIs between them.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUN_STATUS, RUN_USAGE } from '../../src/cli/run-command';
import { GUESTS_DIR, runCliCaptured } from '../support/cli-capture';

const SMP_GUEST = join(GUESTS_DIR, 'tests/smp.S');

describe('vmx-lab run --smp', () => {
  it('boots the SMP test kernel on 2 and 3 processors (QEMU spelling cpus=N too), every check passing', () => {
    for (const spelling of ['2', 'cpus=3']) {
      const r = runCliCaptured(['run', SMP_GUEST, '--smp', spelling]);
      expect(r.err).toBe('');
      expect(r.out).toContain(`# processors: ${spelling.replace('cpus=', '')}\n`);
      expect(r.out).toContain('ok 16 - a SIPI to a processor that is not waiting for one is ignored\n');
      expect(r.out).toContain('# failed: 0\n');
      expect(r.status).toBe(1); // debug exit 0: (0 << 1) | 1
    }
  });

  it('defaults to one processor: the kernel sees no application processor', () => {
    const r = runCliCaptured(['run', SMP_GUEST]);
    expect(r.out).toContain('# fewer than 2 or more than 8 processors');
    expect(r.status).toBe(1);
  });

  it('rejects a count that is not 1 to 64 with a usage error', () => {
    for (const bad of ['0', '65', 'two', '2.5', 'cpus=']) {
      const r = runCliCaptured(['run', SMP_GUEST, '--smp', bad]);
      expect(r.status).toBe(RUN_STATUS.usage);
      expect(r.err).toContain('--smp: expected a number of processors from 1 to 64');
    }
  });

  it('is in the help text', () => {
    expect(RUN_USAGE).toMatch(/--smp N\s+N logical processors/);
  });
});
