// "VMX Lab: Disassemble ELF or Binary File...": `vmx-lab disasm FILE` (objdump -d style)
// shown in a read-only virtual document. Raw binaries need a load address, asked for once
// and kept in the document's URI. The document follows the file: rebuilding the ELF
// refreshes it.
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';
import { isElf } from '../emu/loader/elf';
import { runCliInProcess } from './cli';
import type { Ctx } from './ctx';
import { DISASSEMBLY_SCHEME } from './ids';

/** The virtual document for `file`: its path plus `.objdump`, the raw load address in the query. */
export function disassemblyUri(file: vscode.Uri, base?: string): vscode.Uri {
  return vscode.Uri.from({ scheme: DISASSEMBLY_SCHEME, path: `${file.path}.objdump`, query: base ? `base=${base}` : '' });
}

function sourceOf(uri: vscode.Uri): { file: vscode.Uri; base?: string } {
  const base = new URLSearchParams(uri.query).get('base') ?? undefined;
  return { file: uri.with({ scheme: 'file', path: uri.path.replace(/\.objdump$/, ''), query: '' }), base };
}

class DisassemblyProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly watchers = new Map<string, vscode.Disposable>();
  private readonly closed: vscode.Disposable;

  constructor(private readonly ctx: Ctx) {
    this.closed = vscode.workspace.onDidCloseTextDocument((d) => {
      this.watchers.get(d.uri.toString())?.dispose();
      this.watchers.delete(d.uri.toString());
    });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const { file, base } = sourceOf(uri);
    this.watch(uri, file);
    const run = runCliInProcess(this.ctx, ['disasm', file.fsPath, ...(base ? ['--base', base] : [])]);
    // A file that went away or stopped being valid shows the CLI's message instead of a listing.
    return run.status === 0 ? run.stdout : run.stderr;
  }

  private watch(uri: vscode.Uri, file: vscode.Uri): void {
    const key = uri.toString();
    if (this.watchers.has(key)) return;
    const pattern = new vscode.RelativePattern(vscode.Uri.file(dirname(file.fsPath)), basename(file.fsPath));
    const watcher = vscode.workspace.createFileSystemWatcher(pattern);
    const refresh = () => this.changed.fire(uri);
    watcher.onDidChange(refresh);
    watcher.onDidCreate(refresh);
    this.watchers.set(key, watcher);
  }

  dispose(): void {
    for (const w of this.watchers.values()) w.dispose();
    this.closed.dispose();
    this.changed.dispose();
  }
}

export function disassembleFile(ctx: Ctx) {
  const provider = new DisassemblyProvider(ctx);
  ctx.pushCleanup(provider);
  ctx.pushCleanup(vscode.workspace.registerTextDocumentContentProvider(DISASSEMBLY_SCHEME, provider));
  return async (resource?: vscode.Uri): Promise<void> => {
    const file =
      resource ??
      (await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Disassemble', title: 'ELF executable or raw binary to disassemble' }))?.[0];
    if (!file) return;
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file.fsPath);
    } catch (e) {
      void vscode.window.showErrorMessage(`VMX Lab: cannot read ${file.fsPath} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`);
      return;
    }
    let base: string | undefined;
    if (!isElf(bytes)) {
      base = await vscode.window.showInputBox({
        title: `${basename(file.fsPath)} is not an ELF file: disassemble it as raw bytes`,
        prompt: 'Address the bytes are loaded at (as objdump --adjust-vma / vmx-lab disasm --base)',
        value: '0x7c00',
        validateInput: (v) => (/^(0x[0-9a-f]+|\d+)$/i.test(v.trim()) ? undefined : 'a number, e.g. 0x100000'),
      });
      if (base === undefined) return;
      base = base.trim();
    }
    const document = await vscode.workspace.openTextDocument(disassemblyUri(file, base));
    await vscode.window.showTextDocument(document, { preview: false });
  };
}
