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
        subq    $32, %rsp
        sgdt    (%rsp)                  /* limit (2 bytes), base (8 bytes) */
        sidt    16(%rsp)
        sldt    %ax
        str     %ax
        smsw    %ax
        pushfq
        popfq
        movq    2(%rsp), %rax
        addq    $32, %rsp
.endm

        .text
kmain:
        call    trap_init
        /* Each line is printed after its instructions ran: the VMM's lines about them (lab h)
         * then come before it, not in the middle. */
        sensitive_instructions
        leaq    msg_ring0(%rip), %rdi
        call    print_gdt_base
        movq    $user_program, %rdi
        movq    $user_program_end, %rsi
        call    user_run
        leaq    msg_ring3(%rip), %rdi
        call    print_gdt_base
        xorl    %eax, %eax              /* the run's value: 0 */
        ret

/* print_gdt_base(%rdi message, %rax base): the message, the base in hex and a newline. */
print_gdt_base:
        pushq   %rax
        call    serial_puts
        popq    %rdi
        movl    $16, %esi               /* digits */
        call    serial_put_hex
        movl    $'\n', %edi
        jmp     serial_putc

user_program:
        sensitive_instructions
        int     $USER_RETURN_VECTOR
user_program_end:

        .section .rodata
msg_ring0:      .asciz "sensitive: ring 0: SGDT says the GDT is at 0x"
msg_ring3:      .asciz "sensitive: ring 3: SGDT says the GDT is at 0x"
        .text

#include "../../lib/end.S"
