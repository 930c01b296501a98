/*
 * log.S — the hypervisor's own console lines. The VMM and its guest share COM1, so every
 * line the VMM prints starts with "[vmm] " and then the uptime stamp (teach-os/printk.S):
 *     [vmm] [    0.050263] vmx: VMXON done
 * Everything here preserves every register (the flags excepted).
 *   vmm_prefix               just the prefix, for code that prints its own stamp
 *   vmm_line                 starts a line: the prefix and the stamp
 *   vmm_printk(%rdi)         a whole line: prefix, stamp, the string, newline
 *   vmm_put_hex(%rdi)        "0x" and the hex digits of %rdi without leading zeros
 *   vmm_put_yes_no(%edi)     "yes" when %edi != 0, else "no"
 *   vmm_newline              "\n"
 *   vmm_fail                 "[vmm] stopping: ...": ends the run with VMM_FAILURE
 * Macros: vmm_say "text" (serial_puts of a literal), vmm_log "text" (a whole line).
 */
#define VMM_FAILURE  0x10       /* debug-exit value when the VMM gives up: run status 33 */

.macro vmm_say text
        pushq   %rdi
        leaq    .Lvmm_say\@(%rip), %rdi
        call    serial_puts
        popq    %rdi
        .pushsection .rodata
.Lvmm_say\@:
        .asciz  "\text"
        .popsection
.endm

.macro vmm_log text
        pushq   %rdi
        leaq    .Lvmm_log\@(%rip), %rdi
        call    vmm_printk
        popq    %rdi
        .pushsection .rodata
.Lvmm_log\@:
        .asciz  "\text"
        .popsection
.endm

        .text
vmm_prefix:
        pushq   %rdi
        leaq    msg_vmm_prefix(%rip), %rdi
        call    serial_puts
        popq    %rdi
        ret

vmm_line:
        call    vmm_prefix
        jmp     log_stamp

vmm_printk:
        call    vmm_line
        call    serial_puts
        jmp     vmm_newline

vmm_newline:
        pushq   %rdi
        movl    $'\n', %edi
        call    serial_putc
        popq    %rdi
        ret

vmm_put_hex:
        pushq   %rsi
        pushq   %rdi
        leaq    msg_hex_prefix(%rip), %rdi
        call    serial_puts
        popq    %rdi
        bsrq    %rdi, %rsi              /* digits: 1 + (index of the highest set bit) / 4 */
        jz      1f
        shrl    $2, %esi
        incl    %esi
        jmp     2f
1:      movl    $1, %esi
2:      call    serial_put_hex
        popq    %rsi
        ret

vmm_put_yes_no:
        pushq   %rdi
        testl   %edi, %edi
        leaq    msg_yes(%rip), %rdi
        jnz     1f
        leaq    msg_no(%rip), %rdi
1:      call    serial_puts
        popq    %rdi
        ret

vmm_fail:
        vmm_log "stopping: the guest cannot run"
        movl    $VMM_FAILURE, %edi
        call    debug_exit

        .section .rodata
msg_vmm_prefix: .asciz "[vmm] "
msg_hex_prefix: .asciz "0x"
msg_yes:        .asciz "yes"
msg_no:         .asciz "no"
        .text
