/*
 * user-program.S — lab c: teach-os's ring-3 program (../../teach-os/user-program.S) with
 * `vmcall` where it had `syscall`. Built into teach-os with -DUSE_VMCALL. VMCALL in VMX
 * non-root operation always exits, at any privilege level (SDM Vol. 3C 25.1.2), so the
 * hypervisor gets the call (exit reason 18) instead of the guest kernel. Same registers as
 * the system calls: the number in %rax, the argument in %rdi.
 */
        .text
user_program:
        movl    $SYS_HELLO, %eax
        movl    $86, %edi
        vmcall
        movl    $SYS_BYE, %eax
        movl    $64, %edi
        vmcall
        movl    $SYS_EXIT, %eax
        xorl    %edi, %edi
        vmcall
1:      jmp     1b                      /* SYS_EXIT does not return */
user_program_end:
