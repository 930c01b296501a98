import { describe, expect, it } from 'vitest';
import { IoBus, IrqRouter } from '../../../src/emu/devices/io-bus.js';
import { COM1_BASE, COM1_IRQ, Uart16550, registerUart } from '../../../src/emu/devices/uart16550.js';

const THR = COM1_BASE;
const IER = COM1_BASE + 1;
const IIR = COM1_BASE + 2;
const FCR = COM1_BASE + 2;
const LCR = COM1_BASE + 3;
const MCR = COM1_BASE + 4;
const LSR = COM1_BASE + 5;
const MSR = COM1_BASE + 6;
const SCR = COM1_BASE + 7;

function setup() {
  const bus = new IoBus();
  const irqs = new IrqRouter();
  const uart = new Uart16550(irqs.line(COM1_IRQ));
  registerUart(bus, uart);
  const out: number[] = [];
  uart.onOutput = (b) => out.push(b);
  const irq = () => irqs.line(COM1_IRQ).asserted;
  return { bus, uart, out, irq };
}

describe('16550A UART (PC16550D datasheet)', () => {
  it('Table II: DLAB=1 maps the divisor latch over RBR/THR and IER', () => {
    const { bus, out } = setup();
    bus.out(LCR, 1, 0x80);
    bus.out(THR, 1, 0x01); // DLL
    bus.out(IER, 1, 0x00); // DLM
    expect(bus.in(THR, 1)).toBe(0x01);
    bus.out(LCR, 1, 0x03); // 8N1, DLAB=0
    expect(bus.in(LCR, 1)).toBe(0x03);
    bus.out(THR, 1, 0x41);
    expect(out).toEqual([0x41]);
    expect(bus.in(IER, 1)).toBe(0x00);
  });

  it('§8.5 LSR: THRE and TEMT idle high; DR follows received data', () => {
    const { bus, uart } = setup();
    expect(bus.in(LSR, 1)).toBe(0x60);
    uart.receive([0x61, 0x62]);
    expect(bus.in(LSR, 1)).toBe(0x61);
    expect(bus.in(THR, 1)).toBe(0x61);
    expect(bus.in(THR, 1)).toBe(0x62);
    expect(bus.in(LSR, 1) & 1).toBe(0);
  });

  it('Table IV: THR-empty interrupt on enable, cleared by reading IIR; IRQ4 gated by MCR.OUT2', () => {
    const { bus, irq } = setup();
    expect(bus.in(IIR, 1)).toBe(0x01);
    bus.out(IER, 1, 0x02);
    expect(irq()).toBe(false); // OUT2 clear: the PC's IRQ gate is closed
    bus.out(MCR, 1, 0x0B); // DTR, RTS, OUT2
    expect(irq()).toBe(true);
    expect(bus.in(IIR, 1)).toBe(0x02);
    expect(irq()).toBe(false);
    expect(bus.in(IIR, 1)).toBe(0x01);
    bus.out(THR, 1, 0x20); // a write empties at once and re-raises THRE
    expect(irq()).toBe(true);
  });

  it('Table IV priorities: line status > received data > THR empty > modem status', () => {
    const { bus, uart } = setup();
    bus.out(IER, 1, 0x0F);
    bus.out(MCR, 1, 0x08);
    uart.receive([1]);
    uart.sendBreak();
    expect(bus.in(IIR, 1)).toBe(0x06);
    expect(bus.in(LSR, 1) & 0x10).toBe(0x10); // BI, cleared by the read
    expect(bus.in(IIR, 1)).toBe(0x04);
    bus.in(THR, 1);
    bus.in(THR, 1);
    expect(bus.in(IIR, 1)).toBe(0x02);
    expect(bus.in(IIR, 1)).toBe(0x01);
  });

  it('§8.6 FCR: FIFO mode shows 0xC0 in IIR; below the trigger level data gives the timeout id 0xC', () => {
    const { bus, uart, irq } = setup();
    bus.out(FCR, 1, 0xC7); // enable, clear both, trigger 14
    expect(bus.in(IIR, 1)).toBe(0xC1);
    bus.out(IER, 1, 0x01);
    bus.out(MCR, 1, 0x08);
    uart.receive(new Uint8Array(3));
    expect(bus.in(IIR, 1)).toBe(0xCC);
    uart.receive(new Uint8Array(11));
    expect(bus.in(IIR, 1)).toBe(0xC4);
    expect(irq()).toBe(true);
    bus.out(FCR, 1, 0x03); // clear the receiver FIFO
    expect(bus.in(LSR, 1) & 1).toBe(0);
    expect(irq()).toBe(false);
  });

  it('"Loopback Mode": THR loops to RBR and MSR shows RTS/DTR/OUT1/OUT2 as CTS/DSR/RI/DCD', () => {
    const { bus, out, irq } = setup();
    // Linux 8250 autoconfig: MCR = LOOP | OUT2 | RTS must read back MSR & 0xF0 = DCD | CTS.
    bus.out(MCR, 1, 0x1A);
    expect(bus.in(MSR, 1) & 0xF0).toBe(0x90);
    bus.out(THR, 1, 0x55);
    expect(out).toEqual([]);
    expect(bus.in(LSR, 1) & 1).toBe(1);
    expect(bus.in(THR, 1)).toBe(0x55);
    bus.out(IER, 1, 0x01);
    bus.out(THR, 1, 0x56);
    expect(irq()).toBe(false); // interrupts stay inside the chip in loopback
    bus.out(MCR, 1, 0x1F);
    expect(bus.in(MSR, 1)).toBe(0xF0 | 0x02); // DDSR: DSR changed since the last read
    bus.out(MCR, 1, 0x1B); // OUT1 (RI) falls: TERI
    expect(bus.in(MSR, 1) & 0x0F).toBe(0x04);
  });

  it('the scratch register holds any value', () => {
    const { bus } = setup();
    bus.out(SCR, 1, 0xA5);
    expect(bus.in(SCR, 1)).toBe(0xA5);
  });

  it('snapshot shows the register state for the debugger', () => {
    const { bus, uart } = setup();
    bus.out(LCR, 1, 0x83);
    bus.out(THR, 1, 0x0C);
    bus.out(LCR, 1, 0x03);
    uart.receive([1, 2, 3]);
    expect(uart.snapshot()).toMatchObject({ lcr: 0x03, divisor: 0x0C, rxQueued: 3, lsr: 0x61 });
  });
});
