// Bundles the four programs VMX Lab ships (extension, debug adapter, language server, CLI)
// into dist/ as CommonJS for node 20, the runtime VS Code and the CLI share.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

const entries = {
  extension: 'src/extension/extension.ts',
  'debug-adapter': 'src/debug-adapter/main.ts',
  'language-server': 'src/language-server/server.ts',
  cli: 'src/cli/main.ts',
};

await build({
  entryPoints: entries,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external: ['vscode'],
  logLevel: 'warning',
});
chmodSync('dist/cli.js', 0o755);
