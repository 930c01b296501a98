/*
 * handler.S — lab d: the guest's VMCALL (exit reason 18) becomes a SYSCALL into the guest's
 * own kernel (built in with -DLAB_SYSCALL_EMULATION, in place of handle_vmcall). The VMM
 * serves no call itself: it does to the guest's state what SYSCALL would have done
 * (syscall.S), and the guest's syscall_entry runs its system call and returns to the
 * instruction after the VMCALL with its own SYSRETQ.
 * SYSCALL's #UD conditions are checked first, on the guest's own EFER (GUEST_IA32_EFER, saved
 * on every exit with VM_EXIT_SAVE_IA32_EFER) and CS.L; when they hold the guest gets the #UD.
 */
        .text
handle_vmcall_as_syscall:
        movl    $GUEST_IA32_EFER, %edi
        call    vmcs_read
        movl    %eax, %edi
        call    syscall_enabled
        jz      inject_ud
        call    skip_emulated_instruction       /* GUEST_RIP: the instruction after VMCALL */
        movl    $GUEST_RIP, %edi
        call    vmcs_read
        movq    %rax, %rdi
        jmp     emulate_syscall
