// On a terminal, `vmx-lab run` tells the hypervisor's lines from its guest's by colour: the
// machine tags every serial byte with the world that wrote it (VMX non-root or not), and the
// CLI switches to cyan for guest bytes. Off a terminal the bytes pass through untouched (the
// reference hypervisor prefixes its own lines with "[vmm] " for that case).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCliCaptured } from '../support/cli-capture';

const HYPERVISOR = join(ROOT, 'guests/hypervisor/hypervisor.S');
const TEACH_OS = join(ROOT, 'guests/teach-os/teach-os.S');
const CYAN = '\x1b[36m';
const RESET = '\x1b[0m';

function run(colour: boolean, argv: string[]): { status: number; out: string } {
  return runCliCaptured(['run', ...argv], { colour });
}

describe('run: host and guest lines on a terminal', () => {
  it('colours exactly the lines the guest writes in VMX non-root operation', () => {
    const plain = run(false, [HYPERVISOR, '--module', `${TEACH_OS}=console=ttyS0`]);
    const coloured = run(true, [HYPERVISOR, '--module', `${TEACH_OS}=console=ttyS0`]);
    expect(plain.status).toBe(1);
    expect(coloured.status).toBe(1);
    expect(plain.out).not.toContain('\x1b[');
    // Without the escapes the transcript is the same.
    expect(coloured.out.split(CYAN).join('').split(RESET).join('')).toBe(plain.out);
    // Every guest line (teach-os's, which have no "[vmm] " prefix) is inside a cyan run;
    // every "[vmm] " line is outside one.
    let inGuest = false;
    const worlds: Array<[string, boolean]> = [];
    for (const piece of coloured.out.split(/(\x1b\[36m|\x1b\[0m)/)) {
      if (piece === CYAN) inGuest = true;
      else if (piece === RESET) inGuest = false;
      else for (const line of piece.split('\n')) if (line !== '') worlds.push([line, inGuest]);
    }
    expect(worlds.some(([, g]) => g)).toBe(true);
    for (const [line, guest] of worlds) expect(guest, line).toBe(!line.startsWith('[vmm] '));
    // The terminal is left in its own colour.
    expect(coloured.out.lastIndexOf(RESET)).toBeGreaterThan(coloured.out.lastIndexOf(CYAN));
  });

  it('leaves a kernel without VMX uncoloured even on a terminal', () => {
    const r = run(true, [TEACH_OS]);
    expect(r.status).toBe(1);
    expect(r.out).not.toContain('\x1b[');
  });
});
