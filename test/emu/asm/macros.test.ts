// Macro names and macro argument splitting against GNU as 2.40. Each case's macro writes
// what it received as text into .data, so a wrong split shows as different bytes; the
// errors (too many positional arguments, keyword mix-ups) must come on the same lines
// with the same words as GNU's.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../../../src/emu/asm/assembler';
import { run, withTemp, writeFiles } from '../../support/gnu-link';

interface GasRun {
  readonly data: Uint8Array;
  readonly text: Uint8Array;
  readonly errors: string[];
  readonly warnings: string[];
}

/** `as --64` on `src`: .data and .text bytes and "line: message" for each error and warning. */
function gas(src: string): GasRun {
  return withTemp((dir) => {
    writeFiles(dir, { 'm.s': src });
    const r = run('as', ['--64', '-o', 'm.o', 'm.s'], dir);
    const pick = (kind: string) => [...r.stderr.matchAll(new RegExp(`^m\\.s:(\\d+): ${kind}: (.*)$`, 'gm'))].map((m) => `${m[1]}: ${m[2]}`);
    const errors = pick('Error');
    const warnings = pick('Warning');
    // With errors GNU as writes no object; section bytes are then compared only when it did.
    if (r.status !== 0) return { data: new Uint8Array(0), text: new Uint8Array(0), errors, warnings };
    run('objcopy', ['--dump-section', '.data=d.bin', '--dump-section', '.text=t.bin', 'm.o', 'x.o'], dir);
    return { data: new Uint8Array(readFileSync(join(dir, 'd.bin'))), text: new Uint8Array(readFileSync(join(dir, 't.bin'))), errors, warnings };
  });
}

function ours(src: string): { data: Uint8Array; text: Uint8Array; errors: string[]; warnings: string[] } {
  const r = assemble(src, { file: 'm.s' });
  const pick = (sev: string) => r.diagnostics.filter((d) => d.severity === sev).map((d) => `${d.line}: ${d.message}`);
  const sec = (name: string) => r.object.sections.find((s) => s.name === name)?.bytes ?? new Uint8Array(0);
  return { data: sec('.data'), text: sec('.text'), errors: pick('error'), warnings: pick('warning') };
}

/** Invocations of `m a, b, c` whose arguments GNU splits in telling ways (no quotes: they are echoed into a string). */
const SPLITS = [
  'm 0x100 -2', 'm 0x100 | 2', 'm 0x100 + 2', 'm 0x100 +2', 'm 0x100+ 2', 'm 0x100- 2', 'm 1- -2',
  'm 0x100 (2)', 'm 0x100 ~2', 'm (1) (2)', 'm (1 2) 3', 'm [1 2] 3', 'm 1 2', 'm 1 -(2)', 'm 0x100-2', 'm 1, -2', 'm 1 , -2',
  'm x y', 'm 1 !2', 'm a+ b', 'm a +b', 'm a  ,  b', 'm a*b c', 'm %eax -8(%ebp)', 'm $1 -1(%eax)', 'm 1 <2', 'm 1 << 2',
  'm (a -b)', 'm (1,2)', 'm {1 2} 3', 'm 1 { 2', 'm a,,b', 'm ,b', 'm a,', 'm a b=1', 'm c=5', 'm a=1, b=2', 'm b = 7',
  "m 'a 2", "m 1 'b", 'm x, y z', 'm 1 * 2', 'm .L1 $2', 'm \t1\t-2', 'm 1 %ecx',
  // GNU rejects these: three or more positional arguments, or a positional one after a keyword.
  'm 0x100 - 2, 5', 'm 1 * -2', 'm 1 -- 2', 'm x, 1 -2, 3', 'm b=1 2', 'm 1 2 3 4', 'm d=1',
];

function splitSource(): string {
  const lines = ['.data', '.macro m a, b, c', '.asciz "\\a|\\b|\\c"', '.endm'];
  for (const s of SPLITS) lines.push(s);
  return `${lines.join('\n')}\n`;
}

describe('macro arguments vs GNU as', () => {
  const src = splitSource();
  const g = gas(src);
  const o = ours(src);

  it('reports the same errors on the same lines (too many positional arguments, keyword mix-ups)', () => {
    expect(g.errors.length).toBeGreaterThanOrEqual(5);
    expect(o.errors).toEqual(g.errors);
  });

  it('splits every accepted invocation as GNU as does', () => {
    // GNU writes no object when there are errors: assemble the accepted lines on their own.
    const okLines = SPLITS.filter((_, i) => !g.errors.some((e) => e.startsWith(`${i + 5}:`)));
    const okSrc = ['.data', '.macro m a, b, c', '.asciz "\\a|\\b|\\c"', '.endm', ...okLines].join('\n') + '\n';
    const gOk = gas(okSrc);
    const oOk = ours(okSrc);
    expect(gOk.errors).toEqual([]);
    expect(oOk.errors).toEqual([]);
    const text = (b: Uint8Array) => new TextDecoder().decode(b).split('\0').slice(0, -1);
    expect(text(oOk.data)).toEqual(text(gOk.data));
    expect(text(oOk.data)).toHaveLength(okLines.length);
  });

  it('locates "too many positional arguments" at the first argument with no parameter left', () => {
    const r = assemble('.macro m a, b\n.endm\n  m 0x100 - 2, 5\n', { file: 'c.s' });
    expect(r.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`)).toEqual(['3:13: too many positional arguments']);
  });

  it('binds defaults, required and vararg parameters, .irp and .irpc lists as GNU does', () => {
    const s = [
      '.data',
      '.macro d a=5, b="x y", c:req, rest:vararg',
      '.ascii "[\\a|\\b|\\c|\\rest]"',
      '.endm',
      'd , , 3', 'd 1 -1, 2 3, 4 5 , 6', 'd c=9', 'd "q r" 1 -2 -3, 4',
      '.irp v, 1 -2, 3, (4 5)',
      '.ascii "<\\v>"',
      '.endr',
      '.irp v a b',
      '.ascii "<\\v>"',
      '.endr',
      '.irpc ch, "a b"',
      '.ascii "<\\ch>"',
      '.endr',
      '.irpc ch, c d',
      '.ascii "<\\ch>"',
      '.endr',
    ].join('\n') + '\n';
    const gr = gas(s);
    const or = ours(s);
    expect(gr.errors).toEqual([]);
    expect(or.errors).toEqual([]);
    expect(new TextDecoder().decode(or.data)).toBe(new TextDecoder().decode(gr.data));
  });

  it('reports a missing required argument and an unknown keyword like GNU', () => {
    const s = '.data\n.macro r a:req, b\n.byte 1\n.endm\nr\nr b=2\nr zz=1, 3\n';
    const gr = gas(s);
    const or = ours(s);
    expect(or.errors).toEqual(gr.errors);
    expect(gr.errors.length).toBe(4);
  });
});

describe('macro names vs GNU as', () => {
  it('finds a macro whatever the case of its name or of the invocation', () => {
    const s = ['.macro CHECK x', 'nop', '.endm', 'CHECK 1', 'check 2', 'Check 3', '.macro lower', 'int3', '.endm', 'LOWER', 'Lower'].join('\n') + '\n';
    const gr = gas(s);
    const or = ours(s);
    expect(gr.errors).toEqual([]);
    expect(or.errors).toEqual([]);
    expect(Array.from(or.text)).toEqual(Array.from(gr.text));
    expect(Array.from(or.text)).toEqual([0x90, 0x90, 0x90, 0xcc, 0xcc]);
  });

  it('treats names differing only in case as the same macro (redefinition, .purgem)', () => {
    const redefine = '.macro Foo\nnop\n.endm\n.macro foo\nint3\n.endm\n';
    expect(ours(redefine).errors).toEqual(gas(redefine).errors);
    const purged = '.macro Foo\nnop\n.endm\n.purgem FOO\nfoo\n.purgem foo\n';
    const gp = gas(purged);
    const op = ours(purged);
    expect(gp.errors).toHaveLength(1);
    expect(op.errors.map((e) => e.split(':')[0])).toEqual(gp.errors.map((e) => e.split(':')[0]));
    expect(op.warnings).toEqual(gp.warnings);
  });
});
