/*
 * host-cpuid.S — lab k's guest side, built into teach-os with -DHOST_CPUID: the system call
 * that asks the hypervisor which physical CPU runs us, and a user program that asks it again
 * and again (the course's sys_host_cpuid and its test program).
 *   SYS_HOST_CPUID (3)        -> the hypervisor's answer to hypercall HC_HOST_CPUID: the APIC
 *                                ID of the pCPU that served the VMCALL; -1 when there is no such
 *                                hypercall (another hypervisor) or no hypervisor at all (VMCALL
 *                                outside VMX non-root operation is #UD: SDM Vol. 2C VMCALL)
 *   SYS_PRINT_CPUS (4, pcpu)  prints "vcpu V on pcpu P": V is our own CPU as CPUID.1:EBX[31:24]
 *                                tells it, P the argument
 * VMCALL would work from ring 3 too, but a guest kernel does not let its programs talk to the
 * hypervisor directly: the program makes a system call and the kernel makes the hypercall.
 *   HOST_CPUID_ROUNDS=N   how many times the program asks (16)
 *   HOST_CPUID_WORK=N     loop iterations of ring-3 work between two questions (100000)
 */
#include "../../hypervisor/vmm.h"
#ifndef HOST_CPUID_ROUNDS
#define HOST_CPUID_ROUNDS       16
#endif
#ifndef HOST_CPUID_WORK
#define HOST_CPUID_WORK         100000
#endif

        .text
sys_host_cpuid:
        arm_fixup 1f
        movl    $HC_HOST_CPUID, %eax
        vmcall
        movq    $0, trap_fixup(%rip)
        ret
1:      movq    $-1, %rax                       /* #UD: nobody to ask */
        ret

sys_print_cpus:
        pushq   %rbx
        pushq   %rdi
        call    log_stamp
        leaq    msg_vcpu(%rip), %rdi
        call    serial_puts
        movl    $1, %eax
        cpuid
        shrl    $24, %ebx
        movq    %rbx, %rdi
        call    serial_put_dec
        leaq    msg_on_pcpu(%rip), %rdi
        call    serial_puts
        popq    %rdi
        cmpq    $-1, %rdi
        jne     1f
        leaq    msg_no_answer(%rip), %rdi
        call    serial_puts
        jmp     2f
1:      call    serial_put_dec
2:      movl    $'\n', %edi
        call    serial_putc
        popq    %rbx
        xorl    %eax, %eax
        ret

        .section .rodata
msg_vcpu:       .asciz "vcpu "
msg_on_pcpu:    .asciz " on pcpu "
msg_no_answer:  .asciz "? (no answer to hypercall HC_HOST_CPUID)"
        .text

/* The ring-3 program (copied to a user page by lib/user.S: position-independent). */
user_program:
        movl    $HOST_CPUID_ROUNDS, %ebx
1:      movl    $SYS_HOST_CPUID, %eax
        syscall
        movq    %rax, %rdi
        movl    $SYS_PRINT_CPUS, %eax
        syscall
        movl    $HOST_CPUID_WORK, %ecx          /* some work: time for the VMM to move us */
2:      decl    %ecx
        jnz     2b
        decl    %ebx
        jnz     1b
        movl    $SYS_EXIT, %eax
        xorl    %edi, %edi
        syscall
3:      jmp     3b                              /* SYS_EXIT does not return */
user_program_end:
