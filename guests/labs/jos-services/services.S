/*
 * services.S — lab f, the guest's side (teach-os -DJOS_SERVICES): at start teach-os asks its
 * VMM for what a JOS guest gets from JOS's VMM (handler.S has the hypercalls):
 *   - the memory map (hypercall 10), and prints the usable memory it will use;
 *   - CPUID.1:ECX.VMX, which the VMM clears (exits.S, handle_cpuid): no nested VMX;
 *   - sector 0 of the disk (hypercall 11), printed as a NUL-terminated string;
 *   - sector 1 written with a line of its own (hypercall 12).
 * teach-os runs identity-mapped, so its addresses are the guest-physical ones the VMM wants.
 */
#define HC_MEMORY_MAP           10
#define HC_READ_SECTOR          11
#define HC_WRITE_SECTOR         12
#define JOS_MMAP_MAX            16      /* entries of 20 bytes: base 8, length 8, type 4 */
#define JOS_E820_USABLE         1
#define JOS_CPUID_1_ECX_VMX     (1 << 5)

        .text
jos_services:
        pushq   %rbx
        pushq   %r12
        /* The memory map: add up the usable ranges. */
        leaq    jos_mmap(%rip), %rdi
        movl    $JOS_MMAP_MAX * 20, %esi
        movl    $HC_MEMORY_MAP, %eax
        vmcall
        testq   %rax, %rax
        js      jos_failed
        movq    %rax, %rbx                      /* entries */
        xorl    %r12d, %r12d                    /* usable bytes */
        leaq    jos_mmap(%rip), %rsi
        movq    %rax, %rcx
        jrcxz   2f
1:      cmpl    $JOS_E820_USABLE, 16(%rsi)
        jne     3f
        addq    8(%rsi), %r12
3:      addq    $20, %rsi
        loop    1b
2:      call    log_stamp
        leaq    msg_jos_mmap(%rip), %rdi
        call    serial_puts
        movq    %rbx, %rdi
        call    serial_put_dec
        leaq    msg_jos_entries(%rip), %rdi
        call    serial_puts
        movq    %r12, %rdi
        shrq    $10, %rdi
        call    serial_put_dec
        leaq    msg_jos_usable(%rip), %rdi
        call    serial_puts
        /* VMX, as the VMM lets the guest see it. */
        call    log_stamp
        leaq    msg_jos_vmx(%rip), %rdi
        call    serial_puts
        movl    $1, %eax
        xorl    %ecx, %ecx
        cpuid
        xorl    %edi, %edi
        testl   $JOS_CPUID_1_ECX_VMX, %ecx
        setnz   %dil
        movl    %edi, %ebx
        call    serial_put_dec
        leaq    msg_jos_absent(%rip), %rdi
        testl   %ebx, %ebx
        jz      1f
        leaq    msg_jos_present(%rip), %rdi
1:      call    serial_puts
        /* Sector 0: a file on the disk, printed up to its NUL (jos_sector + 512 stays 0). */
        xorl    %edi, %edi
        leaq    jos_sector(%rip), %rsi
        movl    $HC_READ_SECTOR, %eax
        vmcall
        testq   %rax, %rax
        jnz     jos_failed
        call    log_stamp
        leaq    msg_jos_sector0(%rip), %rdi
        call    serial_puts
        leaq    jos_sector(%rip), %rdi
        call    serial_puts
        movl    $'\n', %edi
        call    serial_putc
        /* Sector 1: our line. */
        movl    $1, %edi
        leaq    jos_line(%rip), %rsi
        movl    $HC_WRITE_SECTOR, %eax
        vmcall
        testq   %rax, %rax
        jnz     jos_failed
        leaq    msg_jos_wrote(%rip), %rdi
        call    printk
        popq    %r12
        popq    %rbx
        ret

/* A hypercall returned the error in %rax (HC_* of the VMM, negative): say so and go on. */
jos_failed:
        movq    %rax, %rbx
        call    log_stamp
        leaq    msg_jos_failed(%rip), %rdi
        call    serial_puts
        negq    %rbx
        movq    %rbx, %rdi
        call    serial_put_dec
        movl    $'\n', %edi
        call    serial_putc
        popq    %r12
        popq    %rbx
        ret

        .section .rodata
msg_jos_mmap:    .asciz "teach-os: memory map from the VMM: "
msg_jos_entries: .asciz " entries, "
msg_jos_usable:  .asciz " KiB usable\n"
msg_jos_vmx:     .asciz "teach-os: CPUID.1:ECX.VMX = "
msg_jos_absent:  .asciz ": VMX absent\n"
msg_jos_present: .asciz ": VMX present\n"
msg_jos_sector0: .asciz "teach-os: disk sector 0: "
msg_jos_wrote:   .asciz "teach-os: wrote sector 1"
msg_jos_failed:  .asciz "teach-os: a VMM service failed: error -"
jos_line:
        .ascii  "written by the guest\n"
        .org    jos_line + 512, 0
        .text

        .bss
        .p2align 3
jos_mmap:       .skip   JOS_MMAP_MAX * 20
jos_sector:     .skip   513
        .text
