/*
 * serial.S — polled output on COM1 (a 16550 UART). Every routine here preserves all
 * registers, so you can drop a print anywhere while debugging.
 *   serial_init                      115200 baud 8N1, FIFOs on, interrupts off
 *   serial_putc(%dil)                one character, sent as is
 *   serial_puts(%rdi)                a NUL-terminated string
 *   serial_put_hex(%rdi, %esi)       %rdi as %esi hex digits (1-16), no "0x"
 *   serial_put_dec(%rdi)             %rdi as an unsigned decimal number
 *   serial_put_dec_pad(%rdi, %esi, %edx)  decimal, at least %esi digits, padded with char %dl
 */
/* uart_write REG, VALUE: write VALUE to UART register COM1 + REG (clobbers %al, %dx). */
.macro uart_write reg, value
        movw    $COM1 + \reg, %dx
        movb    $\value, %al
        outb    %al, %dx
.endm

        .text
serial_init:
        pushq   %rax
        pushq   %rdx
        uart_write 1, 0x00              /* IER: no interrupts */
        uart_write 3, 0x80              /* LCR: DLAB = 1 to set the divisor */
        uart_write 0, 0x01              /* DLL: divisor 1 = 115200 baud */
        uart_write 1, 0x00              /* DLM */
        uart_write 3, 0x03              /* LCR: 8 data bits, no parity, 1 stop bit */
        uart_write 2, 0xC7              /* FCR: FIFOs on and cleared */
        uart_write 4, 0x03              /* MCR: DTR, RTS */
        popq    %rdx
        popq    %rax
        ret

serial_putc:
        pushq   %rax
        pushq   %rdx
        movw    $COM1 + UART_LSR, %dx
1:      inb     %dx, %al                /* wait until the transmit holding register is empty */
        testb   $UART_LSR_THRE, %al
        jz      1b
        movw    $COM1, %dx
        movb    %dil, %al
        outb    %al, %dx
        popq    %rdx
        popq    %rax
        ret

serial_puts:
        pushq   %rdi
        pushq   %rsi
        movq    %rdi, %rsi
1:      movzbl  (%rsi), %edi
        testb   %dil, %dil
        jz      2f
        call    serial_putc
        incq    %rsi
        jmp     1b
2:      popq    %rsi
        popq    %rdi
        ret

serial_put_hex:
        pushq   %rcx
        pushq   %rdi
        pushq   %rdx
        movq    %rdi, %rdx
        movl    %esi, %ecx
1:      leal    -4(,%rcx,4), %ecx       /* shift of the digit: 4 * (digits left - 1) */
        movq    %rdx, %rdi
        shrq    %cl, %rdi
        andl    $0xF, %edi
        movzbl  hex_digits(%rdi), %edi
        call    serial_putc
        shrl    $2, %ecx                /* back to digits left - 1 */
        testl   %ecx, %ecx
        jnz     1b
        popq    %rdx
        popq    %rdi
        popq    %rcx
        ret

serial_put_dec:
        pushq   %rsi
        pushq   %rdx
        movl    $1, %esi
        movl    $'0', %edx
        call    serial_put_dec_pad
        popq    %rdx
        popq    %rsi
        ret

serial_put_dec_pad:
        pushq   %rax
        pushq   %rcx
        pushq   %rdx
        pushq   %rdi
        pushq   %r8
        subq    $24, %rsp               /* digit buffer: a 64-bit number has at most 20 */
        movq    %rdx, %r8               /* pad character */
        movq    %rdi, %rax
        xorl    %ecx, %ecx              /* digits produced, least significant first */
1:      xorl    %edx, %edx
        movl    $10, %edi
        divq    %rdi
        addb    $'0', %dl
        movb    %dl, (%rsp,%rcx)
        incl    %ecx
        testq   %rax, %rax
        jnz     1b
2:      cmpl    %esi, %ecx              /* pad on the left up to the width */
        jae     3f
        movb    %r8b, (%rsp,%rcx)
        incl    %ecx
        jmp     2b
3:      decl    %ecx
        movzbl  (%rsp,%rcx), %edi
        call    serial_putc
        testl   %ecx, %ecx
        jnz     3b
        addq    $24, %rsp
        popq    %r8
        popq    %rdi
        popq    %rdx
        popq    %rcx
        popq    %rax
        ret

        .section .rodata
hex_digits:
        .ascii  "0123456789abcdef"
        .text
