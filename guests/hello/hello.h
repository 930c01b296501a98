/* Constants shared by the hello guest: a header of #defines, as lvisor and JOS keep them. */
#ifndef HELLO_H
#define HELLO_H

/* Multiboot v1 (Multiboot Specification 0.6.96, section 3.1). */
#define MB_HEADER_MAGIC   0x1BADB002
#define MB_PAGE_ALIGN     (1 << 0)
#define MB_MEMORY_INFO    (1 << 1)
#define MB_AOUT_KLUDGE    (1 << 16)   /* load addresses are in the header: any ELF class boots */

/* 16550 UART on COM1 and QEMU's isa-debug-exit device. */
#define COM1              0x3F8
#define UART_LSR_THRE     0x20
#define DEBUG_EXIT_PORT   0xF4
#ifndef EXIT_CODE
#define EXIT_CODE         0           /* the run ends with status (EXIT_CODE << 1) | 1 */
#endif

/* Control registers and EFER (Intel SDM Vol. 3A, 2.5 and 2.2.1). */
#define CR0_PE            (1 << 0)
#define CR0_PG            (1 << 31)
#define CR4_PAE           (1 << 5)
#define MSR_EFER          0xC0000080
#define EFER_LME          (1 << 8)

/* Paging-structure entry bits (SDM Vol. 3A, 4.5). */
#define PTE_P             (1 << 0)
#define PTE_RW            (1 << 1)
#define PTE_PS            (1 << 7)
#define PAGE_SIZE         4096
#define LARGE_PAGE_SHIFT  21

/* Selectors of our GDT. */
#define KERNEL_CS         0x08
#define KERNEL_DS         0x10

#endif
