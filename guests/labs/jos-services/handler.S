/*
 * handler.S — lab f: JOS-style services of the VMM (-DLAB_JOS_SERVICES), three hypercalls
 * added to hypercall_table (exits.S) after the VMM's own 0-2:
 *   10 HC_MEMORY_MAP   RDI = guest-physical buffer, RSI = its size in bytes. The VMM writes the
 *                      guest's memory map there, e820 style: 20 bytes an entry (base: 8, length:
 *                      8, type: 4; 1 usable, 2 reserved), the Multiboot map it gave the guest
 *                      (guest-boot.S) without the size fields. RAX = the entries written.
 *   11 HC_READ_SECTOR  RDI = LBA, RSI = guest-physical buffer of 512 bytes: the machine's disk
 *   12 HC_WRITE_SECTOR sector LBA is read into it / written from it. RAX = 0 or an error.
 * Errors in RAX: HC_EFAULT (the buffer is not all in the guest's memory), HC_EIO (the disk
 * reported an error, is absent, or LBA is beyond 28 bits).
 * The disk I/O is ATA PIO on the primary channel (ATA/ATAPI-6 "PIO data-in/data-out"): the VMM,
 * in VMX root operation, owns the ports; the guest never touches them. JOS's VMM does the
 * same with its file-system environment's IDE driver and IPC (see README.md).
 */
#define HC_EFAULT               -2
#define HC_EIO                  -3
#define E820_ENTRY_SIZE         20
#define SECTOR_SIZE             512
#define ATA_DATA                0x1F0
#define ATA_COUNT               0x1F2
#define ATA_LBA_LOW             0x1F3
#define ATA_LBA_MID             0x1F4
#define ATA_LBA_HIGH            0x1F5
#define ATA_DEVICE              0x1F6
#define ATA_STATUS              0x1F7   /* read: status; write: command */
#define ATA_CONTROL             0x3F6
#define ATA_DEVICE_LBA          0xE0    /* device 0, LBA addressing, LBA bits 27:24 below */
#define ATA_CMD_READ_SECTORS    0x20
#define ATA_CMD_WRITE_SECTORS   0x30
#define ATA_CMD_FLUSH_CACHE     0xE7
#define ATA_STATUS_ERR          0x01
#define ATA_STATUS_DRQ          0x08
#define ATA_STATUS_DF           0x20
#define ATA_STATUS_BSY          0x80
#define ATA_CONTROL_NIEN        0x02    /* no INTRQ: the VMM polls */
#define ATA_POLL_LIMIT          1000000

        .text
hc_enosys:
        movq    $HC_ENOSYS, %rax
        ret

/* guest_buffer(%rdi gpa, %rsi size) -> %rax host address, or 0 if [gpa, gpa + size) is not
 * all in the guest's memory (the VMM must not be made to write its own memory). */
guest_buffer:
        movq    $GUEST_MEM_SIZE, %rax
        cmpq    %rax, %rsi
        ja      1f
        subq    %rsi, %rax
        cmpq    %rax, %rdi
        ja      1f
        jmp     gpa_to_hva
1:      xorl    %eax, %eax
        ret

hc_memory_map:
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        movq    guest_regs + VCPU_RDI(%rip), %rdi
        movq    guest_regs + VCPU_RSI(%rip), %rsi
        call    guest_buffer
        testq   %rax, %rax
        jz      4f
        movq    %rax, %rdi
        /* As many entries as fit in the buffer. */
        movq    guest_regs + VCPU_RSI(%rip), %rax
        xorl    %edx, %edx
        movl    $E820_ENTRY_SIZE, %ecx
        divq    %rcx
        movl    $(guest_mmap_end - guest_mmap) / MB_MMAP_ENTRY_SIZE, %ecx
        cmpq    %rcx, %rax
        cmovbq  %rax, %rcx
        movq    %rcx, %rbx                      /* entries written */
        xorl    %r12d, %r12d                    /* bytes usable */
        leaq    guest_mmap + 4(%rip), %rsi      /* past the first size field */
        testq   %rcx, %rcx
        jz      2f
1:      movq    (%rsi), %rax
        movq    %rax, (%rdi)                    /* base */
        movq    8(%rsi), %rax
        movq    %rax, 8(%rdi)                   /* length */
        movl    16(%rsi), %edx
        movl    %edx, 16(%rdi)                  /* type */
        cmpl    $MB_MMAP_AVAILABLE, %edx
        jne     3f
        addq    %rax, %r12
3:      addq    $MB_MMAP_ENTRY_SIZE, %rsi
        addq    $E820_ENTRY_SIZE, %rdi
        decq    %rcx
        jnz     1b
2:      call    vmm_line
        vmm_say "jos: memory map: "
        movq    %rbx, %rdi
        call    serial_put_dec
        vmm_say " entries, "
        movq    %r12, %rdi
        shrq    $10, %rdi
        call    serial_put_dec
        vmm_say " KiB usable"
        call    vmm_newline
        movq    %rbx, %rax
        jmp     5f
4:      movq    $HC_EFAULT, %rax
5:      popq    %r13
        popq    %r12
        popq    %rbx
        ret

/* ata_wait(%ecx bits that must be set once BSY is clear) -> %eax 0, or HC_EIO on ERR, DF or
 * no answer (a status of 0: no device; all ones: no controller). */
ata_wait:
        pushq   %rbx
        movl    $ATA_POLL_LIMIT, %ebx
        movw    $ATA_STATUS, %dx
1:      inb     %dx, %al
        testb   $ATA_STATUS_BSY, %al
        jnz     2f
        testb   $ATA_STATUS_ERR | ATA_STATUS_DF, %al
        jnz     3f
        cmpb    $0xFF, %al
        je      3f
        testb   %al, %al
        jz      3f
        andb    %cl, %al
        cmpb    %cl, %al
        je      4f
2:      decl    %ebx
        jnz     1b
3:      movq    $HC_EIO, %rax
        popq    %rbx
        ret
4:      xorl    %eax, %eax
        popq    %rbx
        ret

/* ata_command(%edi LBA, %esi command) -> %eax 0 or HC_EIO: one sector, LBA28, then DRQ awaited. */
ata_command:
        cmpl    $0x0FFFFFFF, %edi
        ja      1f
        movw    $ATA_CONTROL, %dx
        movb    $ATA_CONTROL_NIEN, %al
        outb    %al, %dx
        call    ata_wait_any                    /* BSY clear before writing the registers */
        movl    %edi, %eax
        shrl    $24, %eax
        orb     $ATA_DEVICE_LBA, %al
        movw    $ATA_DEVICE, %dx
        outb    %al, %dx
        movb    $1, %al
        movw    $ATA_COUNT, %dx
        outb    %al, %dx
        movl    %edi, %eax
        movw    $ATA_LBA_LOW, %dx
        outb    %al, %dx
        shrl    $8, %eax
        movw    $ATA_LBA_MID, %dx
        outb    %al, %dx
        shrl    $8, %eax
        movw    $ATA_LBA_HIGH, %dx
        outb    %al, %dx
        movl    %esi, %eax
        movw    $ATA_STATUS, %dx
        outb    %al, %dx
        movl    $ATA_STATUS_DRQ, %ecx
        jmp     ata_wait
1:      movq    $HC_EIO, %rax
        ret

/* ata_wait_any: BSY clear, whatever the rest of the status says (before a command). */
ata_wait_any:
        movw    $ATA_STATUS, %dx
        movl    $ATA_POLL_LIMIT, %ecx
1:      inb     %dx, %al
        testb   $ATA_STATUS_BSY, %al
        jz      2f
        decl    %ecx
        jnz     1b
2:      ret

/* The sector's guest buffer: %rax host address or 0; %rdi the LBA. */
.macro sector_args
        movq    guest_regs + VCPU_RSI(%rip), %rdi
        movl    $SECTOR_SIZE, %esi
        call    guest_buffer
        movq    guest_regs + VCPU_RDI(%rip), %rdi
.endm

hc_read_sector:
        sector_args
        testq   %rax, %rax
        jz      hc_sector_efault
        pushq   %rax
        movl    $ATA_CMD_READ_SECTORS, %esi
        call    ata_command
        popq    %rdi
        testq   %rax, %rax
        jnz     1f
        movw    $ATA_DATA, %dx
        movl    $SECTOR_SIZE / 2, %ecx
2:      inw     %dx, %ax
        movw    %ax, (%rdi)
        addq    $2, %rdi
        decl    %ecx
        jnz     2b
        xorl    %eax, %eax
1:      ret

hc_write_sector:
        sector_args
        testq   %rax, %rax
        jz      hc_sector_efault
        pushq   %rax
        movl    $ATA_CMD_WRITE_SECTORS, %esi
        call    ata_command
        popq    %rsi
        testq   %rax, %rax
        jnz     1f
        movw    $ATA_DATA, %dx
        movl    $SECTOR_SIZE / 2, %ecx
2:      movw    (%rsi), %ax
        outw    %ax, %dx
        addq    $2, %rsi
        decl    %ecx
        jnz     2b
        /* The sector is written once BSY clears; FLUSH CACHE makes it durable (the host file). */
        xorl    %ecx, %ecx
        call    ata_wait
        testq   %rax, %rax
        jnz     1f
        movb    $ATA_CMD_FLUSH_CACHE, %al
        movw    $ATA_STATUS, %dx
        outb    %al, %dx
        xorl    %ecx, %ecx
        call    ata_wait
1:      ret

hc_sector_efault:
        movq    $HC_EFAULT, %rax
        ret
