// What the .vsix ships: .vscodeignore is an allow-list, so the package holds the bundles
// in dist/, the grammar files, the manifest, README and LICENSE, and nothing else (no
// node_modules, sources or tests). Checked on what vsce lists and on a real package.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
const VSCE = join(root, 'node_modules/@vscode/vsce/vsce');
const ALLOWED = /^(package\.json|README\.md|LICENSE|dist\/[\w-]+\.js|syntaxes\/[\w.-]+\.json)$/;
const REQUIRED = [
  'package.json',
  'README.md',
  'LICENSE',
  'dist/extension.js',
  'dist/language-server.js',
  'dist/debug-adapter.js',
  'dist/cli.js',
  'syntaxes/vmx-asm.tmLanguage.json',
  'syntaxes/language-configuration.json',
];

function vsce(args: string[]): string {
  const r = spawnSync(process.execPath, [VSCE, ...args], { cwd: root, encoding: 'utf8', input: '' });
  expect(r.status, `vsce ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

function checkFiles(files: string[]): void {
  for (const f of files) expect(f, `${f} is not on the allow-list`).toMatch(ALLOWED);
  for (const f of REQUIRED) expect(files, `${f} is missing (run \`npm run build\` first?)`).toContain(f);
}

describe('extension package', () => {
  it('lists only allow-listed files (vsce ls)', () => {
    checkFiles(vsce(['ls', '--no-dependencies']).split('\n').filter(Boolean));
  });

  it('packages exactly those files into the .vsix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmx-lab-vsix-'));
    try {
      const vsix = join(dir, 'vmx-lab.vsix');
      // The flags of the `package` script, plus --allow-missing-repository (no repository field yet).
      vsce(['package', '--no-dependencies', '--allow-missing-repository', '-o', vsix]);
      const listing = spawnSync('unzip', ['-Z1', vsix], { encoding: 'utf8' });
      expect(listing.status, listing.stderr).toBe(0);
      const entries = listing.stdout.split('\n').filter(Boolean);
      // vsce's own metadata sits next to the extension folder.
      expect(entries.filter((e) => !e.startsWith('extension/')).sort()).toEqual(['[Content_Types].xml', 'extension.vsixmanifest']);
      // vsce stores the readme and licence under its own names.
      const renamed: Record<string, string> = { 'readme.md': 'README.md', 'LICENSE.txt': 'LICENSE' };
      const files = entries.filter((e) => e.startsWith('extension/')).map((e) => e.slice('extension/'.length));
      checkFiles(files.map((f) => renamed[f] ?? f));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
