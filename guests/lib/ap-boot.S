/*
 * ap-boot.S — what starting the application processors needs, for kernels on lib/boot.S:
 *   madt_processors -> %rax   the enabled processor local-APIC entries of the MADT (type 0,
 *                             flags bit 0); %rdx: their APIC IDs as bits (IDs above 63 are
 *                             not counted in %rdx). The RSDP is found on a 16-byte boundary in
 *                             0xE0000-0xFFFFF; the RSDT lists the tables (ACPI 5.2.5, 5.2.7).
 *   ap_start32                where the includer's real-mode trampoline jumps (32-bit
 *                             protected mode, paging off, boot.S's GDT): long mode on boot.S's
 *                             page tables, caches on as the bootstrap processor has them, data
 *                             segments loaded (SDM Vol. 3A 10.8.5), then `jmp ap_main64`, which
 *                             the includer defines (stack, IDT, the AP's own work).
 */
madt_processors:
        pushq   %rbx
        pushq   %rcx
        pushq   %rsi
        xorl    %eax, %eax
        xorl    %edx, %edx
        movq    $0x2052545020445352, %rbx       /* "RSD PTR " */
        movl    $0xE0000, %esi
1:      cmpq    %rbx, (%rsi)
        je      2f
        addl    $16, %esi
        cmpl    $0x100000, %esi
        jb      1b
        jmp     9f
2:      movl    16(%rsi), %esi                  /* RsdtAddress */
        movl    4(%rsi), %ecx                   /* the RSDT's length: a 36-byte header, then 4-byte pointers */
        subl    $36, %ecx
        shrl    $2, %ecx
        leaq    36(%rsi), %rbx
        jrcxz   9f
3:      movl    (%rbx), %esi
        cmpl    $0x43495041, (%rsi)             /* "APIC" */
        je      4f
        addq    $4, %rbx
        loop    3b
        jmp     9f
4:      movl    4(%rsi), %ebx
        addq    %rsi, %rbx                      /* the MADT's end */
        addq    $44, %rsi                       /* its first interrupt controller structure */
5:      cmpq    %rbx, %rsi
        jae     9f
        cmpb    $0, (%rsi)                      /* processor local APIC */
        jne     6f
        testb   $1, 4(%rsi)                     /* enabled */
        jz      6f
        incl    %eax
        movzbl  3(%rsi), %ecx                   /* APIC ID */
        cmpl    $63, %ecx
        ja      6f
        btsq    %rcx, %rdx
6:      movzbl  1(%rsi), %ecx                   /* length */
        addq    %rcx, %rsi
        jmp     5b
9:      popq    %rsi
        popq    %rcx
        popq    %rbx
        ret

        .code32
ap_start32:
        movw    $KERNEL_DS, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movl    %cr4, %eax
        orl     $CR4_PAE, %eax
        movl    %eax, %cr4
        movl    $boot_pml4, %eax
        movl    %eax, %cr3
        movl    $MSR_EFER, %ecx
        rdmsr
        orl     $EFER_LME, %eax
        wrmsr
        movl    %cr0, %eax
        andl    $~(CR0_CD | CR0_NW), %eax
        orl     $CR0_PG | CR0_WP, %eax
        movl    %eax, %cr0
        ljmp    $KERNEL_CS, $ap_start64

        .code64
ap_start64:
        movw    $KERNEL_DS, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        xorl    %eax, %eax
        movw    %ax, %fs
        movw    %ax, %gs
        jmp     ap_main64
