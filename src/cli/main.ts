// Node entry point of the `vmx-lab` command (bundled to dist/cli.js).
import { resolve } from 'node:path';
import { runCliAsync } from './cli';
import type { CliIo, HostInput } from './io';
import { readHostFile, writeHostFile } from './node-files';

const io: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readFile: readHostFile,
  writeFile: writeHostFile,
  // dist/cli.js sits next to guests/ in the package.
  guestsDir: resolve(__dirname, '..', 'guests'),
  colour: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
};

// stdin feeds the guest's COM1 when it is a pipe or a file; a terminal stays the user's.
const input: HostInput | undefined = process.stdin.isTTY
  ? undefined
  : {
      subscribe(onData, onEnd) {
        const data = (chunk: Buffer): void => onData(new Uint8Array(chunk));
        process.stdin.on('data', data);
        process.stdin.on('end', onEnd);
        process.stdin.on('error', onEnd);
        return () => {
          process.stdin.off('data', data);
          process.stdin.off('end', onEnd);
          process.stdin.off('error', onEnd);
          // An open pipe would keep the process alive after the guest ended.
          process.stdin.destroy();
        };
      },
    };

void runCliAsync(process.argv.slice(2), io, input).then((status) => {
  process.exitCode = status;
});
