// Every command, as one record of factories keyed like COMMANDS in ids.ts: a factory gets
// the context once at activation and returns the handler VS Code calls.
import { assembleFile } from './assemble';
import type { Ctx } from './ctx';
import { disassembleFile } from './disassemble';
import type { CommandName } from './ids';

export type CommandFactory = (ctx: Ctx) => (...args: never[]) => unknown;

export const COMMAND_FACTORIES: Readonly<Record<CommandName, CommandFactory>> = {
  assembleFile,
  disassembleFile,
};
