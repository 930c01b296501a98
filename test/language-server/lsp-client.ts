// A language client for tests: spawns the bundled server (dist/language-server.js --stdio)
// and speaks LSP JSON-RPC to it through vscode-languageserver's own protocol connection, the
// way an editor does.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import {
  createProtocolConnection,
  PublishDiagnosticsNotification,
  StreamMessageReader,
  StreamMessageWriter,
  type Diagnostic,
  type ProtocolConnection,
} from 'vscode-languageserver/node';

export class LspClient {
  readonly connection: ProtocolConnection;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiters = new Map<string, ((d: Diagnostic[]) => void)[]>();
  stderr = '';

  constructor(serverJs: string) {
    this.child = spawn(process.execPath, [serverJs, '--stdio'], { stdio: 'pipe' });
    this.child.stderr.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.connection = createProtocolConnection(new StreamMessageReader(this.child.stdout), new StreamMessageWriter(this.child.stdin));
    this.connection.onNotification(PublishDiagnosticsNotification.type, ({ uri, diagnostics }) => {
      const waiting = this.waiters.get(uri)?.shift();
      waiting?.(diagnostics);
    });
    this.connection.listen();
  }

  /** The next diagnostics the server publishes for `uri` (register before causing them). */
  nextDiagnostics(uri: string): Promise<Diagnostic[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no diagnostics for ${uri}; server stderr: ${this.stderr}`)), 10_000);
      const list = this.waiters.get(uri) ?? [];
      list.push((d) => {
        clearTimeout(timer);
        resolve(d);
      });
      this.waiters.set(uri, list);
    });
  }

  /** Resolves with the exit code once the server process ends. */
  exited(): Promise<number | null> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  dispose(): void {
    this.connection.dispose();
    this.child.kill();
  }
}
