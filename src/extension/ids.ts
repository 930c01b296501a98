// Every identifier the extension shares with package.json, written once. A test holds this
// module and the manifest's `contributes` against each other, so a renamed command or
// language cannot silently stop working.

/** The assembly language (contributes.languages, grammars, the language client's selector). */
export const LANGUAGE_ID = 'vmx-asm';

/** Command IDs (contributes.commands); the keys name the factories in commands.ts. */
export const COMMANDS = {
  assembleFile: 'vmxLab.assembleFile',
  disassembleFile: 'vmxLab.disassembleFile',
} as const;

export type CommandName = keyof typeof COMMANDS;

/** URI scheme of the read-only disassembly documents. */
export const DISASSEMBLY_SCHEME = 'vmx-lab-disasm';

/** The language client's id: VS Code reads its trace setting as `${id}.trace.server`. */
export const LANGUAGE_CLIENT_ID = 'vmxLabAsm';

export const OUTPUT_CHANNEL_NAME = 'VMX Lab';
