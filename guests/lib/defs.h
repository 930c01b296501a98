/*
 * defs.h — constants shared by the VMX Lab guest kernels (guests/teach-os, guests/tests).
 * Each comment names where the value comes from, so you can look it up.
 */
#ifndef GUESTS_LIB_DEFS_H
#define GUESTS_LIB_DEFS_H

/* Multiboot v1 header (Multiboot Specification 0.6.96, 3.1.1). */
#define MB_HEADER_MAGIC   0x1BADB002
#define MB_PAGE_ALIGN     (1 << 0)
#define MB_MEMORY_INFO    (1 << 1)
#define MB_AOUT_KLUDGE    (1 << 16)    /* load addresses in the header: an ELF64 file boots too */
#define MB_BOOT_MAGIC     0x2BADB002   /* in %eax at entry */
/* Multiboot information structure (3.3): its fields, flags, module list and memory map. */
#define MBI_FLAGS         0
#define MBI_MEM_LOWER     4            /* KiB below 640 KiB (flag bit 0) */
#define MBI_MEM_UPPER     8            /* KiB from 1 MiB (flag bit 0) */
#define MBI_CMDLINE       16
#define MBI_MODS_COUNT    20           /* flag bit 3 */
#define MBI_MODS_ADDR     24
#define MBI_MMAP_LENGTH   44           /* flag bit 6 */
#define MBI_MMAP_ADDR     48
#define MBI_BOOT_LOADER_NAME 64        /* flag bit 9 */
#define MBI_SIZE          0x78         /* up to the framebuffer fields */
#define MBI_FLAG_MEMORY   (1 << 0)
#define MBI_FLAG_CMDLINE  (1 << 2)
#define MBI_FLAG_MODS     (1 << 3)
#define MBI_FLAG_MMAP     (1 << 6)
#define MBI_FLAG_LOADER_NAME (1 << 9)
/* A module list entry (3.3): mod_start, mod_end, string, reserved. */
#define MB_MOD_START      0
#define MB_MOD_END        4
#define MB_MOD_STRING     8
#define MB_MOD_SIZE       16
/* A memory map entry (3.3): size of the rest (20), base_addr, length, type. */
#define MB_MMAP_ENTRY_SIZE 24
#define MB_MMAP_AVAILABLE 1
#define MB_MMAP_RESERVED  2

/* Devices: 16550 UART on COM1, QEMU's isa-debug-exit, the 8254 PIT and port 0x61. */
#define COM1              0x3F8
#define UART_LSR          5
#define UART_LSR_THRE     0x20
#define DEBUG_EXIT_PORT   0xF4         /* writing v ends the run with status (v << 1) | 1 */
#define PIT_CH0           0x40
#define PIT_CH2           0x42
#define PIT_CMD           0x43
#define PIT_HZ            1193182      /* input clock of the 8254 on a PC */
#define PORT_61           0x61         /* bit 0: channel 2 gate, bit 1: speaker, bit 5: OUT2 */
#define PIC1_CMD          0x20
#define PIC1_DATA         0x21
#define PIC2_CMD          0xA0
#define PIC2_DATA         0xA1

/* Control registers (Intel SDM Vol. 3A, 2.5). */
#define CR0_PE            (1 << 0)
#define CR0_WP            (1 << 16)
#define CR0_NW            (1 << 29)
#define CR0_CD            (1 << 30)
#define CR0_PG            (1 << 31)
#define CR4_PAE           (1 << 5)
#define CR4_PGE           (1 << 7)

/* Model-specific registers (SDM Vol. 4, table 2-2). */
#define MSR_APIC_BASE     0x1B
#define MSR_EFER          0xC0000080
#define MSR_STAR          0xC0000081
#define MSR_LSTAR         0xC0000082
#define MSR_FMASK         0xC0000084
#define EFER_SCE          (1 << 0)
#define EFER_LME          (1 << 8)
#define EFER_NXE          (1 << 11)

/* RFLAGS bits (SDM Vol. 1, 3.4.3). */
#define RFLAGS_TF         (1 << 8)
#define RFLAGS_IF         (1 << 9)
#define RFLAGS_DF         (1 << 10)

/* Paging-structure entry bits (SDM Vol. 3A, 4.5, tables 4-15 to 4-20). */
#define PTE_P             (1 << 0)
#define PTE_RW            (1 << 1)
#define PTE_US            (1 << 2)
#define PTE_A             (1 << 5)
#define PTE_D             (1 << 6)
#define PTE_PS            (1 << 7)
#define PTE_G             (1 << 8)
#define PTE_NX            (1 << 63)
#define PAGE_SIZE         4096
#define LARGE_PAGE_SIZE   (2 * 1024 * 1024)
#define LARGE_PAGE_SHIFT  21

/* #PF error code bits (SDM Vol. 3A, 4.7). */
#define PF_P              (1 << 0)
#define PF_W              (1 << 1)
#define PF_U              (1 << 2)
#define PF_RSVD           (1 << 3)
#define PF_I              (1 << 4)

/* Our GDT (lib/boot.S). The order of 0x10..0x20 is what SYSCALL/SYSRET need (SDM Vol. 2B,
 * SYSRET): STAR[47:32] = KERNEL_CS (SS = +8), STAR[63:48] = KERNEL_DS (user CS = +16, SS = +8). */
#define KERNEL_CS         0x08
#define KERNEL_DS         0x10
#define USER_DS           0x1B         /* 0x18 | RPL 3 */
#define USER_CS           0x23         /* 0x20 | RPL 3 */
#define TSS_SEL           0x28         /* 16-byte system descriptor: 0x28 and 0x30 */
#define KERNEL_CS32       0x38         /* 32-bit code, for the way back to real mode */
#define CODE16_SEL        0x40         /* 16-bit code, base 0, limit 0xFFFF */
#define DATA16_SEL        0x48         /* 16-bit data, base 0, limit 0xFFFF */

/* TSS fields (SDM Vol. 3A, 8.7, figure 8-11). */
#define TSS_RSP0          4
#define TSS_IST1          36
#define TSS_SIZE          104

/* IDT gate types with P=1 (SDM Vol. 3A, 6.14.1): add GATE_DPL3 for gates user code may use. */
#define GATE_INTR         0x8E
#define GATE_TRAP         0x8F
#define GATE_DPL3         0x60

/* Local APIC registers, offsets from its MMIO base (SDM Vol. 3A, 12.4.1, table 12-1). */
#define APIC_BASE_ADDR    0xFEE00000
#define APIC_ID           0x20
#define APIC_VERSION      0x30
#define APIC_TPR          0x80
#define APIC_PPR          0xA0
#define APIC_EOI          0xB0
#define APIC_SVR          0xF0
#define APIC_ISR          0x100        /* 8 registers, 0x10 apart: vectors 32k..32k+31 */
#define APIC_TMR          0x180
#define APIC_IRR          0x200
#define APIC_ESR          0x280
#define APIC_ICR_LO       0x300
#define APIC_ICR_HI       0x310
#define APIC_LVT_TIMER    0x320
#define APIC_LVT_LINT0    0x350
#define APIC_LVT_LINT1    0x360
#define APIC_LVT_ERROR    0x370
#define APIC_TIMER_INIT   0x380
#define APIC_TIMER_CUR    0x390
#define APIC_TIMER_DIV    0x3E0
#define APIC_TIMER_PERIODIC (1 << 17)
#define APIC_TIMER_TSC_DEADLINE (2 << 17)
#define APIC_LVT_MASKED   (1 << 16)
#define APIC_DM_EXTINT    (7 << 8)     /* LVT delivery mode ExtINT: the 8259's INTR */
#define APIC_SVR_ENABLE   (1 << 8)     /* APIC software enable (12.9) */
#define APIC_BASE_BSP     (1 << 8)     /* IA32_APIC_BASE bits (12.4.4) */
#define APIC_BASE_ENABLE  (1 << 11)
#define MSR_TSC_DEADLINE  0x6E0

/* Interrupt frame built by lib/trap.S (offsets from the frame pointer handed to hooks):
 * the general registers it pushes, then vector and error code, then what the CPU pushed. */
#define FRAME_R11         32
#define FRAME_RCX         96
#define FRAME_RAX         112
#define FRAME_VECTOR      120
#define FRAME_ERROR       128
#define FRAME_RIP         136
#define FRAME_CS          144
#define FRAME_RFLAGS      152
#define FRAME_RSP         160
#define FRAME_SS          168

#endif
