// The extension's commands run the `vmx-lab` CLI in-process (src/cli), so the editor and
// the command line share one pipeline: same defaults (base address, entry symbol), same
// messages, same output. Sources come from open editors when they have unsaved edits.
import * as vscode from 'vscode';
import { runCli } from '../cli/cli';
import type { CliIo } from '../cli/io';
import { readHostFile, writeHostFile } from '../cli/node-files';
import type { Ctx } from './ctx';

export interface CliRun {
  /** The CLI's exit status: 0 ok, 1 errors in the input, 2 bad usage. */
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCliInProcess(ctx: Ctx, argv: readonly string[]): CliRun {
  let stdout = '';
  let stderr = '';
  const encoder = new TextEncoder();
  const io: CliIo = {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    readFile(path) {
      const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === path);
      if (open) return encoder.encode(open.getText());
      return readHostFile(path);
    },
    writeFile: writeHostFile,
    guestsDir: ctx.asAbsolutePath('guests'),
  };
  const status = runCli(argv, io);
  ctx.output.appendLine(`$ vmx-lab ${argv.join(' ')}  (exit status ${status})`);
  if (stderr) ctx.output.append(stderr);
  return { status, stdout, stderr };
}
