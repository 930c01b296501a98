/*
 * handler.S — lab j: the VMX-preemption timer (SDM Vol. 3C 25.5.1). With the pin-based
 * control PIN_BASED_VMX_PREEMPTION_TIMER, VM entry loads VMX_PREEMPTION_TIMER_VALUE into a
 * counter that counts down in non-root operation, one tick every 2^IA32_VMX_MISC[4:0] TSC
 * cycles; at zero the guest exits with reason 52, whatever it is doing (interrupts off and
 * `while(1);` included). The exit saves no timer value (VM_EXIT_SAVE_VMX_PREEMPTION_TIMER is
 * off), so every entry starts from the full value again: a periodic tick for the VMM.
 *   LAB_PREEMPTION_TIMER=T   the timer value (ticks per entry)
 *   LAB_HEARTBEAT=N          a "[vmm] heartbeat" line every N timer exits
 *   LAB_HEARTBEATS=M         after M heartbeats the VMM ends the run (status 1)
 */
#define VMX_PREEMPTION_TIMER_VALUE      0x482E  /* SDM appendix B.3.3 */
#ifndef LAB_HEARTBEAT
#define LAB_HEARTBEAT   100
#endif
#ifndef LAB_HEARTBEATS
#define LAB_HEARTBEATS  3
#endif

        .text
preemption_timer_setup:
        vmwl    VMX_PREEMPTION_TIMER_VALUE, LAB_PREEMPTION_TIMER
        ret

#ifndef LAB_VCPU_MIGRATION      /* lab k's scheduler takes the exits instead (vcpu-migration/) */
/* Reason 52 is not caused by an instruction: GUEST_RIP already points where the guest goes
 * on, so nothing is skipped. */
handle_preemption_timer:
        incq    timer_exits(%rip)
        movq    timer_exits(%rip), %rax
        xorl    %edx, %edx
        movl    $LAB_HEARTBEAT, %ecx
        divq    %rcx
        testq   %rdx, %rdx
        jnz     1f
        incq    heartbeats(%rip)
        call    vmm_line
        vmm_say "heartbeat "
        movq    heartbeats(%rip), %rdi
        call    serial_put_dec
        vmm_say ": "
        movq    timer_exits(%rip), %rdi
        call    serial_put_dec
        vmm_say " preemption-timer exits, guest RIP "
        movl    $GUEST_RIP, %edi
        call    vmcs_read
        movq    %rax, %rdi
        call    vmm_put_hex
        call    vmm_newline
        cmpq    $LAB_HEARTBEATS, heartbeats(%rip)
        jb      1f
        vmm_log "the guest is still spinning, but the VMM has the CPU back: ending the run"
        xorl    %edi, %edi
        call    debug_exit
1:      ret

        .bss
        .p2align 3
timer_exits:    .skip   8
heartbeats:     .skip   8
        .text
#endif
