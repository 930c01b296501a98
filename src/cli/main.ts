// Node entry point of the `vmx-lab` command (bundled to dist/cli.js).
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { runCli } from './cli';
import { CliError, type CliIo } from './io';

const io: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readFile(path) {
    try {
      return new Uint8Array(readFileSync(path));
    } catch {
      return undefined;
    }
  },
  writeFile(path, data, executable) {
    try {
      writeFileSync(path, data);
      if (executable) chmodSync(path, 0o755);
    } catch (e) {
      throw new CliError(`${path}: cannot write file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  },
  // dist/cli.js sits next to guests/ in the package.
  guestsDir: resolve(__dirname, '..', 'guests'),
};

process.exitCode = runCli(process.argv.slice(2), io);
