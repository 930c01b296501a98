// The extension's state in one object, handed to every feature (as rust-analyzer's client
// does): the VS Code extension context, the output channel, and the language client once
// it runs. Features register what they create here so deactivation disposes of it.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { OUTPUT_CHANNEL_NAME } from './ids';

export class Ctx {
  readonly output: vscode.OutputChannel;
  client: LanguageClient | undefined;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel(OUTPUT_CHANNEL_NAME);
    this.pushCleanup(this.output);
  }

  pushCleanup(disposable: vscode.Disposable): void {
    this.extension.subscriptions.push(disposable);
  }

  /** Absolute path of a file shipped in the extension (e.g. dist/language-server.js). */
  asAbsolutePath(relative: string): string {
    return this.extension.asAbsolutePath(relative);
  }
}
