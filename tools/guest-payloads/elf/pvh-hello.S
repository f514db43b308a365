/* The smallest PVH payload: QEMU (-M microvm, qboot) and the kvm platform both boot it through the Xen PVH note.
 * 32-bit protected mode, no paging: prints "hello\n" on COM1, writes 0 to the exit port 0x501 (QEMU's
 * isa-debug-exit, our GuestExitPort), and triple-faults if that port does not end the VM. */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4            /* namesz: "Xen\0" */
    .long 4            /* descsz */
    .long 18           /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .long _start
    .balign 4

    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    mov     $0x3f8, %dx
    mov     $'h', %al
    out     %al, (%dx)
    mov     $'e', %al
    out     %al, (%dx)
    mov     $'l', %al
    out     %al, (%dx)
    out     %al, (%dx)
    mov     $'o', %al
    out     %al, (%dx)
    mov     $'\n', %al
    out     %al, (%dx)
    mov     $0x501, %dx
    xor     %eax, %eax
    out     %al, (%dx)
    lidt    empty_idt
    int3
1:  jmp     1b
empty_idt:
    .word   0
    .long   0
