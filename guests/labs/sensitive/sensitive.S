/*
 * sensitive.S — lab h's guest: the instructions that read privileged state but are not
 * privileged (Popek and Goldberg's "sensitive but unprivileged"), run in ring 0 and again in
 * ring 3: SGDT, SIDT, SLDT, STR, SMSW, PUSHF, POPF. In ring 3 none of them faults (CR4.UMIP is
 * 0, SDM Vol. 3A 2.5), so a user program learns where the kernel's tables are; POPF there
 * silently keeps IF and IOPL (SDM Vol. 2B POPF).
 *     vmx-lab asm guests/labs/sensitive/sensitive.S -o sensitive.elf
 * It prints the GDT base that SGDT gave the ring-3 program and ends the run with value 0.
 */
#include "../../lib/defs.h"
#include "../../lib/boot.S"
#include "../../lib/serial.S"
#include "../../lib/trap.S"
#include "../../lib/user.S"

/* The seven instructions, position-independent (the ring-3 copy runs elsewhere); leaves the
 * GDT base SGDT stored in %rax. */
.macro sensitive_instructions
        subq    $16, %rsp
        sgdt    (%rsp)
        sidt    6(%rsp)                 /* over the GDT's limit: the GDT base is kept */
        sldt    %ax
        str     %ax
        smsw    %ax
        pushfq
        popfq
        movq    2(%rsp), %rax
        addq    $16, %rsp
.endm

        .text
kmain:
        call    trap_init
        leaq    msg_ring0(%rip), %rdi
        call    serial_puts
        sensitive_instructions
        movq    %rax, %rdi
        call    serial_put_hex
        movl    $'\n', %edi
        call    serial_putc
        leaq    msg_ring3(%rip), %rdi
        call    serial_puts
        movq    $user_program, %rdi
        movq    $user_program_end, %rsi
        call    user_run
        movq    %rax, %rdi
        call    serial_put_hex
        movl    $'\n', %edi
        call    serial_putc
        xorl    %eax, %eax              /* the run's value: 0 */
        ret

user_program:
        sensitive_instructions
        int     $USER_RETURN_VECTOR
user_program_end:

        .section .rodata
msg_ring0:      .asciz "sensitive: ring 0: SGDT says the GDT is at "
msg_ring3:      .asciz "sensitive: ring 3: SGDT says the GDT is at "
        .text

#include "../../lib/end.S"
