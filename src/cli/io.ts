// What the CLI commands need from the outside world, so tests can run them in-process.

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Returns the file's bytes or undefined when it cannot be read. */
  readFile(path: string): Uint8Array | undefined;
  /** Throws (with a message fit for the user) when the file cannot be written. */
  writeFile(path: string, data: Uint8Array, executable: boolean): void;
  /** Directory of the bundled guests/ (for `vmx-lab demo`). */
  readonly guestsDir: string;
  /** stdout is a terminal: `run` colours the lines a guest writes in VMX non-root operation. */
  readonly colour?: boolean;
}

/** A failure the CLI reports as one line on stderr with a non-zero exit status. */
export class CliError extends Error {}

/** The host's input stream (stdin when it is not a terminal), fed to the guest's COM1. */
export interface HostInput {
  /** Start delivering bytes; `onEnd` when the stream closes. Returns the function that stops reading. */
  subscribe(onData: (bytes: Uint8Array) => void, onEnd: () => void): () => void;
}
