// A test rig for the VMX instructions, VM entries and VM exits: a machine with VMX, put
// directly into 64-bit mode at CPL 0 (identity paging of the first GiB with 2 MiB pages, a
// flat GDT with a TSS), code snippets assembled at test time with our assembler and linked
// flat at a chosen address, and a valid VMCS (a 64-bit guest on the host's page tables) that
// tests then change field by field. Host code ends in HLT with IF=0, so a run stops there
// ('halted-forever'); VM exits land on a HLT at HOST_EXIT.
import { assemble } from '../../../src/emu/asm/assembler';
import { formatDiagnostic } from '../../../src/emu/asm/diagnostic';
import { link } from '../../../src/emu/asm/linker';
import { getFlags } from '../../../src/emu/cpu/flags';
import {
  AR_UNUSABLE, CR0_ET, CR0_NE, CR0_PE, CR0_PG, CR4_PAE, CR4_VMXE, CS, DS, EFER_LMA, EFER_LME, ES, FS, GS, LDTR, SS, TR,
} from '../../../src/emu/cpu/state';
import { createMachine, type Machine, type MachineStop } from '../../../src/emu/machine';
import { VMCS_REVISION_ID } from '../../../src/emu/vmx/capabilities';
import { fieldByName } from '../../../src/emu/vmx/vmcs-fields';
import { attachVmx, type Vmx } from '../../../src/emu/vmx/vmx';

export const PML4 = 0x70000;
export const GDT = 0x60000;
export const TSS = 0x61000;
export const IDT = 0x62000;
export const VMXON_REGION = 0x50000;
export const VMCS_REGION = 0x51000;
export const VMCS2_REGION = 0x52000;
export const HOST_CODE = 0x200000;
export const HOST_EXIT = 0x2ff000;
export const HOST_STACK = 0x90000;
export const GUEST_CODE = 0x300000;
export const GUEST_STACK = 0xa0000;
export const SCRATCH = 0x400000;

const CF = 1, ZF = 0x40;

const assembled = new Map<string, Uint8Array>();

/** Assembles AT&T `source` as 64-bit (or `bits`) code linked flat at `base` (memoized). */
export function assembleAt(source: string, base: number, bits: 16 | 32 | 64 = 64): Uint8Array {
  const key = `${base}:${bits}:${source}`;
  const hit = assembled.get(key);
  if (hit !== undefined) return hit;
  const res = assemble(`.code${bits}\n${source}\n`, { file: 'snippet.S' });
  const errors = res.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map(formatDiagnostic).join('\n'));
  const linked = link([res.object], { base: BigInt(base), format: 'bin', names: ['snippet.S'] });
  if (!linked.output) throw new Error(linked.errors.join('\n'));
  assembled.set(key, linked.output);
  return linked.output;
}

/**
 * Writes at `pml4` (its PDPT and PD in the next two pages) an EPT that maps the first GiB of
 * guest-physical memory to itself in 2-MiB write-back pages with read, write and execute
 * access (SDM Vol. 3C §28.2.2, Table 28-4).
 */
export function writeIdentityEpt(mem: Machine['board']['memory'], pml4: number): void {
  const pdpt = pml4 + 0x1000, pd = pml4 + 0x2000;
  mem.fill(pml4, 0x3000, 0);
  mem.write64(pml4, pdpt | 7, 0);
  mem.write64(pdpt, pd | 7, 0);
  for (let i = 0; i < 512; i++) mem.write64(pd + 8 * i, (i << 21) | 0x80 | (6 << 3) | 7, 0);
}

export class Rig {
  readonly m: Machine;
  readonly vmx: Vmx;

  constructor() {
    this.m = createMachine();
    this.vmx = attachVmx(this.m.cpu);
    this.m.cpu.stopOnException = true;
    this.reset();
  }

  get cpu(): Machine['cpu'] {
    return this.m.cpu;
  }

  get mem(): Machine['board']['memory'] {
    return this.m.board.memory;
  }

  /** Root operation, 64-bit mode, CPL 0, outside VMX operation, nothing current. */
  reset(): void {
    const c = this.cpu;
    const mem = this.mem;
    this.vmx.reset();
    mem.fill(PML4, 0x3000, 0);
    mem.write64(PML4, (PML4 + 0x1000) | 7, 0);
    mem.write64(PML4 + 0x1000, (PML4 + 0x2000) | 7, 0);
    for (let i = 0; i < 512; i++) mem.write64(PML4 + 0x2000 + 8 * i, (i * 0x200000) | 0x87, 0);
    // GDT: null, 0x08 64-bit code, 0x10 data, 0x18 32-bit code, 0x20 user data, 0x28 TSS (16 bytes).
    mem.write64(GDT, 0, 0);
    mem.write64(GDT + 8, 0x0000ffff, 0x00af9b00);
    mem.write64(GDT + 16, 0x0000ffff, 0x00cf9300);
    mem.write64(GDT + 24, 0x0000ffff, 0x00cf9b00);
    mem.write64(GDT + 32, 0x0000ffff, 0x00cff300);
    mem.write64(GDT + 40, ((TSS & 0xffff) << 16) | 0x67, ((TSS >>> 16) & 0xff) | 0x8b00 | (TSS & 0xff000000));
    mem.write64(GDT + 48, 0, 0);
    mem.fill(IDT, 0x1000, 0);
    mem.write32(VMXON_REGION, VMCS_REVISION_ID);
    mem.fill(VMCS_REGION, 0x1000, 0);
    mem.write32(VMCS_REGION, VMCS_REVISION_ID);
    mem.write32(VMCS2_REGION, VMCS_REVISION_ID);
    c.regs.fill(0);
    c.cr0 = CR0_PE | CR0_NE | CR0_ET | CR0_PG;
    c.cr4 = CR4_PAE | CR4_VMXE;
    c.cr3Lo = PML4; c.cr3Hi = 0;
    c.efer = EFER_LME | EFER_LMA;
    c.flagsVal = 2;
    c.lazyMask = 0;
    c.gdtrBase = GDT; c.gdtrLimit = 55;
    c.idtrBase = IDT; c.idtrLimit = 0xfff;
    c.loadSegmentCache(SS, 0x10, 0, 0, 0xffffffff, 0xc093);
    for (const s of [DS, ES, FS, GS]) c.loadSegmentCache(s, 0x10, 0, 0, 0xffffffff, 0xc093);
    c.loadSegmentCache(TR, 0x28, TSS, 0, 0x67, 0x8b);
    c.loadSegmentCache(LDTR, 0, 0, 0, 0, AR_UNUSABLE);
    c.loadSegmentCache(CS, 0x08, 0, 0, 0xffffffff, 0xa09b);
    c.msrLo.set(0x3a, 5); // IA32_FEATURE_CONTROL: locked, VMX outside SMX (what firmware leaves)
    c.halted = false;
    c.interruptShadow = false;
    c.mmu.flushAll();
    c.pagingChanged(true);
    c.flushDecodeCache();
    this.setReg(4, HOST_STACK);
    this.load(HOST_EXIT, 'hlt');
  }

  /** 32-bit protected mode with 32-bit paging (4-MiB pages identity-mapping 4 GiB), CPL 0. */
  enter32(): void {
    const c = this.cpu;
    const pd = PML4 + 0x4000;
    for (let i = 0; i < 1024; i++) this.mem.write32(pd + 4 * i, ((i << 22) | 0x87) | 0);
    c.efer = 0;
    c.cr4 = 0x10 | CR4_VMXE; // PSE
    c.cr3Lo = pd;
    c.loadSegmentCache(SS, 0x10, 0, 0, 0xffffffff, 0xc093);
    c.loadSegmentCache(CS, 0x18, 0, 0, 0xffffffff, 0xc09b);
    c.mmu.flushAll();
    c.pagingChanged(true);
  }

  /** Writes code at `addr`. */
  load(addr: number, source: string, bits: 16 | 32 | 64 = 64): void {
    this.mem.writeBytes(addr, assembleAt(source, addr, bits));
    this.cpu.flushDecodeCache();
  }

  /** Starts the CPU at `rip` (after a HLT ended the previous run). */
  private start(rip: number, maxInstructions: number, stopOnException: boolean): MachineStop {
    this.cpu.stopOnException = stopOnException;
    this.cpu.halted = false;
    this.cpu.rip = rip;
    return this.m.run({ maxInstructions: this.m.instructions + maxInstructions });
  }

  setReg(n: number, v: number): void {
    const c = this.cpu;
    c.regs[2 * n] = v | 0;
    c.regs[2 * n + 1] = Math.floor(v / 4294967296) | 0;
  }

  reg(n: number): number {
    return this.cpu.reg64(n);
  }

  /** Runs host code from HOST_CODE (or `at`) until it stops (HLT, exception, limit). */
  runHost(source: string, at = HOST_CODE, bits: 32 | 64 = 64): MachineStop {
    this.load(at, `${source}\nhlt`, bits);
    return this.start(at, 2_000_000, true);
  }

  /** RFLAGS.CF / ZF after a VMX instruction: 'succeed', 'failInvalid' or 'failValid'. */
  outcome(): 'succeed' | 'failInvalid' | 'failValid' | 'other' {
    const f = getFlags(this.cpu) & (CF | ZF | 0x8d4);
    if (f === 0) return 'succeed';
    if (f === CF) return 'failInvalid';
    if (f === ZF) return 'failValid';
    return 'other';
  }

  /** VMXON + VMCLEAR + VMPTRLD of VMCS_REGION, through the instructions. */
  enterVmx(): void {
    this.mem.write64(SCRATCH, VMXON_REGION, 0);
    this.mem.write64(SCRATCH + 8, VMCS_REGION, 0);
    const stop = this.runHost(`vmxon ${SCRATCH}\nvmclear ${SCRATCH + 8}\nvmptrld ${SCRATCH + 8}`);
    if (stop.kind !== 'halted-forever' || this.outcome() !== 'succeed') throw new Error(`enterVmx: ${JSON.stringify(stop)} ${this.outcome()}`);
  }

  /** A field of the current VMCS as a number (by vmx.h name). */
  read(name: string): number {
    const f = fieldByName(name)!.field;
    const m = this.vmx.vmcs;
    switch (f.width) {
      case '16': return m.r16(f.offset);
      case '32': return m.r32(f.offset) >>> 0;
      default: return m.rNum(f.offset);
    }
  }

  /** Writes a field of the current VMCS (as a debugger's edit would), by vmx.h name. */
  write(name: string, v: number): void {
    const r = fieldByName(name);
    if (r === undefined || !r.field.supported) throw new Error(`no supported field ${name}`);
    const f = r.field;
    const hi = Math.floor(v / 4294967296) | 0;
    this.vmx.vmcs.writeField(f, v | 0, hi);
    this.vmx.vmcsChanged();
  }

  /** Adjusts a control value to the TRUE capability MSR's allowed settings. */
  ctl(msr: number, want: number): number {
    const c = this.cpu;
    c.regs[2] = msr;
    this.vmx.readMsr(msr);
    return ((want | c.regs[0]) & c.regs[4]) >>> 0;
  }

  /**
   * Fills the current VMCS with a valid 64-bit guest at GUEST_CODE running `guest` on the
   * host's page tables and GDT; exits go to HOST_EXIT. `proc`/`proc2`/`pin`/`exit`/`entry`
   * are the controls wanted (adjusted to the capability MSRs).
   */
  setupGuest(guest: string, opts: { pin?: number; proc?: number; proc2?: number; exit?: number; entry?: number } = {}): void {
    this.load(GUEST_CODE, guest);
    this.mem.write32(this.vmx.vmcs.base + 8, 0); // launch state clear, as VMCLEAR leaves it
    const proc2 = opts.proc2 ?? 0;
    this.write('PIN_BASED_VM_EXEC_CONTROL', this.ctl(0x48d, opts.pin ?? 0));
    this.write('CPU_BASED_VM_EXEC_CONTROL', this.ctl(0x48e, (opts.proc ?? 0) | (proc2 !== 0 ? 0x80000000 : 0)));
    this.write('SECONDARY_VM_EXEC_CONTROL', this.ctl(0x48b, proc2));
    this.write('VM_EXIT_CONTROLS', this.ctl(0x48f, (opts.exit ?? 0) | (1 << 9)));
    this.write('VM_ENTRY_CONTROLS', this.ctl(0x490, (opts.entry ?? 0) | (1 << 9)));
    const c = this.cpu;
    for (const [n, v] of [['CR0', c.cr0], ['CR3', PML4], ['CR4', c.cr4]] as const) {
      this.write(`HOST_${n}`, v >>> 0);
      this.write(`GUEST_${n}`, v >>> 0);
    }
    this.write('HOST_CS_SELECTOR', 0x08);
    for (const s of ['SS', 'DS', 'ES']) this.write(`HOST_${s}_SELECTOR`, 0x10);
    this.write('HOST_TR_SELECTOR', 0x28);
    this.write('HOST_TR_BASE', TSS);
    this.write('HOST_GDTR_BASE', GDT);
    this.write('HOST_IDTR_BASE', IDT);
    this.write('HOST_RSP', HOST_STACK);
    this.write('HOST_RIP', HOST_EXIT);
    const seg = (s: string, sel: number, ar: number, limit: number, base = 0): void => {
      this.write(`GUEST_${s}_SELECTOR`, sel);
      this.write(`GUEST_${s}_AR_BYTES`, ar);
      this.write(`GUEST_${s}_LIMIT`, limit);
      this.write(`GUEST_${s}_BASE`, base);
    };
    seg('ES', 0x10, 0xc093, 0xffffffff);
    seg('CS', 0x08, 0xa09b, 0xffffffff);
    seg('SS', 0x10, 0xc093, 0xffffffff);
    seg('DS', 0x10, 0xc093, 0xffffffff);
    seg('FS', 0, 0x10000, 0);
    seg('GS', 0, 0x10000, 0);
    seg('LDTR', 0, 0x10000, 0);
    seg('TR', 0x28, 0x8b, 0x67, TSS);
    this.write('GUEST_GDTR_BASE', GDT);
    this.write('GUEST_GDTR_LIMIT', 55);
    this.write('GUEST_IDTR_BASE', IDT);
    this.write('GUEST_IDTR_LIMIT', 0xfff);
    this.write('GUEST_RSP', GUEST_STACK);
    this.write('GUEST_RIP', GUEST_CODE);
    this.write('GUEST_RFLAGS', 2);
    this.write('VMCS_LINK_POINTER', 2 ** 64 - 1);
    // 2^64 - 1 is not exact as a number: write the halves.
    this.vmx.vmcs.writeField(fieldByName('VMCS_LINK_POINTER')!.field, -1, -1);
  }

  /** VMLAUNCH (after setupGuest) and run until the host's HLT. */
  launch(maxInstructions = 2_000_000): MachineStop {
    this.load(HOST_CODE, 'vmlaunch\nhlt');
    return this.start(HOST_CODE, maxInstructions, false);
  }

  /** VMRESUME after an exit (RIP advanced by the exit's instruction length when `skip`). */
  resume(skip = true, maxInstructions = 2_000_000): MachineStop {
    if (skip) this.write('GUEST_RIP', this.read('GUEST_RIP') + this.read('VM_EXIT_INSTRUCTION_LEN'));
    this.load(HOST_CODE, 'vmresume\nhlt');
    return this.start(HOST_CODE, maxInstructions, false);
  }

  /** Basic exit reason of the last exit (bits 15:0), with bit 31 kept as `failed`. */
  exitReason(): number {
    return this.read('VM_EXIT_REASON') & 0xffff;
  }
}
