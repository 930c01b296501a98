/*
 * ept.S — the guest's physical memory (SDM Vol. 3C 28.3 "The extended page table mechanism").
 * The guest owns GUEST_MEM_SIZE bytes of RAM starting at guest-physical 0; they live in host
 * memory at guest_hpa_base (chosen by guest_memory_init). The EPT maps guest-physical
 * [0, GUEST_MEM_SIZE) onto them with 2 MiB pages, read/write/execute, write-back, in a 4-level
 * table (PML4 -> PDPT -> one page directory). Anything else the guest touches is an EPT
 * violation, which the VMM reports.
 *   guest_memory_init      chooses guest_hpa_base: the top GUEST_MEM_SIZE bytes of RAM below
 *                          4 GiB, 2 MiB-aligned, above the VMM and its modules
 *   ept_build -> %rax      builds the table and returns the EPT pointer (SDM 24.6.11)
 *   gpa_to_hva(%rdi) -> %rax   where guest-physical %rdi is in the VMM's (identity) mapping
 */
#define GUEST_MEM_SIZE   (32 * 1024 * 1024)
#define GUEST_MEM_PAGES  (GUEST_MEM_SIZE / LARGE_PAGE_SIZE)

        .text
guest_memory_init:
        pushq   %rcx
        pushq   %rdi
        /* RAM from 1 MiB: Multiboot's mem_upper (KiB, flag bit 0), what QEMU and GRUB give. */
        movl    mb_info(%rip), %ecx
        testl   $MBI_FLAG_MEMORY, MBI_FLAGS(%rcx)
        jz      2f
        movl    MBI_MEM_UPPER(%rcx), %eax
        shlq    $10, %rax
        addq    $0x100000, %rax                 /* end of RAM */
        subq    $GUEST_MEM_SIZE, %rax
        andq    $-LARGE_PAGE_SIZE, %rax
        /* It must lie above the VMM's image and its modules (module 0 is the guest's ELF). */
        movq    $bss_end, %rdi
        cmpq    %rdi, %rax
        jb      2f
        movl    MBI_MODS_COUNT(%rcx), %edi
        testl   %edi, %edi
        jz      1f
        shll    $4, %edi                        /* the last module ends highest */
        addl    MBI_MODS_ADDR(%rcx), %edi
        movl    MB_MOD_END - MB_MOD_SIZE(%rdi), %edi
        cmpq    %rdi, %rax
        jb      2f
1:      movq    %rax, guest_hpa_base(%rip)
        call    vmm_line
        vmm_say "ept: guest-physical 0 to "
        movq    $GUEST_MEM_SIZE - 1, %rdi
        call    vmm_put_hex
        vmm_say " -> host-physical "
        movq    %rax, %rdi
        call    vmm_put_hex
#ifdef LAB_EPT_4K
        vmm_say " (4 KiB pages, write-back)"
#else
        vmm_say " (2 MiB pages, write-back)"
#endif
        call    vmm_newline
        popq    %rdi
        popq    %rcx
        ret
2:      vmm_log "ept: not enough memory for the guest (it needs 32 MiB above the VMM and its modules)"
        jmp     vmm_fail

ept_build:
        pushq   %rcx
        pushq   %rdx
        /* Non-leaf entries: the next table's address and R/W/X (SDM tables 28-1, 28-3). */
        movq    $ept_pdpt + VMX_EPT_RWX, %rax
        movq    %rax, ept_pml4(%rip)
        movq    $ept_pd + VMX_EPT_RWX, %rax
        movq    %rax, ept_pdpt(%rip)
#ifdef LAB_EPT_4K
        /* Lab i: 4 KiB leaves (table 28-6) instead, so every EPT walk takes four accesses:
           PDE i points to page table i, whose 512 entries map 4 KiB each. */
        movq    guest_hpa_base(%rip), %rax
        orq     $VMX_EPT_RWX | VMX_EPT_MT_WB, %rax
        xorl    %ecx, %ecx
1:      movq    %rax, ept_pt(,%rcx,8)
        addq    $PAGE_SIZE, %rax
        incl    %ecx
        cmpl    $GUEST_MEM_PAGES * 512, %ecx
        jb      1b
        movq    $ept_pt + VMX_EPT_RWX, %rax
        xorl    %ecx, %ecx
2:      movq    %rax, ept_pd(,%rcx,8)
        addq    $PAGE_SIZE, %rax
        incl    %ecx
        cmpl    $GUEST_MEM_PAGES, %ecx
        jb      2b
#else
        /* 2 MiB leaves (table 28-4): address, R/W/X, memory type WB in bits 5:3, bit 7. */
        movq    guest_hpa_base(%rip), %rax
        orq     $VMX_EPT_RWX | VMX_EPT_MT_WB | VMX_EPT_LARGE_PAGE, %rax
        xorl    %ecx, %ecx
1:      movq    %rax, ept_pd(,%rcx,8)
        addq    $LARGE_PAGE_SIZE, %rax
        incl    %ecx
        cmpl    $GUEST_MEM_PAGES, %ecx
        jb      1b
#endif
        /* EPTP: the PML4's address, walk length 4 - 1 in bits 5:3, WB in bits 2:0. */
        movq    $ept_pml4 + VMX_EPTP_PWL_4 + VMX_EPTP_MT_WB, %rax
        popq    %rdx
        popq    %rcx
        ret

gpa_to_hva:
        movq    %rdi, %rax
        addq    guest_hpa_base(%rip), %rax
        ret

        .bss
        .p2align 12
ept_pml4:       .skip   PAGE_SIZE
ept_pdpt:       .skip   PAGE_SIZE
ept_pd:         .skip   PAGE_SIZE
#ifdef LAB_EPT_4K
ept_pt:         .skip   GUEST_MEM_PAGES * PAGE_SIZE
#endif
guest_hpa_base: .skip   8
        .text
