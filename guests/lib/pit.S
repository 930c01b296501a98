/*
 * pit.S — waiting a known time: PIT channel 2 (gated through port 0x61, never wired to an
 * interrupt) counts down in mode 0 while we poll OUT2, as Linux's pit_calibrate_tsc() does.
 * It leaves channel 0 and the PIC alone, so the timer tests can use those.
 *   pit_wait_ms(%edi ms)                         waits %edi milliseconds
 *   pit_wait_for(%rdi addr, %rsi min, %edx ms) -> %rax
 *       polls the qword at %rdi until it is >= %rsi (unsigned) or %edx milliseconds have
 *       passed; returns the qword's last value. Interrupts stay as IF says.
 * Both keep every register except %rax and the flags.
 */
#define PIT_MS_LATCH  (PIT_HZ / 1000)   /* PIT input ticks in one millisecond */

        .text
/* pit2_start_ms: one millisecond on channel 2, mode 0 (interrupt on terminal count, 8254
 * datasheet): writing the control word drives OUT2 low, it goes high when the count ends. */
pit2_start_ms:
        inb     $PORT_61, %al
        andb    $~0x02, %al             /* speaker off */
        orb     $0x01, %al              /* gate on */
        outb    %al, $PORT_61
        movb    $0xB0, %al              /* channel 2, low then high byte, mode 0, binary */
        outb    %al, $PIT_CMD
        movb    $PIT_MS_LATCH & 0xFF, %al
        outb    %al, $PIT_CH2
        movb    $PIT_MS_LATCH >> 8, %al
        outb    %al, $PIT_CH2
        ret

pit_wait_for:
        pushq   %rcx
        movl    %edx, %ecx
1:      testl   %ecx, %ecx
        jz      3f
        call    pit2_start_ms
2:      movq    (%rdi), %rax
        cmpq    %rsi, %rax
        jae     4f
        inb     $PORT_61, %al
        testb   $0x20, %al              /* OUT2 */
        jz      2b
        decl    %ecx
        jmp     1b
3:      movq    (%rdi), %rax
4:      popq    %rcx
        ret

pit_wait_ms:
        pushq   %rdi
        pushq   %rsi
        pushq   %rdx
        movl    %edi, %edx
        leaq    pit_zero(%rip), %rdi
        movq    $-1, %rsi               /* never reached: the full time */
        call    pit_wait_for
        popq    %rdx
        popq    %rsi
        popq    %rdi
        ret

        .section .rodata
        .p2align 3
pit_zero:       .quad   0
        .text
