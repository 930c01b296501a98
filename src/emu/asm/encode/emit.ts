// Writes one chosen encoding: legacy prefixes in GNU as order, mandatory prefix, REX,
// opcode, ModRM/SIB/displacement, then immediates (SDM Vol. 2 §2.1 instruction format).
import { EncodeError, type CodeMode, type Encoded, type Value } from '../ast';
import type { RegInfo } from '../../cpu/isa/registers';
import { InsnBuilder } from './builder';
import type { MemEncoding, MemOperand } from './modrm';
import { PrefixSlot, REX_B, REX_R, REX_W, SEGMENT_PREFIX, type PrefixSet } from './prefixes';

/** What sits in ModRM.rm: a register number (0-15) or an encoded memory operand. */
export type RmTarget =
  | { readonly kind: 'reg'; readonly num: number }
  | { readonly kind: 'mem'; readonly enc: MemEncoding; readonly op: MemOperand };

export interface ImmField {
  readonly value: Value;
  readonly size: 1 | 2 | 4 | 8;
  /** Sign-extended by the CPU to a wider operand (R_X86_64_32S for a 4-byte field in 64-bit code). */
  readonly signed: boolean;
}

/** Everything the writer needs once an encoding has been chosen. */
export interface EncodingPlan {
  /** Mandatory prefix (66, F2 or F3) that belongs to the opcode, written right before REX. */
  readonly mandatory?: number;
  readonly opcode: readonly number[];
  /** Register number (0-15) added to the low three bits of the last opcode byte (the +r forms). */
  readonly opreg?: number;
  readonly modrm?: { readonly reg: number; readonly rm: RmTarget };
  /** The operand-size prefix 66 (operand size other than the mode's default, SDM Vol. 2 §2.1.1). */
  readonly opsizePrefix: boolean;
  readonly rexW: boolean;
  /** Address size, when a memory operand or moffs sets it (67 is written when it differs from the mode's). */
  readonly addrSize?: 16 | 32 | 64;
  /** Segment override written on a memory operand (`%fs:...`). */
  readonly seg?: RegInfo;
  /** Default segment of the memory operand: an override naming it is dropped, as GNU as does. */
  readonly defaultSeg?: 'ds' | 'ss';
  /** A symbolic disp32 in 64-bit addressing is relocated zero-extended (lea to a 32-bit register). */
  readonly dispUnsigned?: boolean;
  /** Displacement-only field of the moffs forms (A0-A3) or of absolute far pointers. */
  readonly moffs?: ImmField;
  readonly imms: readonly ImmField[];
  /** Relative branch target (pcrel field after the opcode). */
  readonly rel?: { readonly value: Value; readonly size: 1 | 2 | 4 };
  /** GPR operands, checked for the REX constraints of byte registers (SDM Vol. 2 §2.2.1.2). */
  readonly regs: readonly RegInfo[];
  /** The instruction accepts `lock` (SDM Vol. 2 LOCK: memory-destination forms of a fixed list). */
  readonly lockable: boolean;
}

/**
 * `wait`: the waiting x87 spelling (finit, fstsw, ...): FWAIT (9B) goes first, before the
 * instruction's own prefixes, as GNU as writes it (SDM Vol. 2 FINIT/FNINIT "9B DB E3").
 */
export function emitPlan(plan: EncodingPlan, prefixes: PrefixSet, mode: CodeMode, mnemonic: string, wait = false): Encoded {
  const p = prefixes;
  if (p.lock && !plan.lockable) throw new EncodeError(`expecting lockable instruction after \`lock'`);
  const legacy = p.slot.slice();
  const setSlot = (slot: PrefixSlot, byte: number, explicit: boolean) => {
    if (legacy[slot] !== 0 && !explicit) throw new EncodeError('same type of prefix used twice');
    legacy[slot] = byte;
  };
  if (plan.seg !== undefined && plan.seg.name !== plan.defaultSeg) setSlot(PrefixSlot.Seg, SEGMENT_PREFIX[plan.seg.name], false);
  if (plan.addrSize !== undefined && plan.addrSize !== mode && !(mode === 64 && plan.addrSize === 64)) {
    setSlot(PrefixSlot.Addr, 0x67, p.explicitAddr);
  }
  if (plan.opsizePrefix) setSlot(PrefixSlot.Data, 0x66, false);

  let rex = p.explicitRex >= 0 ? p.explicitRex : 0;
  let needRex = p.explicitRex >= 0;
  if (plan.rexW) {
    if (mode !== 64) throw new EncodeError(`64-bit operand size is only available in 64-bit mode (\`${mnemonic}')`);
    rex |= REX_W;
  }
  if (plan.opreg !== undefined && plan.opreg >= 8) rex |= REX_B;
  if (plan.modrm) {
    if (plan.modrm.reg >= 8) rex |= REX_R;
    const rm = plan.modrm.rm;
    if (rm.kind === 'reg') {
      if (rm.num >= 8) rex |= REX_B;
    } else {
      rex |= rm.enc.rex;
    }
  }
  if (rex !== 0) needRex = true;
  const operandNeedsRex = rex !== (p.explicitRex >= 0 ? p.explicitRex : 0) || plan.regs.some((r) => r.needsRex);
  for (const r of plan.regs) if (r.needsRex) needRex = true;
  if (needRex && mode !== 64) {
    const r = plan.regs.find((x) => x.needsRex);
    throw new EncodeError(r ? `bad register name \`%${r.name}'` : `REX prefix is only available in 64-bit mode (\`${mnemonic}')`);
  }
  if (operandNeedsRex) {
    const hb = plan.regs.find((r) => r.highByte);
    if (hb) throw new EncodeError(`can't encode register '%${hb.name}' in an instruction requiring REX prefix.`);
  }

  const out = new InsnBuilder();
  if (wait) out.byte(0x9b);
  for (const b of legacy) if (b !== 0) out.byte(b);
  if (plan.mandatory !== undefined) out.byte(plan.mandatory);
  if (needRex) out.byte(0x40 | rex);
  const op = plan.opcode;
  for (let i = 0; i < op.length; i++) out.byte(i === op.length - 1 && plan.opreg !== undefined ? op[i] | (plan.opreg & 7) : op[i]);

  if (plan.modrm) {
    const { reg, rm } = plan.modrm;
    if (rm.kind === 'reg') {
      out.byte(0xc0 | ((reg & 7) << 3) | (rm.num & 7));
    } else {
      const e = rm.enc;
      out.byte((e.mod << 6) | ((reg & 7) << 3) | e.rm);
      if (e.sib !== undefined) out.byte(e.sib);
      if (e.dispSize !== 0) {
        if (e.ripRel && e.disp.symbol !== undefined) out.pcrel(e.disp, 4, false);
        else out.field(e.disp, e.dispSize, e.addrSize === 64 && !plan.dispUnsigned);
      }
    }
  }
  if (plan.moffs) out.field(plan.moffs.value, plan.moffs.size, plan.moffs.signed);
  if (plan.rel) out.pcrel(plan.rel.value, plan.rel.size, true);
  for (const imm of plan.imms) out.field(imm.value, imm.size, imm.signed);
  return out.finish();
}
