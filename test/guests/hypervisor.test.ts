// The reference hypervisor (guests/hypervisor) on our machine, with the teaching OS as its
// guest (Multiboot module 0): the VMM reports what VT-x offers and the control words it chose,
// then the guest's output must be exactly what teach-os prints when it runs alone on the same
// machine (uptime stamps and the calibrated frequency masked), and the run ends with the
// guest's own debug-exit status. The control words are checked against the capability MSRs
// the machine reports (SDM A.3-A.5: every must-be-1 bit set, no bit set that may not be 1).
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

/** Bits the VMM requires (its `min` words in discover.ts), by their vmx.h names. */
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
