/*
 * syscall.S — system calls with SYSCALL/SYSRET (SDM Vol. 2B: SYSCALL, SYSRET).
 * User code puts the number in %rax and the argument in %rdi:
 *   SYS_HELLO (0)   prints "hello vmx <arg>"
 *   SYS_BYE   (1)   prints "goodbye vmx <arg>"
 *   SYS_EXIT  (2)   ends the run through isa-debug-exit with value <arg>
 * With -DHOST_CPUID also 3 and 4, lab k's (../labs/vcpu-migration/host-cpuid.S).
 * SYSCALL leaves the user RIP in %rcx and RFLAGS in %r11, loads CS/SS from STAR[47:32] and
 * RIP from LSTAR, and clears the RFLAGS bits set in FMASK; it does not switch stacks.
 */
#define SYS_HELLO  0
#define SYS_BYE    1
#define SYS_EXIT   2
#ifdef HOST_CPUID
#define SYS_HOST_CPUID 3        /* lab k (guests/labs/vcpu-migration/host-cpuid.S) */
#define SYS_PRINT_CPUS 4
#define NR_SYSCALLS 5
#else
#define NR_SYSCALLS 3
#endif

        .text
syscall_init:
        pushq   %rax
        pushq   %rcx
        pushq   %rdx
        movl    $MSR_EFER, %ecx         /* EFER.SCE: without it SYSCALL is #UD */
        rdmsr
        orl     $EFER_SCE, %eax
        wrmsr
        movl    $MSR_STAR, %ecx         /* kernel CS in 47:32, user base selector in 63:48 */
        xorl    %eax, %eax
        movl    $(KERNEL_DS << 16) | KERNEL_CS, %edx
        wrmsr
        movl    $MSR_LSTAR, %ecx
        movq    $syscall_entry, %rax
        movq    %rax, %rdx
        shrq    $32, %rdx
        wrmsr
        movl    $MSR_FMASK, %ecx        /* interrupts, single-step and DF off in the kernel */
        movl    $RFLAGS_IF | RFLAGS_TF | RFLAGS_DF, %eax
        xorl    %edx, %edx
        wrmsr
        popq    %rdx
        popq    %rcx
        popq    %rax
        ret

syscall_entry:
        movq    %rsp, syscall_user_rsp(%rip)
        movq    $ring0_stack_top, %rsp  /* our own stack: the user's cannot be trusted */
        pushq   %rcx
        pushq   %r11
        cmpq    $NR_SYSCALLS, %rax
        jae     1f
        call    *syscall_table(,%rax,8)
        jmp     2f
1:      movq    $-1, %rax               /* unknown system call */
2:      popq    %r11
        popq    %rcx
        movq    syscall_user_rsp(%rip), %rsp
        sysretq

sys_hello:
        call    log_stamp
        pushq   %rdi
        leaq    msg_hello(%rip), %rdi
        call    serial_puts
        popq    %rdi
        jmp     print_arg_line

sys_bye:
        call    log_stamp
        pushq   %rdi
        leaq    msg_bye(%rip), %rdi
        call    serial_puts
        popq    %rdi
        jmp     print_arg_line

/* print_arg_line(%rdi): the number and a newline; returns 0 to the user. */
print_arg_line:
        call    serial_put_dec
        movl    $'\n', %edi
        call    serial_putc
        xorl    %eax, %eax
        ret

sys_exit:
        pushq   %rdi
        leaq    msg_exit(%rip), %rdi
        call    printk
#ifdef PRINT_EXIT_STATS
        call    print_exit_stats        /* lab g: the VMM's exit counters */
#endif
        popq    %rdi
        call    debug_exit

        .section .rodata
        .p2align 3
syscall_table:
        .quad   sys_hello, sys_bye, sys_exit
#ifdef HOST_CPUID
        .quad   sys_host_cpuid, sys_print_cpus
#endif
msg_hello:      .asciz "hello vmx "
msg_bye:        .asciz "goodbye vmx "
msg_exit:       .asciz "teach-os: the user program exited; powering off"

        .bss
        .p2align 3
syscall_user_rsp: .skip 8
        .text
