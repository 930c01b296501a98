import { it, expect } from 'vitest';
import { assembleWithGas } from '../../support/binutils';
import { makeCpu, enterLong64, getReg64 } from '../../support/cpu-setup';
import { getFlags } from '../../../src/emu/cpu/flags';
it('smoke', () => {
  const code = assembleWithGas(`
    mov $10, %ecx
    xor %eax, %eax
  1: add %rcx, %rax
    dec %ecx
    jnz 1b
    movabs $0x123456789abcdef0, %rbx
    imul %rbx, %rax
    push %rax
    pop %rdx
    hlt`, 64);
  const { cpu, mem } = makeCpu();
  mem.writeBytes(0x100000, code);
  enterLong64(cpu, 0);
  cpu.rip = 0x100000;
  cpu.regs[8] = 0x200000;
  const r = cpu.run(1000);
  console.log(r, cpu.icount, getReg64(cpu, 0).toString(16), getReg64(cpu, 2).toString(16), getFlags(cpu).toString(16), cpu.lastFault);
  expect(r).toBe('halt');
});
