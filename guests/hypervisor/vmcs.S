/*
 * vmcs.S — entering VMX operation and filling the VMCS (SDM Vol. 3C 23.7-23.8, chapter 24).
 *   vmx_enable               CR4.VMXE, CR0/CR4 adjusted to IA32_VMX_CR{0,4}_FIXED{0,1}, VMXON
 *   vmcs_load                VMCLEAR and VMPTRLD of our VMCS: it becomes current and clear
 *   vmcs_setup               controls, host state and the guest's initial state (below)
 *   vmcs_write(%edi field, %rsi value)   VMWRITE; stops with the VM-instruction error on failure
 *   vmcs_read(%edi field) -> %rax        VMREAD; likewise
 * Macros: vmw FIELD, SRC (SRC anything movq takes), vmwl FIELD, IMM32 (zero-extended).
 * Everything keeps every register but %rax (and the flags).
 */
.macro vmw field, src
        movl    $\field, %edi
        movq    \src, %rsi
        call    vmcs_write
.endm

.macro vmwl field, imm
        movl    $\field, %edi
        movl    $\imm, %esi
        call    vmcs_write
.endm

        .text
vmx_enable:
        pushq   %rcx
        pushq   %rdx
        pushq   %rdi
        /* CR4.VMXE first (SDM 23.7), then the bits VMX operation fixes (23.8, A.7, A.8). */
        movq    %cr4, %rax
        orq     $CR4_VMXE, %rax
        movq    %rax, %cr4
        movl    $MSR_IA32_VMX_CR0_FIXED0, %edi
        movq    %cr0, %rax
        call    apply_fixed_bits
        movq    %rax, %cr0
        movl    $MSR_IA32_VMX_CR4_FIXED0, %edi
        movq    %cr4, %rax
        call    apply_fixed_bits
        movq    %rax, %cr4
        /* The VMXON region starts with the VMCS revision identifier (SDM 24.11.5). */
        movl    vmx_revision(%rip), %eax
        movl    %eax, vmxon_region(%rip)
        vmxon   vmxon_region_pa(%rip)
        jbe     1f                              /* CF: VMfailInvalid */
        call    vmm_line
        vmm_say "vmx: VMXON done, region at "
        movq    vmxon_region_pa(%rip), %rdi
        call    vmm_put_hex
        call    vmm_newline
        popq    %rdi
        popq    %rdx
        popq    %rcx
        ret
1:      vmm_log "vmx: VMXON failed"
        jmp     vmm_fail

/* apply_fixed_bits(%rax value, %edi FIXED0 MSR; FIXED1 is the next one) -> %rax:
 * (value | FIXED0) & FIXED1. Clobbers %rcx, %rdx. */
apply_fixed_bits:
        pushq   %rsi
        movq    %rax, %rsi
        movl    %edi, %ecx
        rdmsr
        shlq    $32, %rdx
        orq     %rdx, %rax
        orq     %rax, %rsi
        leal    1(%rdi), %ecx
        rdmsr
        shlq    $32, %rdx
        orq     %rdx, %rax
        andq    %rsi, %rax
        popq    %rsi
        ret

vmcs_load:
        pushq   %rdi
        movl    vmx_revision(%rip), %eax
        movl    %eax, vmcs_region(%rip)
        vmclear vmcs_region_pa(%rip)
        jbe     1f
        vmptrld vmcs_region_pa(%rip)
        jbe     1f
        call    vmm_line
        vmm_say "vmx: VMCS at "
        movq    vmcs_region_pa(%rip), %rdi
        call    vmm_put_hex
        vmm_say " is current"
        call    vmm_newline
        popq    %rdi
        ret
1:      vmm_log "vmx: VMCLEAR/VMPTRLD of the VMCS failed"
        jmp     vmm_fail

vmcs_write:
        vmwrite %rsi, %rdi
        jbe     1f
        ret
1:      call    vmm_line
        vmm_say "vmx: VMWRITE of field "
        call    vmm_put_hex
        vmm_say " failed"
        call    vmx_instruction_error_report
        jmp     vmm_fail

vmcs_read:
        vmread  %rdi, %rax
        jbe     1f
        ret
1:      call    vmm_line
        vmm_say "vmx: VMREAD of field "
        call    vmm_put_hex
        vmm_say " failed"
        call    vmx_instruction_error_report
        jmp     vmm_fail

/* vmx_instruction_error_report: ends the current line with the VM-instruction error, read
 * from the VMCS (SDM 30.4); VMfailInvalid leaves none (no current VMCS). */
vmx_instruction_error_report:
        pushq   %rax
        pushq   %rdi
        movl    $VM_INSTRUCTION_ERROR, %edi
        vmread  %rdi, %rax
        jbe     1f
        vmm_say ": VM-instruction error "
        movq    %rax, %rdi
        call    serial_put_dec
        vmm_say " ("
        cmpq    $VMXERR_MAX, %rax
        jae     2f
        movq    vmx_error_names(,%rax,8), %rdi
        testq   %rdi, %rdi
        jz      2f
        call    serial_puts
        jmp     3f
2:      vmm_say "not a defined error number"
3:      vmm_say ")"
1:      call    vmm_newline
        popq    %rdi
        popq    %rax
        ret

/* The VMCS: the controls from setup_vmcs_config, the host state (what a VM exit loads: this
 * code's own segments, tables and stack, SDM 24.5, 27.5), and the guest's state at the
 * Multiboot entry (SDM 24.4; Multiboot Specification 3.2): 32-bit protected mode, paging
 * off, flat CS/DS/ES/FS/GS/SS, interrupts off. */
vmcs_setup:
        pushq   %rcx
        pushq   %rdx
        pushq   %rsi
        pushq   %rdi
        /* ---- controls (SDM 24.6-24.8) ---- */
        vmw     PIN_BASED_VM_EXEC_CONTROL, vmcs_config_pin(%rip)
        vmw     CPU_BASED_VM_EXEC_CONTROL, vmcs_config_cpu(%rip)
        vmw     SECONDARY_VM_EXEC_CONTROL, vmcs_config_cpu2(%rip)
        vmw     VM_EXIT_CONTROLS, vmcs_config_exit(%rip)
        vmw     VM_ENTRY_CONTROLS, vmcs_config_entry(%rip)
        vmwl    EXCEPTION_BITMAP, 0
        vmwl    PAGE_FAULT_ERROR_CODE_MASK, 0
        vmwl    PAGE_FAULT_ERROR_CODE_MATCH, 0
        vmwl    CR3_TARGET_COUNT, 0
        vmwl    VM_EXIT_MSR_STORE_COUNT, 0
        vmwl    VM_EXIT_MSR_LOAD_COUNT, 0
        vmwl    VM_ENTRY_MSR_LOAD_COUNT, 0
        vmwl    VM_ENTRY_INTR_INFO_FIELD, 0
        vmw     VMCS_LINK_POINTER, $-1                  /* no shadow VMCS (SDM 26.3.1.5) */
        /* The I/O bitmaps: only the debug-exit port exits, so the VMM sees the guest end. */
        orb     $1 << (DEBUG_EXIT_PORT & 7), io_bitmap_a + (DEBUG_EXIT_PORT >> 3)(%rip)
        vmw     IO_BITMAP_A, $io_bitmap_a
        vmw     IO_BITMAP_B, $io_bitmap_b
        vmw     MSR_BITMAP, $msr_bitmap                 /* all zeros: no MSR access exits */
        call    ept_build
        vmw     EPT_POINTER, %rax
        testl   $SECONDARY_EXEC_ENABLE_VPID, vmcs_config_cpu2(%rip)
        jz      1f
        vmwl    VIRTUAL_PROCESSOR_ID, 1                 /* any tag but 0, the VMM's own */
        /* CR0.NE and CR4.VMXE must stay 1 in VMX operation (guests included: SDM 26.3.1.1);
         * the guest owns the other bits. Owning these two, the VMM shows the guest the values
         * it would have without VMX, and a write of them exits only if the guest changes
         * them from those (SDM 25.3: guest/host masks and read shadows). */
1:      vmwl    CR0_GUEST_HOST_MASK, CR0_NE
        vmwl    CR0_READ_SHADOW, (CR0_PE | CR0_ET)
        vmwl    CR4_GUEST_HOST_MASK, CR4_VMXE
        vmwl    CR4_READ_SHADOW, 0

        /* ---- host state (SDM 24.5) ---- */
        movq    %cr0, %rax
        vmw     HOST_CR0, %rax
        movq    %cr3, %rax
        vmw     HOST_CR3, %rax
        movq    %cr4, %rax
        vmw     HOST_CR4, %rax
        vmwl    HOST_CS_SELECTOR, KERNEL_CS
        vmwl    HOST_SS_SELECTOR, KERNEL_DS
        vmwl    HOST_DS_SELECTOR, KERNEL_DS
        vmwl    HOST_ES_SELECTOR, KERNEL_DS
        vmwl    HOST_FS_SELECTOR, 0
        vmwl    HOST_GS_SELECTOR, 0
        vmwl    HOST_TR_SELECTOR, TSS_SEL
        vmwl    HOST_FS_BASE, 0
        vmwl    HOST_GS_BASE, 0
        vmw     HOST_TR_BASE, $tss
        sgdt    host_table_pointer(%rip)
        vmw     HOST_GDTR_BASE, host_table_pointer+2(%rip)
        sidt    host_table_pointer(%rip)
        vmw     HOST_IDTR_BASE, host_table_pointer+2(%rip)
        vmwl    HOST_IA32_SYSENTER_CS, 0
        vmwl    HOST_IA32_SYSENTER_ESP, 0
        vmwl    HOST_IA32_SYSENTER_EIP, 0
        movl    $MSR_EFER, %ecx
        rdmsr
        shlq    $32, %rdx
        orq     %rdx, %rax
        vmw     HOST_IA32_EFER, %rax
        vmw     HOST_RSP, $vmm_stack_top
        vmw     HOST_RIP, $vmx_exit_entry

        /* ---- the guest at its Multiboot entry (SDM 24.4) ---- */
        vmwl    GUEST_CR0, (CR0_PE | CR0_ET | CR0_NE)
        vmwl    GUEST_CR3, 0
        vmwl    GUEST_CR4, CR4_VMXE
        vmwl    GUEST_DR7, 0x400
        vmwl    GUEST_IA32_DEBUGCTL, 0
        vmwl    GUEST_IA32_EFER, 0
        vmwl    GUEST_CS_SELECTOR, GUEST_BOOT_CS
        vmwl    GUEST_CS_BASE, 0
        vmwl    GUEST_CS_LIMIT, 0xFFFFFFFF
        vmwl    GUEST_CS_AR_BYTES, AR_CODE32_FLAT
        vmwl    GUEST_SS_SELECTOR, GUEST_BOOT_DS
        vmwl    GUEST_SS_BASE, 0
        vmwl    GUEST_SS_LIMIT, 0xFFFFFFFF
        vmwl    GUEST_SS_AR_BYTES, AR_DATA32_FLAT
        vmwl    GUEST_DS_SELECTOR, GUEST_BOOT_DS
        vmwl    GUEST_DS_BASE, 0
        vmwl    GUEST_DS_LIMIT, 0xFFFFFFFF
        vmwl    GUEST_DS_AR_BYTES, AR_DATA32_FLAT
        vmwl    GUEST_ES_SELECTOR, GUEST_BOOT_DS
        vmwl    GUEST_ES_BASE, 0
        vmwl    GUEST_ES_LIMIT, 0xFFFFFFFF
        vmwl    GUEST_ES_AR_BYTES, AR_DATA32_FLAT
        vmwl    GUEST_FS_SELECTOR, GUEST_BOOT_DS
        vmwl    GUEST_FS_BASE, 0
        vmwl    GUEST_FS_LIMIT, 0xFFFFFFFF
        vmwl    GUEST_FS_AR_BYTES, AR_DATA32_FLAT
        vmwl    GUEST_GS_SELECTOR, GUEST_BOOT_DS
        vmwl    GUEST_GS_BASE, 0
        vmwl    GUEST_GS_LIMIT, 0xFFFFFFFF
        vmwl    GUEST_GS_AR_BYTES, AR_DATA32_FLAT
        vmwl    GUEST_LDTR_SELECTOR, 0
        vmwl    GUEST_LDTR_BASE, 0
        vmwl    GUEST_LDTR_LIMIT, 0
        vmwl    GUEST_LDTR_AR_BYTES, VMX_AR_UNUSABLE
        /* TR must be usable even though the guest never switches tasks (SDM 26.3.1.2). */
        vmwl    GUEST_TR_SELECTOR, 0
        vmwl    GUEST_TR_BASE, 0
        vmwl    GUEST_TR_LIMIT, 0xFFFF
        vmwl    GUEST_TR_AR_BYTES, AR_TSS32_BUSY
        vmwl    GUEST_GDTR_BASE, GUEST_GDT
        vmwl    GUEST_GDTR_LIMIT, (4 * 8 - 1)
        vmwl    GUEST_IDTR_BASE, 0
        vmwl    GUEST_IDTR_LIMIT, 0
        vmwl    GUEST_SYSENTER_CS, 0
        vmwl    GUEST_SYSENTER_ESP, 0
        vmwl    GUEST_SYSENTER_EIP, 0
        vmwl    GUEST_RFLAGS, 0x2                       /* IF = 0; bit 1 is always 1 */
        vmw     GUEST_RIP, guest_entry(%rip)
        vmwl    GUEST_RSP, 0
        vmwl    GUEST_INTERRUPTIBILITY_INFO, 0
        vmwl    GUEST_ACTIVITY_STATE, 0
        vmwl    GUEST_PENDING_DBG_EXCEPTIONS, 0
        /* The registers Multiboot defines; vmx_run loads them from guest_regs. */
        movq    $MB_BOOT_MAGIC, guest_regs + VCPU_RAX(%rip)
        movq    $GUEST_BOOT_INFO, guest_regs + VCPU_RBX(%rip)
        popq    %rdi
        popq    %rsi
        popq    %rdx
        popq    %rcx
        ret

        .section .rodata
        .p2align 3
vmxon_region_pa: .quad  vmxon_region    /* the VMM's memory is identity-mapped */
vmcs_region_pa:  .quad  vmcs_region

/* VM-instruction error numbers (SDM 30.4, table 30-1), Linux vmx.h's descriptions shortened. */
.macro vmx_error n, text
        .org    vmx_error_names + (\n) * 8
        .quad   .Lvmx_error\@
        .pushsection .text                      /* not .rodata: the table is being laid out there */
.Lvmx_error\@:
        .asciz  "\text"
        .popsection
.endm
vmx_error_names:
        vmx_error 1, "VMCALL in VMX root operation"
        vmx_error 2, "VMCLEAR with invalid physical address"
        vmx_error 3, "VMCLEAR with VMXON pointer"
        vmx_error 4, "VMLAUNCH with non-clear VMCS"
        vmx_error 5, "VMRESUME with non-launched VMCS"
        vmx_error 6, "VMRESUME after VMXOFF"
        vmx_error 7, "VM entry with invalid control field(s)"
        vmx_error 8, "VM entry with invalid host-state field(s)"
        vmx_error 9, "VMPTRLD with invalid physical address"
        vmx_error 10, "VMPTRLD with VMXON pointer"
        vmx_error 11, "VMPTRLD with incorrect VMCS revision identifier"
        vmx_error 12, "VMREAD/VMWRITE from/to unsupported VMCS component"
        vmx_error 13, "VMWRITE to read-only VMCS component"
        vmx_error 15, "VMXON executed in VMX root operation"
        vmx_error 16, "VM entry with invalid executive-VMCS pointer"
        vmx_error 17, "VM entry with non-launched executive VMCS"
        vmx_error 18, "VM entry with executive-VMCS pointer not VMXON pointer"
        vmx_error 19, "VMCALL with non-clear VMCS"
        vmx_error 20, "VMCALL with invalid VM-exit control fields"
        vmx_error 22, "VMCALL with incorrect MSEG revision identifier"
        vmx_error 23, "VMXOFF under dual-monitor treatment of SMIs and SMM"
        vmx_error 24, "VMCALL with invalid SMM-monitor features"
        vmx_error 25, "VM entry with invalid VM-execution control fields in executive VMCS"
        vmx_error 26, "VM entry with events blocked by MOV SS"
        vmx_error 28, "invalid operand to INVEPT/INVVPID"
        .org    vmx_error_names + VMXERR_MAX * 8

        .bss
        .p2align 12
vmxon_region:   .skip   PAGE_SIZE
vmcs_region:    .skip   PAGE_SIZE
io_bitmap_a:    .skip   PAGE_SIZE       /* ports 0x0000-0x7FFF, one bit each (SDM 24.6.4) */
io_bitmap_b:    .skip   PAGE_SIZE       /* ports 0x8000-0xFFFF */
msr_bitmap:     .skip   PAGE_SIZE       /* read low/high, write low/high (SDM 24.6.9) */
vmm_stack:      .skip   4 * PAGE_SIZE
vmm_stack_top:
        .p2align 3
host_table_pointer: .skip 16            /* SGDT/SIDT: limit (2 bytes), base (8 bytes) */
        .text
