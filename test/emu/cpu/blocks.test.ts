// Compiled blocks (src/emu/cpu/blocks.ts) must be invisible: every program runs to the same
// architectural state, fault and instruction count as under the plain interpreter loop, which
// the host-CPU differential tests check instruction by instruction. Each case runs the same
// GNU-assembled 64-bit program twice, blocks off and blocks on (compiled after the first
// start, so the hot loops run as blocks almost from the beginning), and compares.
import { describe, expect, it } from 'vitest';
import type { Cpu, StopReason } from '../../../src/emu/cpu/cpu';
import { getFlags } from '../../../src/emu/cpu/flags';
import { Mmu } from '../../../src/emu/mmu/mmu';
import type { PhysicalMemory } from '../../../src/emu/memory/physical-memory';
import { enterLong64, identityPageTables, makeCpu } from '../../support/cpu-setup';
import { gnuFlatBinary } from '../../support/gnu-link';

const BASE = 0x100000;
const DATA = 0x200000;

interface Run { cpu: Cpu; mem: PhysicalMemory; stop: StopReason }

/** Runs `body` (64-bit, ring 0, identity-mapped 0-4 MiB; RSP 0x300000, RBP = DATA) for at most `budget` instructions. */
function runProgram(body: string, blocks: boolean, budget = 1_000_000, setup?: (cpu: Cpu) => void): Run {
  const { cpu, mem } = makeCpu({ ramSize: 16 * 1024 * 1024, mmu: (m) => new Mmu(m) });
  const pages: number[] = [];
  for (let a = 0; a < 0x400000; a += 0x1000) pages.push(a);
  cpu.cr3Lo = identityPageTables(mem, 0x800000, pages);
  mem.writeBytes(BASE, gnuFlatBinary(`${body}\n      hlt\n`, BASE, 64));
  enterLong64(cpu, 0);
  cpu.rip = BASE;
  cpu.regs[8] = 0x300000;
  cpu.regs[10] = DATA;
  cpu.stopOnException = true;
  cpu.blocksEnabled = blocks;
  cpu.blockThreshold = 2;
  setup?.(cpu);
  const stop = cpu.run(budget);
  return { cpu, mem, stop };
}

function state(r: Run): unknown {
  const c = r.cpu;
  return {
    stop: r.stop, rip: c.rip, icount: c.icount, regs: [...c.regs], flags: getFlags(c),
    fault: c.lastFault === undefined ? undefined : { vector: c.lastFault.vector, error: c.lastFault.errorCode },
    data: [...r.mem.ram.subarray(DATA, DATA + 256)], stack: [...r.mem.ram.subarray(0x300000 - 256, 0x300000)],
  };
}

/** Runs with and without blocks; returns both runs after checking that they agree. */
function same(body: string, budget?: number): { plain: Run; blocks: Run } {
  const plain = runProgram(body, false, budget);
  const blocks = runProgram(body, true, budget);
  expect(state(blocks)).toEqual(state(plain));
  expect(plain.cpu.blocksCompiled).toBe(0);
  return { plain, blocks };
}

/** A loop over straight-line integer code of every kind a block may hold. */
const MIXED_LOOP = `
      mov $300, %ecx
      mov $0x12345678, %eax
      mov $0x9abcdef0, %ebx
    1:
      push %rax
      push %rbx
      lea 7(%rax,%rcx,4), %rdx
      imul $37, %rdx, %rsi
      xor %esi, %eax
      add %rdx, %rbx
      rol $5, %rbx
      incq 8(%rbp,%rcx,8)
      movzwl %ax, %edi
      sub %edi, 16(%rbp)
      cmp $0x8000, %edi
      setb %r8b
      cmovae %rbx, %r9
      xchg %rax, (%rsp)
      pop %rax
      pop %r11
      add %r11, %rax
      bswap %eax
      shr $3, %rdx
      adc %rdx, %r10
      dec %ecx
      jnz 1b`;

describe('compiled blocks behave as the interpreter loop', () => {
  it('a hot loop of mixed integer code ends in the same state, with blocks compiled', () => {
    const { blocks } = same(MIXED_LOOP);
    expect(blocks.stop).toBe('halt');
    expect(blocks.cpu.blocksCompiled).toBeGreaterThan(0);
  });

  it('every budget stops at the same instruction with the same state', () => {
    for (const budget of [1, 2, 3, 17, 100, 1001, 2345, 4000]) same(MIXED_LOOP, budget);
  });

  it('a fault inside a hot block leaves RIP at the faulting instruction and later instructions undone (SDM Vol. 3A §6.5)', () => {
    // The 200th iteration divides by zero in the middle of the block: #DE is a fault.
    const { blocks } = same(`
      mov $400, %ecx
    1:
      mov %ecx, %eax
      add $3, %r12
      xor %edx, %edx
      lea -200(%rcx), %rbx
      div %ebx
      add $5, %r13
      dec %ecx
      jnz 1b`);
    expect(blocks.stop).toBe('exception');
    expect(blocks.cpu.lastFault?.vector).toBe(0);
    expect(blocks.cpu.blocksCompiled).toBeGreaterThan(0);
  });

  it('a page fault on a store inside a hot block is precise', () => {
    const { blocks } = same(`
      mov $0x3ff000, %rdi
    1:
      mov %rdi, %rax
      shl $1, %rax
      movq %rax, (%rdi)
      add $0x100, %rdi
      add $1, %r12
      jmp 1b`);
    expect(blocks.stop).toBe('exception');
    expect(blocks.cpu.lastFault?.vector).toBe(14);
  });

  it('code that rewrites a later instruction of its own hot block runs the new instruction (SDM Vol. 3A §8.1.3)', () => {
    // Every 16th iteration stores a new immediate into the "add $imm8, %ebx" further on; the
    // other iterations store to data, so the block is hot again between rewrites.
    const { blocks } = same(`
      mov $200, %ecx
    1:
      mov %cl, %al
      lea 2f+2(%rip), %rsi
      lea 64(%rbp), %rdi
      test $15, %ecx
      cmovnz %rdi, %rsi
      movb %al, (%rsi)
      nop
    2:
      add $0, %ebx
      add %ebx, %edx
      dec %ecx
      jnz 1b`);
    expect(blocks.cpu.blocksCompiled).toBeGreaterThan(5);
    // Expected EBX: the immediate in force at each iteration, rewritten when ECX % 16 == 0.
    let ebx = 0, imm = 0;
    for (let ecx = 200; ecx >= 1; ecx--) {
      if (ecx % 16 === 0) imm = (ecx << 24) >> 24;
      ebx = (ebx + imm) | 0;
    }
    expect(blocks.cpu.regs[2 * 3]).toBe(ebx);
  });

  it('with a breakpoint outside the loop the loop still runs as blocks and stops at the breakpoint', () => {
    const body = `
      lea 3f(%rip), %r15
      mov $5000, %ecx
    1:
      add $1, %eax
      imul $3, %eax, %ebx
      dec %ecx
      jnz 1b
    3:
      nop`;
    const plain = runProgram(body, false, 1_000_000, (cpu) => { cpu.breakpoints = new Set([BASE + 0x100000]); });
    const { cpu } = runProgram(body, true, 3, (cpu) => { cpu.breakpoints = new Set([BASE + 0x100000]); });
    cpu.breakpoints = new Set([cpu.regs[30] >>> 0]);
    expect(cpu.run(1_000_000)).toBe('breakpoint');
    expect(cpu.blocksCompiled).toBeGreaterThan(0);
    expect(cpu.rip).toBe(cpu.regs[30] >>> 0);
    expect(cpu.regs.slice(0, 8)).toEqual(plain.cpu.regs.slice(0, 8));
  });

  it('a debugger breakpoint inside a block that is already hot stops there', () => {
    const { cpu } = runProgram(`
      lea 2f(%rip), %r15
      mov $100000, %ecx
    1:
      add $1, %eax
      add $2, %ebx
    2:
      add $3, %edx
      dec %ecx
      jnz 1b`, true, 5000);
    expect(cpu.blocksCompiled).toBeGreaterThan(0);
    const target = cpu.regs[30] >>> 0;
    cpu.breakpoints = new Set([target]);
    expect(cpu.run(100)).toBe('breakpoint');
    expect(cpu.rip).toBe(target);
  });
});
