// The .S preprocessor against GNU cpp (`gcc -E -P -x assembler-with-cpp`): same text after
// whitespace normalization, line mapping back to the original file:line, and errors.
import { describe, expect, it } from 'vitest';
import { preprocess } from '../../../src/emu/asm/preprocess';
import { gnuPreprocess } from '../../support/gnu-link';

const norm = (t: string) =>
  t.split('\n').map((l) => l.replace(/\s+/g, ' ').trim()).filter((l) => l !== '').join('\n');

function ours(files: Record<string, string>, main: string, defines: Record<string, string> = {}, includeDirs: string[] = []): string {
  const r = preprocess(files[main], { file: main, defines, includeDirs, readFile: (p) => files[p.replace(/^\.\//, '')] });
  expect(r.diagnostics).toEqual([]);
  return r.lines.map((l) => l.text).join('\n');
}

const CASES: Record<string, Record<string, string>> = {
  'object-like macros, $ and comments': {
    'a.S': `#define FOO 5
#define BAR (FOO + 1)
movl $FOO, %eax   # FOO stays in an as comment? no: cpp expands it
movl $BAR, %ebx /* C comment */ // line comment
/* multi
   line */ .long FOO
.ascii "FOO is not expanded in strings"
  # a comment line, not a directive
#undef FOO
.long FOO`,
  },
  'function-like macros, # and ##': {
    'a.S': `#define ADD(a, b) addl a, b
#define STR(x) #x
#define CAT(a, b) a##b
#define PDE(i) (((i) << 21) | 0x83)
#define EMPTY()
#define VA(fmt, ...) .long fmt, __VA_ARGS__
ADD($1, %eax)
.ascii STR(hello world)
CAT(mov, l) $1, %eax
.quad PDE(3), PDE(PDE(1))
EMPTY() nop
VA(1, 2, 3)
ADD
`,
  },
  'conditionals and defined': {
    'a.S': `#define A 1
#define B 0
#if A && !B
.byte 1
#elif defined(C)
.byte 2
#else
.byte 3
#endif
#ifdef A
.byte 4
#ifndef B
.byte 5
#else
.byte 6
#endif
#endif
#if defined C || (A + 2) * 3 == 9
.byte 7
#endif
#if 0
#error not reached
.byte 8
#endif
#if (1 << 4) > 15 && 0x10 == 16 && 010 == 8 && 'a' == 97 && (-1 < 0) && (7 / 2 == 3) && (7 % 3 == 1) && (1 ? 2 : 3) == 2
.byte 9
#endif
#if UNDEFINED_NAME == 0
.byte 10
#endif
`,
  },
  'includes (quoted and -I) and line continuation': {
    'a.S': `#include "inc/defs.h"
#include <more.h>
.long VALUE, MORE
#define LONG_MACRO(x) \\
    .long x; \\
    .long x + 1
LONG_MACRO(7)`,
    'inc/defs.h': `#ifndef DEFS_H
#define DEFS_H
#define VALUE 0x1234
#include "defs.h"
#endif`,
    'sys/more.h': `#define MORE (VALUE * 2)`,
  },
};

describe('preprocessor vs gcc -E', () => {
  for (const [name, files] of Object.entries(CASES)) {
    it(name, () => {
      const main = 'a.S';
      const gnu = gnuPreprocess(files, main, ['-Isys']);
      expect(norm(ours(files, main, {}, ['sys']))).toBe(norm(gnu));
    });
  }

  it('-D definitions', () => {
    const files = { 'a.S': '.long X, Y\n#ifdef Z\n.byte 1\n#endif\n' };
    const gnu = gnuPreprocess(files, 'a.S', ['-DX=3', '-DY', '-DZ']);
    expect(norm(ours(files, 'a.S', { X: '3', Y: '', Z: '1' }))).toBe(norm(gnu));
  });
});

describe('line mapping and errors', () => {
  it('maps every output line to its file and line', () => {
    const files: Record<string, string> = { 'm.S': 'one\n#include "h.h"\n/* a\n b */ two\nthree \\\n  continued\nfour', 'h.h': '\nin_header' };
    const r = preprocess(files['m.S'], { file: 'm.S', readFile: (p) => files[p] });
    const where = Object.fromEntries(r.lines.filter((l) => l.text.trim()).map((l) => [l.text.trim().split(/\s+/)[0], `${l.file}:${l.line}`]));
    expect(where).toEqual({ one: 'm.S:1', in_header: 'h.h:2', two: 'm.S:3', three: 'm.S:5', four: 'm.S:7' });
  });

  it('reports errors with locations and keeps going', () => {
    const src = '#if\n#endif\n#include "nope.h"\n#define 1x\n#else\n#error custom message\n#if 1 +\n#endif\n#define F(a) a\nF(1, 2)\n#ifdef X\n';
    const r = preprocess(src, { file: 'e.S', readFile: () => undefined });
    expect(r.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`)).toEqual([
      '1:1: #if with no expression',
      '3:1: nope.h: No such file or directory',
      '4:1: macro names must be identifiers',
      '5:1: #else without #if',
      '6:1: #error custom message',
      '7:1: #if expression ends unexpectedly',
      '10:1: macro "F" requires 1 arguments, but 2 given',
      '11:1: unterminated conditional directive',
    ]);
  });
});
