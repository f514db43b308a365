using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Kvm
    {
        /// <summary>struct kvm_regs (KVM_GET_REGS / KVM_SET_REGS).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct kvm_regs
        {
            internal ulong rax, rbx, rcx, rdx;
            internal ulong rsi, rdi, rsp, rbp;
            internal ulong r8, r9, r10, r11;
            internal ulong r12, r13, r14, r15;
            internal ulong rip, rflags;
        }
    }
}
