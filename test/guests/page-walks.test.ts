// Lab i (guests/labs/page-walks/README.md): `vmx-lab run --walk ADDR --at WHERE` lists the
// memory accesses of one load's page walk, natively (teach-os alone) and two-dimensionally
// (teach-os under the reference hypervisor with EPT). The expected count is not taken from
// our walker: the test walks the page tables itself, reading the guest's and the EPT's
// entries from physical memory of a machine stopped at the same instruction, and counts
// the levels each walk needs from the page-size (PS, bit 7) bits it finds there.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseElf } from '../../src/emu/loader/elf';
import { createMachine, qemuCommandLine, type Machine } from '../../src/emu/machine';
import { runCliCaptured } from '../support/cli-capture';
import { GUESTS_DIR } from './guests';

const HYPERVISOR = join(GUESTS_DIR, 'hypervisor/hypervisor.S');
const TEACH_OS = join(GUESTS_DIR, 'teach-os/teach-os.S');
const TMP = mkdtempSync(join(tmpdir(), 'vmxlab-walks-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

function cli(argv: string[]): { status: number; out: string; err: string } {
  return runCliCaptured(argv, { writes: 'disk' });
}

function build(source: string, name: string, defines: readonly string[] = []): Uint8Array {
  const out = join(TMP, name);
  const r = cli(['asm', source, '-o', out, ...defines.flatMap((d) => ['-D', d])]);
  expect(r.status, r.err).toBe(0);
  return new Uint8Array(readFileSync(out));
}

function symbol(elf: Uint8Array, name: string): number {
  const s = parseElf(elf).symbols.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no symbol ${name}`);
  return Number(s.value);
}

/**
 * The guests as built by default (2 MiB pages in teach-os and in the hypervisor's EPT) and
 * with the lab's switches for 4 KiB pages on both sides (SMALL_PAGES, LAB_EPT_4K).
 */
interface Variant { readonly name: string; readonly defines: readonly string[]; readonly teachOs: Uint8Array; readonly hypervisor: Uint8Array }
const VARIANTS: readonly Variant[] = [
  { name: '2 MiB pages', defines: [], teachOs: build(TEACH_OS, 'teach-os.elf'), hypervisor: build(HYPERVISOR, 'hypervisor.elf') },
  {
    name: '4 KiB pages (-DSMALL_PAGES -DLAB_EPT_4K)', defines: ['SMALL_PAGES', 'LAB_EPT_4K'],
    teachOs: build(TEACH_OS, 'teach-os-4k.elf', ['SMALL_PAGES']), hypervisor: build(HYPERVISOR, 'hypervisor-4k.elf', ['SMALL_PAGES', 'LAB_EPT_4K']),
  },
];
/** The load: print_cmdline reads the Multiboot info pointer mb_info (teach-os.S); per build. */
const at = (v: Variant): number => symbol(v.teachOs, 'print_cmdline');
const data = (v: Variant): number => symbol(v.teachOs, 'mb_info');

/** A machine stopped at print_cmdline (in the guest when `underVmm`), as the CLI run would be. */
function stoppedMachine(underVmm: boolean, variant: Variant): Machine {
  const { teachOs, hypervisor } = variant;
  const m = createMachine();
  const kernelPath = underVmm ? HYPERVISOR : TEACH_OS;
  m.boot({
    kernel: underVmm ? hypervisor : teachOs, kernelName: kernelPath, cmdline: qemuCommandLine(kernelPath, undefined),
    modules: underVmm ? [{ name: TEACH_OS, data: teachOs, cmdline: `${TEACH_OS} console=ttyS0` }] : [],
  });
  m.breakpoints.add(at(variant));
  for (let i = 0; i < 100; i++) {
    const stop = m.run({ maxInstructions: 50_000_000 });
    expect(stop.kind).toBe('breakpoint');
    if (!underVmm || m.cpu.vmx?.nonRoot === true) return m;
  }
  throw new Error('print_cmdline never ran in the guest');
}

/** CR3 without its flag bits (4-level paging: the PML4's address, SDM §4.5.2). */
function pageTableRoot(m: Machine): number {
  const cr3 = Number(m.registers().cr3);
  return cr3 - (cr3 % 4096);
}

function u64(m: Machine, at: number): number {
  const b = m.readPhysical(at, 8);
  const lo = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  const hi = (b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24)) >>> 0;
  return hi * 2 ** 32 + lo;
}

/**
 * A hand-made 4-level walk (SDM §4.5.4 for paging, §28.3.2 for EPT: same shape, PS/bit 7
 * ends it at the PDPTE or the PDE): how many entries it reads and where it ends up.
 * `read(pa)` reads an entry at a table address (through EPT for the guest's tables).
 */
function handWalk(root: number, addr: number, read: (pa: number) => number): { entries: number[]; physical: number } {
  const entries: number[] = [];
  let table = root;
  for (const shift of [39, 30, 21, 12]) {
    const entryAddr = table + (Math.floor(addr / 2 ** shift) % 512) * 8;
    entries.push(entryAddr);
    const e = read(entryAddr);
    const frame = Math.floor(e / 4096) % 2 ** 40 * 4096;
    if (shift === 12 || (shift <= 30 && Math.floor(e / 128) % 2 === 1)) return { entries, physical: frame - (frame % 2 ** shift) + (addr % 2 ** shift) };
    table = frame;
  }
  throw new Error('unreachable');
}

function walkLines(err: string): string[] {
  return err.split('\n').filter((l) => l.startsWith('vmx-lab: walk: ')).map((l) => l.slice('vmx-lab: walk: '.length));
}

function accessLevels(lines: string[]): string[] {
  return lines.filter((l) => /^\s*\d+\. /.test(l)).map((l) => /^\s*\d+\. (EPT \w+|\w+)/.exec(l)?.[1] ?? '');
}

describe.each(VARIANTS)('lab i: page walks, $name', (variant) => {
  const D = variant.defines.flatMap((d) => ['-D', d]);
  const AT = at(variant);
  const DATA = data(variant);
  it('natively (teach-os alone): one access per guest paging level the tables use', () => {
    const m = stoppedMachine(false, variant);
    const cr3 = pageTableRoot(m);
    const hand = handWalk(cr3, DATA, (pa) => u64(m, pa));
    const r = cli(['run', TEACH_OS, ...D, '--walk', 'mb_info', '--at', 'print_cmdline']);
    expect(r.status, r.err).toBe(1); // teach-os ends through isa-debug-exit with 0
    const lines = walkLines(r.err);
    expect(lines[0]).toContain(`at rip=0x${AT.toString(16)}`);
    expect(lines[0]).toContain('native');
    const levels = accessLevels(lines);
    // 2 MiB pages (PS in the PDE): 3 accesses; 4 KiB pages: all four levels (SDM §4.5.4).
    expect(hand.entries.length).toBe(variant.defines.includes('SMALL_PAGES') ? 4 : 3);
    expect(levels).toEqual(['PML4E', 'PDPTE', 'PDE', 'PTE'].slice(0, hand.entries.length));
    expect(lines).toContain(`${hand.entries.length} memory accesses`);
    expect(lines.some((l) => l.startsWith(`TLB: 0x${(DATA - (DATA % 4096)).toString(16)} -> 0x${(hand.physical - (hand.physical % 4096)).toString(16)}`))).toBe(true);
    // The run goes on after the probe: the guest's output is complete.
    expect(r.out).toContain('teach-os: the user program exited');
  }, 60_000);

  it('nested (teach-os under the hypervisor, EPT): guest entries + an EPT walk for each guest-physical address', () => {
    const m = stoppedMachine(true, variant);
    const eptRoot = symbol(variant.hypervisor, 'ept_pml4'); // the VMM runs identity-mapped: host-physical
    const ept = (gpa: number) => handWalk(eptRoot, gpa, (pa) => u64(m, pa));
    const guestCr3 = pageTableRoot(m); // the guest's CR3 while in VMX non-root
    let eptAccesses = 0;
    const guest = handWalk(guestCr3, DATA, (gpa) => {
      const w = ept(gpa);
      eptAccesses += w.entries.length;
      return u64(m, w.physical);
    });
    const final = ept(guest.physical);
    eptAccesses += final.entries.length;
    const expected = guest.entries.length + eptAccesses;
    // g guest levels, each entry's and the final guest-physical address through an e-level EPT
    // walk: g + (g + 1) × e. 2 MiB pages on both sides: 3 + 4 × 3 = 15; 4 KiB: 4 + 5 × 4 = 24.
    expect(expected).toBe(guest.entries.length + (guest.entries.length + 1) * final.entries.length);
    expect(expected).toBe(variant.defines.includes('LAB_EPT_4K') ? 24 : 15);

    const r = cli(['run', HYPERVISOR, ...D, '--module', `${TEACH_OS}=console=ttyS0`, '--walk', 'guest:mb_info', '--at', 'guest:print_cmdline']);
    expect(r.status, r.err).toBe(1);
    const lines = walkLines(r.err);
    expect(lines[0]).toContain('VMX non-root operation');
    expect(lines[0]).toContain('nested');
    const levels = accessLevels(lines);
    expect(levels.length).toBe(expected);
    expect(levels.filter((l) => !l.startsWith('EPT ')).length).toBe(guest.entries.length);
    expect(levels.filter((l) => l.startsWith('EPT ')).length).toBe(eptAccesses);
    expect(lines.some((l) => l.startsWith(`${expected} memory accesses: ${guest.entries.length} guest paging-structure entries`))).toBe(true);
    expect(lines.some((l) => l.startsWith(`TLB: 0x${(DATA - (DATA % 4096)).toString(16)} -> 0x${(final.physical - (final.physical % 4096)).toString(16)}`))).toBe(true);
    expect(r.out).toContain('teach-os: the user program exited');
  }, 60_000);
});

describe('lab i: --walk errors', () => {
  const AT = at(VARIANTS[0]);
  it('says so when execution never reaches WHERE (teach-os alone is never in VMX non-root)', () => {
    const r = cli(['run', TEACH_OS, '--module', `${TEACH_OS}=x`, '--walk', 'mb_info', '--at', 'guest:print_cmdline']);
    expect(r.status, r.err).toBe(1);
    expect(walkLines(r.err)).toEqual([`execution never reached guest:print_cmdline (rip=0x${AT.toString(16)} in VMX non-root operation): no walk to explain`]);
  }, 60_000);

  it('reports a symbol that does not exist as a usage error', () => {
    const r = cli(['run', TEACH_OS, '--walk', 'no_such_symbol', '--at', 'print_cmdline']);
    expect(r.status).toBe(2);
    expect(r.err).toContain("no symbol `no_such_symbol' in the kernel");
  });
});
