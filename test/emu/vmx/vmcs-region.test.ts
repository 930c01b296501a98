// Where the current VMCS lives (SDM Vol. 3C §24.2, §24.11.1): our fields are read and written in
// the VMCS region's memory through typed-array views, so the region in memory and VMREAD/
// VMWRITE always agree (tools read it, tests edit it); a region outside RAM is kept in the
// processor while current and written back when VMCLEAR or VMPTRLD makes it not current.
import { beforeEach, describe, expect, it } from 'vitest';
import type { MmioDevice } from '../../../src/emu/memory/physical-memory';
import { VMCS_REVISION_ID } from '../../../src/emu/vmx/capabilities';
import { OFF } from '../../../src/emu/vmx/vmcs';
import { VMCS_LAUNCH_STATE_OFFSET } from '../../../src/emu/vmx/vmcs-fields';
import { Rig, SCRATCH, VMCS2_REGION, VMCS_REGION } from './rig';

const GUEST_RIP = 0x681e;
/** Device memory that stores what is written (a VMCS there reads back its revision identifier). */
const DEVICE = 0xe0000000;

class DeviceRam implements MmioDevice {
  readonly bytes = new Uint8Array(4096);
  readonly view = new DataView(this.bytes.buffer);
  writes = 0;
  mmioRead(offset: number, size: 1 | 2 | 4): number {
    return size === 4 ? this.view.getUint32(offset, true) : size === 2 ? this.view.getUint16(offset, true) : this.bytes[offset];
  }
  mmioWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    this.writes++;
    if (size === 4) this.view.setUint32(offset, value, true);
    else if (size === 2) this.view.setUint16(offset, value, true);
    else this.bytes[offset] = value;
  }
}

let rig: Rig;
beforeEach(() => {
  rig ??= new Rig();
  rig.reset();
  rig.enterVmx();
});

/** VMWRITE of `value` to `encoding` in the current VMCS (must succeed). */
function vmwrite(encoding: number, value: number): void {
  rig.runHost(`movl $${encoding}, %edx\nmovl $${value}, %eax\nvmwrite %rax, %rdx`);
  expect(rig.outcome()).toBe('succeed');
}

/** VMREAD of `encoding` (must succeed). */
function vmread(encoding: number): number {
  rig.runHost(`movl $${encoding}, %edx\nvmread %rdx, %rax`);
  expect(rig.outcome()).toBe('succeed');
  return rig.reg(0);
}

/** VMPTRLD / VMCLEAR of the region at `ptr`. */
function pointerInsn(insn: 'vmptrld' | 'vmclear', ptr: number): string {
  rig.mem.write64(SCRATCH + 0x20, ptr, 0);
  rig.runHost(`${insn} ${SCRATCH + 0x20}`);
  return rig.outcome();
}

describe('SDM 24.11.1 the current VMCS and its region in memory', () => {
  it('VMWRITE lands in the region at once, and a store into the region (a debugger\'s edit) is what VMREAD returns', () => {
    vmwrite(GUEST_RIP, 0x1234);
    expect(rig.mem.read32(VMCS_REGION + OFF.GUEST_RIP)).toBe(0x1234);
    rig.mem.write32(VMCS_REGION + OFF.GUEST_RIP, 0x5678);
    rig.vmx.vmcsChanged();
    expect(vmread(GUEST_RIP)).toBe(0x5678);
  });

  it('VMPTRLD of another region and back: each region keeps its own fields', () => {
    vmwrite(GUEST_RIP, 0x1111);
    expect(pointerInsn('vmclear', VMCS2_REGION)).toBe('succeed');
    expect(pointerInsn('vmptrld', VMCS2_REGION)).toBe('succeed');
    vmwrite(GUEST_RIP, 0x2222);
    expect(pointerInsn('vmptrld', VMCS_REGION)).toBe('succeed');
    expect(vmread(GUEST_RIP)).toBe(0x1111);
    expect(rig.mem.read32(VMCS2_REGION + OFF.GUEST_RIP)).toBe(0x2222);
  });

  it('a region in device memory is kept in the processor while current, and written back by VMCLEAR', () => {
    const dev = new DeviceRam();
    rig.mem.addMmio('device RAM', DEVICE, 4096, dev);
    dev.view.setUint32(0, VMCS_REVISION_ID, true);
    expect(pointerInsn('vmclear', DEVICE)).toBe('succeed');
    expect(pointerInsn('vmptrld', DEVICE)).toBe('succeed');
    const before = dev.writes;
    vmwrite(GUEST_RIP, 0xabcd);
    expect(vmread(GUEST_RIP)).toBe(0xabcd);
    expect(dev.writes).toBe(before); // nothing reached the device yet
    expect(pointerInsn('vmclear', DEVICE)).toBe('succeed');
    expect(dev.view.getUint32(OFF.GUEST_RIP, true)).toBe(0xabcd);
    expect(dev.view.getUint32(VMCS_LAUNCH_STATE_OFFSET, true)).toBe(0); // clear
    expect(rig.vmx.hasCurrentVmcs).toBe(false);
  });
});
