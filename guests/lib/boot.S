/*
 * boot.S — from Multiboot to 64-bit C-like code: the Multiboot header, the 32-bit entry,
 * identity paging of the first 4 GiB with 2 MiB pages, the GDT and TSS, long mode, and
 * then `call kmain`. kmain returns an exit value in %eax, handed to debug_exit.
 *
 * The including kernel defines kmain and includes lib/end.S last (it marks where the image
 * ends). Initialized data lives only in .text and .rodata: a Multiboot a.out-kludge image is
 * one contiguous piece of the file, and GNU ld puts .data at a file offset that breaks that.
 * Everything is identity-mapped writable, so the CPU may still set bits in the GDT.
 */
#define BOOT_MB_FLAGS (MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_AOUT_KLUDGE)

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
        .long   BOOT_MB_FLAGS
        .long   -(MB_HEADER_MAGIC + BOOT_MB_FLAGS)
        .long   multiboot_header        /* header_addr */
        .long   multiboot_header        /* load_addr: the image starts with this header */
        .long   image_end               /* load_end_addr (lib/end.S) */
        .long   bss_end                 /* bss_end_addr: the loader zeroes up to here */
        .long   _start                  /* entry_addr */

/* Entered in 32-bit protected mode with paging off, %eax = magic, %ebx = info (spec 3.2). */
_start:
        cli
        movl    %eax, mb_magic
        movl    %ebx, mb_info
        movl    $boot_stack_top, %esp

        /* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 512 2 MiB pages each. */
        movl    $boot_pdpt + (PTE_P | PTE_RW | PTE_US), boot_pml4
        xorl    %ecx, %ecx
1:      movl    %ecx, %eax
        shll    $12, %eax
        addl    $boot_pd + (PTE_P | PTE_RW | PTE_US), %eax
        movl    %eax, boot_pdpt(,%ecx,8)
        incl    %ecx
        cmpl    $4, %ecx
        jb      1b
        /* PD entry i maps physical i * 2 MiB: low dword (i << 21) | flags, high dword i >> 11. */
        xorl    %ecx, %ecx
2:      movl    %ecx, %eax
        shll    $LARGE_PAGE_SHIFT, %eax
        orl     $PTE_P | PTE_RW | PTE_PS, %eax
        movl    %eax, boot_pd(,%ecx,8)
        movl    %ecx, %eax
        shrl    $11, %eax
        movl    %eax, boot_pd+4(,%ecx,8)
        incl    %ecx
        cmpl    $4 * 512, %ecx
        jb      2b
#ifdef SMALL_PAGES
        /* Lab i: the first 2 MiB (the kernel and its data) with 4 KiB pages instead, so a
           walk there goes through all four levels (PML4E, PDPTE, PDE, PTE). */
        movl    $boot_pt + (PTE_P | PTE_RW | PTE_US), boot_pd
        xorl    %ecx, %ecx
3:      movl    %ecx, %eax
        shll    $12, %eax
        orl     $PTE_P | PTE_RW, %eax
        movl    %eax, boot_pt(,%ecx,8)
        incl    %ecx
        cmpl    $512, %ecx
        jb      3b
#endif

        /* Long mode: CR3, CR4.PAE, EFER.LME, then CR0.PG (SDM Vol. 3A, 10.8.5). */
        movl    $boot_pml4, %eax
        movl    %eax, %cr3
        movl    %cr4, %eax
        orl     $CR4_PAE, %eax
        movl    %eax, %cr4
        movl    $MSR_EFER, %ecx
        rdmsr
        orl     $EFER_LME, %eax
        wrmsr
        movl    %cr0, %eax
        orl     $CR0_PG | CR0_WP | CR0_PE, %eax
        movl    %eax, %cr0
        lgdt    gdt_pointer
        ljmp    $KERNEL_CS, $boot64

        .code64
boot64:
        movw    $KERNEL_DS, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        xorl    %eax, %eax
        movw    %ax, %fs
        movw    %ax, %gs
        movq    $boot_stack_top, %rsp
        call    serial_init
        call    tss_init
        call    kmain
        movl    %eax, %edi
        call    debug_exit

/* tss_init: write the TSS descriptor (its base is only known after linking) and load TR.
 * RSP0 is the stack the CPU switches to on an interrupt from ring 3 (SDM Vol. 3A, 6.14.5). */
tss_init:
        movq    $ring0_stack_top, %rax
        movq    %rax, tss + TSS_RSP0(%rip)
        movq    $ist1_stack_top, %rax
        movq    %rax, tss + TSS_IST1(%rip)
        movw    $TSS_SIZE, tss + 102(%rip)      /* I/O map base past the limit: no bitmap */
        /* 64-bit TSS descriptor (SDM Vol. 3A, 8.2.3): limit, base 0-23, type 9 P=1, base 24-63. */
        movq    $tss, %rax
        movl    %eax, %edx
        andl    $0xFFFFFF, %edx
        shlq    $16, %rdx                       /* base[23:0] -> bits 16-39 */
        orq     $TSS_SIZE - 1, %rdx             /* limit */
        movl    $0x89, %ecx
        shlq    $40, %rcx
        orq     %rcx, %rdx                      /* type = available 64-bit TSS, P = 1 */
        movl    %eax, %ecx
        shrl    $24, %ecx
        shlq    $56, %rcx
        orq     %rcx, %rdx                      /* base[31:24] -> bits 56-63 */
        movq    %rdx, gdt + TSS_SEL(%rip)
        shrq    $32, %rax
        movq    %rax, gdt + TSS_SEL + 8(%rip)   /* base[63:32] */
        movw    $TSS_SEL, %ax
        ltr     %ax
        ret

/* debug_exit(%edi = value): end the run through isa-debug-exit (status (value << 1) | 1).
 * Without that device the write does nothing and we stop here with interrupts off. */
        .globl  debug_exit
debug_exit:
        movl    %edi, %eax
        outl    %eax, $DEBUG_EXIT_PORT
1:      cli
        hlt
        jmp     1b

        .section .rodata
        .p2align 3
gdt:
        gdt_entry                                       /* 0x00 null */
        gdt_entry 0, 0xFFFFF, 0x9A, 0xA                 /* 0x08 kernel code, 64-bit (L=1) */
        gdt_entry 0, 0xFFFFF, 0x92, 0xC                 /* 0x10 kernel data */
        gdt_entry 0, 0xFFFFF, 0xF2, 0xC                 /* 0x18 user data, DPL 3 */
        gdt_entry 0, 0xFFFFF, 0xFA, 0xA                 /* 0x20 user code, 64-bit, DPL 3 */
        .quad   0, 0                                    /* 0x28 TSS, filled by tss_init */
        gdt_entry 0, 0xFFFFF, 0x9A, 0xC                 /* 0x38 kernel code, 32-bit */
        gdt_entry 0, 0xFFFF, 0x9A, 0x0                  /* 0x40 code, 16-bit, 64 KiB */
        gdt_entry 0, 0xFFFF, 0x92, 0x0                  /* 0x48 data, 16-bit, 64 KiB */
gdt_end:
gdt_pointer:
        .word   gdt_end - gdt - 1
        .long   gdt

        .bss
        .p2align 12
boot_pml4:      .skip   PAGE_SIZE
boot_pdpt:      .skip   PAGE_SIZE
boot_pd:        .skip   4 * PAGE_SIZE           /* 4 x 512 entries: 0 to 4 GiB */
#ifdef SMALL_PAGES
boot_pt:        .skip   PAGE_SIZE               /* 512 x 4 KiB: the first 2 MiB */
#endif
boot_stack:     .skip   4 * PAGE_SIZE
boot_stack_top:
ring0_stack:    .skip   2 * PAGE_SIZE
ring0_stack_top:
ist1_stack:     .skip   2 * PAGE_SIZE
ist1_stack_top:
        .p2align 4
tss:            .skip   TSS_SIZE
        .p2align 3
mb_magic:       .skip   8
mb_info:        .skip   8

        .text
