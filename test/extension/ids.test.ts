// The identifiers in src/extension/ids.ts and the manifest's contributes must agree both
// ways: a command registered under an undeclared ID never shows in the palette, and a
// declared command with no registration fails when the user picks it.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, LANGUAGE_ID } from '../../src/extension/ids';

interface Manifest {
  main: string;
  activationEvents?: string[];
  contributes: {
    commands?: { command: string; title: string }[];
    languages?: { id: string; configuration?: string }[];
    grammars?: { language: string; scopeName: string; path: string }[];
    menus?: Record<string, { command: string }[]>;
  };
}

const root = resolve(__dirname, '../..');
const manifest = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as Manifest;
const sorted = (xs: Iterable<string>) => [...xs].sort();

describe('ids.ts against package.json', () => {
  it('declares exactly the commands ids.ts names', () => {
    expect(sorted((manifest.contributes.commands ?? []).map((c) => c.command))).toEqual(sorted(Object.values(COMMANDS)));
  });

  it('declares exactly the language ids.ts names, with its grammar and configuration', () => {
    expect((manifest.contributes.languages ?? []).map((l) => l.id)).toEqual([LANGUAGE_ID]);
    expect((manifest.contributes.grammars ?? []).map((g) => g.language)).toEqual([LANGUAGE_ID]);
  });

  it('refers only to known commands and languages in menus and activation events', () => {
    const commands = new Set<string>(Object.values(COMMANDS));
    for (const items of Object.values(manifest.contributes.menus ?? {})) {
      for (const item of items) expect(commands, item.command).toContain(item.command);
    }
    for (const event of manifest.activationEvents ?? []) {
      const [kind, id] = event.split(':');
      if (kind === 'onLanguage') expect(id).toBe(LANGUAGE_ID);
      else if (kind === 'onCommand') expect(commands).toContain(id);
      else throw new Error(`unexpected activation event ${event}`);
    }
  });

  it('points main, the grammar and the language configuration at files that exist', () => {
    expect(manifest.main).toBe('./dist/extension.js');
    for (const g of manifest.contributes.grammars ?? []) {
      const grammar = JSON.parse(readFileSync(resolve(root, g.path), 'utf8')) as { scopeName: string };
      expect(grammar.scopeName).toBe(g.scopeName);
    }
    for (const l of manifest.contributes.languages ?? []) {
      if (l.configuration) expect(() => JSON.parse(readFileSync(resolve(root, l.configuration!), 'utf8'))).not.toThrow();
    }
  });
});
