/*
 * hello.S — the first VMX Lab guest: a Multiboot v1 kernel that enters long mode,
 * prints "Hello from VMX Lab" on COM1 and ends the run through isa-debug-exit.
 *
 * Build:  vmx-lab asm hello.S -o hello.elf            (ours)
 *         gcc -E -P hello.S > hello.s && as --64 hello.s -o hello.o &&
 *         ld -m elf_x86_64 -Ttext=0x100000 hello.o -o hello.elf   (GNU, same loaded bytes)
 * Boot:   qemu-system-x86_64 -kernel hello.elf -serial stdio \
 *             -device isa-debug-exit,iobase=0xf4,iosize=0x04
 */
#include "hello.h"

#define MB_FLAGS (MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_AOUT_KLUDGE)
#define PDE_LARGE(i) (((i) << LARGE_PAGE_SHIFT) | PTE_P | PTE_RW | PTE_PS)

/* outb_imm PORT, VALUE: write an immediate byte to an I/O port (clobbers %al, %dx). */
.macro outb_imm port, value
        movw    $\port, %dx
        movb    $\value, %al
        outb    %al, %dx
.endm

/* gdt_entry BASE, LIMIT, ACCESS, FLAGS: one segment descriptor (SDM Vol. 3A, 3.4.5). */
.macro gdt_entry base=0, limit=0, access=0, flags=0
        .word   (\limit) & 0xFFFF
        .word   (\base) & 0xFFFF
        .byte   ((\base) >> 16) & 0xFF
        .byte   \access
        .byte   (((\limit) >> 16) & 0x0F) | ((\flags) << 4)
        .byte   ((\base) >> 24) & 0xFF
.endm

        .text
        .code32
        .globl  _start
        .p2align 2
multiboot_header:
        .long   MB_HEADER_MAGIC
        .long   MB_FLAGS
        .long   -(MB_HEADER_MAGIC + MB_FLAGS)
        .long   multiboot_header        /* header_addr */
        .long   multiboot_header        /* load_addr: the image starts with this header */
        .long   image_end               /* load_end_addr: end of .rodata, see below */
        .long   _end                    /* bss_end_addr */
        .long   _start                  /* entry_addr */

/* Entered in 32-bit protected mode, paging off; %eax = magic, %ebx = Multiboot info. */
_start:
        cli
        movl    $stack_top, %esp
        movl    %eax, %edi
        movl    %ebx, %esi
        lgdt    gdt_descriptor

        /* Identity-map the first 1 GiB with 2 MiB pages: PML4[0] -> PDPT[0] -> PD. */
        movl    $pdpt + (PTE_P | PTE_RW), pml4
        movl    $pd + (PTE_P | PTE_RW), pdpt
        xorl    %ecx, %ecx
1:      movl    %ecx, %eax
        shll    $LARGE_PAGE_SHIFT, %eax
        orl     $PDE_LARGE(0), %eax
        movl    %eax, pd(,%ecx,8)
        incl    %ecx
        cmpl    $PAGE_SIZE / 8, %ecx
        jb      1b

        /* Long mode: CR3, CR4.PAE, EFER.LME, then CR0.PG (SDM Vol. 3A, 10.8.5). */
        movl    $pml4, %eax
        movl    %eax, %cr3
        movl    %cr4, %eax
        orl     $CR4_PAE, %eax
        movl    %eax, %cr4
        movl    $MSR_EFER, %ecx
        rdmsr
        orl     $EFER_LME, %eax
        wrmsr
        movl    %cr0, %eax
        orl     $CR0_PG | CR0_PE, %eax
        movl    %eax, %cr0
        ljmp    $KERNEL_CS, $long_mode

        .code64
long_mode:
        movw    $KERNEL_DS, %ax
        .irp    seg, ds, es, ss, fs, gs
        movw    %ax, %\seg
        .endr
        movabsq $stack_top, %rsp

        call    serial_init
        leaq    message(%rip), %rsi
        call    serial_puts

        outb_imm DEBUG_EXIT_PORT, EXIT_CODE
2:      hlt
        jmp     2b

/* 115200 baud, 8N1, FIFOs on (16550 registers: IER, LCR, DLL/DLM, FCR, MCR). */
serial_init:
        outb_imm COM1+1, 0x00
        outb_imm COM1+3, 0x80
        outb_imm COM1+0, 0x01
        outb_imm COM1+1, 0x00
        outb_imm COM1+3, 0x03
        outb_imm COM1+2, 0xC7
        outb_imm COM1+4, 0x03
        ret

/* serial_puts: write the NUL-terminated string at %rsi to COM1, polling LSR.THRE. */
serial_puts:
        movw    $COM1 + 5, %dx
1:      lodsb
        testb   %al, %al
        jz      3f
        movb    %al, %ah
2:      inb     %dx, %al
        testb   $UART_LSR_THRE, %al
        jz      2b
        movw    $COM1, %dx
        movb    %ah, %al
        outb    %al, %dx
        movw    $COM1 + 5, %dx
        jmp     1b
3:      ret

        .section .rodata
        .p2align 3
gdt:
        gdt_entry                                       /* null descriptor */
        gdt_entry 0, 0xFFFFF, 0x9A, 0xA                 /* 0x08: 64-bit code, G=1 L=1 */
        gdt_entry 0, 0xFFFFF, 0x92, 0xC                 /* 0x10: data, G=1 D/B=1 */
gdt_end:
gdt_descriptor:
        .word   gdt_end - gdt - 1
        .long   gdt

message:
        .asciz  "Hello from VMX Lab\n"

/*
 * The end of what the boot loader copies from the file. With the a.out kludge it copies
 * one piece of the file, from the header to load_end_addr, so that piece must be laid
 * out in the file as in memory. .text and .rodata are (both linkers put .rodata at the
 * next page and the file offsets follow). Anything after them is not: `_edata` lies past
 * ld's DATA_SEGMENT_ALIGN, which may put the data segment a page further in memory than
 * in the file, so a loader reading up to `_edata` runs past the end of GNU ld's file.
 * Hence no .data here, and load_end_addr is this label; .bss is zeroed up to `_end`.
 */
image_end:

        .bss
        .p2align 12
pml4:   .skip   PAGE_SIZE
pdpt:   .skip   PAGE_SIZE
pd:     .skip   PAGE_SIZE
stack:  .skip   4 * PAGE_SIZE
stack_top:
