// Every guest kernel builds with our toolchain and with GNU gcc -E + as + ld, and the two
// give the same loaded bytes (each allocated section's address and contents, .bss as zeros).
import { describe, expect, it } from 'vitest';
import { loadedImage } from '../support/gnu-link';
import { buildGnu, buildOurs, HYPERVISOR, HYPERVISOR_PROBE, TEACH_OS, testKernels } from './guests';

describe('guest kernels build identically with our toolchain and GNU as + ld', () => {
  for (const guest of [TEACH_OS, HYPERVISOR, HYPERVISOR_PROBE, ...testKernels()]) {
    it(guest.name, () => {
      const ours = loadedImage(buildOurs(guest));
      const gnu = loadedImage(buildGnu(guest));
      expect(ours.map((r) => [r.address, r.bytes.length])).toEqual(gnu.map((r) => [r.address, r.bytes.length]));
      for (let i = 0; i < gnu.length; i++) {
        const first = gnu[i].bytes.findIndex((b, j) => ours[i].bytes[j] !== b);
        expect(first, `${guest.name}: first differing byte at 0x${(gnu[i].address + BigInt(Math.max(first, 0))).toString(16)}`).toBe(-1);
      }
    });
  }
});
