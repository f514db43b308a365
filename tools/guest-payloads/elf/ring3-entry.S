/* Entry of a ring-3 C payload (LongModeGuest layout: 64-bit ring 3, stack set, TSS I/O bitmap open).
 * Calls main() and writes its return value to the payload exit port 0x501. Also holds the tiny ring-0 part:
 * msix_isr, an interrupt handler main() installs in the IDT, which counts the interrupt and EOIs the LAPIC. */
    .section .note.vmm, "a", @note
    .balign 4
    .long 4            /* namesz: "Vmm\0" */
    .long 0            /* descsz */
    .long 1            /* type 1: enter e_entry in ring 3 */
    .asciz "Vmm"
    .balign 4

    .section .text.entry, "ax"
    .code64
    .globl _start
_start:
    call    main
    mov     $0x501, %dx
    out     %al, (%dx)
1:  jmp     1b

    .text
    .globl msix_isr
msix_isr:
    push    %rax
    lock incl msix_count(%rip)
    movabs  $0xfee000b0, %rax   /* LAPIC EOI */
    movl    $0, (%rax)
    pop     %rax
    iretq
