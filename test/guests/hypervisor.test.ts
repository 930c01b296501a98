// The reference hypervisor (guests/hypervisor) on our machine, with the teaching OS as its
// guest (Multiboot module 0): the VMM reports what VT-x offers and the control words it chose,
// then the guest's output must be exactly what teach-os prints when it runs alone on the same
// machine (uptime stamps and the calibrated frequency masked), and the run ends with the
// guest's own debug-exit status. The control words are checked against the capability MSRs
// the machine reports (SDM A.3-A.5: every must-be-1 bit set, no bit set that may not be 1).
//
// Bochs 2.7, whose CPU models implement VT-x with EPT and unrestricted guest, is the oracle for
// the VMM's own correctness: the same hypervisor and guests booted by GRUB under Bochs must give
// the guests the same transcripts and end after the same number of VM exits.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMachine } from '../../src/emu/machine';
import type { MultibootModuleInput } from '../../src/emu/loader/multiboot';
import { controlBounds } from '../../src/emu/vmx/capabilities';
import {
  controlMask, PIN_BASED_CONTROLS, PRIMARY_PROCBASED_CONTROLS, SECONDARY_PROCBASED_CONTROLS, VM_ENTRY_CONTROLS, VM_EXIT_CONTROLS,
  type ControlGroup,
} from '../../src/emu/vmx/controls';
import { maskTimes } from '../support/qemu';
import { buildOurs, HYPERVISOR, HYPERVISOR_PROBE, TEACH_OS } from './guests';

const GUEST_ARGS = 'console=ttyS0 lab=1';
const MAX_INSTRUCTIONS = 500_000_000;

interface Run {
  lines: string[];
  status: number | null;
  stop: string;
}

function boot(kernel: Uint8Array, kernelName: string, cmdline: string, modules: MultibootModuleInput[] = []): Run {
  const m = createMachine({ memorySize: 128 * 1024 * 1024 });
  const bytes: number[] = [];
  m.on('serial', ({ byte, port }) => {
    if (port === 0) bytes.push(byte);
  });
  m.boot({ kernel, kernelName, cmdline, modules });
  const stop = m.run({ maxInstructions: MAX_INSTRUCTIONS, timeoutMs: 60_000 });
  const lines = maskTimes(Buffer.from(bytes).toString('latin1')).split('\n').filter((l) => l !== '');
  return { lines, status: stop.kind === 'debug-exit' ? stop.status : null, stop: stop.kind };
}

const VMM = '[vmm] ';
const isVmm = (l: string): boolean => l.startsWith(VMM);
/** A VMM line without its prefix and (masked) stamp. */
const vmmText = (l: string): string => l.slice(VMM.length).replace(/^\[ uptime \] /, '');

/** The value the VMM printed for a control field: "vmx: NAME = 0x...". */
function printedControl(vmmLines: string[], field: string): number {
  const line = vmmLines.find((l) => l.startsWith(`vmx: ${field} = `));
  expect(line, `the VMM prints ${field}`).toBeDefined();
  return Number(line!.slice(`vmx: ${field} = `.length));
}

/** Bits the VMM requires (the `min` words of setup_vmcs_config, discover.S), by their vmx.h names. */
const REQUIRED: ReadonlyArray<[ControlGroup, readonly string[]]> = [
  [PIN_BASED_CONTROLS, []],
  [PRIMARY_PROCBASED_CONTROLS, ['CPU_BASED_HLT_EXITING', 'CPU_BASED_USE_IO_BITMAPS', 'CPU_BASED_USE_MSR_BITMAPS', 'CPU_BASED_ACTIVATE_SECONDARY_CONTROLS']],
  [SECONDARY_PROCBASED_CONTROLS, ['SECONDARY_EXEC_ENABLE_EPT', 'SECONDARY_EXEC_UNRESTRICTED_GUEST']],
  [VM_EXIT_CONTROLS, ['VM_EXIT_HOST_ADDR_SPACE_SIZE', 'VM_EXIT_SAVE_IA32_EFER', 'VM_EXIT_LOAD_IA32_EFER']],
  [VM_ENTRY_CONTROLS, ['VM_ENTRY_LOAD_IA32_EFER']],
];

describe('the reference hypervisor', () => {
  const hypervisor = buildOurs(HYPERVISOR);
  const teachOs = buildOurs(TEACH_OS);
  const guestModule: MultibootModuleInput = { name: 'teach-os.elf', data: teachOs, cmdline: `teach-os.elf ${GUEST_ARGS}` };

  it('runs teach-os as its guest: discovery lines, then the output teach-os prints alone', () => {
    const alone = boot(teachOs, 'teach-os.elf', `teach-os.elf ${GUEST_ARGS}`);
    expect(alone.status).toBe(1);
    const run = boot(hypervisor, 'hypervisor.elf', 'hypervisor.elf', [guestModule]);
    const vmm = run.lines.filter(isVmm).map(vmmText);
    const guest = run.lines.filter((l) => !isVmm(l));

    // What the VMM found, in the order it looks.
    const expected = [
      /^tsc: calibrated against PIT channel 2: \? MHz$/,
      /^cpu: \S+$/,
      /^vmx: supported \(CPUID\.1:ECX\.VMX = 1\)$/,
      /^vmx: IA32_FEATURE_CONTROL (was unlocked: now 0x5 \(locked, VMXON outside SMX allowed\)|= 0x[0-9a-f]+)$/,
      /^vmx: IA32_VMX_BASIC: VMCS revision id 0x[0-9a-f]+, region size 4096 bytes, TRUE controls yes$/,
      /^vmx: EPT yes, VPID yes, unrestricted guest yes$/,
      /^vmx: EPT_VPID_CAP: 4-level walks yes, write-back yes, 2 MiB pages yes, INVVPID yes$/,
      /^vmx: PIN_BASED_VM_EXEC_CONTROL = 0x[0-9a-f]+$/,
      /^vmx: CPU_BASED_VM_EXEC_CONTROL = 0x[0-9a-f]+$/,
      /^vmx: SECONDARY_VM_EXEC_CONTROL = 0x[0-9a-f]+$/,
      /^vmx: VM_EXIT_CONTROLS = 0x[0-9a-f]+$/,
      /^vmx: VM_ENTRY_CONTROLS = 0x[0-9a-f]+$/,
      /^ept: guest-physical 0 to 0x1ffffff -> host-physical 0x[0-9a-f]+ \(2 MiB pages, write-back\)$/,
      /^guest: module 0 at 0x[0-9a-f]+, \d+ bytes$/,
    ];
    expected.forEach((re, i) => expect(vmm[i], `VMM line ${i}`).toMatch(re));
    expect(vmm).toContain(`guest: command line "teach-os.elf ${GUEST_ARGS}"`);
    expect(vmm.filter((l) => l.startsWith('guest: segment ')).length).toBeGreaterThan(0);
    expect(vmm.slice(-2)).toEqual([
      'vmx: launching the guest',
      'guest: wrote 0 to the debug-exit port after 1 VM exits: ending the run with that value',
    ]);
    // Both calibrate the TSC: the handout's "two tsc lines".
    expect(run.lines.filter((l) => l.includes('tsc: calibrated')).length).toBe(2);

    // The guest's lines are teach-os's own, and so is the exit status.
    expect(guest).toEqual(alone.lines);
    expect(run.status).toBe(alone.status);

    // Each control word: allowed by the capability MSRs, and with the VMM's required bits.
    for (const [group, names] of REQUIRED) {
      const value = printedControl(vmm, group.field) >>> 0;
      const { mustBe1, mayBe1 } = controlBounds(group);
      expect((value & mustBe1) >>> 0, `${group.field}: must-be-1 bits`).toBe(mustBe1 >>> 0);
      expect((value & ~mayBe1) >>> 0, `${group.field}: bits that may not be 1`).toBe(0);
      for (const n of names) expect((value & controlMask(n)) >>> 0, `${group.field}: ${n}`).not.toBe(0);
    }
  });

  it('keeps its promises to a guest: CPUID without VMX, the hypercalls from ring 0 and ring 3', () => {
    const probe = buildOurs(HYPERVISOR_PROBE);
    const run = boot(hypervisor, 'hypervisor.elf', 'hypervisor.elf', [{ name: 'probe.elf', data: probe, cmdline: 'probe.elf' }]);
    const guest = run.lines.filter((l) => !isVmm(l));
    expect(guest.filter((l) => l.startsWith('not ok'))).toEqual([]);
    expect(guest.filter((l) => l.startsWith('ok ')).length).toBe(12);
    expect(guest).toContain('1..12');
    expect(guest).toContain('# this line came through HC_PUTC');
    expect(vmmText(run.lines[run.lines.length - 1])).toMatch(/^guest: exit hypercall with value 0 after \d+ VM exits: ending the run with that value$/);
    expect(run.status).toBe(1);
  });

  it('reports an exit it has no handler for, with the exit information and a VMCS dump', () => {
    const probe = buildOurs(HYPERVISOR_PROBE);
    const run = boot(hypervisor, 'hypervisor.elf', 'hypervisor.elf', [{ name: 'probe.elf', data: probe, cmdline: 'probe.elf invd' }]);
    const vmm = run.lines.filter(isVmm).map(vmmText);
    const at = vmm.indexOf('unexpected exit reason 13 (INVD)');
    expect(at, 'the INVD exit is reported').toBeGreaterThan(0);
    expect(vmm[at + 1]).toMatch(/^  exit qualification 0x0, guest RIP 0x[0-9a-f]+, guest RSP 0x[0-9a-f]+$/);
    expect(vmm[at + 2]).toBe('  instruction length 0x2, instruction information 0x0');
    expect(vmm[at + 4]).toBe('VMCS dump:');
    expect(vmm).toContain('  VM_EXIT_REASON                0xd');
    expect(vmm).toContain('  VM_EXIT_INSTRUCTION_LEN       0x2');
    expect(vmm[vmm.length - 1]).toBe('stopping: the guest cannot run');
    expect(run.status).toBe((0x10 << 1) | 1);
  });

  it('stops with a failure status when there is no guest module', () => {
    const run = boot(hypervisor, 'hypervisor.elf', 'hypervisor.elf');
    expect(run.lines.map(vmmText).slice(-2)).toEqual([
      'guest: no guest kernel: give it as Multiboot module 0 (vmx-lab run ... --module guest.elf)',
      'stopping: the guest cannot run',
    ]);
    expect(run.status).toBe((0x10 << 1) | 1);
  });

  it('refuses a module that is not an ELF file', () => {
    const notElf: MultibootModuleInput = { name: 'notes.txt', data: new TextEncoder().encode('not a kernel\n'.repeat(10)), cmdline: 'notes.txt' };
    const run = boot(hypervisor, 'hypervisor.elf', 'hypervisor.elf', [notElf]);
    expect(run.lines.map(vmmText).slice(-2)).toEqual([
      'guest: module 0 is not an ELF file this VMM can load',
      'stopping: the guest cannot run',
    ]);
    expect(run.status).toBe((0x10 << 1) | 1);
  });
});

// ---- Bochs ----

const BOCHS_INSTALL_HINT = 'apt-get install -y --no-install-recommends bochs bochsbios vgabios grub-pc-bin grub-common xorriso';
const BOCHS_TIMEOUT_MS = 60_000;

/** Throws a message that says what to install when Bochs or grub-mkrescue is missing. */
function requireBochs(): void {
  for (const [cmd, arg] of [['bochs', '--help'], ['grub-mkrescue', '--version'], ['xorriso', '--version']]) {
    const r = spawnSync(cmd, [arg], { encoding: 'utf8' });
    if (r.error) throw new Error(`${cmd} is not available: ${BOCHS_INSTALL_HINT}`);
  }
}

/**
 * Boots the hypervisor with `module` as module 0 from a GRUB CD under Bochs (Skylake model:
 * VMX with EPT, VPID, unrestricted guest) and returns COM1's output once it matches `until`.
 * Bochs has no debug-exit device, so the run is stopped from here. GRUB 2 gives a module the
 * text after its path as its string, so the module's name starts it, as under QEMU and ours.
 */
async function bootUnderBochs(kernel: Uint8Array, module: { name: string; data: Uint8Array; args: string }, until: RegExp): Promise<string> {
  requireBochs();
  const dir = mkdtempSync(join(tmpdir(), 'vmxlab-bochs-'));
  try {
    mkdirSync(join(dir, 'iso/boot/grub'), { recursive: true });
    writeFileSync(join(dir, 'iso/boot/hypervisor.elf'), kernel);
    writeFileSync(join(dir, 'iso/boot', module.name), module.data);
    writeFileSync(join(dir, 'iso/boot/grub/grub.cfg'), [
      'set timeout=0',
      'menuentry "hypervisor" {',
      '  multiboot /boot/hypervisor.elf',
      `  module /boot/${module.name} ${module.name} ${module.args}`,
      '}',
      '',
    ].join('\n'));
    const mk = spawnSync('grub-mkrescue', ['-o', join(dir, 'boot.iso'), join(dir, 'iso')], { encoding: 'utf8' });
    if (mk.status !== 0) throw new Error(`grub-mkrescue failed: ${mk.stderr}`);
    writeFileSync(join(dir, 'bochsrc'), [
      'megs: 128',
      'cpu: model=corei7_skylake_x, count=1, ips=50000000',
      'romimage: file=/usr/share/bochs/BIOS-bochs-latest',
      'vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest',
      'ata0-master: type=cdrom, path=boot.iso, status=inserted',
      'boot: cdrom',
      'com1: enabled=1, mode=file, dev=com1.txt',
      'display_library: rfb, options="timeout=0"',
      'log: bochs.log',
      'panic: action=fatal',
      '',
    ].join('\n'));
    writeFileSync(join(dir, 'bochs.rc'), 'c\n');          // Debian's Bochs starts in its debugger
    const child = spawn('bochs', ['-q', '-f', 'bochsrc', '-rc', 'bochs.rc'], { cwd: dir, stdio: 'ignore' });
    const com1 = join(dir, 'com1.txt');
    const started = Date.now();
    try {
      for (;;) {
        const text = existsSync(com1) ? readFileSync(com1, 'latin1') : '';
        if (until.test(text)) return text;
        if (child.exitCode !== null) throw new Error(`Bochs exited (status ${child.exitCode}) before the run ended; COM1:\n${text}`);
        if (Date.now() - started > BOCHS_TIMEOUT_MS) throw new Error(`Bochs did not finish in ${BOCHS_TIMEOUT_MS} ms; COM1:\n${text}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      child.kill('SIGKILL');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const linesOf = (serial: string): string[] => maskTimes(serial.replace(/\r/g, '')).split('\n').filter((l) => l !== '');
const RUN_ENDED = /ending the run with that value\n|stopping: the guest cannot run\n/;

describe('the reference hypervisor under Bochs (a VT-x oracle)', () => {
  const hypervisor = buildOurs(HYPERVISOR);

  const cases = [
    { guest: TEACH_OS, name: 'teach-os.elf', args: GUEST_ARGS },
    { guest: HYPERVISOR_PROBE, name: 'probe.elf', args: '' },
  ];
  for (const { guest, name, args } of cases) {
    it(`${guest.name}: the same guest transcript and number of VM exits as on our machine`, async () => {
      const data = buildOurs(guest);
      const cmdline = args === '' ? name : `${name} ${args}`;
      const bochs = linesOf(await bootUnderBochs(hypervisor, { name, data, args }, RUN_ENDED));
      const ours = boot(hypervisor, 'hypervisor.elf', 'hypervisor.elf', [{ name, data, cmdline }]);
      expect(bochs.filter((l) => !isVmm(l))).toEqual(ours.lines.filter((l) => !isVmm(l)));
      expect(vmmText(bochs[bochs.length - 1])).toBe(vmmText(ours.lines[ours.lines.length - 1]));
      expect(bochs.filter(isVmm).map(vmmText)).toContain(`guest: command line "${cmdline}"`);
    });
  }
});
