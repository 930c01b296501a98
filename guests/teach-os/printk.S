/*
 * printk.S — console lines with an uptime stamp, as Linux prints them: "[    0.012345] ".
 *   log_stamp                 prints the stamp of now (zero until the TSC is calibrated)
 *   printk(%rdi)              prints the stamp, the string and a newline
 * All registers are preserved.
 */
        .text
log_stamp:
        pushq   %rax
        pushq   %rdx
        pushq   %rdi
        pushq   %rsi
        pushq   %rcx
        call    uptime_us               /* %rax = microseconds since reset */
        movq    %rax, %rcx
        movl    $'[', %edi
        call    serial_putc
        movq    %rcx, %rax
        xorl    %edx, %edx
        movl    $1000000, %esi
        divq    %rsi                    /* %rax = seconds, %rdx = microseconds */
        movq    %rdx, %rcx
        movq    %rax, %rdi
        movl    $5, %esi
        movl    $' ', %edx
        call    serial_put_dec_pad
        movl    $'.', %edi
        call    serial_putc
        movq    %rcx, %rdi
        movl    $6, %esi
        movl    $'0', %edx
        call    serial_put_dec_pad
        leaq    msg_stamp_end(%rip), %rdi
        call    serial_puts
        popq    %rcx
        popq    %rsi
        popq    %rdi
        popq    %rdx
        popq    %rax
        ret

printk:
        call    log_stamp
        call    serial_puts
        pushq   %rdi
        movl    $'\n', %edi
        call    serial_putc
        popq    %rdi
        ret

        .section .rodata
msg_stamp_end:  .asciz "] "
        .text
