// "VMX Lab: Assemble and Link Current File": `vmx-lab asm FILE -o FILE.elf` on the active
// assembly editor (or the file picked in the Explorer), written next to the source. The
// language server already marks the errors in the editor; the notification says whether
// an ELF was written and leads to the Problems view or the full messages.
import { basename, dirname, extname, join } from 'node:path';
import * as vscode from 'vscode';
import { runCliInProcess } from './cli';
import type { Ctx } from './ctx';
import { COMMANDS, LANGUAGE_ID } from './ids';

/** Where `foo.S` is linked to: `foo.elf` in the same directory. */
export function elfPathFor(source: string): string {
  return join(dirname(source), `${basename(source, extname(source))}.elf`);
}

export function assembleFile(ctx: Ctx) {
  return async (resource?: vscode.Uri): Promise<void> => {
    const document = vscode.window.activeTextEditor?.document;
    const uri = resource ?? (document?.languageId === LANGUAGE_ID ? document.uri : undefined);
    if (!uri) {
      void vscode.window.showErrorMessage('VMX Lab: open an assembly file (.s or .S) to assemble it.');
      return;
    }
    if (uri.scheme !== 'file') {
      void vscode.window.showErrorMessage('VMX Lab: save the file first; the ELF is written next to it.');
      return;
    }
    const source = uri.fsPath;
    const output = elfPathFor(source);
    const run = runCliInProcess(ctx, ['asm', source, '-o', output]);
    if (run.status === 0) {
      const choice = await vscode.window.showInformationMessage(`VMX Lab: built ${basename(output)}.`, 'Disassemble');
      if (choice === 'Disassemble') await vscode.commands.executeCommand(COMMANDS.disassembleFile, vscode.Uri.file(output));
      return;
    }
    // The CLI's last line says what happened overall ("3 errors; nothing written", a link error).
    const lines = run.stderr.trim().split('\n');
    const summary = lines[lines.length - 1].replace(/^vmx-lab: /, '');
    const choice = await vscode.window.showErrorMessage(`VMX Lab: ${basename(source)}: ${summary}`, 'Show Problems', 'Show Output');
    if (choice === 'Show Problems') await vscode.commands.executeCommand('workbench.actions.view.problems');
    else if (choice === 'Show Output') ctx.output.show(true);
  };
}
