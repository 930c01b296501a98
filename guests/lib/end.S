/*
 * end.S — include last: marks the end of what the Multiboot loader copies from the file
 * (.text and .rodata, which the linker places in one run) and the end of .bss.
 * .rodata is padded to a page boundary so that where ld's DATA_SEGMENT_ALIGN puts .bss
 * does not depend on which of its two formulas saves a page.
 */
        .section .rodata
        .p2align 12
image_end:
        .bss
        .p2align 3
bss_end:
        .text
