# Assembled by problems.e2e.mjs through "VMX Lab: Assemble and Link Current File".
.text
.globl _start
_start:
    mov $0x3f8, %dx
    mov $'A', %al
    out %al, (%dx)
    hlt
