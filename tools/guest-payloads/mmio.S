/* Ring-3 payload: reads a 32-bit value from an MMIO address with no RAM behind it (0x30000000), writes it back
 * plus one to the same address, and exits through the exit port with the low byte it read. */
    .code64
    .text
    .globl _start
_start:
    mov     $0x30000000, %ebx
    mov     (%rbx), %eax
    mov     %eax, %ecx
    inc     %ecx
    mov     %ecx, 4(%rbx)
    mov     $0x501, %dx
    out     %al, (%dx)
2:  jmp     2b
