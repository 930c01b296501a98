// The machine loop and NMI blocking (SDM Vol. 3A §6.7.1): an NMI latched while the NMI
// handler runs waits for the handler's IRET, so a handler that halts with interrupts off
// can never be woken. The machine must say so at once (status "halted forever"), not spin
// in its idle loop until the wall-clock timeout because "an NMI is pending".
import { describe, expect, it } from 'vitest';
import { createMachine } from '../../../src/emu/machine';
import { miniKernel } from '../../support/mini-kernel';

/** An NMI to this processor (APIC ID 0) through the ICR: delivery mode NMI, level assert. */
const SELF_NMI = `movl $0, 0xfee00310
        movl $0x4400, 0xfee00300`;

function kernel(handlerEnd: string): Uint8Array {
  return miniKernel(`
        movl    $stack_top, %esp
        movl    $0x1ff, 0xfee000f0      /* software-enable the local APIC */
        movl    $nmi, %eax
        movw    %ax, idt + 16
        shrl    $16, %eax
        movw    %ax, idt + 22
        movw    %cs, %ax
        movw    %ax, idt + 18
        movw    $0x8e00, idt + 20       /* vector 2: 32-bit interrupt gate */
        lidt    idtr
        ${SELF_NMI}
1:      jmp     1b
nmi:    incl    count
        ${SELF_NMI}                    /* a second NMI: blocked until IRET */
        ${handlerEnd}
        .data
        .p2align 3
idt:    .fill   3, 8, 0
idtr:   .word   3 * 8 - 1
        .long   idt
count:  .long   0
        .p2align 4
        .fill   256, 1, 0
stack_top:`);
}

describe('a halted processor and a blocked NMI (SDM Vol. 3A 6.7.1)', () => {
  it('CLI; HLT inside the NMI handler with the next NMI blocked is halted forever, reported at once', () => {
    const m = createMachine();
    m.boot({ kernel: kernel('cli\n        hlt'), kernelName: 'kernel.elf' });
    const t0 = performance.now();
    const stop = m.run({ timeoutMs: 10_000 });
    expect(stop.kind).toBe('halted-forever');
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(m.cpu.nmiBlocked).toBe(true);
  });

  it('after the IRET the blocked NMI is taken: the handler runs once per NMI, never nested', () => {
    const m = createMachine();
    // The handler sends itself one more NMI each time: it keeps running, one NMI at a time.
    m.boot({ kernel: kernel('iret'), kernelName: 'kernel.elf' });
    expect(m.run({ maxInstructions: 20_000 }).kind).toBe('instruction-limit');
    expect(m.cpu.nmiBlocked).toBe(true); // most of the time is spent inside the handler
    expect(m.cpu.halted).toBe(false);
  });
});
