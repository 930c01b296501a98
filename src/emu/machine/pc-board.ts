// The PC around the CPU: memory, the virtual clock, the port-I/O bus, the ISA interrupt
// lines and the devices on them, wired as on a PC/AT with a local APIC and an IOAPIC (and
// as QEMU's `pc` machine places them, so kernels written for QEMU find everything where
// they look):
//
//   0x20/0xA0, 0x4D0  8259A pair + ELCR      0x40-0x43, 0x61  8254 PIT + port B
//   0x60/0x64         i8042 (reset, A20)     0x70-0x71        CMOS RTC (IRQ8)
//   0x80, 0xE9        POST, debug console     0xF4 (config.)   isa-debug-exit
//   0x92, 0xCF9       reset controls          0x1F0-0x1F7,0x3F6 ATA primary channel (IRQ14)
//   0x2F8, 0x3F8      COM2 (IRQ3), COM1 (IRQ4) 0x510-0x511     QEMU fw_cfg
//   0x8900            Bochs/QEMU "Shutdown"    0xFEC00000       IOAPIC   0xFEE00000 local APIC
//   0xF0000           ACPI tables (RSDP, RSDT, XSDT, MADT, FADT, FACS, DSDT)
//
// With several logical processors (`cpus`), each has its own local APIC (APIC IDs 0..N-1,
// one InterruptHub each); the APICs share the xAPIC page and exchange IPIs over an ApicBus,
// the IOAPIC routes to all of them, the 8259A's INT output reaches every LINT0 (only the
// bootstrap processor's is in ExtINT mode after power-up), the MADT lists every processor
// and fw_cfg reports their number.
import { MemoryDisk, AtaChannel, ATA_PRIMARY_IRQ, registerAta, type DiskBackingStore } from '../devices/ata.js';
import { CmosRtc, registerCmos } from '../devices/cmos-rtc.js';
import { DebugPorts, registerDebugPorts, registerResetControl, ResetControl, DEFAULT_EXIT_PORT } from '../devices/debug-ports.js';
import { FwCfg, registerFwCfg } from '../devices/fw-cfg.js';
import { I8042, I8042_IRQ, registerI8042 } from '../devices/i8042.js';
import { InterruptHub, IoBus, IrqRouter } from '../devices/io-bus.js';
import { IoApic, registerIoApic } from '../devices/ioapic.js';
import { LocalApic } from '../devices/local-apic.js';
import { ApicBus } from '../devices/apic-bus.js';
import { Pic8259Pair, registerPic } from '../devices/pic8259.js';
import { Pit8254, registerPit } from '../devices/pit8254.js';
import { COM1_BASE, COM1_IRQ, registerUart, Uart16550 } from '../devices/uart16550.js';
import { installAcpiTables, type AcpiImage } from '../loader/acpi.js';
import { PhysicalMemory } from '../memory/physical-memory.js';
import { MachineClock } from './machine-clock.js';

export const COM2_BASE = 0x2F8;
export const COM2_IRQ = 3;

export interface BoardConfig {
  /** RAM in bytes (default 128 MiB, as QEMU's default). */
  memorySize?: number;
  /** isa-debug-exit port (default 0xF4; lvisor-style setups use 0x501). */
  exitPort?: number;
  /** TSC frequency in Hz (default 2 GHz). */
  tscHz?: number;
  /** Nominal instructions per second of virtual time (default 100 M). */
  instructionsPerSecond?: number;
  /** RTC time at power-on, seconds since 1970 (default 2024-01-01: runs are reproducible). */
  rtcEpochSeconds?: number;
  /** The disk on the primary ATA channel: its bytes, or a store such as a host file (none by default). */
  disk?: Uint8Array | DiskBackingStore;
  /**
   * Optional local APIC features, advertised by CPUID exactly when present (default: both,
   * as on the Ivy Bridge core CPUID names). QEMU 7.2's TCG has neither, so comparisons with
   * it turn them off.
   */
  apic?: { x2apic?: boolean; tscDeadline?: boolean };
  /** Logical processors (default 1, at most MAX_CPUS): one local APIC each, APIC IDs 0..N-1. */
  cpus?: number;
}

/** Most logical processors a machine can have (xAPIC IDs 0..254 fit the MADT; 64 is plenty here). */
export const MAX_CPUS = 64;

export class PcBoard {
  readonly memory: PhysicalMemory;
  readonly clock: MachineClock;
  readonly io = new IoBus();
  readonly irqs = new IrqRouter();
  readonly pic = new Pic8259Pair();
  readonly pit: Pit8254;
  /** COM1 and COM2. */
  readonly uarts: readonly Uart16550[];
  readonly cmos: CmosRtc;
  readonly debugPorts: DebugPorts;
  readonly resetControl = new ResetControl();
  readonly i8042: I8042;
  readonly ata: AtaChannel;
  readonly fwCfg: FwCfg;
  /** The bootstrap processor's local APIC (lapics[0]). */
  readonly lapic: LocalApic;
  /** Every processor's local APIC, index = APIC ID. */
  readonly lapics: readonly LocalApic[];
  /** The bus between the APICs of a multiprocessor (undefined with one processor). */
  readonly apicBus: ApicBus | undefined;
  readonly ioapic: IoApic;
  /** The bootstrap processor's interrupt inputs (hubs[0]). */
  readonly interrupts: InterruptHub;
  /** Every processor's interrupt inputs (its local APIC, and the 8259A through its LINT0). */
  readonly hubs: readonly InterruptHub[];
  readonly acpi: AcpiImage;
  /** The local APIC's optional features (BoardConfig.apic with the defaults applied). */
  readonly apicFeatures: { readonly x2apic: boolean; readonly tscDeadline: boolean };

  constructor(config: BoardConfig = {}) {
    this.memory = new PhysicalMemory({ ramSize: config.memorySize });
    this.clock = new MachineClock({ tscHz: config.tscHz, instructionsPerSecond: config.instructionsPerSecond });
    const { io, irqs, memory, clock } = this;

    irqs.connect(this.pic);
    registerPic(io, this.pic);
    this.pit = new Pit8254(clock, irqs.line(0));
    registerPit(io, this.pit);
    this.uarts = [new Uart16550(irqs.line(COM1_IRQ), COM1_BASE), new Uart16550(irqs.line(COM2_IRQ), COM2_BASE)];
    registerUart(io, this.uarts[0], COM1_BASE);
    registerUart(io, this.uarts[1], COM2_BASE);
    this.cmos = new CmosRtc(clock, irqs.line(8), { epochSeconds: config.rtcEpochSeconds, ramSize: memory.ramSize });
    registerCmos(io, this.cmos);
    this.debugPorts = new DebugPorts({ exitPort: config.exitPort ?? DEFAULT_EXIT_PORT });
    registerDebugPorts(io, this.debugPorts);
    registerResetControl(io, this.resetControl);
    this.i8042 = new I8042(irqs.line(I8042_IRQ));
    registerI8042(io, this.i8042);
    this.ata = new AtaChannel(irqs.line(ATA_PRIMARY_IRQ), config.disk instanceof Uint8Array ? new MemoryDisk(config.disk) : config.disk);
    registerAta(io, this.ata);
    const cpus = config.cpus ?? 1;
    if (!Number.isInteger(cpus) || cpus < 1 || cpus > MAX_CPUS) throw new RangeError(`the machine has 1 to ${MAX_CPUS} processors (got ${cpus})`);
    this.fwCfg = new FwCfg({ ramSize: memory.ramSize, cpus });
    registerFwCfg(io, this.fwCfg);

    this.apicFeatures = { x2apic: config.apic?.x2apic ?? true, tscDeadline: config.apic?.tscDeadline ?? true };
    this.apicBus = cpus > 1 ? new ApicBus(memory) : undefined;
    const lapics: LocalApic[] = [];
    for (let id = 0; id < cpus; id++) lapics.push(new LocalApic(clock, memory, { ...this.apicFeatures, apicId: id, bus: this.apicBus }));
    this.lapics = lapics;
    this.lapic = lapics[0];
    this.ioapic = new IoApic(lapics);
    registerIoApic(memory, irqs, this.ioapic, lapics);
    this.hubs = lapics.map((l) => new InterruptHub(this.pic, l));
    this.interrupts = this.hubs[0];
    if (cpus > 1) {
      // The 8259A's output fans out to every processor's LINT0 (each hub has its own view).
      const hubs = this.hubs;
      this.pic.onChange = () => {
        for (const h of hubs) h.update();
      };
    }
    this.acpi = installAcpiTables(memory, {
      localApicAddress: this.lapic.baseAddress,
      ioApic: { id: 0, address: this.ioapic.base, gsiBase: 0 },
      processors: lapics.map((_, id) => ({ uid: id, apicId: id })),
    });
  }

  /** Every device's state, for the debugger and tests. */
  snapshot(): Record<string, unknown> {
    return {
      clock: this.clock.snapshot(),
      pic: this.pic.snapshot(),
      pit: this.pit.snapshot(),
      com1: this.uarts[0].snapshot(),
      com2: this.uarts[1].snapshot(),
      cmos: this.cmos.snapshot(),
      i8042: this.i8042.snapshot(),
      ata: this.ata.snapshot(),
      fwCfg: this.fwCfg.snapshot(),
      lapic: this.lapic.snapshot(),
      ...(this.lapics.length > 1 ? { lapics: this.lapics.map((l) => l.snapshot()) } : {}),
      ioapic: this.ioapic.snapshot(),
      postCode: this.debugPorts.postCode,
      irqLevels: this.irqs.levels(),
    };
  }
}
