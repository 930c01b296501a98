// Differential test against the host CPU (DESIGN.md "Tests"; issue 3 §7): random sequences of
// user-mode integer instructions run natively (test/support/native: harness.c + runner.S,
// compiled with gcc at test time) and in the emulator (64-bit mode, CPL 3, only the code
// page and the data page mapped by 4-level page tables through the real MMU) from the same random register state. Compared: all 16
// GPRs, the defined arithmetic flags and DF, the 4 KiB data page, and the fault kind
// (SIGFPE ↔ #DE, SIGSEGV ↔ #GP/#SS/#PF, SIGILL ↔ #UD, SIGTRAP ↔ #BP).
//
// Not compared: flags the SDM leaves undefined after the instruction that last wrote them
// (test/support/insn-gen.ts tracks them per instruction: AF after logic ops, SF/ZF/AF/PF
// after MUL/IMUL, all six after DIV/IDIV, OF for shift/rotate counts other than 1, AF after
// shifts, CF for 8/16-bit SHL/SHR counts above the width, OF/SF/AF/PF after BT*, all but ZF
// after BSF/BSR, OF/SF/AF/PF after TZCNT/LZCNT), and registers after a fault (the harness
// reports the state before the sequence then).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StopReason } from '../../../src/emu/cpu/cpu';
import type { CpuFault } from '../../../src/emu/cpu/fault';
import { getFlags } from '../../../src/emu/cpu/flags';
import { assembleLinesWithGas } from '../../support/binutils';
import { Mmu } from '../../../src/emu/mmu/mmu';
import { enterLong64, getReg64, identityPageTables, makeCpu, setReg64 } from '../../support/cpu-setup';
import { buildNativeHarness, NATIVE_MEM_SIZE, runNative, signalFor } from '../../support/native-harness';
import { ARITH, DATA_BASE, DF, Rng, generateSequence, type Sequence } from '../../support/insn-gen';

const COUNT = 20_000;
const SEED = Number(process.env.VMXLAB_DIFF_SEED ?? (Date.now() % 1_000_000_000));
const CODE_BASE = 0x00400000;

const SIG_NAMES: Record<number, string> = { 0: 'none', 4: 'SIGILL', 5: 'SIGTRAP', 7: 'SIGBUS', 8: 'SIGFPE', 11: 'SIGSEGV' };
const tmp = mkdtempSync(join(tmpdir(), 'vmxlab-native-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const hex = (v: bigint): string => `0x${v.toString(16)}`;

describe('host-CPU differential test', () => {
  it(`${COUNT} random sequences match the host CPU (seed ${SEED}; rerun with VMXLAB_DIFF_SEED=${SEED})`, () => {
    const rng = new Rng(SEED);
    const seqs: Sequence[] = [];
    for (let i = 0; i < COUNT; i++) seqs.push(generateSequence(rng));
    const asm = assembleLinesWithGas(seqs.map((s) => s.text), 64);
    expect(asm.errors.map((e) => `${seqs[e.line - 1]?.text}: ${e.message}`).slice(0, 5)).toEqual([]);
    const codes = seqs.map((_, i) => asm.bytes.subarray(asm.offsets[i], asm.offsets[i + 1]));
    const native = runNative(buildNativeHarness(tmp), seqs, codes);

    // 4-level paging with exactly the code page and the data page mapped, user-accessible.
    const { cpu, mem } = makeCpu({ mmu: (m) => new Mmu(m) });
    cpu.cr3Lo = identityPageTables(mem, 0x10_0000, [DATA_BASE, CODE_BASE]);
    enterLong64(cpu, 3);
    cpu.stopOnException = true;
    cpu.blockThreshold = 2;
    const failures: string[] = [];
    let faults = 0;
    for (let i = 0; i < COUNT; i++) {
      const s = seqs[i];
      const n = native[i];
      const code = new Uint8Array(codes[i].length + 1);
      code.set(codes[i]);
      code[codes[i].length] = 0xcc; // int3 marks the end
      mem.writeBytes(CODE_BASE, code);
      // Twice from the same state: the first run decodes the sequence, the second runs it as a
      // compiled block (threshold 2, src/emu/cpu/blocks.ts), so blocks meet the host CPU too.
      let stop: StopReason = 'budget';
      for (let pass = 0; pass < 2; pass++) {
        mem.writeBytes(DATA_BASE, s.mem);
        s.regs.forEach((v, k) => setReg64(cpu, k, v));
        cpu.flagsVal = Number(s.rflags);
        cpu.lazyMask = 0;
        cpu.rip = CODE_BASE;
        cpu.lastFault = undefined;
        stop = cpu.run(10_000);
      }
      const f = cpu.lastFault as CpuFault | undefined;
      const completed = stop === 'exception' && f !== undefined && f.vector === 3 && cpu.rip === CODE_BASE + codes[i].length;
      const emuSig = completed ? 0 : stop === 'exception' && f !== undefined ? signalFor(f.vector) : -1;
      const problems: string[] = [];
      if (emuSig !== n.sig) problems.push(`signal: native ${SIG_NAMES[n.sig] ?? n.sig}, emulator ${stop}${f ? ` vector ${f.vector} (${f.detail})` : ''}`);
      if (n.sig === 0 && emuSig === 0) {
        for (let k = 0; k < 16; k++) {
          const e = getReg64(cpu, k);
          if (e !== n.regs[k]) problems.push(`r${k}: native ${hex(n.regs[k])}, emulator ${hex(e)} (initial ${hex(s.regs[k])})`);
        }
        const mask = (ARITH & ~s.undefinedFlags) | DF;
        const ef = getFlags(cpu) & mask, nf = Number(n.rflags) & mask;
        if (ef !== nf) problems.push(`flags (mask 0x${mask.toString(16)}): native 0x${nf.toString(16)}, emulator 0x${ef.toString(16)} (initial 0x${s.rflags.toString(16)})`);
      } else if (n.sig !== 0) faults++;
      const em = mem.readBytes(DATA_BASE, NATIVE_MEM_SIZE);
      for (let k = 0; k < NATIVE_MEM_SIZE; k++) {
        if (em[k] !== n.mem[k]) { problems.push(`data page byte 0x${k.toString(16)}: native 0x${n.mem[k].toString(16)}, emulator 0x${em[k].toString(16)}`); break; }
      }
      if (problems.length > 0) failures.push(`#${i} ${s.text}\n    ${problems.join('\n    ')}`);
    }
    if (failures.length > 0) console.log(`${failures.length} mismatches (seed ${SEED}):\n${failures.slice(0, 40).join('\n')}`);
    console.log(`differential: ${COUNT} sequences, ${faults} ended in a fault natively, ${failures.length} mismatches (seed ${SEED}); ${cpu.blocksCompiled} ran as compiled blocks`);
    expect(cpu.blocksCompiled).toBeGreaterThan(COUNT / 4);
    expect(failures.length).toBe(0);
  });
});
