/*
 * spin.S — lab j's guest: boots (lib/boot.S), says so, and spins in ring 0 with interrupts
 * off: `while (1);`. Only something outside the guest can take the CPU back from it.
 *     vmx-lab asm guests/labs/preemption-timer/spin.S -o spin.elf
 */
#include "../../lib/defs.h"
#include "../../lib/boot.S"
#include "../../lib/serial.S"

        .text
kmain:
        leaq    msg_spin(%rip), %rdi
        call    serial_puts
1:      jmp     1b                      /* while (1); */

        .section .rodata
msg_spin:       .asciz "spin: while (1);\n"
        .text

#include "../../lib/end.S"
