/*
 * teach-os.S — a tiny 64-bit teaching OS: boots from Multiboot into long mode (lib/boot.S),
 * calibrates the TSC against the PIT, prints every line with an uptime stamp, runs a
 * ring-3 program that makes two system calls with `syscall`, and ends the run through
 * isa-debug-exit. See README.md.
 */
#include "../lib/defs.h"
#include "../lib/boot.S"
#include "../lib/serial.S"
#include "../lib/trap.S"
#include "../lib/user.S"
#include "printk.S"
#include "tsc.S"
#include "syscall.S"
#ifdef ADDRESS_SPACES
#include "../labs/cr3-exiting/address-spaces.S"   /* lab b: three page tables */
#endif
#ifdef PRINT_EXIT_STATS
#include "../labs/exit-stats/print-stats.S"       /* lab g: the VMM's exit counters */
#endif
#ifdef JOS_SERVICES
#include "../labs/jos-services/services.S"        /* lab f: the VMM's memory map and disk */
#endif
#ifdef HOST_CPUID
#include "../labs/vcpu-migration/host-cpuid.S"    /* lab k: which pCPU am I on? */
#elif defined(USE_VMCALL)
#include "../labs/hypercalls/user-program.S"      /* lab c: vmcall instead of syscall */
#else
#include "user-program.S"
#endif

        .text
kmain:
        call    trap_init               /* an unexpected exception prints itself and stops */
        call    tsc_init
        call    print_cmdline
#ifdef JOS_SERVICES
        call    jos_services
#endif
        call    syscall_init
#ifdef ADDRESS_SPACES
        call    address_spaces_init
#endif
        leaq    msg_enter_user(%rip), %rdi
        call    printk
        /* Run the user program; it ends the run with SYS_EXIT and never comes back. */
        movq    $user_program, %rdi
        movq    $user_program_end, %rsi
#ifdef ADDRESS_SPACES
        call    switch_to_user_space
#endif
        call    user_run
        leaq    msg_user_returned(%rip), %rdi
        call    printk
        movl    $1, %eax
        ret

/* print_cmdline: the command line the boot loader gave us (QEMU: -append). */
print_cmdline:
        call    log_stamp
        leaq    msg_cmdline(%rip), %rdi
        call    serial_puts
        movl    mb_info(%rip), %eax
        testl   $MBI_FLAG_CMDLINE, MBI_FLAGS(%rax)
        jz      1f
        movl    MBI_CMDLINE(%rax), %edi
        call    serial_puts
1:      movl    $'\n', %edi
        call    serial_putc
        ret

        .section .rodata
msg_cmdline:       .asciz "teach-os: command line: "
msg_enter_user:    .asciz "teach-os: starting the user program in ring 3"
msg_user_returned: .asciz "teach-os: the user program returned instead of exiting"
        .text

#include "../lib/end.S"
