// `vmx-lab run --module GUEST.S`: a module given as assembly source is built by our toolchain
// first (with the run's -D/-I), so a hypervisor and its guest run in one command, and the
// guest sees exactly the bytes the two-step `asm` + `run --module GUEST.elf` gives it.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCliCaptured, runCliCaptured as cli } from '../support/cli-capture';

const HYPERVISOR = join(ROOT, 'guests/hypervisor/hypervisor.S');
const TEACH_OS = join(ROOT, 'guests/teach-os/teach-os.S');


describe('run --module with an assembly source', () => {
  it('boots the hypervisor with teach-os built on the fly, exactly as with a prebuilt ELF module', () => {
    const oneStep = cli(['run', HYPERVISOR, '--module', `${TEACH_OS}=console=ttyS0`]);
    expect(oneStep.err).toBe('');
    expect(oneStep.out).toMatch(/hello vmx 86/);
    expect(oneStep.status).toBe(1);

    const built = cli(['asm', TEACH_OS, '-o', '/virtual/teach-os.elf']);
    expect(built.status).toBe(0);
    const elf = built.written.get('/virtual/teach-os.elf')!;
    // The prebuilt ELF as the module: the transcripts differ only in the module's name, which
    // the guest prints as part of its command line (a shorter string also shifts the uptime
    // stamps and the calibrated MHz by a few instructions, so those are masked).
    const { status, out } = runCliCaptured(['run', HYPERVISOR, '--module', '/virtual/teach-os.elf=console=ttyS0'], { files: { '/virtual/teach-os.elf': elf } });
    expect(status).toBe(1);
    const mask = (t: string): string => t.replace(/\[\s*\d+\.\d+\]/g, '[stamp]').replace(/\d+\.\d+ MHz/g, 'N MHz');
    expect(mask(out.split('/virtual/teach-os.elf').join(TEACH_OS))).toBe(mask(oneStep.out));
  });

  it('reports a module source that does not assemble as a load error (status 64)', () => {
    const r = cli(['run', HYPERVISOR, '--module', join(ROOT, 'guests/no-such-guest.S')]);
    expect(r.status).toBe(64);
    expect(r.err).toMatch(/module file not found/);
  });
});
