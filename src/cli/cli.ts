// The `vmx-lab` command line, independent of process/fs so tests run it in-process.
import { asmCommand, ASM_USAGE } from './asm-command';
import { UsageError } from './args';
import { demoCommand } from './demo-command';
import { disasmCommand, DISASM_USAGE } from './disasm-command';
import { CliError, type CliIo, type HostInput } from './io';
import { RUN_STATUS, RUN_USAGE, runCommand, runCommandAsync } from './run-command';

export const USAGE = `vmx-lab — an emulated x86-64 PC with VT-x, and its GNU-as compatible toolchain

usage: vmx-lab <command> [options]

commands:
  run KERNEL [options]  boot a Multiboot kernel (ELF or .s/.S source); serial output on stdout
  asm FILE... -o OUT    assemble (GNU as syntax, .S through the C preprocessor) and link
  disasm FILE           disassemble an ELF file (or raw bytes with --base), objdump -d style
  demo                  assemble the bundled guest and show its disassembly
  --help                this text; \`vmx-lab <command> --help\` for a command's options

${RUN_USAGE}

${ASM_USAGE}

${DISASM_USAGE}
`;

/**
 * Runs one command line; returns the exit status (0 ok, 1 errors in input, 2 bad usage;
 * `run` has its own statuses, RUN_STATUS). `run` goes without host input here.
 */
export function runCli(argv: readonly string[], io: CliIo): number {
  const [cmd, ...rest] = argv;
  return guarded(io, () => {
    switch (cmd) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.stdout(USAGE);
        return cmd === undefined ? 2 : 0;
      case 'run':
        return runCommand(rest, io);
      case 'asm':
        return asmCommand(rest, io);
      case 'disasm':
        return disasmCommand(rest, io);
      case 'demo':
        return demoCommand(rest, io);
      default:
        throw new UsageError(`unknown command \`${cmd}' (try vmx-lab --help)`);
    }
  });
}

/** Like runCli, with `input` (the host's stdin) feeding the guest's COM1 during `vmx-lab run`. */
export async function runCliAsync(argv: readonly string[], io: CliIo, input: HostInput | undefined): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd !== 'run') return runCli(argv, io);
  try {
    return await runCommandAsync(rest, io, input);
  } catch (e) {
    return guarded(io, () => {
      throw e;
    });
  }
}

/** Runs `body`, turning exceptions into one line on stderr and an exit status (never a stack trace). */
function guarded(io: CliIo, body: () => number): number {
  try {
    return body();
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`vmx-lab: ${e.message}\n`);
      return 2;
    }
    if (e instanceof CliError) {
      io.stderr(`vmx-lab: ${e.message}\n`);
      return 1;
    }
    // Never a stack trace for users: one line saying what broke.
    io.stderr(`vmx-lab: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return RUN_STATUS.internalError;
  }
}
