/*
 * tlb.S — what the architecture guarantees about the TLB (Intel SDM Vol. 3A, 4.10.4):
 * after INVLPG, or a MOV to CR3 for non-global pages, or toggling CR4.PGE for all pages, a
 * changed PTE is what the next access uses. A stale translation before that is allowed
 * but never promised (and QEMU does not always keep one), so it is not tested; nor is
 * whether a global page survives a CR3 write ("may").
 * The page at WINDOW is pointed at FRAME_A or FRAME_B, which hold different values.
 */
#include "../lib/defs.h"
#include "../lib/boot.S"
#include "../lib/serial.S"
#include "../lib/trap.S"
#include "../lib/test.S"

#define REGION   0x600000
#define WINDOW   (REGION + 0x0000)
#define FRAME_A  (REGION + 0x1000)
#define FRAME_B  (REGION + 0x2000)
#define PTE_WINDOW (pt + ((WINDOW - REGION) >> 12) * 8)

        .text
kmain:
        call    trap_init
        call    map_region_4k
        movq    $0xAAAA, FRAME_A
        movq    $0xBBBB, FRAME_B

        /* 1-2: INVLPG. */
        movq    $FRAME_A | PTE_P | PTE_RW, PTE_WINDOW
        invlpg  WINDOW
        expect_eq WINDOW, $0xAAAA, "the window shows frame A"
        movq    $FRAME_B | PTE_P | PTE_RW, PTE_WINDOW
        movq    WINDOW, %rax            /* maybe stale: not checked */
        invlpg  WINDOW
        expect_eq WINDOW, $0xBBBB, "after INVLPG the window shows frame B"

        /* 3: MOV to CR3 flushes non-global translations. */
        movq    WINDOW, %rax
        movq    $FRAME_A | PTE_P | PTE_RW, PTE_WINDOW
        movq    %cr3, %rax
        movq    %rax, %cr3
        expect_eq WINDOW, $0xAAAA, "after a CR3 write the window shows frame A again"

        /* 4: a write goes through the new translation too. */
        movq    $FRAME_B | PTE_P | PTE_RW, PTE_WINDOW
        invlpg  WINDOW
        movq    $0xB0B0, WINDOW
        expect_eq FRAME_B, $0xB0B0, "a write after INVLPG lands in frame B"
        expect_eq FRAME_A, $0xAAAA, "and frame A is untouched"

        /* 6-7: global pages (CR4.PGE): INVLPG still flushes them, and so does clearing PGE. */
        movq    %cr4, %rax
        orl     $CR4_PGE, %eax
        movq    %rax, %cr4
        movq    $FRAME_A | PTE_P | PTE_RW | PTE_G, PTE_WINDOW
        invlpg  WINDOW
        movq    WINDOW, %rax
        movq    $FRAME_B | PTE_P | PTE_RW | PTE_G, PTE_WINDOW
        movq    %cr3, %rax              /* may keep the global translation: not checked */
        movq    %rax, %cr3
        invlpg  WINDOW
        expect_eq WINDOW, $0xB0B0, "INVLPG flushes a global translation"
        movq    $FRAME_A | PTE_P | PTE_RW | PTE_G, PTE_WINDOW
        movq    %cr4, %rax
        andl    $~CR4_PGE, %eax
        movq    %rax, %cr4
        orl     $CR4_PGE, %eax
        movq    %rax, %cr4
        expect_eq WINDOW, $0xAAAA, "toggling CR4.PGE flushes global translations"

        /* 8-9: a not-present PTE after INVLPG faults; making it present again works. */
        movq    $0, PTE_WINDOW
        invlpg  WINDOW
        call    trap_clear
        arm_fixup 1f
        movq    WINDOW, %rax
1:      expect_eq trap_vector(%rip), $14, "a PTE cleared and invalidated: the access faults"
        movq    $FRAME_B | PTE_P | PTE_RW, PTE_WINDOW
        invlpg  WINDOW
        expect_eq WINDOW, $0xB0B0, "set present again and invalidated: the access works"

        call    test_finish
        ret

/* map_region_4k: REGION..REGION+2MiB through a page table of 4 KiB pages, identity. */
map_region_4k:
        xorl    %ecx, %ecx
1:      movq    %rcx, %rax
        shlq    $12, %rax
        addq    $REGION | PTE_P | PTE_RW, %rax
        movq    %rax, pt(,%rcx,8)
        incl    %ecx
        cmpl    $512, %ecx
        jb      1b
        movq    $pt + (PTE_P | PTE_RW), %rax
        movq    %rax, boot_pd + (REGION >> LARGE_PAGE_SHIFT) * 8(%rip)
        movq    %cr3, %rax
        movq    %rax, %cr3
        ret

        .bss
        .p2align 12
pt:     .skip   PAGE_SIZE
        .text
#include "../lib/end.S"
