// Test helpers: a CPU over sparse physical memory, put directly into a chosen mode (what a
// boot loader or VM entry would leave behind), and small code-loading utilities.
import { Cpu, type CpuOptions } from '../../src/emu/cpu/cpu';
import type { Translator } from '../../src/emu/cpu/translator';
import {
  AR_DB, AR_G, AR_L, AR_P, AR_S, AR_TYPE_ACCESSED, AR_TYPE_CODE, AR_TYPE_RW, AR_UNUSABLE, CR0_ET, CR0_NE, CR0_PE, CR0_PG,
  CR4_PAE, CS, DS, EFER_LMA, EFER_LME, EFER_NXE, EFER_SCE, ES, FS, GS, SS,
} from '../../src/emu/cpu/state';
import { PhysicalMemory } from '../../src/emu/memory/physical-memory';
import { IdentityTranslatorForTests } from './identity-mmu';

export interface TestMachine {
  cpu: Cpu;
  mem: PhysicalMemory;
}

export function makeCpu(opts: CpuOptions & { ramSize?: number; mmu?: (mem: PhysicalMemory) => Translator } = {}): TestMachine {
  const mem = new PhysicalMemory({ ramSize: opts.ramSize ?? 512 * 1024 * 1024 });
  const mmu = opts.mmu ? opts.mmu(mem) : new IdentityTranslatorForTests();
  const cpu = new Cpu(mem, mmu, opts);
  return { cpu, mem };
}

const DATA_AR = AR_P | AR_S | AR_TYPE_RW | AR_TYPE_ACCESSED | AR_DB | AR_G;

/** IA-32e 64-bit mode with flat segments at privilege level `cpl` (null DS/ES/FS/GS like Linux user mode). */
export function enterLong64(cpu: Cpu, cpl = 0): void {
  cpu.cr0 = CR0_PE | CR0_PG | CR0_ET | CR0_NE;
  cpu.cr4 = CR4_PAE;
  cpu.efer = EFER_LME | EFER_LMA | EFER_SCE | EFER_NXE;
  cpu.loadSegmentCache(CS, cpl === 3 ? 0x33 : 0x08, 0, 0, 0xffffffff, AR_P | AR_S | AR_TYPE_CODE | AR_TYPE_RW | AR_TYPE_ACCESSED | AR_L | AR_G | (cpl << 5));
  cpu.loadSegmentCache(SS, cpl === 3 ? 0x2b : 0x10, 0, 0, 0xffffffff, DATA_AR | (cpl << 5));
  for (const s of [DS, ES, FS, GS]) cpu.loadSegmentCache(s, 0, 0, 0, 0, AR_UNUSABLE);
  cpu.pagingChanged();
}

/** 32-bit protected mode, flat 4 GiB segments, paging off, CPL 0 (the Multiboot entry state). */
export function enterProtected32(cpu: Cpu): void {
  cpu.cr0 = CR0_PE | CR0_ET | CR0_NE;
  cpu.cr4 = 0;
  cpu.efer = 0;
  cpu.loadSegmentCache(CS, 0x08, 0, 0, 0xffffffff, AR_P | AR_S | AR_TYPE_CODE | AR_TYPE_RW | AR_TYPE_ACCESSED | AR_DB | AR_G);
  cpu.loadSegmentCache(SS, 0x10, 0, 0, 0xffffffff, DATA_AR);
  for (const s of [DS, ES, FS, GS]) cpu.loadSegmentCache(s, 0x10, 0, 0, 0xffffffff, DATA_AR);
  cpu.pagingChanged();
}

/** Sets a 64-bit GPR from a bigint (tests only; the CPU itself never sees bigints). */
export function setReg64(cpu: Cpu, n: number, v: bigint): void {
  const u = BigInt.asUintN(64, v);
  cpu.regs[2 * n] = Number(u & 0xffffffffn) | 0;
  cpu.regs[2 * n + 1] = Number(u >> 32n) | 0;
}

export function getReg64(cpu: Cpu, n: number): bigint {
  return (BigInt(cpu.regs[2 * n + 1] >>> 0) << 32n) | BigInt(cpu.regs[2 * n] >>> 0);
}

/**
 * Builds 4-level page tables at physical `root` (and the 4 KiB frames after it) that
 * identity-map each page in `pages` with the given PTE flags (default P|RW|US), and nothing
 * else. Returns the CR3 value.
 */
export function identityPageTables(mem: PhysicalMemory, root: number, pages: readonly number[], flags = 7): number {
  let next = root + 0x1000;
  const tables = new Map<string, number>();
  mem.fill(root, 0x1000, 0);
  const sub = (table: number, index: number, key: string): number => {
    let t = tables.get(key);
    if (t === undefined) {
      t = next;
      next += 0x1000;
      mem.fill(t, 0x1000, 0);
      tables.set(key, t);
      mem.write64(table + 8 * index, t | 7, 0);
    }
    return t;
  };
  for (const p of pages) {
    const l4 = Math.floor(p / 2 ** 39) % 512, l3 = Math.floor(p / 2 ** 30) % 512, l2 = Math.floor(p / 2 ** 21) % 512, l1 = Math.floor(p / 4096) % 512;
    const pdpt = sub(root, l4, `${l4}`);
    const pd = sub(pdpt, l3, `${l4}/${l3}`);
    const pt = sub(pd, l2, `${l4}/${l3}/${l2}`);
    mem.write64(pt + 8 * l1, (p & ~0xfff) | flags, 0);
  }
  return root;
}
