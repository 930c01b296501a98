/*
 * guest-boot.S — what a boot loader would do for the guest, done by the VMM. The guest kernel
 * is Multiboot module 0 of the VMM (an ELF file, as lvisor takes it); its PT_LOAD segments are
 * copied into guest-physical memory at their physical addresses (p_paddr) and their .bss
 * parts cleared, as JOS's VMM copies the kernel's segments into its guest. Then the Multiboot
 * information the guest reads at entry is built in guest memory: a memory map of the guest's
 * 32 MiB, a flat GDT, the boot loader's name and the command line, which is module 0's string.
 *   guest_load          loads the ELF; sets guest_entry (stops when it cannot)
 *   guest_boot_info     writes the information at GUEST_BOOT_INFO (guest-physical)
 * Both keep %rbx, %rbp and %r12-%r15.
 */
#define GUEST_BOOT_INFO   0x8000        /* the info structure, then GDT, memory map, strings */
#define GUEST_GDT         (GUEST_BOOT_INFO + 0x80)
#define GUEST_MMAP        (GUEST_BOOT_INFO + 0xA0)
#define GUEST_LOADER_NAME (GUEST_BOOT_INFO + 0x100)
#define GUEST_CMDLINE     (GUEST_BOOT_INFO + 0x200)
#define GUEST_CMDLINE_MAX 0xE00         /* bytes, NUL included: up to 0x9000 */
#define GUEST_LOAD_MIN    0x100000      /* segments go in the guest's RAM above 1 MiB */
#define GUEST_BOOT_CS     0x10          /* selectors in that GDT, as GRUB and QEMU leave them */
#define GUEST_BOOT_DS     0x18

/* ELF (System V ABI; ELF-64 object file format): header and program header fields. */
#define ELF_MAGIC         0x464C457F    /* "\177ELF" as a little-endian dword */
#define ELF_CLASS         4             /* 1: ELF32, 2: ELF64 */
#define ELF32_ENTRY       24
#define ELF32_PHOFF       28
#define ELF32_PHENTSIZE   42
#define ELF32_PHNUM       44
#define ELF64_ENTRY       24
#define ELF64_PHOFF       32
#define ELF64_PHENTSIZE   54
#define ELF64_PHNUM       56
#define PT_LOAD           1

        .text
guest_load:
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movl    mb_info(%rip), %eax
        testl   $MBI_FLAG_MODS, MBI_FLAGS(%rax)
        jz      9f
        cmpl    $0, MBI_MODS_COUNT(%rax)
        je      9f
        movl    MBI_MODS_ADDR(%rax), %eax
        movl    MB_MOD_START(%rax), %ebx        /* %rbx: the file */
        movl    MB_MOD_END(%rax), %r12d
        subl    %ebx, %r12d                     /* %r12: its size */
        movl    MB_MOD_STRING(%rax), %eax
        movq    %rax, guest_module_string(%rip)

        call    vmm_line
        vmm_say "guest: module 0 at "
        movq    %rbx, %rdi
        call    vmm_put_hex
        vmm_say ", "
        movq    %r12, %rdi
        call    serial_put_dec
        vmm_say " bytes"
        call    vmm_newline

        cmpq    $64, %r12                       /* an ELF64 header is 64 bytes */
        jb      8f
        cmpl    $ELF_MAGIC, (%rbx)
        jne     8f
        movzbl  ELF_CLASS(%rbx), %eax
        cmpl    $1, %eax
        je      1f
        cmpl    $2, %eax
        jne     8f
        movq    ELF64_ENTRY(%rbx), %rax
        movq    %rax, guest_entry(%rip)
        movq    ELF64_PHOFF(%rbx), %r13
        movzwl  ELF64_PHENTSIZE(%rbx), %r14d
        movzwl  ELF64_PHNUM(%rbx), %r15d
        jmp     2f
1:      movl    ELF32_ENTRY(%rbx), %eax
        movq    %rax, guest_entry(%rip)
        movl    ELF32_PHOFF(%rbx), %r13d
        movzwl  ELF32_PHENTSIZE(%rbx), %r14d
        movzwl  ELF32_PHNUM(%rbx), %r15d
        /* %r13: offset of the next program header, %r14: its size, %r15: how many are left. */
2:      testl   %r15d, %r15d
        jz      5f
        movq    %r13, %rax
        addq    %r14, %rax
        cmpq    %r12, %rax
        ja      8f                              /* the program headers run past the file */
        leaq    (%rbx,%r13), %rdi
        call    load_segment
        addq    %r14, %r13
        decl    %r15d
        jmp     2b
5:      movq    guest_entry(%rip), %rax
        cmpq    $GUEST_MEM_SIZE, %rax
        jae     7f
        call    vmm_line
        vmm_say "guest: entry point "
        movq    guest_entry(%rip), %rdi
        call    vmm_put_hex
        call    vmm_newline
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        ret
7:      vmm_log "guest: the entry point lies outside the guest's memory"
        jmp     vmm_fail
8:      vmm_log "guest: module 0 is not an ELF file this VMM can load"
        jmp     vmm_fail
9:      vmm_log "guest: no guest kernel: give it as Multiboot module 0 (vmx-lab run ... --module guest.elf)"
        jmp     vmm_fail

/* load_segment(%rdi program header; %rbx file, %r12 file size, class from the file):
 * a PT_LOAD segment into guest memory. Keeps %rbx and %r12-%r15. */
load_segment:
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        cmpl    $PT_LOAD, (%rdi)
        jne     4f
        cmpb    $1, ELF_CLASS(%rbx)
        je      1f
        movq    8(%rdi), %r13                   /* ELF64: p_offset, p_paddr, p_filesz, p_memsz */
        movq    24(%rdi), %r14
        movq    32(%rdi), %r15
        movq    40(%rdi), %r11
        jmp     2f
1:      movl    4(%rdi), %r13d                  /* ELF32: p_offset, p_paddr, p_filesz, p_memsz */
        movl    12(%rdi), %r14d
        movl    16(%rdi), %r15d
        movl    20(%rdi), %r11d
2:      testq   %r11, %r11
        jz      4f                              /* nothing to load */
        cmpq    %r11, %r15
        ja      8f                              /* more file than memory */
        movq    %r13, %rax
        addq    %r15, %rax
        jc      8f
        cmpq    %r12, %rax
        ja      8f                              /* past the end of the file */
        cmpq    $GUEST_LOAD_MIN, %r14
        jb      7f
        cmpq    $GUEST_MEM_SIZE, %r14
        ja      7f
        movq    $GUEST_MEM_SIZE, %rax
        subq    %r14, %rax
        cmpq    %rax, %r11
        ja      7f                              /* past the end of the guest's memory */

        movq    %r14, %rdi
        call    gpa_to_hva
        movq    %rax, %rdi
        leaq    (%rbx,%r13), %rsi
        movq    %r15, %rcx
        rep movsb
        movq    %r11, %rcx                      /* .bss: the rest of the segment is zeros */
        subq    %r15, %rcx
        xorl    %eax, %eax
        rep stosb

        call    vmm_line
        vmm_say "guest: segment "
        movq    %r14, %rdi
        call    vmm_put_hex
        vmm_say "-"
        leaq    -1(%r14,%r11), %rdi
        call    vmm_put_hex
        vmm_say ": "
        movq    %r15, %rdi
        call    serial_put_dec
        vmm_say " bytes from the file, "
        movq    %r11, %rdi
        subq    %r15, %rdi
        call    serial_put_dec
        vmm_say " zeroed"
        call    vmm_newline
4:      popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        ret
7:      vmm_log "guest: a segment lies outside the guest's RAM (1 MiB to 32 MiB)"
        jmp     vmm_fail
8:      vmm_log "guest: a program header points past the end of the file"
        jmp     vmm_fail

guest_boot_info:
        pushq   %rcx
        pushq   %rsi
        pushq   %rdi
        movq    $GUEST_BOOT_INFO, %rdi
        call    gpa_to_hva
        movq    %rax, %rdi
        leaq    guest_boot_page(%rip), %rsi
        movl    $guest_boot_page_end - guest_boot_page, %ecx
        rep movsb
        /* The command line: module 0's string, cut to what fits. */
        movq    $GUEST_CMDLINE, %rdi
        call    gpa_to_hva
        movq    %rax, %rdi
        movq    guest_module_string(%rip), %rsi
        movl    $GUEST_CMDLINE_MAX - 1, %ecx
        testq   %rsi, %rsi
        jz      2f
1:      movb    (%rsi), %al
        testb   %al, %al
        jz      2f
        movb    %al, (%rdi)
        incq    %rsi
        incq    %rdi
        decl    %ecx
        jnz     1b
2:      movb    $0, (%rdi)
        call    vmm_line
        vmm_say "guest: command line \""
        movq    $GUEST_CMDLINE, %rdi
        call    gpa_to_hva
        movq    %rax, %rdi
        call    serial_puts
        vmm_say "\""
        call    vmm_newline
        popq    %rdi
        popq    %rsi
        popq    %rcx
        ret

        .section .rodata
        .p2align 3
/* The guest's first page of boot information, copied to GUEST_BOOT_INFO as it stands. */
guest_boot_page:
        .long   MBI_FLAG_MEMORY | MBI_FLAG_CMDLINE | MBI_FLAG_MMAP | MBI_FLAG_LOADER_NAME
        .long   0x9FC00 / 1024                          /* mem_lower, KiB */
        .long   (GUEST_MEM_SIZE - 0x100000) / 1024      /* mem_upper, KiB from 1 MiB */
        .long   0                                       /* boot_device */
        .long   GUEST_CMDLINE
        .long   0, 0                                    /* mods_count, mods_addr */
        .long   0, 0, 0, 0                              /* syms */
        .long   guest_mmap_end - guest_mmap             /* mmap_length */
        .long   GUEST_MMAP
        .long   0, 0                                    /* drives_length, drives_addr */
        .long   0                                       /* config_table */
        .long   GUEST_LOADER_NAME
        .org    guest_boot_page + (GUEST_GDT - GUEST_BOOT_INFO)
        .quad   0, 0                                    /* null, unused */
        .quad   0x00CF9B000000FFFF                      /* 0x10: code, flat, 32-bit */
        .quad   0x00CF93000000FFFF                      /* 0x18: data, flat */
        .org    guest_boot_page + (GUEST_MMAP - GUEST_BOOT_INFO)
guest_mmap:
        .long   20
        .quad   0, 0x9FC00
        .long   MB_MMAP_AVAILABLE
        .long   20
        .quad   0x9FC00, 0x400                          /* where a PC's EBDA would be */
        .long   MB_MMAP_RESERVED
        .long   20
        .quad   0xF0000, 0x10000                        /* where a PC's BIOS would be */
        .long   MB_MMAP_RESERVED
        .long   20
        .quad   0x100000, GUEST_MEM_SIZE - 0x100000
        .long   MB_MMAP_AVAILABLE
guest_mmap_end:
        .org    guest_boot_page + (GUEST_LOADER_NAME - GUEST_BOOT_INFO)
        .asciz  "VMX Lab reference hypervisor"
guest_boot_page_end:

        .bss
        .p2align 3
guest_entry:            .skip   8
guest_module_string:    .skip   8
        .text
