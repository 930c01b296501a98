import { describe, expect, it } from 'vitest';
import { EXIT_CONDITIONS, SENSITIVE_UNPRIVILEGED, exitConditionsFor, exitConditionText } from '../../../src/emu/vmx/exit-conditions';
import { exitReason } from '../../../src/emu/vmx/exit-reasons';
import { CONTROL_BY_NAME } from '../../../src/emu/vmx/controls';
import { fieldByName } from '../../../src/emu/vmx/vmcs-fields';
import { FORMS_BY_MNEMONIC } from '../../../src/emu/cpu/isa/opcodes';

describe('exit conditions (SDM 25.1.2, 25.1.3, 25.2)', () => {
  it('uses mnemonics and encodings that exist in the ISA table (opcodes.ts)', () => {
    for (const c of [...EXIT_CONDITIONS, ...SENSITIVE_UNPRIVILEGED]) {
      const forms = FORMS_BY_MNEMONIC.get(c.mnemonic);
      expect(forms, c.mnemonic).toBeDefined();
      if ('form' in c && c.form !== undefined) {
        const { map, opcode } = c.form;
        expect(forms!.some((f) => f.map === map && f.opcode === opcode), `${c.what}`).toBe(true);
      }
    }
  });

  it('names existing exit reasons, controls and VMCS fields', () => {
    for (const c of EXIT_CONDITIONS) {
      expect(exitReason(c.reason), c.what).toBeDefined();
      for (const n of c.controls) expect(CONTROL_BY_NAME.has(n), `${c.what}: ${n}`).toBe(true);
      for (const n of c.fields) expect(fieldByName(n), `${c.what}: ${n}`).toBeDefined();
      if (c.rule === 'always') expect(c.controls, c.what).toEqual([]);
      // A plain control rule can only fire if our core lets software set every control.
      if (c.rule === 'control') for (const n of c.controls) expect(CONTROL_BY_NAME.get(n)!.bit.supported, `${c.what}: ${n}`).toBe(true);
      // Secondary controls take effect only with "activate secondary controls".
      if (c.controls.some((n) => n.startsWith('SECONDARY_EXEC_'))) expect(c.controls, c.what).toContain('CPU_BASED_ACTIVATE_SECONDARY_CONTROLS');
    }
  });

  it('covers the unconditional list of SDM 25.1.2 and the conditional instructions of 25.1.3', () => {
    const always = EXIT_CONDITIONS.filter((c) => c.rule === 'always').map((c) => c.mnemonic).sort();
    expect(always).toEqual(['cpuid', 'getsec', 'invd', 'invept', 'invvpid', 'vmcall', 'vmclear', 'vmlaunch', 'vmptrld', 'vmptrst', 'vmread',
      'vmresume', 'vmwrite', 'vmxoff', 'vmxon', 'xsetbv']);
    for (const m of ['clts', 'hlt', 'in', 'ins', 'insb', 'out', 'outs', 'outsb', 'invlpg', 'invpcid', 'lgdt', 'lidt', 'lldt', 'ltr', 'sgdt', 'sidt',
      'sldt', 'str', 'lmsw', 'monitor', 'mwait', 'pause', 'rdmsr', 'wrmsr', 'rdpmc', 'rdtsc', 'rdtscp', 'rsm', 'wbinvd', 'vmfunc']) {
      expect(exitConditionsFor(m).length, m).toBeGreaterThan(0);
    }
    const movs = exitConditionsFor('mov').map((c) => c.what);
    expect(movs).toEqual(['MOV from CR3', 'MOV from CR8', 'MOV to CR0', 'MOV to CR3', 'MOV to CR4', 'MOV to CR8', 'MOV from DR', 'MOV to DR']);
    expect(exitConditionsFor('add')).toEqual([]);
  });

  it('gives hover text with the SDM section', () => {
    expect(exitConditionText(exitConditionsFor('vmread')[0])).toBe('VMREAD: always exits in VMX non-root operation (no VMCS shadowing on this core) (SDM 25.1.2)');
    expect(exitConditionText(exitConditionsFor('hlt')[0])).toBe('HLT: exits when "HLT exiting" is 1 (SDM 25.1.3)');
    expect(exitConditionText(exitConditionsFor('rdtscp')[0])).toContain('#UD when "enable RDTSCP" is 0');
  });

  it('lists the sensitive-but-unprivileged instructions, none of which exits unconditionally', () => {
    expect(SENSITIVE_UNPRIVILEGED.map((s) => s.mnemonic)).toEqual(expect.arrayContaining(['sgdt', 'sidt', 'sldt', 'str', 'smsw', 'pushf', 'popf']));
    for (const s of SENSITIVE_UNPRIVILEGED) {
      const conds = exitConditionsFor(s.mnemonic);
      expect(conds.every((c) => c.rule !== 'always'), s.mnemonic).toBe(true);
      if (s.exitControl === undefined) expect(conds, s.mnemonic).toEqual([]);
      else expect(conds.some((c) => c.controls.includes(s.exitControl!)), s.mnemonic).toBe(true);
    }
  });
});
