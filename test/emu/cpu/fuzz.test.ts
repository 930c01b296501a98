// Fuzz: random 15-byte sequences executed as code in every mode (64-bit at CPL 0 and 3 with
// 4-level paging, 32-bit protected mode, real mode). Whatever the bytes do (privileged
// instructions, wild jumps, faults while delivering faults), the emulator must report
// guest-level outcomes only: a stop reason and, for faults, a CpuFault. A JavaScript
// exception escaping run() is a bug.
import { describe, expect, it } from 'vitest';
import { Mmu } from '../../../src/emu/mmu/mmu';
import { enterLong64, enterProtected32, identityPageTables, makeCpu } from '../../support/cpu-setup';
import { Rng } from '../../support/insn-gen';

const SEED = Number(process.env.VMXLAB_FUZZ_SEED ?? (Date.now() % 1_000_000_000));
const COUNT = 100_000;
const CODE = 0x10000, DATA = 0x11000, STACK = 0x12000, TABLES = 0x100000;

describe('CPU fuzz', () => {
  it(`${COUNT} random 15-byte sequences raise guest exceptions only (seed ${SEED}; rerun with VMXLAB_FUZZ_SEED=${SEED})`, () => {
    const rng = new Rng(SEED);
    const { cpu, mem } = makeCpu({ ramSize: 2 * 1024 * 1024, mmu: (m) => new Mmu(m) });
    const bytes = new Uint8Array(15);
    const outcomes = new Map<string, number>();
    for (let i = 0; i < COUNT; i++) {
      for (let k = 0; k < 15; k++) bytes[k] = rng.int(256);
      const kind = i % 5; // 0,1: 64-bit CPL 0 / CPL 3; 2, 3: 32-bit; 4: real mode
      cpu.reset();
      mem.fill(CODE, 0x3000, 0);
      mem.writeBytes(CODE, bytes);
      if (kind <= 1) {
        cpu.cr3Lo = identityPageTables(mem, TABLES, [CODE, DATA, STACK]);
        enterLong64(cpu, kind === 0 ? 0 : 3);
      } else if (kind <= 3) {
        enterProtected32(cpu);
      } else {
        cpu.loadSegmentCache(1, 0, 0, 0, 0xffff, cpu.segAr[1]); // CS = 0 so that IP = CODE reaches it
      }
      for (let r = 0; r < 16; r++) { cpu.regs[2 * r] = rng.chance(0.5) ? DATA + rng.int(0x1000) : rng.u32() | 0; cpu.regs[2 * r + 1] = 0; }
      cpu.regs[8] = STACK + 0x800;
      cpu.rip = CODE;
      cpu.stopOnException = rng.chance(0.5);
      let reason: string;
      try {
        reason = cpu.run(40);
      } catch (e) {
        throw new Error(`sequence ${i} (${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ')}, mode kind ${kind}) threw ${String(e)}\n${(e as Error).stack ?? ''}`);
      }
      expect(Number.isFinite(cpu.rip)).toBe(true);
      outcomes.set(reason, (outcomes.get(reason) ?? 0) + 1);
    }
    console.log(`fuzz outcomes (seed ${SEED}):`, Object.fromEntries(outcomes));
    expect([...outcomes.values()].reduce((a, b) => a + b, 0)).toBe(COUNT);
  });
});
