// A machine with several logical processors (MachineConfig.cpus, src/emu/machine/processor.ts):
// application processors wait for a SIPI after power-up (SDM Vol. 3A §9.4), INIT-SIPI starts
// them in real mode at CS = vector << 8, IP = 0 (§9.4.4.1), INIT brings them back to that
// state keeping what Table 9-1 says survives INIT, CPUID reports each one's APIC ID, and the
// round-robin schedule is deterministic whatever slices the machine is run in. The whole MP
// start-up and IPI traffic of a real kernel is compared with QEMU by guests/tests/smp.S.
import { describe, expect, it } from 'vitest';
import { createMachine, SMP_QUANTUM, type Machine } from '../../../src/emu/machine';
import { miniKernel } from '../../support/mini-kernel';
import { assembleAt } from '../vmx/rig';

const AP_CODE = 0x10000; // SIPI vector 0x10

/** BSP code (32-bit, paging off): software-enable the APIC, then IPIs to APIC ID 1 via the ICR. */
const APIC_ON = 'movl $0x1ff, 0xfee000f0';
const ipiTo = (dest: number, low: number): string => `movl $${dest << 24}, 0xfee00310\n        movl $${low}, 0xfee00300`;
const INIT = 0x4500;
const SIPI = 0x4600 | (AP_CODE >> 12);
const delay = (n: number): string => `movl $${n}, %ecx\n9:      loop 9b`;

function boot(bsp: string, ap: string, cpus = 2): Machine {
  const m = createMachine({ cpus });
  m.boot({ kernel: miniKernel(bsp), kernelName: 'kernel.elf' });
  m.board.memory.writeBytes(AP_CODE, assembleAt(ap, 0, 16));
  return m;
}

const gpr = (m: Machine, cpu: number, name: string): number => Number(m.registers(cpu).gprs[name] & 0xffffffffn);

describe('power-up, INIT and SIPI (SDM Vol. 3A 9.1, 9.4)', () => {
  it('application processors wait for a SIPI; INIT-SIPI starts one in real mode at CS = vector << 8, IP = 0', () => {
    const m = boot(`${APIC_ON}\n${ipiTo(1, INIT)}\n${ipiTo(1, SIPI)}\n1: jmp 1b`, `
        movw    %cs, %bx
        call    1f
1:      popw    %cx
        movl    $0x1234, %edx
        cli
        hlt`, 3);
    expect(m.processors.map((p) => m.registers(p.index).waitForSipi)).toEqual([false, true, true]);
    expect(m.run({ maxInstructions: 20_000 }).kind).toBe('instruction-limit');
    const r = m.registers(1);
    expect(r.waitForSipi).toBe(false);
    expect(r.halted).toBe(true);
    expect(r.mode).toBe('real');
    expect(r.segments.cs).toMatchObject({ selector: 0x1000, base: 0x10000n, limit: 0xffff });
    expect(gpr(m, 1, 'rbx')).toBe(0x1000);
    expect(gpr(m, 1, 'rcx')).toBe(5); // the label's offset (after a 2-byte MOV and a 3-byte CALL): IP started at 0
    expect(gpr(m, 1, 'rdx')).toBe(0x1234);
    expect(m.registers(2).waitForSipi).toBe(true); // not addressed
    expect(m.registers(2).instructions).toBe(0);
  });

  it('INIT returns a running AP to wait-for-SIPI: registers as after RESET, MSRs, x87 state and the APIC ID kept', () => {
    const m = boot(`${APIC_ON}\n${ipiTo(1, INIT)}\n${ipiTo(1, SIPI)}\n${delay(3000)}\n${ipiTo(1, INIT)}\n1: jmp 1b`, `
        fninit                          /* FCW 037FH; RESET would leave 0040H */
        movl    $0x174, %ecx            /* IA32_SYSENTER_CS */
        movl    $0x55, %eax
        xorl    %edx, %edx
        wrmsr
        movl    $0xdead, %esi
1:      jmp     1b`);
    m.run({ maxInstructions: 30_000 });
    const r = m.registers(1);
    expect(r.waitForSipi).toBe(true);
    expect(gpr(m, 1, 'rsi')).toBe(0);
    expect(gpr(m, 1, 'rdx')).toBe(0x600); // the processor signature, as after RESET (Table 9-1)
    expect(r.rip).toBe(0xfff0n);
    expect(r.segments.cs.selector).toBe(0xf000);
    expect(m.processors[1].cpu.msrLo.get(0x174)).toBe(0x55);
    expect(m.processors[1].cpu.fpu.fcw).toBe(0x37f); // Table 9-1: the x87 FPU state is unchanged by INIT
    expect(m.board.lapics[1].snapshot().id >>> 24).toBe(1);
    expect(m.board.lapics[1].snapshot().svr).toBe(0xff);
  });

  it('each processor\'s CPUID reports its own initial APIC ID and the package\'s count', () => {
    const m = boot(`${APIC_ON}\n${ipiTo(1, INIT)}\n${ipiTo(1, SIPI)}\nmovl $1, %eax\ncpuid\nmovl %ebx, %esi\nmovl %edx, %edi\n1: jmp 1b`, `
        movl    $1, %eax
        cpuid
        movl    %ebx, %esi
        movl    %edx, %edi
        cli
        hlt`);
    m.run({ maxInstructions: 20_000 });
    expect(gpr(m, 0, 'rsi') >>> 24).toBe(0);
    expect(gpr(m, 1, 'rsi') >>> 24).toBe(1);
    expect((gpr(m, 1, 'rsi') >>> 16) & 0xff).toBe(2);
    expect(gpr(m, 1, 'rdi') & (1 << 28)).toBe(1 << 28); // HTT
  });

  it('with one processor (the default) nothing changes: one APIC, CPUID counts one, no HTT', () => {
    const m = createMachine();
    m.boot({ kernel: miniKernel('movl $1, %eax\ncpuid\nmovl %ebx, %esi\nmovl %edx, %edi\ncli\nhlt'), kernelName: 'kernel.elf' });
    m.run({ maxInstructions: 1000 });
    expect(m.processors.length).toBe(1);
    expect(m.board.apicBus).toBeUndefined();
    expect((gpr(m, 0, 'rsi') >>> 16) & 0xff).toBe(1);
    expect(gpr(m, 0, 'rdi') & (1 << 28)).toBe(0);
  });

  it('an INIT to the bootstrap processor ends the run as a reset (there is no firmware to restart)', () => {
    const m = boot(`${APIC_ON}\n${ipiTo(0, INIT)}\n1: jmp 1b`, 'hlt');
    expect(m.run({ maxInstructions: 1000 })).toEqual({ kind: 'reset', source: 'an INIT signal to the bootstrap processor' });
  });
});

/** Both processors count in memory; the AP also copies the BSP's counter (what it saw when). */
const RACE_BSP = `${APIC_ON}\n${ipiTo(1, INIT)}\n${ipiTo(1, SIPI)}\n1: incl 0x20000\n        jmp 1b`;
const RACE_AP = `
        movw    $0x2000, %ax
        movw    %ax, %ds
1:      incl    4
        movl    0, %eax
        addl    %eax, 8
        jmp     1b`;

describe('round-robin scheduling', () => {
  it('is deterministic and independent of how the run is sliced (budgets, a pause)', () => {
    const snapshot = (m: Machine): unknown => ({ mem: Array.from(m.readPhysical(0x20000, 12)), r0: m.registers(0), r1: m.registers(1), t: m.board.clock.now });
    const a = boot(RACE_BSP, RACE_AP);
    expect(a.run({ maxInstructions: 100_003 }).kind).toBe('instruction-limit');
    const b = boot(RACE_BSP, RACE_AP);
    let stop;
    let calls = 0;
    do {
      stop = b.run({ budget: 777, maxInstructions: 100_003 });
      calls++;
      if (calls === 5) b.pause();
    } while (stop.kind !== 'instruction-limit');
    expect(calls).toBeGreaterThan(100);
    expect(snapshot(b)).toEqual(snapshot(a));
    // Both processors progressed in quanta of SMP_QUANTUM: their instruction counts differ by at most one quantum.
    expect(Math.abs(a.registers(0).instructions - a.registers(1).instructions)).toBeLessThanOrEqual(SMP_QUANTUM + 100);
  });

  it('one time base: virtual time advances with the instructions of all processors together', () => {
    const m = boot(RACE_BSP, RACE_AP);
    m.run({ maxInstructions: 5_000 });
    const t0 = m.board.clock.now;
    const n0 = m.instructions;
    m.run({ maxInstructions: 50_000 });
    expect(m.instructions).toBe(50_000);
    expect(m.board.clock.now - t0).toBe(m.instructions - n0);
    expect(m.registers(0).instructions + m.registers(1).instructions).toBe(m.instructions);
  });

  it('a halted processor gives up its turn; when all are idle with no timer the run says so', () => {
    const m = boot(`${APIC_ON}\n${ipiTo(1, INIT)}\n${ipiTo(1, SIPI)}\n${delay(5000)}\ncli\nhlt`, 'cli\nhlt');
    const stop = m.run({ maxInstructions: 1_000_000 });
    expect(stop.kind).toBe('halted-forever');
    expect((stop as { why: string }).why).toContain('every processor');
    expect(m.registers(1).instructions).toBeLessThan(10);
    expect(m.instructions).toBeLessThan(12_000);
  });

  it('step() executes one instruction of processor 0, the others taking their turns meanwhile', () => {
    const m = boot(RACE_BSP, RACE_AP);
    m.run({ maxInstructions: 3_000 });
    for (let i = 0; i < 2 * SMP_QUANTUM; i++) {
      const before = m.registers(0).instructions;
      expect(m.step().kind).toBe('step');
      expect(m.registers(0).instructions).toBe(before + 1);
    }
    expect(m.registers(1).instructions).toBeGreaterThan(SMP_QUANTUM);
  });

  it('breakpoints apply to every processor and the stop names the one that hit it', () => {
    const m = boot(RACE_BSP, RACE_AP);
    m.breakpoints.add(5); // IP 5 in the AP's code segment: its loop
    const stop = m.run({ maxInstructions: 100_000 });
    expect(stop).toEqual({ kind: 'breakpoint', address: 5, cpu: 1 });
    expect(m.run({ maxInstructions: 100_000 })).toEqual({ kind: 'breakpoint', address: 5, cpu: 1 }); // the next iteration
  });
});
