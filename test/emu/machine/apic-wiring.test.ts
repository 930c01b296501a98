// The local APIC as the CPU reaches it without MMIO: RDMSR/WRMSR of IA32_APIC_BASE, the
// x2APIC registers and IA32_TSC_DEADLINE through the machine's DeviceMsrs (SDM Vol. 4;
// Vol. 3 §10.4.4, §10.12), CPUID.01H's APIC / x2APIC / TSC-deadline bits (§10.4.3: the APIC
// flag follows IA32_APIC_BASE[11]; the others say what the APIC implements), and CR8 as
// TPR[7:4] (§10.8.6.1). Whole-kernel behaviour is compared with QEMU by guests/tests/apic.S.
import { describe, expect, it } from 'vitest';
import { createMachine, type Machine, type MachineConfig } from '../../../src/emu/machine';
import { LAPIC_VERSION } from '../../../src/emu/devices/local-apic';
import { miniKernel } from '../../support/mini-kernel';

function boot(body: string, config: MachineConfig = {}): Machine {
  const m = createMachine(config);
  m.boot({ kernel: miniKernel(body), kernelName: 'kernel.elf' });
  m.cpu.stopOnException = true;
  return m;
}

const reg = (m: Machine, name: string): number => Number(m.registers().gprs[name] & 0xffffffffn);

/** CPUID leaf 1 into ESI (ECX) and EDI (EDX). */
const CPUID1 = `
        movl    $1, %eax
        cpuid
        movl    %ecx, %esi
        movl    %edx, %edi`;

describe('device MSRs, CPUID and CR8 wired to the local APIC', () => {
  it('RDMSR IA32_APIC_BASE reads the APIC; x2APIC mode makes the x2APIC MSRs answer', () => {
    const m = boot(`${CPUID1}
        movl    $0x1b, %ecx
        rdmsr
        movl    %eax, %ebp
        orl     $0x400, %eax            /* EXTD: enter x2APIC mode */
        wrmsr
        movl    $0x803, %ecx            /* x2APIC version register */
        rdmsr
        movl    %eax, %ebx
        hlt`);
    expect(m.run({ maxInstructions: 1000 }).kind).toBe('halted-forever');
    expect(reg(m, 'rbp')).toBe(0xfee00900);
    expect(reg(m, 'rbx')).toBe(LAPIC_VERSION);
    expect(reg(m, 'rsi') & (1 << 21)).toBe(1 << 21); // x2APIC
    expect(reg(m, 'rsi') & (1 << 24)).toBe(1 << 24); // TSC-deadline
    expect(reg(m, 'rdi') & (1 << 9)).toBe(1 << 9); // APIC
    expect(m.board.lapic.x2apicMode).toBe(true);
  });

  it('a reserved IA32_APIC_BASE bit is #GP(0), and the APIC is unchanged', () => {
    const m = boot(`
        movl    $0x1b, %ecx
        movl    $0xfee00901, %eax
        xorl    %edx, %edx
        wrmsr
        hlt`);
    expect(m.run({ maxInstructions: 1000 })).toMatchObject({ kind: 'exception', vector: 13, errorCode: 0 });
    expect(m.board.lapic.readApicBase()).toBe(0xfee00900);
  });

  it('x2APIC registers outside x2APIC mode are #GP', () => {
    const m = boot(`
        movl    $0x802, %ecx
        rdmsr
        hlt`);
    expect(m.run({ maxInstructions: 1000 })).toMatchObject({ kind: 'exception', vector: 13 });
  });

  it('CPUID.01H:EDX.APIC reads 0 once IA32_APIC_BASE[11] is cleared', () => {
    const m = boot(`
        movl    $0x1b, %ecx
        rdmsr
        andl    $~0x800, %eax
        wrmsr
${CPUID1}
        hlt`);
    expect(m.run({ maxInstructions: 1000 }).kind).toBe('halted-forever');
    expect(reg(m, 'rdi') & (1 << 9)).toBe(0);
    expect(m.board.lapic.hardwareEnabled).toBe(false);
  });

  it('IA32_TSC_DEADLINE is an MSR when advertised: it arms the timer in TSC-deadline mode', () => {
    const m = boot(`
        movl    $0x00040040, 0xfee00320   /* LVT timer: TSC-deadline mode (bits 18:17 = 10), vector 0x40 */
        movl    $0x6e0, %ecx
        movl    $0x12345678, %eax
        movl    $1, %edx
        wrmsr
        rdmsr
        hlt`);
    expect(m.run({ maxInstructions: 1000 }).kind).toBe('halted-forever');
    expect(reg(m, 'rax')).toBe(0x12345678);
    expect(reg(m, 'rdx')).toBe(1);
  });

  it('without x2APIC and TSC-deadline (QEMU 7.2 TCG\'s model): CPUID says so, EXTD and IA32_TSC_DEADLINE are #GP', () => {
    const off = { apic: { x2apic: false, tscDeadline: false } };
    const m = boot(`${CPUID1}\n        hlt`, off);
    expect(m.run({ maxInstructions: 1000 }).kind).toBe('halted-forever');
    expect(reg(m, 'rsi') & ((1 << 21) | (1 << 24))).toBe(0);
    const extd = boot(`
        movl    $0x1b, %ecx
        movl    $0xfee00d00, %eax
        xorl    %edx, %edx
        wrmsr
        hlt`, off);
    expect(extd.run({ maxInstructions: 1000 })).toMatchObject({ kind: 'exception', vector: 13 });
    const deadline = boot(`
        movl    $0x6e0, %ecx
        rdmsr
        hlt`, off);
    expect(deadline.run({ maxInstructions: 1000 })).toMatchObject({ kind: 'exception', vector: 13 });
  });

  it('CR8 is TPR[7:4]: a TPR written through the xAPIC page reads back as CR8', () => {
    const m = boot(`
        movl    $0x5f, 0xfee00080
        hlt`);
    expect(m.run({ maxInstructions: 1000 }).kind).toBe('halted-forever');
    expect(m.registers().cr8).toBe(5);
    m.cpu.writeCr8(9);
    expect(m.board.lapic.mmioRead(0x80, 4)).toBe(0x90);
  });
});
