/* Ring-3 payload: prints "hello\n" on the COM1 UART and writes exit code 0 to the exit port.
 * Linked at 0x100000 (LongModeGuest.PayloadAddress), entered in 64-bit ring 3 with the TSS I/O bitmap open. */
    .code64
    .text
    .globl _start
_start:
    lea     message(%rip), %rsi
    mov     $message_end - message, %ecx
    mov     $0x3f8, %dx
1:  lodsb
    out     %al, (%dx)
    loop    1b
    mov     $0x501, %dx
    xor     %eax, %eax
    out     %al, (%dx)
2:  jmp     2b
message:
    .ascii  "hello\n"
message_end:
