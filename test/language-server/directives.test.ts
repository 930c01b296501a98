// The directive documentation may only describe what exists: every example is accepted by
// GNU as (the oracle) and by our assembler, and names the directive it documents.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assemble } from '../../src/emu/asm/assembler';
import { DIRECTIVE_DOCS } from '../../src/language-server/directives';

const dir = mkdtempSync(join(tmpdir(), 'vmx-lab-directives-'));
const FILES: Record<string, string> = { 'defs.inc': 'INCLUDED = 5\n', 'blob.bin': 'abcd' };
for (const [name, content] of Object.entries(FILES)) writeFileSync(join(dir, name), content);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('directive documentation', () => {
  const docs = [...DIRECTIVE_DOCS.values()];

  it('uses each directive in its own example and syntax', () => {
    for (const d of docs) {
      expect(d.example, d.name).toMatch(new RegExp(`(^|\\n)\\s*\\.${d.name}\\b`));
      expect(d.syntax.startsWith(`.${d.name}`), d.name).toBe(true);
    }
  });

  it('has examples GNU as accepts', () => {
    // One `as` run per example (43 small files) keeps failures attributable; it takes well under a second.
    for (const d of docs) {
      writeFileSync(join(dir, 'example.s'), `${d.example}\n`);
      const r = spawnSync('as', ['--64', '-o', join(dir, 'example.o'), 'example.s'], { cwd: dir, encoding: 'utf8' });
      expect(r.stderr, `.${d.name}`).toBe('');
      expect(r.status, `.${d.name}`).toBe(0);
    }
  });

  it('has examples our assembler accepts', () => {
    for (const d of docs) {
      const { diagnostics } = assemble(`${d.example}\n`, {
        file: join(dir, 'example.s'),
        readFile: (path) => FILES[path.slice(dir.length + 1)],
      });
      expect(diagnostics, `.${d.name}`).toEqual([]);
    }
  });
});
