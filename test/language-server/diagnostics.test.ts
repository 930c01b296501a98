// Diagnostics of a .S file (C preprocessor first) against gcc, the oracle: `gcc -c` runs
// cpp and GNU as and reports errors on the lines of the original files, as we must.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { diagnoseDocument } from '../../src/language-server/diagnostics';

const MAIN = [
  '#include "defs.h"', //               1
  '#define TWICE(x) ((x)*2)', //        2
  '.text', //                           3
  '    mov $TWICE(PORT), %edx', //      4
  '#ifdef NOPE', //                     5
  '    bogus1', //                      6  skipped by cpp: no error
  '#else', //                           7
  '    bogus2 %eax', //                 8  error
  '#endif', //                          9
  '    movl %rax, %ebx', //             10 error
  '    hlt', //                         11
  '',
].join('\n');
const DEFS = ['#define PORT 0x3f8', '    notaninsn', ''].join('\n');

const dir = mkdtempSync(join(tmpdir(), 'vmx-lab-diag-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('diagnostics of a preprocessed .S file', () => {
  writeFileSync(join(dir, 'main.S'), MAIN);
  writeFileSync(join(dir, 'defs.h'), DEFS);
  const read = (path: string) => {
    try {
      return readFileSync(path);
    } catch {
      return undefined;
    }
  };
  const diagnostics = diagnoseDocument(join(dir, 'main.S'), MAIN, read);

  const oracle = new Map<string, number[]>();
  const gcc = spawnSync('gcc', ['-c', 'main.S', '-o', 'main.o'], { cwd: dir, encoding: 'utf8' });
  for (const m of gcc.stderr.matchAll(/^([^:\n]+):(\d+): Error:/gm)) oracle.set(m[1], [...(oracle.get(m[1]) ?? []), Number(m[2])]);

  it('flags the lines gcc flags, on the original (not preprocessed) lines', () => {
    expect(oracle.get('main.S')).toEqual([8, 10]);
    expect(diagnostics.filter((d) => !d.relatedInformation).map((d) => d.range.start.line + 1)).toEqual(oracle.get('main.S'));
  });

  it('reports an error in the header on the #include line, pointing into the header', () => {
    expect(oracle.get('defs.h')).toEqual([2]);
    const included = diagnostics.filter((d) => d.relatedInformation);
    expect(included).toHaveLength(1);
    expect(included[0].range.start.line).toBe(0);
    expect(included[0].message).toMatch(/^In included file defs\.h:2:/);
    const where = included[0].relatedInformation![0].location;
    expect(where.uri).toBe(pathToFileURL(join(dir, 'defs.h')).href);
    expect(where.range.start.line + 1).toBe(2);
    expect(DEFS.split('\n')[1].slice(where.range.start.character, where.range.end.character)).toBe('notaninsn');
  });
});
