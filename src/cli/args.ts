// Command-line parsing for vmx-lab: GNU-style options (`--base ADDR`, `--base=ADDR`,
// `-o OUT`, `-oOUT`, `-D NAME=VAL`, `-DNAME`, `-I DIR`), repeatable where they make sense.

export class UsageError extends Error {}

export interface OptionSpec {
  /** Takes a value. */
  readonly value: boolean;
  /** May be given more than once (values collected in order). */
  readonly repeat?: boolean;
}

export interface ParsedArgs {
  readonly positional: string[];
  readonly options: Map<string, string[]>;
}

export function parseArgs(argv: readonly string[], spec: Readonly<Record<string, OptionSpec>>): ParsedArgs {
  const positional: string[] = [];
  const options = new Map<string, string[]>();
  const put = (name: string, v: string) => {
    const s = spec[name];
    const list = options.get(name) ?? [];
    if (list.length > 0 && !s.repeat) throw new UsageError(`option ${name} given more than once`);
    list.push(v);
    options.set(name, list);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    let name = a;
    let inline: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      name = a.slice(0, eq);
      inline = a.slice(eq + 1);
    } else if (!a.startsWith('--') && a.length > 2) {
      name = a.slice(0, 2);
      inline = a.slice(2);
    }
    const s = spec[name];
    if (!s) throw new UsageError(`unknown option ${name}`);
    if (!s.value) {
      if (inline !== undefined) throw new UsageError(`option ${name} takes no value`);
      put(name, '');
      continue;
    }
    if (inline === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`option ${name} needs a value`);
      inline = argv[++i];
    }
    put(name, inline);
  }
  return { positional, options };
}

/** An address or number as C would read it: 0x..., 0..., decimal; also `0x_` free of suffixes. */
export function parseAddress(text: string, what: string): bigint {
  const t = text.trim();
  if (!/^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.test(t)) throw new UsageError(`${what}: invalid address \`${text}' (use hex like 0x100000 or decimal)`);
  const v = t.startsWith('0x') || t.startsWith('0X') ? BigInt(t) : t.length > 1 && t.startsWith('0') ? BigInt(`0o${t.slice(1)}`) : BigInt(t);
  if (v >= 1n << 64n) throw new UsageError(`${what}: address \`${text}' does not fit in 64 bits`);
  return v;
}
