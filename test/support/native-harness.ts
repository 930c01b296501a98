// The host-CPU oracle's runner (test/support/native: harness.c + runner.S, built with gcc at
// test time): sequences of instruction bytes go in with a register state and a data page,
// and come back with the signal they raised (0 for none), the 16 GPRs, RFLAGS and the data
// page as the host CPU left them. Used by the integer and the x87/SSE differential tests.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

/** Size of the data page each sequence gets. */
export const NATIVE_MEM_SIZE = 4096;

/** The signal Linux sends for each exception vector in user mode. */
export function signalFor(vector: number): number {
  switch (vector) {
    case 0: case 16: case 19: return 8; // SIGFPE: #DE #MF #XM
    case 6: return 4; // SIGILL
    case 1: case 3: return 5; // SIGTRAP
    case 17: return 7; // SIGBUS
    default: return 11; // SIGSEGV: #GP #SS #PF #NP
  }
}

/** Compiles the harness into `dir`; returns the executable's path. */
export function buildNativeHarness(dir: string): string {
  const src = resolve(__dirname, 'native');
  const exe = join(dir, 'harness');
  const r = spawnSync('gcc', ['-O2', '-o', exe, join(src, 'harness.c'), join(src, 'runner.S')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc failed: ${r.stderr}`);
  return exe;
}

export interface NativeInput { readonly regs: readonly bigint[]; readonly rflags: bigint; readonly mem: Uint8Array }
export interface NativeResult { sig: number; regs: bigint[]; rflags: bigint; mem: Uint8Array }

/** Runs `codes[i]` from `inputs[i]` on the host CPU, all in one harness process. */
export function runNative(exe: string, inputs: readonly NativeInput[], codes: readonly Uint8Array[]): NativeResult[] {
  let size = 4;
  for (const c of codes) size += 17 * 8 + 4 + c.length + NATIVE_MEM_SIZE;
  const input = Buffer.alloc(size);
  let p = input.writeUInt32LE(inputs.length, 0);
  inputs.forEach((s, i) => {
    for (const r of s.regs) p = input.writeBigUInt64LE(r, p);
    p = input.writeBigUInt64LE(s.rflags, p);
    p = input.writeUInt32LE(codes[i].length, p);
    input.set(codes[i], p); p += codes[i].length;
    input.set(s.mem, p); p += NATIVE_MEM_SIZE;
  });
  const r = spawnSync(exe, [], { input, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`harness failed (${r.status}): ${r.stderr.toString()}`);
  const out = r.stdout;
  const res: NativeResult[] = [];
  let q = 0;
  for (let i = 0; i < inputs.length; i++) {
    const sig = out.readUInt32LE(q); q += 4;
    const regs: bigint[] = [];
    for (let k = 0; k < 16; k++) { regs.push(out.readBigUInt64LE(q)); q += 8; }
    const rflags = out.readBigUInt64LE(q); q += 8;
    const mem = new Uint8Array(out.subarray(q, q + NATIVE_MEM_SIZE)); q += NATIVE_MEM_SIZE;
    res.push({ sig, regs, rflags, mem });
  }
  return res;
}
