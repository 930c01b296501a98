/*
 * handler.S — lab c: teach-os's three system calls, served by the hypervisor as hypercalls
 * (built in with -DLAB_HYPERCALLS, they replace hypercall_table in exits.S). handle_vmcall
 * passes the number in the guest's RAX; the argument is the guest's RDI, the result goes back
 * in RAX. Each prints what teach-os's own sys_hello/sys_bye/sys_exit print (../../teach-os/
 * syscall.S), with the uptime stamp and without the "[vmm] " prefix, so the guest's output
 * is the same as with `syscall`:
 *   0 SYS_HELLO   "hello vmx <arg>"
 *   1 SYS_BYE     "goodbye vmx <arg>"
 *   2 SYS_EXIT    "teach-os: the user program exited; powering off", then ends the run
 *                 with <arg>, as the guest's debug-exit write would
 */
        .text
hc_sys_hello:
        call    log_stamp
        leaq    msg_hc_hello(%rip), %rdi
        jmp     1f
hc_sys_bye:
        call    log_stamp
        leaq    msg_hc_bye(%rip), %rdi
1:      call    serial_puts
        movq    guest_regs + VCPU_RDI(%rip), %rdi
        call    serial_put_dec
        movl    $'\n', %edi
        call    serial_putc
        xorl    %eax, %eax
        ret

hc_sys_exit:
        leaq    msg_hc_exit(%rip), %rdi
        call    printk
        jmp     hc_exit                 /* exits.S: "[vmm] guest: exit hypercall ..." and the end */

        .section .rodata
msg_hc_hello:   .asciz "hello vmx "
msg_hc_bye:     .asciz "goodbye vmx "
msg_hc_exit:    .asciz "teach-os: the user program exited; powering off"
        .text
