/*
 * end.S — include last: marks the end of what the Multiboot loader copies from the file
 * (.text and .rodata, which the linker places in one run) and the end of .bss.
 */
        .section .rodata
image_end:
        .bss
        .p2align 3
bss_end:
        .text
