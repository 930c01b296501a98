import { describe, expect, it } from 'vitest';
import { FwCfg, FwCfgConfigError, registerFwCfg } from '../../../src/emu/devices/fw-cfg.js';
import { IoBus } from '../../../src/emu/devices/io-bus.js';

function setup(files: { name: string; data: Uint8Array }[] = []) {
  const bus = new IoBus();
  registerFwCfg(bus, new FwCfg({ ramSize: 256 << 20, files }));
  // The access pattern of kvm-unit-tests' fwcfg_get_u: a 16-bit OUT of the key, byte INs.
  const get = (key: number, n: number) => {
    bus.out(0x510, 2, key);
    return Array.from({ length: n }, () => bus.in(0x511, 1));
  };
  const num = (bytes: number[]) => bytes.reduce((v, b, i) => v + b * 2 ** (8 * i), 0);
  return { bus, get, num };
}

describe('QEMU fw_cfg (docs/specs/fw_cfg.rst, legacy I/O interface)', () => {
  it('"Signature" key 0x0000 reads "QEMU"; "Revision / feature bitmap" key 0x0001 has the traditional interface bit only', () => {
    const { get, num } = setup();
    expect(String.fromCharCode(...get(0x00, 4))).toBe('QEMU');
    expect(num(get(0x01, 4))).toBe(1);
  });

  it('the keys kvm-unit-tests reads: NB_CPUS (0x05), RAM_SIZE (0x03), MAX_CPUS (0x0f); its MAX_RAM (0x11) has no item and reads 0', () => {
    const { get, num } = setup();
    expect(num(get(0x05, 2))).toBe(1);
    expect(num(get(0x03, 8))).toBe(256 << 20);
    expect(num(get(0x0F, 2))).toBe(1);
    expect(num(get(0x04, 2))).toBe(1);
    expect(get(0x11, 8)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(num(get(0x8002, 4))).toBe(1);
  });

  it('"Selector (Control) Register": selecting rewinds the data offset; reads past the end return 0', () => {
    const { bus, get } = setup();
    expect(get(0x00, 6)).toEqual([0x51, 0x45, 0x4D, 0x55, 0, 0]);
    bus.out(0x510, 2, 0x00);
    expect(bus.in(0x511, 1)).toBe(0x51);
    expect(bus.in(0x511, 1)).toBe(0x45);
    bus.out(0x510, 2, 0x00);
    expect(bus.in(0x511, 1)).toBe(0x51);
  });

  it('"Register Locations" on x86: a byte write is a (discarded) data write, not a selection; a 16-bit write at 0x511 selects', () => {
    const { bus } = setup();
    bus.out(0x510, 2, 0x05);
    bus.out(0x510, 1, 0x00);
    expect(bus.in(0x511, 1)).toBe(1); // still NB_CPUS
    bus.out(0x511, 2, 0x00);
    expect(bus.in(0x510, 1)).toBe(0x51); // byte reads at either port return data
  });

  it('"File Directory" key 0x0019: big-endian count and entries sorted by name, keys from 0x20; file contents readable', () => {
    const { get } = setup([
      { name: 'etc/zeta', data: new Uint8Array([9, 8, 7]) },
      { name: 'etc/alpha', data: new Uint8Array([1, 2]) },
    ]);
    const dir = get(0x19, 4 + 2 * 64);
    expect(dir.slice(0, 4)).toEqual([0, 0, 0, 2]);
    const entry = (i: number) => {
      const e = dir.slice(4 + 64 * i, 4 + 64 * (i + 1));
      const size = (e[0] << 24) | (e[1] << 16) | (e[2] << 8) | e[3];
      const select = (e[4] << 8) | e[5];
      const name = String.fromCharCode(...e.slice(8, 8 + e.slice(8).indexOf(0)));
      return { size, select, name };
    };
    expect(entry(0)).toEqual({ size: 2, select: 0x20, name: 'etc/alpha' });
    expect(entry(1)).toEqual({ size: 3, select: 0x21, name: 'etc/zeta' });
    expect(get(0x21, 4)).toEqual([9, 8, 7, 0]);
    expect(get(0x4021, 1)).toEqual([9]); // the write-channel bit selects the same item
  });

  it('bad file names are configuration errors', () => {
    expect(() => setup([{ name: 'x'.repeat(56), data: new Uint8Array() }])).toThrow(FwCfgConfigError);
    expect(() => setup([{ name: 'a', data: new Uint8Array() }, { name: 'a', data: new Uint8Array() }])).toThrow(FwCfgConfigError);
  });
});
