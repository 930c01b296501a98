/**
 * What a VM exit tells the VMM about the instruction that caused it (SDM Vol. 3C §27.2.5):
 * the VM-exit instruction-information field, whose layout depends on the instruction
 * (Tables 27-8 INS/OUTS, 27-9 INVEPT/INVPCID/INVVPID, 27-10 LIDT/LGDT/SIDT/SGDT, 27-11
 * LLDT/LTR/SLDT/STR, 27-13 VMCLEAR/VMPTRLD/VMPTRST/VMXON, 27-14 VMREAD/VMWRITE), and the
 * exit qualification of instructions with a memory operand (§27.2.1: the displacement,
 * sign-extended). Built from the decoded instruction, allocation-free.
 */

import { REG_RIP, SEG_DS, SEG_SS, type DecodedInsn } from '../cpu/decoder';

/** Address-size code (bits 9:7): 0 = 16-bit, 1 = 32-bit, 2 = 64-bit. */
export function addressSizeCode(d: DecodedInsn): number {
  return d.addrSize === 2 ? 0 : d.addrSize === 4 ? 1 : 2;
}

/** The segment register a memory operand uses (override, or SS for rSP/rBP bases, else DS). */
export function operandSegment(d: DecodedInsn): number {
  if (d.seg >= 0) return d.seg;
  return d.base === 4 || d.base === 5 ? SEG_SS : SEG_DS;
}

/**
 * The memory-operand part shared by Tables 27-9..27-14: scaling (1:0), address size (9:7),
 * segment (17:15), index register (21:18) with its invalid bit (22), base register (26:23)
 * with its invalid bit (27). A RIP-relative operand has no base register.
 */
export function memoryOperandInfo(d: DecodedInsn): number {
  let info = d.scale | (addressSizeCode(d) << 7) | (operandSegment(d) << 15);
  info |= d.index >= 0 ? (d.index & 15) << 18 : 1 << 22;
  info |= d.base >= 0 && d.base !== REG_RIP ? (d.base & 15) << 23 : 1 << 27;
  return info;
}

/** VMREAD/VMWRITE (Table 27-14): Reg1 (6:3) or memory, mem/reg (10), Reg2 (31:28) = the encoding register. */
export function vmreadWriteInfo(d: DecodedInsn): number {
  const reg2 = (d.reg & 15) << 28;
  if (d.mod === 3) return ((d.rm & 15) << 3) | (addressSizeCode(d) << 7) | (1 << 10) | reg2;
  return memoryOperandInfo(d) | reg2;
}

/** INVEPT/INVPCID/INVVPID (Table 27-9): memory operand and Reg2 (31:28) = the type register. */
export function invalidationInfo(d: DecodedInsn): number {
  return memoryOperandInfo(d) | ((d.reg & 15) << 28);
}

/** LGDT/LIDT/SGDT/SIDT (Table 27-10): operand size (11), identity (29:28: 0 SGDT, 1 SIDT, 2 LGDT, 3 LIDT). */
export function descriptorTableInfo(d: DecodedInsn, identity: number): number {
  return memoryOperandInfo(d) | ((d.opSize === 2 ? 0 : 1) << 11) | (identity << 28);
}

/** LLDT/LTR/SLDT/STR (Table 27-11): Reg1 (6:3) or memory, mem/reg (10), identity (29:28: 0 SLDT, 1 STR, 2 LLDT, 3 LTR). */
export function systemSegmentInfo(d: DecodedInsn, identity: number): number {
  if (d.mod === 3) return ((d.rm & 15) << 3) | (addressSizeCode(d) << 7) | (1 << 10) | (identity << 28);
  return memoryOperandInfo(d) | (identity << 28);
}

/** INS/OUTS (Table 27-8): address size (9:7) and, for OUTS, the source segment (17:15). */
export function stringIoInfo(d: DecodedInsn, outs: boolean): number {
  return (addressSizeCode(d) << 7) | ((outs ? (d.seg >= 0 ? d.seg : SEG_DS) : 0) << 15);
}

/** Exit qualification for memory-operand instructions: the displacement, sign-extended (§27.2.1). High half. */
export function displacementHi(d: DecodedInsn): number {
  return d.mod === 3 || d.disp >= 0 ? 0 : -1;
}
