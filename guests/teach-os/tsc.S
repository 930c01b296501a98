/*
 * tsc.S — how fast is the time-stamp counter? Count TSC ticks while PIT channel 2 counts
 * down 50 ms, the way Linux's pit_calibrate_tsc() (and lv6's tsc_init) do.
 *   tsc_init                  calibrates and prints "tsc: ... MHz"; sets tsc_khz
 *   uptime_us -> %rax         microseconds since reset: rdtsc * 1000 / tsc_khz (0 before)
 */
#define CAL_MS     50
#define CAL_LATCH  (PIT_HZ / (1000 / CAL_MS))   /* PIT input ticks in CAL_MS */

        .text
tsc_init:
        pushq   %rax
        pushq   %rcx
        pushq   %rdx
        pushq   %rdi
        /* Gate channel 2 on (port 0x61 bit 0), speaker off (bit 1). */
        inb     $PORT_61, %al
        andb    $~0x02, %al
        orb     $0x01, %al
        outb    %al, $PORT_61
        /* Channel 2, low then high byte, mode 0 (interrupt on terminal count), binary. */
        movb    $0xB0, %al
        outb    %al, $PIT_CMD
        movb    $CAL_LATCH & 0xFF, %al
        outb    %al, $PIT_CH2
        movb    $CAL_LATCH >> 8, %al
        outb    %al, $PIT_CH2
        rdtsc
        shlq    $32, %rdx
        orq     %rax, %rdx
        movq    %rdx, %rcx              /* TSC at the start */
1:      inb     $PORT_61, %al           /* OUT2 (bit 5) goes high when the count ends */
        testb   $0x20, %al
        jz      1b
        rdtsc
        shlq    $32, %rdx
        orq     %rdx, %rax
        subq    %rcx, %rax              /* TSC ticks in CAL_MS milliseconds */
        xorl    %edx, %edx
        movl    $CAL_MS, %ecx
        divq    %rcx
        movq    %rax, tsc_khz(%rip)

        call    log_stamp
        leaq    msg_tsc(%rip), %rdi
        call    serial_puts
        movq    tsc_khz(%rip), %rax
        xorl    %edx, %edx
        movl    $1000, %ecx
        divq    %rcx
        movq    %rax, %rdi
        call    serial_put_dec          /* MHz */
        movl    $'.', %edi
        call    serial_putc
        movq    %rdx, %rdi
        movl    $3, %esi
        movl    $'0', %edx
        call    serial_put_dec_pad      /* and the kHz after the point */
        leaq    msg_mhz(%rip), %rdi
        call    serial_puts
        popq    %rdi
        popq    %rdx
        popq    %rcx
        popq    %rax
        ret

uptime_us:
        pushq   %rcx
        pushq   %rdx
        movq    tsc_khz(%rip), %rcx
        xorl    %eax, %eax
        testq   %rcx, %rcx
        jz      1f
        rdtsc
        shlq    $32, %rdx
        orq     %rdx, %rax
        movl    $1000, %edx
        mulq    %rdx                    /* %rdx:%rax = ticks * 1000 */
        divq    %rcx                    /* / (ticks per millisecond) = microseconds */
1:      popq    %rdx
        popq    %rcx
        ret

        .section .rodata
msg_tsc:        .asciz "tsc: calibrated against PIT channel 2: "
msg_mhz:        .asciz " MHz\n"

        .bss
        .p2align 3
tsc_khz:        .skip   8
        .text
