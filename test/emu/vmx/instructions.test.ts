// The VMX instructions in root operation (SDM Vol. 3C chapter 30): every VMsucceed /
// VMfailInvalid / VMfailValid(n) outcome with its VM-instruction error number (§30.4), and
// the #UD/#GP cases, executed as real instructions on the rig's 64-bit CPU.
import { beforeEach, describe, expect, it } from 'vitest';
import { CR4_VMXE } from '../../../src/emu/cpu/state';
import { MSR_IA32_VMX_BASIC, VMX_CAPABILITY_MSRS } from '../../../src/emu/vmx/capabilities';
import { VMXERR } from '../../../src/emu/vmx/exit-reasons';
import { MAXPHYADDR } from '../../../src/emu/mmu/access';
import { SUPPORTED_VMCS_FIELDS, VMCS_FIELDS } from '../../../src/emu/vmx/vmcs-fields';
import { Rig, SCRATCH, VMCS2_REGION, VMCS_REGION, VMXON_REGION } from './rig';

let rig: Rig;
beforeEach(() => {
  rig ??= new Rig();
  rig.reset();
});

function ptr(at: number, v: number): void {
  rig.mem.write64(at, v | 0, Math.floor(v / 4294967296));
}

describe('SDM 23.6 discovery', () => {
  it('CPUID.1:ECX.VMX[5] = 1 and RDMSR 480H-491H return the capability MSRs', () => {
    expect(rig.runHost('movl $1, %eax\ncpuid').kind).toBe('halted-forever');
    expect(rig.reg(1) & 0x20).toBe(0x20);
    for (const c of VMX_CAPABILITY_MSRS) {
      rig.runHost(`movl $${c.msr}, %ecx\nrdmsr`);
      expect([rig.reg(0), rig.reg(2)]).toEqual([c.value.lo, c.value.hi]);
    }
  });

  it('WRMSR to a capability MSR raises #GP(0) (SDM A.1)', () => {
    expect(rig.runHost(`movl $${MSR_IA32_VMX_BASIC}, %ecx\nxorl %eax, %eax\nxorl %edx, %edx\nwrmsr`)).toMatchObject({ kind: 'exception', vector: 13 });
  });
});

describe('SDM 30.3 VMXON', () => {
  it('#UD with CR4.VMXE = 0', () => {
    rig.cpu.cr4 &= ~CR4_VMXE;
    ptr(SCRATCH, VMXON_REGION);
    expect(rig.runHost(`vmxon ${SCRATCH}`)).toMatchObject({ kind: 'exception', vector: 6 });
  });

  it('#GP(0) when IA32_FEATURE_CONTROL is unlocked or VMX outside SMX is off (SDM 23.7)', () => {
    ptr(SCRATCH, VMXON_REGION);
    for (const fc of [0, 1, 4]) {
      rig.cpu.msrLo.set(0x3a, fc);
      expect(rig.runHost(`vmxon ${SCRATCH}`)).toMatchObject({ kind: 'exception', vector: 13, errorCode: 0 });
    }
  });

  it('#GP(0) at CPL 3', () => {
    ptr(SCRATCH, VMXON_REGION);
    rig.cpu.loadSegmentCache(2, 0x23, 0, 0, 0xffffffff, 0xc0f3);
    rig.cpu.loadSegmentCache(1, 0x1b, 0, 0, 0xffffffff, 0xa0fb);
    expect(rig.runHost(`vmxon ${SCRATCH}`)).toMatchObject({ kind: 'exception', vector: 13 });
  });

  it('#GP(0) when CR0 does not satisfy IA32_VMX_CR0_FIXED0 (NE = 0, SDM 23.8)', () => {
    ptr(SCRATCH, VMXON_REGION);
    rig.cpu.cr0 &= ~0x20;
    expect(rig.runHost(`vmxon ${SCRATCH}`)).toMatchObject({ kind: 'exception', vector: 13 });
  });

  it('VMfailInvalid for an unaligned pointer, a pointer beyond MAXPHYADDR, a wrong revision identifier', () => {
    for (const [p, rev] of [[VMXON_REGION + 8, 0], [2 ** MAXPHYADDR, 0], [VMXON_REGION, 0x12345]] as const) {
      rig.reset();
      ptr(SCRATCH, p);
      if (rev !== 0) rig.mem.write32(VMXON_REGION, rev);
      rig.runHost(`vmxon ${SCRATCH}`);
      expect(rig.outcome()).toBe('failInvalid');
      expect(rig.vmx.inVmx).toBe(false);
    }
  });

  it('VMsucceed enters VMX operation; VMXON again: VMfailInvalid without a current VMCS, VMfailValid(15) with one', () => {
    ptr(SCRATCH, VMXON_REGION);
    ptr(SCRATCH + 8, VMCS_REGION);
    rig.runHost(`vmxon ${SCRATCH}`);
    expect(rig.outcome()).toBe('succeed');
    expect(rig.vmx.inVmx).toBe(true);
    rig.runHost(`vmxon ${SCRATCH}`);
    expect(rig.outcome()).toBe('failInvalid');
    rig.runHost(`vmptrld ${SCRATCH + 8}\nvmxon ${SCRATCH}`);
    expect(rig.outcome()).toBe('failValid');
    expect(rig.read('VM_INSTRUCTION_ERROR')).toBe(VMXERR.VMXON_IN_VMX_ROOT_OPERATION);
  });

  it('CR4.VMXE cannot be cleared and CR0.PE/PG/NE stay set in VMX operation (SDM 23.8)', () => {
    rig.enterVmx();
    expect(rig.runHost('movq %cr4, %rax\nandq $~0x2000, %rax\nmovq %rax, %cr4')).toMatchObject({ kind: 'exception', vector: 13 });
    expect(rig.runHost('movq %cr0, %rax\nandq $~0x20, %rax\nmovq %rax, %cr0')).toMatchObject({ kind: 'exception', vector: 13 });
  });
});

describe('SDM 30.3 VMXOFF', () => {
  it('leaves VMX operation; VMX instructions are then #UD', () => {
    rig.enterVmx();
    rig.runHost('vmxoff');
    expect(rig.outcome()).toBe('succeed');
    expect(rig.vmx.inVmx).toBe(false);
    expect(rig.runHost('vmread %rax, %rbx')).toMatchObject({ kind: 'exception', vector: 6 });
    expect(rig.runHost('vmxoff')).toMatchObject({ kind: 'exception', vector: 6 });
  });

  it('#UD in compatibility mode', () => {
    rig.enterVmx();
    rig.cpu.loadSegmentCache(1, 0x18, 0, 0, 0xffffffff, 0xc09b);
    expect(rig.runHost('vmxoff')).toMatchObject({ kind: 'exception', vector: 6 });
  });
});

describe('SDM 30.3 VMCLEAR / VMPTRLD / VMPTRST', () => {
  it('VMCLEAR: error 2 (bad address), error 3 (VMXON pointer); clears the launch state and the current pointer', () => {
    rig.enterVmx();
    ptr(SCRATCH, VMCS_REGION + 0x10);
    rig.runHost(`vmclear ${SCRATCH}`);
    expect([rig.outcome(), rig.read('VM_INSTRUCTION_ERROR')]).toEqual(['failValid', VMXERR.VMCLEAR_INVALID_ADDRESS]);
    ptr(SCRATCH, VMXON_REGION);
    rig.runHost(`vmclear ${SCRATCH}`);
    expect([rig.outcome(), rig.read('VM_INSTRUCTION_ERROR')]).toEqual(['failValid', VMXERR.VMCLEAR_VMXON_POINTER]);
    rig.mem.write32(VMCS_REGION + 8, 1);
    ptr(SCRATCH, VMCS_REGION);
    rig.runHost(`vmclear ${SCRATCH}`);
    expect(rig.outcome()).toBe('succeed');
    expect(rig.mem.read32(VMCS_REGION + 8)).toBe(0);
    expect(rig.vmx.hasCurrentVmcs).toBe(false);
    // Without a current VMCS, failures are VMfailInvalid.
    ptr(SCRATCH, VMXON_REGION);
    rig.runHost(`vmclear ${SCRATCH}`);
    expect(rig.outcome()).toBe('failInvalid');
  });

  it('VMPTRLD: errors 9, 10, 11', () => {
    rig.enterVmx();
    const cases: [number, number][] = [[VMCS2_REGION + 4, VMXERR.VMPTRLD_INVALID_ADDRESS], [2 ** MAXPHYADDR, VMXERR.VMPTRLD_INVALID_ADDRESS],
      [VMXON_REGION, VMXERR.VMPTRLD_VMXON_POINTER], [SCRATCH + 0x1000, VMXERR.VMPTRLD_INCORRECT_VMCS_REVISION_ID]];
    for (const [p, err] of cases) {
      ptr(SCRATCH, p);
      rig.runHost(`vmptrld ${SCRATCH}`);
      expect([rig.outcome(), rig.read('VM_INSTRUCTION_ERROR')]).toEqual(['failValid', err]);
    }
    rig.mem.write32(VMCS2_REGION, 0x80000000 | rig.mem.read32(VMCS2_REGION)); // shadow-VMCS indicator: not supported
    ptr(SCRATCH, VMCS2_REGION);
    rig.runHost(`vmptrld ${SCRATCH}`);
    expect(rig.read('VM_INSTRUCTION_ERROR')).toBe(VMXERR.VMPTRLD_INCORRECT_VMCS_REVISION_ID);
  });

  it('VMPTRST stores the current-VMCS pointer, all ones when there is none', () => {
    rig.enterVmx();
    rig.runHost(`vmptrst ${SCRATCH + 16}`);
    expect(rig.outcome()).toBe('succeed');
    expect(rig.mem.read32(SCRATCH + 16) >>> 0).toBe(VMCS_REGION);
    rig.runHost(`vmclear ${SCRATCH + 8}\nvmptrst ${SCRATCH + 16}`);
    expect([rig.mem.read32(SCRATCH + 16), rig.mem.read32(SCRATCH + 20)]).toEqual([-1, -1]);
  });
});

describe('SDM 30.3 VMREAD / VMWRITE', () => {
  it('VMfailInvalid without a current VMCS', () => {
    ptr(SCRATCH, VMXON_REGION);
    rig.runHost(`vmxon ${SCRATCH}\nmovl $0x681e, %eax\nvmread %rax, %rbx`);
    expect(rig.outcome()).toBe('failInvalid');
    rig.runHost('movl $0x681e, %eax\nvmwrite %rbx, %rax');
    expect(rig.outcome()).toBe('failInvalid');
  });

  it('register and memory operands, 64-bit fields and their high halves, 16-bit fields', () => {
    rig.enterVmx();
    rig.runHost([
      'movl $0x681e, %eax', 'movabsq $0x123456789abcdef0, %rbx', 'vmwrite %rbx, %rax',
      'vmread %rax, %rcx',
      `movq $0x1122334455667788, %rdx`, `movq %rdx, ${SCRATCH + 0x100}`, 'movl $0x2010, %eax', `vmwrite ${SCRATCH + 0x100}, %rax`,
      'movl $0x2011, %eax', `vmread %rax, ${SCRATCH + 0x108}`,
      'movl $0x0802, %eax', 'movl $0xfffff, %ebx', 'vmwrite %rbx, %rax', 'vmread %rax, %rsi',
    ].join('\n'));
    expect(rig.outcome()).toBe('succeed');
    expect(rig.cpu.regs[2] >>> 0).toBe(0x9abcdef0);
    expect(rig.cpu.regs[3] >>> 0).toBe(0x12345678);
    expect(rig.mem.read32(SCRATCH + 0x108)).toBe(0x11223344);
    expect(rig.mem.read32(SCRATCH + 0x10c)).toBe(0);
    expect(rig.reg(6)).toBe(0xffff); // GUEST_CS_SELECTOR is 16 bits wide
  });

  it('error 12 for unsupported components (reserved encoding bits, no such field, an unsupported feature), 13 for read-only ones', () => {
    rig.enterVmx();
    const unsupported = [0x1000, 0x681f, 0x7777, 0x100000000];
    const tpr = VMCS_FIELDS.find((f) => f.name === 'VIRTUAL_APIC_PAGE_ADDR')!;
    expect(tpr.supported).toBe(false);
    for (const e of [...unsupported, tpr.encoding]) {
      rig.runHost(`movabsq $${e}, %rax\nvmread %rax, %rbx`);
      expect([e, rig.outcome(), rig.read('VM_INSTRUCTION_ERROR')]).toEqual([e, 'failValid', VMXERR.UNSUPPORTED_VMCS_COMPONENT]);
    }
    for (const f of SUPPORTED_VMCS_FIELDS.filter((x) => x.readOnly)) {
      rig.runHost(`movl $${f.encoding}, %eax\nvmwrite %rbx, %rax`);
      expect([f.name, rig.read('VM_INSTRUCTION_ERROR')]).toEqual([f.name, VMXERR.VMWRITE_READ_ONLY_VMCS_COMPONENT]);
      rig.runHost(`movl $${f.encoding}, %eax\nvmread %rax, %rbx`);
      expect(rig.outcome()).toBe('succeed');
    }
  });

  it('every supported field round-trips through VMWRITE and VMREAD at its width', () => {
    rig.enterVmx();
    const writable = SUPPORTED_VMCS_FIELDS.filter((f) => !f.readOnly);
    const lines: string[] = [];
    writable.forEach((f, i) => {
      lines.push(`movl $${f.encoding}, %eax`, `movabsq $0x${(0x0102030405060708n + BigInt(i)).toString(16)}, %rbx`, 'vmwrite %rbx, %rax',
        'vmread %rax, %rcx', `movq %rcx, ${SCRATCH + 0x200 + 8 * i}`);
    });
    rig.runHost(lines.join('\n'));
    writable.forEach((f, i) => {
      const lo = rig.mem.read32(SCRATCH + 0x200 + 8 * i) >>> 0, hi = rig.mem.read32(SCRATCH + 0x204 + 8 * i) >>> 0;
      const v = 0x05060708 + i;
      const want = f.width === '16' ? [v & 0xffff, 0] : f.width === '32' ? [v >>> 0, 0] : [v >>> 0, 0x01020304];
      expect([f.name, lo, hi]).toEqual([f.name, ...want]);
    });
  });
});

describe('SDM 30.3 VMREAD / VMWRITE outside 64-bit mode', () => {
  it('32-bit operands: natural-width and 64-bit fields are written with their upper half cleared, read truncated; HIGH encodings reach bits 63:32', () => {
    rig.enter32();
    ptr(SCRATCH, VMXON_REGION);
    ptr(SCRATCH + 8, VMCS_REGION);
    const stop = rig.runHost([
      `vmxon ${SCRATCH}`, `vmptrld ${SCRATCH + 8}`,
      'movl $0x681e, %eax', 'movl $0x89abcdef, %ebx', 'vmwrite %ebx, %eax', 'vmread %eax, %ecx',
      'movl $0x2010, %eax', 'movl $0x11111111, %ebx', 'vmwrite %ebx, %eax',
      'movl $0x2011, %eax', 'movl $0x22222222, %ebx', 'vmwrite %ebx, %eax',
      'movl $0x2010, %eax', 'vmread %eax, %esi', 'movl $0x2011, %eax', 'vmread %eax, %edi',
    ].join('\n'), 0x200000, 32);
    expect(stop.kind).toBe('halted-forever');
    expect(rig.outcome()).toBe('succeed');
    expect(rig.read('GUEST_RIP')).toBe(0x89abcdef);
    expect(rig.reg(1)).toBe(0x89abcdef);
    expect(rig.read('TSC_OFFSET')).toBe(0x22222222 * 2 ** 32 + 0x11111111);
    expect([rig.reg(6), rig.reg(7)]).toEqual([0x11111111, 0x22222222]);
  });
});

describe('SDM 23.7 RESET', () => {
  it('a processor reset leaves VMX operation', () => {
    rig.enterVmx();
    rig.cpu.reset();
    expect(rig.vmx.inVmx).toBe(false);
    expect(rig.vmx.hasCurrentVmcs).toBe(false);
    expect(rig.cpu.handlers).toBe(rig.vmx.rootHandlers);
  });
});

describe('SDM 30.3 VMLAUNCH / VMRESUME basic checks (26.1)', () => {
  it('VMfailInvalid without a current VMCS', () => {
    ptr(SCRATCH, VMXON_REGION);
    rig.runHost(`vmxon ${SCRATCH}\nvmlaunch`);
    expect(rig.outcome()).toBe('failInvalid');
  });

  it('error 5: VMRESUME of a clear VMCS; error 4: VMLAUNCH of a launched one', () => {
    rig.enterVmx();
    rig.runHost('vmresume');
    expect(rig.read('VM_INSTRUCTION_ERROR')).toBe(VMXERR.VMRESUME_NONLAUNCHED_VMCS);
    rig.mem.write32(VMCS_REGION + 8, 1);
    rig.runHost('vmlaunch');
    expect(rig.read('VM_INSTRUCTION_ERROR')).toBe(VMXERR.VMLAUNCH_NONCLEAR_VMCS);
  });

  it('error 26: events blocked by MOV SS', () => {
    rig.enterVmx();
    rig.runHost('movw %ss, %ax\nmovw %ax, %ss\nvmlaunch');
    expect([rig.outcome(), rig.read('VM_INSTRUCTION_ERROR')]).toEqual(['failValid', VMXERR.ENTRY_EVENTS_BLOCKED_BY_MOV_SS]);
  });

  it('error 7 for an invalid control field and 8 for invalid host state, with the failing check kept for tools', () => {
    rig.enterVmx();
    rig.setupGuest('hlt');
    rig.write('PIN_BASED_VM_EXEC_CONTROL', 0);
    rig.launch();
    expect([rig.outcome(), rig.read('VM_INSTRUCTION_ERROR')]).toEqual(['failValid', 7]);
    expect(rig.vmx.lastEntryFailure?.message).toMatch(/^VM entry failed: invalid VMX control field \(SDM 26\.2\.1\.1\): .*PIN_BASED_VM_EXEC_CONTROL/);
    rig.setupGuest('hlt');
    rig.write('HOST_CR4', rig.read('HOST_CR4') & ~0x2000);
    rig.launch();
    expect([rig.outcome(), rig.read('VM_INSTRUCTION_ERROR')]).toEqual(['failValid', 8]);
    expect(rig.vmx.lastEntryFailure?.message).toMatch(/invalid host-state field \(SDM 26\.2\.2\).*HOST_CR4/);
  });

  it('invalid guest state: VM exit with reason 33 and bit 31, host state loaded, launch state stays clear (SDM 26.8)', () => {
    rig.enterVmx();
    rig.setupGuest('hlt');
    rig.write('GUEST_CR0', rig.read('GUEST_CR0') & ~1);
    const stop = rig.launch();
    expect(stop.kind).toBe('halted-forever');
    expect(rig.cpu.rip).toBe(0x2ff000 + 1);
    expect(rig.read('VM_EXIT_REASON')).toBe(0x80000021);
    expect(rig.read('EXIT_QUALIFICATION')).toBe(0);
    expect(rig.mem.read32(VMCS_REGION + 8)).toBe(0);
    expect(rig.vmx.lastEntryFailure?.message).toMatch(/invalid guest state \(SDM 26\.3\.1\.1\).*GUEST_CR0/);
    expect(rig.vmx.lastExit?.message).toBe(rig.vmx.lastEntryFailure?.message);
  });
});

describe('SDM 30.3 VMCALL, INVEPT, INVVPID, VMFUNC in root operation', () => {
  it('VMCALL in root operation: VMfailValid(1); outside VMX operation: #UD', () => {
    expect(rig.runHost('vmcall')).toMatchObject({ kind: 'exception', vector: 6 });
    rig.enterVmx();
    rig.runHost('vmcall');
    expect([rig.outcome(), rig.read('VM_INSTRUCTION_ERROR')]).toEqual(['failValid', VMXERR.VMCALL_IN_VMX_ROOT_OPERATION]);
  });

  it('INVEPT: unsupported type and an invalid EPTP fail with error 28; all-context succeeds', () => {
    rig.enterVmx();
    ptr(SCRATCH + 0x40, 0x1000 | 6 | (3 << 3)); ptr(SCRATCH + 0x48, 0);
    for (const [type, eptp, ok] of [[0, 0, false], [3, 0, false], [1, 0x1000 | 6 | (3 << 3), true], [1, 0x1000 | 5 | (3 << 3), false], [2, 0, true]] as const) {
      ptr(SCRATCH + 0x40, eptp);
      rig.runHost(`movl $${type}, %eax\ninvept ${SCRATCH + 0x40}, %rax`);
      expect([type, eptp, rig.outcome()]).toEqual([type, eptp, ok ? 'succeed' : 'failValid']);
      if (!ok) expect(rig.read('VM_INSTRUCTION_ERROR')).toBe(VMXERR.INVALID_OPERAND_TO_INVEPT_INVVPID);
    }
  });

  it('INVVPID: VPID 0, reserved bits, non-canonical addresses fail with error 28', () => {
    rig.enterVmx();
    const cases: [number, number, number, boolean][] = [[0, 1, 0x1000, true], [0, 0, 0x1000, false], [0, 1, 2 ** 47, false], [1, 1, 0, true],
      [1, 0, 0, false], [2, 0, 0, true], [3, 5, 0, true], [4, 1, 0, false], [1, 0x10001, 0, false]];
    for (const [type, vpid, addr, ok] of cases) {
      ptr(SCRATCH + 0x40, vpid); ptr(SCRATCH + 0x48, addr);
      rig.runHost(`movl $${type}, %eax\ninvvpid ${SCRATCH + 0x40}, %rax`);
      expect([type, vpid, addr, rig.outcome()]).toEqual([type, vpid, addr, ok ? 'succeed' : 'failValid']);
    }
  });

  it('VMFUNC outside non-root operation is #UD', () => {
    rig.enterVmx();
    expect(rig.runHost('xorl %eax, %eax\nvmfunc')).toMatchObject({ kind: 'exception', vector: 6 });
  });
});
