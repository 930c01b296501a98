/*
 * print-stats.S — lab g, the guest's side (teach-os -DPRINT_EXIT_STATS): before powering off,
 * teach-os asks the VMM for its exit counters with CPUID leaves 0x4FFFFFFC-0x4FFFFFFF
 * (exit-stats/handler.S) and prints one line per exit reason that occurred, then the totals:
 *     exit stats: reason 16: 9 exits, 31640 cycles
 *     exit stats: total: 9 exits, 31640 cycles
 * exit_stats_snapshot asks every question first, in a row, and only then does
 * print_exit_stats print (its uptime stamps are RDTSCs, which may exit): the numbers are
 * those of one moment, the first question. Under a VMM that does not know these leaves the
 * numbers mean nothing (try it).
 */
#define EXIT_STATS_REASONS      86      /* reasons 0-85 (SDM Vol. 3D appendix C) */

        .text
exit_stats_snapshot:
        pushq   %rbx
        xorl    %esi, %esi
1:      movl    $0x4FFFFFFE, %eax               /* exits of reason %esi */
        movl    %esi, %ecx
        cpuid
        movl    %eax, exit_stats_counts(,%rsi,4)
        movl    $0x4FFFFFFF, %eax               /* its cycles, EBX:ECX */
        movl    %esi, %ecx
        cpuid
        movl    %ecx, exit_stats_cycles_seen(,%rsi,8)
        movl    %ebx, exit_stats_cycles_seen + 4(,%rsi,8)
        incl    %esi
        cmpl    $EXIT_STATS_REASONS, %esi
        jb      1b
        movl    $0x4FFFFFFC, %eax               /* the totals, in the last slot */
        cpuid
        movl    %eax, exit_stats_counts(,%rsi,4)
        movl    $0x4FFFFFFD, %eax
        cpuid
        movl    %ecx, exit_stats_cycles_seen(,%rsi,8)
        movl    %ebx, exit_stats_cycles_seen + 4(,%rsi,8)
        popq    %rbx
        ret

print_exit_stats:
        pushq   %r12
        call    exit_stats_snapshot
        xorl    %r12d, %r12d
1:      cmpl    $0, exit_stats_counts(,%r12,4)
        je      2f
        call    log_stamp
        leaq    msg_stats_reason(%rip), %rdi
        call    serial_puts
        movl    %r12d, %edi
        call    serial_put_dec
        movl    $':', %edi
        call    serial_putc
        call    print_counts
2:      incl    %r12d
        cmpl    $EXIT_STATS_REASONS, %r12d
        jb      1b
        call    log_stamp
        leaq    msg_stats_total(%rip), %rdi
        call    serial_puts
        call    print_counts
        popq    %r12
        ret

/* print_counts(%r12 slot): " N exits, C cycles" and a newline. */
print_counts:
        movl    $' ', %edi
        call    serial_putc
        movl    exit_stats_counts(,%r12,4), %edi
        call    serial_put_dec
        leaq    msg_stats_exits(%rip), %rdi
        call    serial_puts
        movq    exit_stats_cycles_seen(,%r12,8), %rdi
        call    serial_put_dec
        leaq    msg_stats_cycles(%rip), %rdi
        jmp     serial_puts

        .section .rodata
msg_stats_reason:  .asciz "exit stats: reason "
msg_stats_total:   .asciz "exit stats: total:"
msg_stats_exits:   .asciz " exits, "
msg_stats_cycles:  .asciz " cycles\n"

        .bss
        .p2align 3
exit_stats_counts:      .skip   (EXIT_STATS_REASONS + 1) * 4   /* per reason, then the total */
        .p2align 3
exit_stats_cycles_seen: .skip   (EXIT_STATS_REASONS + 1) * 8
        .text
