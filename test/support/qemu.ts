// Boots a Multiboot kernel under QEMU (TCG) and collects its COM1 output and exit status.
// QEMU is the oracle for whole-kernel behaviour: the guests' QEMU transcripts are what our
// machine's `vmx-lab run` must reproduce, so the comparison tests use these same settings.
//
// Settings: `-cpu max` (TCG: NX, SYSCALL, APIC, TSC, ... all there), 128 MiB, no display,
// no VGA (so SeaBIOS prints nothing on the serial line), no network, COM1 on stdout,
// isa-debug-exit at 0xF4 (status (v << 1) | 1), no reboot on triple fault (QEMU exits 0).
// The kernel is written as `kernel.elf` in a fresh directory that is QEMU's working
// directory: QEMU's Multiboot command line is "<kernel path> <append>", so it reads
// "kernel.elf <append>" on every machine.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const QEMU = 'qemu-system-x86_64';
export const INSTALL_HINT = 'install qemu-system-x86 (apt-get install -y --no-install-recommends qemu-system-x86)';

export interface QemuModule {
  /** File name the module gets in the boot directory (it starts its command line). */
  readonly name: string;
  readonly data: Uint8Array;
  /** Arguments after the name. */
  readonly args?: string;
}

export interface QemuBootOptions {
  /** Kernel command line after the kernel's name (QEMU's -append). */
  readonly append?: string;
  readonly modules?: readonly QemuModule[];
  readonly timeoutMs?: number;
  readonly memoryMiB?: number;
  readonly cpu?: string;
  /** Logical processors (QEMU's -smp; default 1). */
  readonly smp?: number;
}

export interface QemuBootResult {
  /** Everything the guest wrote to COM1. */
  readonly serial: string;
  /** QEMU's exit status: (v << 1) | 1 after `out v, 0xF4`; null when it was killed. */
  readonly status: number | null;
  readonly timedOut: boolean;
  readonly stderr: string;
}

/** Throws a message that says what to install when QEMU is not on PATH. */
export function requireQemu(): void {
  const r = spawnSync(QEMU, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`${QEMU} is not available: ${INSTALL_HINT}`);
}

/** QEMU's -initrd list: modules separated by ',' (a ',' inside one is written ',,'). */
function initrdArgument(modules: readonly QemuModule[]): string {
  return modules.map((m) => (m.args ? `${m.name} ${m.args}` : m.name).replace(/,/g, ',,')).join(',');
}

export function bootUnderQemu(kernel: Uint8Array, opts: QemuBootOptions = {}): QemuBootResult {
  requireQemu();
  const dir = mkdtempSync(join(tmpdir(), 'vmxlab-qemu-'));
  try {
    writeFileSync(join(dir, 'kernel.elf'), kernel);
    const args = ['-kernel', 'kernel.elf'];
    if (opts.append !== undefined) args.push('-append', opts.append);
    if (opts.modules && opts.modules.length > 0) {
      for (const m of opts.modules) writeFileSync(join(dir, m.name), m.data);
      args.push('-initrd', initrdArgument(opts.modules));
    }
    args.push(
      '-cpu', opts.cpu ?? 'max', '-m', String(opts.memoryMiB ?? 128),
      '-display', 'none', '-vga', 'none', '-net', 'none', '-monitor', 'none', '-serial', 'stdio',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-no-reboot',
    );
    if (opts.smp !== undefined) args.push('-smp', String(opts.smp));
    const r = spawnSync(QEMU, args, { cwd: dir, encoding: 'latin1', timeout: opts.timeoutMs ?? 20_000, killSignal: 'SIGKILL' });
    if (r.error && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw new Error(`cannot run ${QEMU}: ${r.error.message}`);
    return { serial: r.stdout ?? '', status: r.status, timedOut: r.signal === 'SIGKILL', stderr: r.stderr ?? '' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The transcript with what legitimately differs between runs masked: uptime stamps
 *  `[    0.012345]` become `[ uptime ]`, and the calibrated TSC frequency `N.NNN MHz` `? MHz`. */
export function maskTimes(serial: string): string {
  return serial.replace(/\[\s*\d+\.\d{6}\]/g, '[ uptime ]').replace(/\b\d+\.\d{3} MHz\b/g, '? MHz');
}
