// The real language server over LSP (dist/language-server.js, built by `npm run build`).
// Diagnostics are checked against GNU as, the oracle: the lines it rejects are the lines we
// flag, and an error inside an included file is reported on the include line, pointing at
// the place in that file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompletionRequest,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  ShutdownRequest,
  type CompletionItem,
  type CompletionList,
} from 'vscode-languageserver/node';
import { LspClient } from './lsp-client';

const SERVER = resolve(__dirname, '../../dist/language-server.js');

// Line numbers (1-based) matter: the oracle reports them.
const MAIN = [
  '.include "defs.inc"', //                1
  '.text', //                              2
  '.globl _start', //                      3
  '_start:', //                            4
  '    movq $PORT, %rdx', //               5
  '    frobnicate %eax', //                6  no such instruction
  '    movl %eax, %ebx', //                7
  '    movl %rax, %ebx', //                8  operand size mismatch
  '    addq %eax, %ebxx', //               9  bad register
  '    .frobdir 1', //                     10 unknown directive
  '    hlt', //                            11
  '',
].join('\n');
const DEFS_BAD = ['PORT = 0x3f8', 'notaninsn %eax', ''].join('\n');
const DEFS_GOOD = ['PORT = 0x3f8', ''].join('\n');

/** Error lines GNU as reports, per file name. */
function oracleErrorLines(dir: string): Map<string, number[]> {
  const r = spawnSync('as', ['--64', '-o', join(dir, 'main.o'), 'main.s'], { cwd: dir, encoding: 'utf8' });
  const lines = new Map<string, number[]>();
  for (const m of r.stderr.matchAll(/^([^:\n]+):(\d+): Error:/gm)) {
    lines.set(m[1], [...(lines.get(m[1]) ?? []), Number(m[2])]);
  }
  return lines;
}

describe('language server over LSP', () => {
  let dir: string;
  let client: LspClient;
  let mainUri: string;
  let defsUri: string;

  beforeAll(async () => {
    expect(existsSync(SERVER), `${SERVER} is missing: run \`npm run build\` first`).toBe(true);
    dir = mkdtempSync(join(tmpdir(), 'vmx-lab-ls-'));
    writeFileSync(join(dir, 'main.s'), MAIN);
    writeFileSync(join(dir, 'defs.inc'), DEFS_BAD);
    mainUri = pathToFileURL(join(dir, 'main.s')).href;
    defsUri = pathToFileURL(join(dir, 'defs.inc')).href;
    client = new LspClient(SERVER);
    const init = await client.connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: pathToFileURL(dir).href,
      capabilities: {},
    });
    expect(init.capabilities.hoverProvider).toBe(true);
    expect(init.capabilities.completionProvider).toBeDefined();
    await client.connection.sendNotification(InitializedNotification.type, {});
  });

  afterAll(async () => {
    if (client) {
      await client.connection.sendRequest(ShutdownRequest.type);
      await client.connection.sendNotification(ExitNotification.type);
      await client.exited();
      client.dispose();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('flags the lines GNU as rejects, with ranges on the offending text', async () => {
    const oracle = oracleErrorLines(dir);
    expect(oracle.get('main.s')).toEqual([6, 8, 9, 10]); // the oracle agrees with the file's comments
    expect(oracle.get('defs.inc')).toEqual([2]);

    const published = client.nextDiagnostics(mainUri);
    await client.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri: mainUri, languageId: 'vmx-asm', version: 1, text: MAIN },
    });
    const diagnostics = await published;
    const own = diagnostics.filter((d) => !d.relatedInformation);
    expect([...new Set(own.map((d) => d.range.start.line + 1))]).toEqual(oracle.get('main.s'));
    const lines = MAIN.split('\n');
    for (const d of own) {
      const text = lines[d.range.start.line];
      expect(d.range.end.line).toBe(d.range.start.line);
      expect(d.range.start.character).toBeGreaterThanOrEqual(text.search(/\S/));
      expect(d.range.end.character).toBeGreaterThan(d.range.start.character);
      expect(d.range.end.character).toBeLessThanOrEqual(text.length);
      expect(d.severity).toBe(1);
    }
    const unknown = own.find((d) => d.range.start.line === 5)!;
    expect(lines[5].slice(unknown.range.start.character, unknown.range.end.character)).toBe('frobnicate');

    const included = diagnostics.filter((d) => d.relatedInformation);
    expect(included).toHaveLength(1);
    expect(included[0].range.start.line).toBe(0);
    expect(included[0].relatedInformation![0].location.uri).toBe(defsUri);
    expect(included[0].relatedInformation![0].location.range.start.line + 1).toBe(oracle.get('defs.inc')![0]);
  });

  it('uses the unsaved text of an open include and re-checks the file that includes it', async () => {
    const mainAgain = client.nextDiagnostics(mainUri);
    await client.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri: defsUri, languageId: 'vmx-asm', version: 1, text: DEFS_GOOD },
    });
    const diagnostics = await mainAgain;
    expect(diagnostics.filter((d) => d.relatedInformation)).toEqual([]);
    expect(diagnostics.length).toBeGreaterThan(0);
  });

  it('clears the diagnostics once the errors are fixed', async () => {
    const fixed = MAIN.split('\n').filter((_, i) => ![5, 7, 8, 9].includes(i)).join('\n');
    const published = client.nextDiagnostics(mainUri);
    await client.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri: mainUri, version: 2 },
      contentChanges: [{ text: fixed }],
    });
    expect(await published).toEqual([]);
  });

  it('answers hover on a mnemonic with its table forms and completion after %', async () => {
    const fixedLines = MAIN.split('\n').filter((_, i) => ![5, 7, 8, 9].includes(i));
    const hltLine = fixedLines.findIndex((l) => l.includes('hlt'));
    const hover = await client.connection.sendRequest(HoverRequest.type, {
      textDocument: { uri: mainUri },
      position: { line: hltLine, character: 5 },
    });
    expect(JSON.stringify(hover?.contents)).toContain('F4');
    const completion = (await client.connection.sendRequest(CompletionRequest.type, {
      textDocument: { uri: mainUri },
      position: { line: 4, character: fixedLines[4].length },
    })) as CompletionItem[] | CompletionList | null;
    const items = Array.isArray(completion) ? completion : completion?.items ?? [];
    expect(items.map((i) => i.label)).toContain('%rdx');
  });
});
