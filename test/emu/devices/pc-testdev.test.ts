// QEMU's pc-testdev (hw/misc/pc-testdev.c): the scratch register at 0xE0, the flush-page
// port 0xE4, the interrupt lines at 0x2000+n and the RAM-like window at 0xFF000000, alone
// and inside the machine (`testDevice: true`), driven by a small Multiboot kernel.
import { describe, expect, it } from 'vitest';
import { IoBus, IrqRouter } from '../../../src/emu/devices/io-bus.js';
import { installPcTestdev, TESTDEV_IOMEM_BASE } from '../../../src/emu/devices/pc-testdev.js';
import { createMachine } from '../../../src/emu/machine.js';
import { PcBoard } from '../../../src/emu/machine/pc-board.js';
import { PhysicalMemory } from '../../../src/emu/memory/physical-memory.js';
import { exitAsm, miniKernel } from '../../support/mini-kernel.js';

function standalone() {
  const io = new IoBus();
  const memory = new PhysicalMemory({ ramSize: 4 << 20 });
  const irqs = new IrqRouter();
  const pins: [number, boolean][] = [];
  const isa: [number, boolean][] = [];
  irqs.connect({ setIrq: (irq, level) => isa.push([irq, level]) });
  const flushed: number[] = [];
  const dev = installPcTestdev({ io, memory, irqs, ioapic: { setPin: (pin, high) => pins.push([pin, high]) } }, (a) => flushed.push(a));
  return { io, memory, dev, pins, isa, flushed };
}

describe('pc-testdev scratch register (ports 0xE0-0xE3)', () => {
  it('holds what is written at every width and offset, read back at any width', () => {
    const { io } = standalone();
    io.out(0xE0, 4, 0x44332211);
    expect(io.in(0xE0, 4)).toBe(0x44332211);
    expect(io.in(0xE0, 1)).toBe(0x11);
    expect(io.in(0xE2, 1)).toBe(0x33);
    expect(io.in(0xE1, 2)).toBe(0x3322);
    io.out(0xE2, 2, 0xBBAA); // bytes 2-3 only
    expect(io.in(0xE0, 4)).toBe(0xBBAA2211);
    io.out(0xE1, 1, 0xCC);
    expect(io.in(0xE0, 4)).toBe(0xBBAACC11);
    expect(io.in(0xE0, 2)).toBe(0xCC11);
  });

  it('bytes past 0xE3 belong to the next port: a dword read at 0xE2 takes bytes 2-3 and two zeros from 0xE4', () => {
    const { io } = standalone();
    io.out(0xE0, 4, 0xDDCCBBAA);
    expect(io.in(0xE2, 4)).toBe(0x0000DDCC);
  });
});

describe('pc-testdev flush-page port (0xE4)', () => {
  it('a 32-bit OUT passes the page of the address to the machine; narrower writes and reads do nothing', () => {
    const { io, flushed } = standalone();
    io.out(0xE4, 4, 0x00123ABC);
    io.out(0xE4, 1, 0x55);
    io.out(0xE4, 2, 0x5555);
    expect(flushed).toEqual([0x00123000]);
    expect(io.in(0xE4, 4)).toBe(0);
  });
});

describe('pc-testdev interrupt lines (ports 0x2000-0x2017)', () => {
  it('a byte OUT of v sets line n to (v != 0): lines 0-15 are the ISA IRQs, 16-23 IOAPIC inputs', () => {
    const { io, isa, pins, dev } = standalone();
    io.out(0x200E, 1, 1);
    io.out(0x200E, 1, 0x80);
    io.out(0x200E, 1, 0);
    io.out(0x2000 + 17, 1, 7);
    expect(isa).toEqual([[14, true], [14, false]]);
    expect(pins).toEqual([[17, true]]);
    expect(dev.snapshot().irqLines).toBe(1 << 17);
  });

  it('only byte writes are decoded; reads return 0; 0x2018 is not the device', () => {
    const { io, isa, pins } = standalone();
    io.out(0x2003, 2, 1);
    io.out(0x2003, 4, 1);
    expect(io.in(0x2003, 1)).toBe(0);
    io.out(0x2018, 1, 1);
    expect(io.in(0x2018, 1)).toBe(0xFF);
    expect([...isa, ...pins]).toEqual([]);
  });

  it('on the board, line 14 reaches IOAPIC input 14 and the local APIC takes the vector', () => {
    const board = new PcBoard({ memorySize: 16 << 20 });
    installPcTestdev(board, () => {});
    const mem = board.memory;
    mem.write32(0xFEE000F0, 0x1FF); // software-enable the local APIC
    mem.write32(0xFEC00000, 0x10 + 2 * 14); // IOREDTBL[14] low: vector 0x41, fixed, edge, unmasked
    mem.write32(0xFEC00010, 0x41);
    mem.write32(0xFEC00000, 0x10 + 2 * 20); // IOREDTBL[20] low: vector 0x52
    mem.write32(0xFEC00010, 0x52);
    board.io.out(0x200E, 1, 1);
    board.io.out(0x2014, 1, 1);
    const irr = board.lapic.snapshot().irr;
    expect((irr[2] >>> 1) & 1).toBe(1); // vector 0x41
    expect((irr[2] >>> 18) & 1).toBe(1); // vector 0x52
    expect((board.irqs.levels() >>> 14) & 1).toBe(1); // the 8259A sees IRQ14 too
  });
});

describe('pc-testdev memory window (0xFF000000, 64 KiB)', () => {
  it('reads back what was written, at any width and alignment, across its pages', () => {
    const { memory, dev } = standalone();
    memory.write32(TESTDEV_IOMEM_BASE, 0x11223344);
    memory.write16(TESTDEV_IOMEM_BASE + 0x0FFF, 0xBEEF); // crosses into the second page
    memory.write8(TESTDEV_IOMEM_BASE + 0xFFFF, 0x5A);
    expect(memory.read32(TESTDEV_IOMEM_BASE) >>> 0).toBe(0x11223344);
    expect(memory.read8(TESTDEV_IOMEM_BASE + 1)).toBe(0x33);
    expect(memory.read16(TESTDEV_IOMEM_BASE + 0x0FFF)).toBe(0xBEEF);
    expect(memory.read8(TESTDEV_IOMEM_BASE + 0x1000)).toBe(0xBE);
    expect(memory.read8(TESTDEV_IOMEM_BASE + 0xFFFF)).toBe(0x5A);
    expect(dev.iomem[0xFFFF]).toBe(0x5A);
    // It is a device window, not RAM: the fast RAM path must not claim it.
    expect(memory.isRam(TESTDEV_IOMEM_BASE, 4)).toBe(false);
    // Just past it nothing answers (open bus).
    expect(memory.read32(TESTDEV_IOMEM_BASE + 0x10000) >>> 0).toBe(0xFFFFFFFF);
  });
});

describe('pc-testdev in the machine', () => {
  it('is absent unless configured: port 0xE0 and 0xFF000000 float high', () => {
    const m = createMachine({ memorySize: 16 << 20 });
    expect(m.board.io.in(0xE0, 1)).toBe(0xFF);
    expect(m.board.memory.read32(TESTDEV_IOMEM_BASE) >>> 0).toBe(0xFFFFFFFF);
  });

  // The kernel calls a routine placed alone in its own page (so the CPU has decoded
  // instructions there), asks the device to flush that page, copies a string through the
  // memory window with REP MOVSB, reads the scratch register back with REP INSB, and
  // exits with a value that says whether everything matched.
  const kernel = miniKernel(`
        movl    $0x90000, %esp          # Multiboot leaves ESP undefined
        call    far_routine
        movl    $far_routine, %eax
        outl    %eax, $0xe4
        movl    $0x64636261, %eax       # "abcd" into the scratch register
        outl    %eax, $0xe0
        movl    $0x00200000, %edi
        movw    $0xe0, %dx
        movl    $2, %ecx
        rep insb                        # two byte reads of port 0xE0: "aa"
        movl    $msg, %esi
        movl    $0xff000100, %edi
        movl    $8, %ecx
        rep movsb
        movl    $0xff000100, %esi
        movl    $0x00200002, %edi
        movl    $8, %ecx
        rep movsb
        movl    $0x00200000, %esi
        movl    $expect, %edi
        movl    $10, %ecx
        repe cmpsb
        jne     bad
${exitAsm(0x21)}
bad:
${exitAsm(0x22)}
msg:    .ascii  "testdev!"
expect: .ascii  "aatestdev!"
        .p2align 12
far_routine:
        ret
        .p2align 12
`);

  it('a kernel sees the scratch register and the window; the flush drops the decoded page', () => {
    const m = createMachine({ memorySize: 16 << 20, testDevice: true });
    m.boot({ kernel, kernelName: 'testdev-kernel' });
    const routine = m.bootInfo?.elf?.symbols.find((s) => s.name === 'far_routine');
    expect(routine).toBeDefined();
    const pfn = Number(routine?.value ?? 0n) / 4096;
    const stop = m.run({ maxInstructions: 100_000 });
    expect(stop).toEqual({ kind: 'debug-exit', value: 0x21, status: 0x43 });
    expect(m.board.memory.readBytes(TESTDEV_IOMEM_BASE + 0x100, 8)).toEqual(new TextEncoder().encode('testdev!'));
    // The routine's page held decoded instructions until the flush; the kernel never ran there again.
    expect(m.board.memory.hasCode(pfn)).toBe(false);
    expect(m.board.memory.hasCode(0x100)).toBe(true);
  });

  it('without the device the routine\'s page stays decoded (so the check above means something)', () => {
    const m = createMachine({ memorySize: 16 << 20 });
    m.boot({ kernel, kernelName: 'testdev-kernel' });
    const routine = m.bootInfo?.elf?.symbols.find((s) => s.name === 'far_routine');
    m.run({ maxInstructions: 100_000 });
    expect(m.board.memory.hasCode(Number(routine?.value ?? 0n) / 4096)).toBe(true);
  });
});
