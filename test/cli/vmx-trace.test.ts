// `vmx-lab run --trace exits`, `--stats` and `--json`: the reference hypervisor runs teach-os
// with RDTSC exiting and a handler (guests/labs/rdtsc-exiting), so there are exits of two
// reasons, and one the VMM never resumes from (the guest's debug-exit write).
//
// Oracles: GNU objdump says where teach-os's RDTSC instructions are, so every RDTSC exit must
// be at one of them and resume 2 bytes later (RDTSC is 0F 31, SDM Vol. 2B); the VMM itself
// counts its exits and prints the count ("after N VM exits"); and the text trace, the table
// and the JSON records must all tell the same story.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli';
import type { CliIo } from '../../src/cli/io';
import type { ExitRecord, StatsRecord } from '../../src/cli/vmx-trace';
import { gnuOnFile } from '../support/gnu-link';

const ROOT = resolve(__dirname, '../..');
const HYPERVISOR = join(ROOT, 'guests/hypervisor/hypervisor.S');
const TEACH_OS = join(ROOT, 'guests/teach-os/teach-os.S');
const TMP = mkdtempSync(join(tmpdir(), 'vmxlab-trace-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

interface Result {
  status: number;
  out: string;
  err: string;
}

const io = (r: Result): CliIo => ({
  stdout: (t) => { r.out += t; },
  stderr: (t) => { r.err += t; },
  readFile: (p) => {
    try {
      return new Uint8Array(readFileSync(p));
    } catch {
      return undefined;
    }
  },
  writeFile: (p, d) => writeFileSync(p, d),
  guestsDir: join(ROOT, 'guests'),
});

function cli(argv: string[]): Result {
  const r: Result = { status: -1, out: '', err: '' };
  r.status = runCli(argv, io(r));
  return r;
}

const TEACH_ELF = join(TMP, 'teach-os.elf');
const LAB = ['-DLAB_RDTSC_HANDLER', '--module', `${TEACH_ELF}=console=ttyS0`];
const TRACE_LINE = /^vmx-lab: trace: exit #(\d+) ([A-Z_]+) \((\d+)\) qual=(0x[0-9a-f]+)(?: \((.*)\))? rip (0x[0-9a-f]+)→(0x[0-9a-f]+|\(not resumed\))$/;

interface Parsed { n: number; name: string; reason: number; qual: string; decoded: string; before: number; after: number | null }

function traceLines(err: string): Parsed[] {
  return err.split('\n').filter((l) => l.startsWith('vmx-lab: trace: ')).map((l) => {
    const m = TRACE_LINE.exec(l);
    expect(m, l).not.toBeNull();
    return {
      n: Number(m![1]), name: m![2], reason: Number(m![3]), qual: m![4], decoded: m![5] ?? '',
      before: Number(m![6]), after: m![7] === '(not resumed)' ? null : Number(m![7]),
    };
  });
}

/** The VMM's own count: "... after N VM exits: ending the run with that value". */
function vmmExitCount(out: string): number {
  const m = /after (\d+) VM exits: ending the run/.exec(out);
  expect(m, 'the VMM reports its exit count').not.toBeNull();
  return Number(m![1]);
}

/** Addresses of teach-os's RDTSC instructions, from objdump -d. */
function rdtscAddresses(elf: Uint8Array): Set<number> {
  const text = gnuOnFile('objdump', ['-d'], 'teach-os.elf', elf);
  const set = new Set<number>();
  for (const m of text.matchAll(/^\s*([0-9a-f]+):\s+0f 31\s+rdtsc/gm)) set.add(parseInt(m[1], 16));
  return set;
}

describe('vmx-lab run --trace exits / --stats / --json', () => {
  const built = cli(['asm', TEACH_OS, '-o', TEACH_ELF]);
  it('builds the guest', () => expect(built.status, built.err).toBe(0));

  it('prints one line per exit: reason, decoded qualification, guest RIP before and after', () => {
    const r = cli(['run', HYPERVISOR, ...LAB, '--trace', 'exits']);
    expect(r.status, r.err).toBe(1);
    const lines = traceLines(r.err);
    expect(lines.length).toBe(vmmExitCount(r.out));
    expect(lines.map((l) => l.n)).toEqual(lines.map((_, i) => i + 1));
    const rdtsc = rdtscAddresses(readFileSync(TEACH_ELF));
    expect(rdtsc.size).toBeGreaterThan(0);
    const rdtscExits = lines.filter((l) => l.name === 'RDTSC');
    expect(rdtscExits.length).toBeGreaterThan(2);
    for (const l of rdtscExits) {
      expect(l.reason).toBe(16);
      expect(rdtsc.has(l.before), `exit at 0x${l.before.toString(16)} is an rdtsc`).toBe(true);
      expect(l.after).toBe(l.before + 2);
    }
    // The last exit is the guest's write to the debug-exit port: the VMM ends the run there.
    const last = lines[lines.length - 1];
    expect(last).toMatchObject({ name: 'IO_INSTRUCTION', reason: 30, after: null });
    expect(last.decoded).toMatch(/^out \d bytes? port 0xf4$/);
  });

  it('--no-blocks: the same output, exit trace and statistics, cycle for cycle (compiled blocks are invisible)', () => {
    const withBlocks = cli(['run', HYPERVISOR, ...LAB, '--trace', 'exits', '--stats']);
    const without = cli(['run', HYPERVISOR, ...LAB, '--trace', 'exits', '--stats', '--no-blocks']);
    expect(traceLines(withBlocks.err).length).toBeGreaterThan(2);
    expect(without).toEqual(withBlocks);
  });

  it('--stats: counts per reason that match the trace, with root-mode cycles and totals', () => {
    const r = cli(['run', HYPERVISOR, ...LAB, '--trace', 'exits', '--stats']);
    const lines = traceLines(r.err);
    const stats = r.err.split('\n').filter((l) => l.startsWith('vmx-lab: stats: '));
    const row = (label: string): string[] | undefined => stats.map((l) => l.slice('vmx-lab: stats:   '.length).trim().split(/\s+/)).find((c) => c.join(' ').startsWith(`${label} `));
    const rdtscRow = row('16 RDTSC');
    expect(rdtscRow).toBeDefined();
    expect(Number(rdtscRow![2])).toBe(lines.filter((l) => l.reason === 16).length);
    expect(Number(rdtscRow![3])).toBeGreaterThan(0);
    expect(Number(row('30 IO_INSTRUCTION')![2])).toBe(1);
    const total = row('total')!;
    expect(Number(total[1])).toBe(lines.length);
    expect(Number(total[2])).toBe(Number(rdtscRow![3]) + Number(row('30 IO_INSTRUCTION')![3]));
    expect(stats[stats.length - 1]).toMatch(new RegExp(`VM entries: ${lines.length}$`));
  });

  it('--json=FILE: the same exits and statistics as JSON lines', () => {
    const file = join(TMP, 'trace.jsonl');
    const text = cli(['run', HYPERVISOR, ...LAB, '--trace', 'exits']);
    const r = cli(['run', HYPERVISOR, ...LAB, `--json=${file}`]);
    expect(r.status).toBe(1);
    expect(r.err).not.toContain('vmx-lab: trace:');
    const records = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ExitRecord | StatsRecord);
    const exits = records.filter((x): x is ExitRecord => x.type === 'exit');
    const stats = records.filter((x): x is StatsRecord => x.type === 'stats');
    expect(stats).toHaveLength(1);
    expect(records[records.length - 1].type).toBe('stats');
    expect(exits.map((e) => ({ n: e.n, name: e.name, reason: e.reason, qual: e.qualification, decoded: e.decoded, before: e.ripBefore, after: e.ripAfter })))
      .toEqual(traceLines(text.err));
    expect(stats[0].exits).toBe(exits.length);
    expect(stats[0].reasons.find((s) => s.reason === 16)?.count).toBe(exits.filter((e) => e.reason === 16).length);
  });

  it('--json alone writes the records to stderr', () => {
    const r = cli(['run', HYPERVISOR, ...LAB, '--json']);
    const json = r.err.split('\n').filter((l) => l.startsWith('{'));
    expect(json.length).toBe(vmmExitCount(r.out) + 1);
    expect(JSON.parse(json[json.length - 1]).type).toBe('stats');
  });

  it('rejects bad options with one line and status 2', () => {
    for (const argv of [['--json='], ['--json', '--json'], ['--trace', 'exit']]) {
      const r = cli(['run', HYPERVISOR, ...argv]);
      expect(r.status, argv.join(' ')).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });
});
