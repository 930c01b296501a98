// Starts the language server (dist/language-server.js, a separate node process over IPC)
// for assembly documents on disk and in untitled editors.
import {
  LanguageClient,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import type { Ctx } from './ctx';
import { LANGUAGE_CLIENT_ID, LANGUAGE_ID } from './ids';

export async function startLanguageClient(ctx: Ctx): Promise<void> {
  const module = ctx.asAbsolutePath('dist/language-server.js');
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: LANGUAGE_ID },
      { scheme: 'untitled', language: LANGUAGE_ID },
    ],
    outputChannel: ctx.output,
  };
  const client = new LanguageClient(LANGUAGE_CLIENT_ID, 'VMX Lab Assembly', serverOptions, clientOptions);
  ctx.client = client;
  await client.start();
}
