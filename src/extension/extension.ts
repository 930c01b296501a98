// Entry point of dist/extension.js. Activation builds the context, registers every command
// from the one record of factories, and starts the language client.
import * as vscode from 'vscode';
import { startLanguageClient } from './client';
import { COMMAND_FACTORIES } from './commands';
import { Ctx } from './ctx';
import { COMMANDS, type CommandName } from './ids';

let ctx: Ctx | undefined;

export async function activate(extension: vscode.ExtensionContext): Promise<void> {
  ctx = new Ctx(extension);
  for (const name of Object.keys(COMMANDS) as CommandName[]) {
    ctx.pushCleanup(vscode.commands.registerCommand(COMMANDS[name], COMMAND_FACTORIES[name](ctx)));
  }
  try {
    await startLanguageClient(ctx);
  } catch (e) {
    // Commands keep working without the server; tell the user why diagnostics are missing.
    const message = e instanceof Error ? e.message : String(e);
    ctx.output.appendLine(`The assembly language server did not start: ${message}`);
    void vscode.window.showWarningMessage(`VMX Lab: the assembly language server did not start (${message}).`);
  }
}

export async function deactivate(): Promise<void> {
  await ctx?.client?.stop();
  ctx = undefined;
}
